package shippo

import (
	"net/url"
	"testing"

	"github.com/aftercare/aftercare/internal/aftercare"
)

func TestVerify(t *testing.T) {
	const token = "c2hpcHBvLXRva2Vu"
	cases := []struct {
		name, token string
		query       url.Values
		ok          bool
	}{
		{"valid", token, url.Values{"token": {token}}, true},
		{"route not configured", "", url.Values{"token": {""}}, false},
		{"route not configured, token sent", "", url.Values{"token": {token}}, false},
		{"missing", token, url.Values{}, false},
		{"nil query", token, nil, false},
		{"empty", token, url.Values{"token": {""}}, false},
		{"other name", token, url.Values{"Token": {token}}, false},
		{"prefix only", token, url.Values{"token": {token[:8]}}, false},
		{"longer", token, url.Values{"token": {token + "x"}}, false},
		{"case differs", token, url.Values{"token": {"C2hpcHBvLXRva2Vu"}}, false},
	}
	for _, c := range cases {
		err := Source{Token: c.token}.Verify([]byte(`{"event":"track_updated"}`), nil, c.query)
		if c.ok {
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
			}
			continue
		}
		if aftercare.ErrorCode(err) != aftercare.EUNAUTHORIZED || aftercare.ErrorMessage(err) == "" {
			t.Errorf("%s: error %v, want %s with a reason", c.name, err, aftercare.EUNAUTHORIZED)
		}
	}
}

func TestName(t *testing.T) {
	if got := (Source{}).Name(); got != "shippo" {
		t.Errorf("Name() = %q, want shippo", got)
	}
}
