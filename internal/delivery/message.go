package delivery

import (
	"context"
	"fmt"
	"strings"

	"github.com/aftercare/aftercare/internal/aftercare"
)

// Provider names, per channel (SPEC 11).
const (
	ProviderSES     = "ses"
	ProviderSNS     = "sns"
	ProviderWebhook = "webhook"
	ProviderLog     = "log"
)

// Message is one rendered message, everything a provider needs: dispatch builds
// it once and the router hands it to the channel's provider.
type Message struct {
	ID         string
	Kind       aftercare.Kind
	Category   aftercare.Category
	Audience   aftercare.Audience
	Channel    aftercare.Channel
	Shop       string
	OrderID    string
	CustomerID string // empty for team messages

	To     string // email address or E.164 phone; for team messages the shop's team_email
	ToName string
	From   string // the shop's verified sender (email_from); may carry a display name
	// FromName is the display name for From when From is a bare address.
	FromName string
	ReplyTo  string // the shop's support address

	Subject string // email only
	Text    string // plain text (email) or the SMS body
	HTML    string // email only

	UnsubscribeURL string // marketing only

	// JSON is the SPEC 6 body, the webhook provider's payload.
	JSON []byte

	// EmailProvider and SMSProvider are the shop's choice; empty takes the default.
	EmailProvider, SMSProvider string
}

// Marketing reports whether the message needs marketing consent.
func (m *Message) Marketing() bool { return m.Category == aftercare.Marketing }

// Provider delivers a message on one channel. An error means not delivered
// (the queue retries); a permanent refusal is EINVALID.
type Provider interface {
	Deliver(ctx context.Context, m *Message) error
}

// Router picks the provider of each message's channel: the shop's choice, else
// the default. Unknown or unconfigured names are an error at start (Check),
// never at send time for the defaults.
type Router struct {
	Email        map[string]Provider // by provider name: ses, webhook, log
	SMS          map[string]Provider // sns, webhook, log
	DefaultEmail string
	DefaultSMS   string
}

// Deliver hands m to its channel's provider.
func (r *Router) Deliver(ctx context.Context, m *Message) error {
	p, err := r.provider(m)
	if err != nil {
		return err
	}
	return p.Deliver(ctx, m)
}

// provider is the channel's provider for m.
func (r *Router) provider(m *Message) (Provider, error) {
	table, name := r.Email, or(m.EmailProvider, r.DefaultEmail)
	if m.Channel == aftercare.ChannelSMS {
		table, name = r.SMS, or(m.SMSProvider, r.DefaultSMS)
	}
	p := table[name]
	if p == nil {
		// A shop's setting names a provider this deployment has not
		// configured (e.g. ses without EMAIL_FROM permission): the message
		// cannot go until an operator fixes it, so it is a failure to retry.
		return nil, aftercare.Errorf(aftercare.EUNAVAILABLE, "delivery: %s provider %q is not configured", m.Channel, name)
	}
	return p, nil
}

// Check reports whether the defaults name configured providers.
func (r *Router) Check() error {
	if r.Email[r.DefaultEmail] == nil {
		return fmt.Errorf("delivery: EMAIL_PROVIDER=%q is not configured (have %s)", r.DefaultEmail, names(r.Email))
	}
	if r.SMS[r.DefaultSMS] == nil {
		return fmt.Errorf("delivery: SMS_PROVIDER=%q is not configured (have %s)", r.DefaultSMS, names(r.SMS))
	}
	return nil
}

func names(m map[string]Provider) string {
	var out []string
	for _, n := range []string{ProviderSES, ProviderSNS, ProviderWebhook, ProviderLog} {
		if m[n] != nil {
			out = append(out, n)
		}
	}
	return strings.Join(out, ", ")
}

func or(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return s
}

// Send is for callers that only have the SPEC 6 JSON (dispatch hands the whole
// message to Deliver): it goes to the webhook, or the log without one.
func (r *Router) Send(ctx context.Context, id string, body []byte) error {
	m := &Message{ID: id, JSON: body}
	if p := r.Email[ProviderWebhook]; p != nil {
		return p.Deliver(ctx, m)
	}
	if p := r.Email[ProviderLog]; p != nil {
		return p.Deliver(ctx, m)
	}
	return aftercare.Errorf(aftercare.EUNAVAILABLE, "delivery: no webhook or log provider for %s", id)
}
