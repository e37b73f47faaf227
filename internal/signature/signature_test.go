package signature

import "testing"

// Known answer from RFC 4231 test case 2.
func TestSumKnownAnswer(t *testing.T) {
	got := Hex([]byte("Jefe"), []byte("what do ya want for nothing?"))
	want := "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
	if got != want {
		t.Fatalf("Hex = %s, want %s", got, want)
	}
}

func TestValid(t *testing.T) {
	key, body := []byte("k"), []byte(`{"a":1}`)
	if !ValidBase64(key, body, Base64(key, body)) || !ValidHex(key, body, Hex(key, body)) {
		t.Fatal("own signatures must verify")
	}
	for _, bad := range []string{"", "x", Base64(key, []byte(`{"a":2}`)), Base64([]byte("other"), body), Base64(key, body)[:20]} {
		if ValidBase64(key, body, bad) {
			t.Errorf("ValidBase64 accepted %q", bad)
		}
	}
	if ValidHex(key, body, Hex(key, body)[:62]) || ValidHex(key, body, "zz") {
		t.Error("ValidHex accepted a malformed signature")
	}
	if !EqualString("tok", "tok") || EqualString("tok", "tok2") || EqualString("", "x") {
		t.Error("EqualString")
	}
}
