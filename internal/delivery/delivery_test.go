package delivery

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aftercare/aftercare/internal/aftercare"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoadProvidersDefaults(t *testing.T) {
	p, err := LoadProviders(env(nil))
	if err != nil || p.Email != ProviderLog || p.SMS != ProviderLog {
		t.Fatalf("no DELIVERY_URL: %+v %v", p, err)
	}
	p, err = LoadProviders(env(map[string]string{"DELIVERY_URL": "https://hook.example"}))
	if err != nil || p.Email != ProviderWebhook || p.SMS != ProviderWebhook {
		t.Fatalf("with DELIVERY_URL: %+v %v", p, err)
	}
	p, err = LoadProviders(env(map[string]string{"EMAIL_PROVIDER": "ses", "SMS_PROVIDER": "sns", "SES_CONFIGURATION_SET": "cs"}))
	if err != nil || p.Email != "ses" || p.SMS != "sns" || p.SESConfigurationSet != "cs" {
		t.Fatalf("explicit: %+v %v", p, err)
	}
	for vars, name := range map[string]string{"EMAIL_PROVIDER=sns": "EMAIL_PROVIDER", "SMS_PROVIDER=ses": "SMS_PROVIDER", "EMAIL_PROVIDER=webhook": "DELIVERY_URL"} {
		k, v, _ := strings.Cut(vars, "=")
		if _, err := LoadProviders(env(map[string]string{k: v})); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: %v, want an error naming %s", vars, err, name)
		}
	}
}

func TestCheckURL(t *testing.T) {
	for u, ok := range map[string]bool{
		"https://hook.example/x": true, "http://127.0.0.1:9000/hook": true, "http://localhost:9000": true, "http://[::1]:9000": true,
		"http://hook.example/x": false, "ftp://hook.example": false, "not a url": false, "http://10.0.0.1/x": false,
	} {
		if err := CheckURL(u); (err == nil) != ok {
			t.Errorf("CheckURL(%q) = %v", u, err)
		}
	}
}

func TestWebhookNeverFollowsRedirects(t *testing.T) {
	var hits int
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits++ }))
	defer target.Close()
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL, http.StatusTemporaryRedirect)
	}))
	defer redirect.Close()
	h := New(redirect.URL, []byte("s"), 5*time.Second)
	err := h.Deliver(context.Background(), &Message{ID: "x", JSON: []byte(`{"id":"x"}`)})
	if err == nil || !strings.Contains(err.Error(), "307") || hits != 0 {
		t.Fatalf("redirect: err %v, target hit %d times", err, hits)
	}
}

type recorder struct{ got []*Message }

func (r *recorder) Deliver(_ context.Context, m *Message) error { r.got = append(r.got, m); return nil }

func TestRouterPicksShopChoiceThenDefault(t *testing.T) {
	ses, hook, sns := &recorder{}, &recorder{}, &recorder{}
	r := &Router{Email: map[string]Provider{"ses": ses, "webhook": hook}, SMS: map[string]Provider{"sns": sns, "webhook": hook},
		DefaultEmail: "webhook", DefaultSMS: "sns"}
	if err := r.Check(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	_ = r.Deliver(ctx, &Message{ID: "a", Channel: aftercare.ChannelEmail})
	_ = r.Deliver(ctx, &Message{ID: "b", Channel: aftercare.ChannelEmail, EmailProvider: "ses"})
	_ = r.Deliver(ctx, &Message{ID: "c", Channel: aftercare.ChannelSMS, EmailProvider: "ses"})
	if len(hook.got) != 1 || hook.got[0].ID != "a" || len(ses.got) != 1 || ses.got[0].ID != "b" || len(sns.got) != 1 || sns.got[0].ID != "c" {
		t.Fatalf("routing: webhook %d ses %d sns %d", len(hook.got), len(ses.got), len(sns.got))
	}
	if err := r.Deliver(ctx, &Message{ID: "d", Channel: aftercare.ChannelSMS, SMSProvider: "log"}); aftercare.ErrorCode(err) != aftercare.EUNAVAILABLE {
		t.Fatalf("unconfigured provider: %v", err)
	}
	if err := (&Router{Email: map[string]Provider{}, DefaultEmail: "ses"}).Check(); err == nil || !strings.Contains(err.Error(), "EMAIL_PROVIDER") {
		t.Fatalf("Check: %v", err)
	}
}

func TestLogProviderLogsNoContent(t *testing.T) {
	var b bytes.Buffer
	l := Log{Log: slog.New(slog.NewJSONHandler(&b, nil))}
	m := &Message{ID: "win_back-1", Kind: aftercare.KindWinBack, Channel: aftercare.ChannelEmail, To: "ada@example.org", ToName: "Ada Lovelace",
		Subject: "We miss you", Text: "secret body text", HTML: "<p>secret body text</p>", JSON: []byte(`{"customer":{"email":"ada@example.org"}}`)}
	if err := l.Deliver(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, bad := range []string{"ada@example.org", "Ada Lovelace", "secret body", "We miss you"} {
		if strings.Contains(out, bad) {
			t.Errorf("the log holds %q: %s", bad, out)
		}
	}
	if !strings.Contains(out, `"message_id":"win_back-1"`) || !strings.Contains(out, `"text_bytes":16`) {
		t.Errorf("the log lacks the outline: %s", out)
	}
}

// A receiver's error page that echoes the customer is kept (in the log and
// the ledger's reason) without their contact.
func TestReceiversAnswerIsScrubbed(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"error":"no customer ada@example.org at +15555550123"}`, http.StatusBadRequest)
	}))
	defer srv.Close()
	err := New(srv.URL, []byte("s"), 5*time.Second).Deliver(context.Background(), &Message{ID: "x", JSON: []byte(`{"id":"x"}`)})
	if err == nil || !strings.Contains(err.Error(), "answered 400") || !strings.Contains(err.Error(), "no customer <email> at <phone>") {
		t.Fatalf("err = %v, want the 400 with its contacts scrubbed", err)
	}
}
