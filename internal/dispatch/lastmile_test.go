package dispatch_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	awssns "github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/aftercare/aftercare/infra/devstack"
	"github.com/aftercare/aftercare/internal/aftercare"
	"github.com/aftercare/aftercare/internal/delivery"
	"github.com/aftercare/aftercare/internal/dispatch"
	"github.com/aftercare/aftercare/internal/dynamo"
	"github.com/aftercare/aftercare/internal/motoapi"
	"github.com/aftercare/aftercare/internal/obs"
	"github.com/aftercare/aftercare/internal/ses"
	"github.com/aftercare/aftercare/internal/sns"
	"github.com/aftercare/aftercare/internal/unsubscribe"
)

// lastMile turns the test env's dispatcher into the real last mile: SES and
// SNS at moto, unsubscribe links served by the real handler on the same table.
func lastMile(t *testing.T, e *env) (moto string) {
	t.Helper()
	moto = e.stack.Env.SQSEndpoint
	cfg := devstack.AWSConfig()
	sesAPI := sesv2.NewFromConfig(cfg, func(o *sesv2.Options) { o.BaseEndpoint = aws.String(moto) })
	// DefaultSettings' sender is support@example.com.
	if _, err := sesAPI.CreateEmailIdentity(context.Background(), &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String("example.com")}); err != nil {
		t.Fatal(err)
	}
	snsAPI := awssns.NewFromConfig(cfg, func(o *awssns.Options) { o.BaseEndpoint = aws.String(moto) })
	signer := unsubscribe.Signer{Secret: []byte("lastmile-test-unsubscribe-secret")}
	h := &unsubscribe.Handler{Signer: signer, Consent: unsubscribe.StoreConsent{Customers: &dynamo.Store{DB: e.stack.DB, Streams: e.stack.Streams, Table: e.stack.Table}},
		Log: obs.NewLogger(io.Discard, "ERROR"), Now: func() time.Time { return e.now }}
	api := httptest.NewServer(h)
	t.Cleanup(api.Close)
	e.d.Sender = &delivery.Router{
		Email:        map[string]delivery.Provider{"ses": &ses.Provider{API: sesAPI, Now: func() time.Time { return e.now }}},
		SMS:          map[string]delivery.Provider{"sns": &sns.Provider{API: snsAPI}},
		DefaultEmail: "ses", DefaultSMS: "sns",
	}
	e.d.Links = unsubscribe.Links{Signer: signer, Base: api.URL}
	return moto
}

func sentEmail(t *testing.T, moto, id string) *mail.Message {
	t.Helper()
	box, err := motoapi.Read(context.Background(), moto)
	if err != nil {
		t.Fatal(err)
	}
	for _, em := range box.Emails {
		m, err := mail.ReadMessage(bytes.NewReader(em.Raw))
		if err == nil && m.Header.Get("X-Aftercare-Message-Id") == id {
			return m
		}
	}
	return nil
}

// TestUnsubscribeStopsMarketingNotTransactional: a marketing email through
// SES carries a one-click link; after its POST the next marketing email to
// that customer is suppressed, and a transactional one still goes.
func TestUnsubscribeStopsMarketingNotTransactional(t *testing.T) {
	e := newEnv(t)
	e.now = time.Date(2031, 3, 4, 15, 0, 0, 0, time.UTC)
	moto := lastMile(t, e)
	c := customer("lm1")
	e.put(t, c, order("9001", c.ID))

	first := msg(aftercare.KindWinBack, c.ID, "9001", "first")
	if res := e.handle(t, first); res.Decision != dispatch.Sent {
		t.Fatalf("win_back: %s %s", res.Decision, res.Why)
	} else {
		var p map[string]any
		_ = json.Unmarshal(res.Body, &p)
		if u, _ := p["unsubscribe_url"].(string); !strings.Contains(u, "/unsubscribe/") {
			t.Errorf("the webhook JSON has no unsubscribe_url: %s", res.Body)
		}
	}
	m := sentEmail(t, moto, first.ID)
	if m == nil {
		t.Fatal("moto has no win_back email")
	}
	link := strings.Trim(m.Header.Get("List-Unsubscribe"), "<>")
	if m.Header.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" || !strings.Contains(link, "/unsubscribe/") {
		t.Fatalf("RFC 8058 headers: %q %q", link, m.Header.Get("List-Unsubscribe-Post"))
	}
	if to := m.Header.Get("To"); !strings.Contains(to, c.Email) {
		t.Errorf("To %q", to)
	}
	// The link works as a mail client uses it (RFC 8058: POST, no cookies).
	resp, err := http.PostForm(link, url.Values{"List-Unsubscribe": {"One-Click"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("one-click POST: %d", resp.StatusCode)
	}

	e.now = e.now.Add(48 * time.Hour) // past the marketing cap: only consent can stop it
	next := msg(aftercare.KindReviewRequest, c.ID, "9001", "second")
	if res := e.handle(t, next); res.Decision != dispatch.Suppressed || !strings.Contains(res.Why, "unsubscribed") {
		t.Fatalf("marketing after unsubscribe: %s %s", res.Decision, res.Why)
	}
	if sentEmail(t, moto, next.ID) != nil {
		t.Fatal("moto got the marketing email after the unsubscribe")
	}
	shipped := msg(aftercare.KindOrderShipped, c.ID, "9001", "parcel")
	shipped.TrackingURL = "https://www.ups.com/track?tracknum=1Z999"
	shipped.EstimatedDelivery = e.now.Add(72 * time.Hour)
	if res := e.handle(t, shipped); res.Decision != dispatch.Sent {
		t.Fatalf("order_shipped after unsubscribe: %s %s", res.Decision, res.Why)
	}
	sm := sentEmail(t, moto, shipped.ID)
	if sm == nil {
		t.Fatal("moto has no order_shipped email")
	}
	if sm.Header.Get("List-Unsubscribe") != "" {
		t.Error("a transactional email carries List-Unsubscribe")
	}
	body, _ := io.ReadAll(sm.Body)
	if !bytes.Contains(body, []byte("tracknum=3D1Z999")) { // quoted-printable '='
		t.Errorf("order_shipped has no tracking link:\n%s", body)
	}
}

// TestTestOrderSendsNothing: a Shopify test order never messages a customer.
func TestTestOrderSendsNothing(t *testing.T) {
	e := newEnv(t)
	e.now = time.Date(2031, 3, 4, 15, 0, 0, 0, time.UTC)
	moto := lastMile(t, e)
	c := customer("lm2")
	o := order("9002", c.ID)
	o.Test = true
	e.put(t, c, o)
	for _, kind := range []aftercare.Kind{aftercare.KindOrderShipped, aftercare.KindDeliveredSetup, aftercare.KindReviewRequest} {
		m := msg(kind, c.ID, o.ID)
		if res := e.handle(t, m); res.Decision != dispatch.Suppressed || res.Why != "test order" {
			t.Errorf("%s on a test order: %s %s", kind, res.Decision, res.Why)
		}
		if sentEmail(t, moto, m.ID) != nil {
			t.Errorf("%s on a test order reached SES", kind)
		}
	}
}

// TestMarketingSMSHasOptOut: a marketing SMS through SNS ends with the opt-out line.
func TestMarketingSMSHasOptOut(t *testing.T) {
	e := newEnv(t)
	e.now = time.Date(2031, 3, 4, 15, 0, 0, 0, time.UTC)
	moto := lastMile(t, e)
	c := customer("lm3")
	c.Phone, c.Tags = "+15550003333", []string{"prefers-sms"}
	c.SMSConsent = aftercare.Consent{State: aftercare.ConsentSubscribed}
	e.put(t, c, order("9003", c.ID))
	if res := e.handle(t, msg(aftercare.KindWinBack, c.ID, "9003")); res.Decision != dispatch.Sent || res.Channel != aftercare.ChannelSMS {
		t.Fatalf("win_back sms: %s %s %s", res.Decision, res.Why, res.Channel)
	}
	box, err := motoapi.Read(context.Background(), moto)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range box.SMS {
		if s.Phone == c.Phone {
			if !strings.HasSuffix(s.Message, "Reply STOP to opt out.") || strings.Count(s.Message, "Reply STOP") != 1 {
				t.Fatalf("sms %q", s.Message)
			}
			return
		}
	}
	t.Fatal("moto has no SMS for the customer")
}

// TestHardBounceStopsEmail: after SES reports a hard bounce for the
// customer's address, no email goes to it, transactional included; a
// complaint stops marketing email only.
func TestHardBounceStopsEmail(t *testing.T) {
	e := newEnv(t)
	e.now = time.Date(2031, 3, 4, 15, 0, 0, 0, time.UTC)
	moto := lastMile(t, e)
	bounced, complained := customer("lm4"), customer("lm5")
	bounced.ApplyEmailFeedback(aftercare.EmailFeedback{Type: aftercare.FeedbackHardBounce, Address: bounced.Email, At: e.now.Add(-time.Hour)})
	complained.ApplyEmailFeedback(aftercare.EmailFeedback{Type: aftercare.FeedbackComplaint, Address: complained.Email, At: e.now.Add(-time.Hour)})
	e.put(t, bounced, order("9004", bounced.ID))
	e.put(t, complained, order("9005", complained.ID))
	for _, tc := range []struct {
		m    *aftercare.Message
		want string
	}{
		{msg(aftercare.KindOrderShipped, bounced.ID, "9004"), dispatch.Suppressed},
		{msg(aftercare.KindWinBack, bounced.ID, "9004"), dispatch.Suppressed},
		{msg(aftercare.KindWinBack, complained.ID, "9005"), dispatch.Suppressed},
		{msg(aftercare.KindOrderShipped, complained.ID, "9005"), dispatch.Sent},
	} {
		res := e.handle(t, tc.m)
		if res.Decision != tc.want {
			t.Errorf("%s to %s: %s %s, want %s", tc.m.Kind, tc.m.CustomerID, res.Decision, res.Why, tc.want)
		}
		if got := sentEmail(t, moto, tc.m.ID) != nil; got != (tc.want == dispatch.Sent) {
			t.Errorf("%s to %s: in moto %v", tc.m.Kind, tc.m.CustomerID, got)
		}
	}
}
