package shopifyadmin

import (
	"context"
	"net/http"
	"time"
)

// Shops is the Admin API of every connected shop, for the reconcile check:
// the shops are those with a token in SSM, each shop's client is opened
// with its token when the check reaches it.
type Shops struct {
	Tokens  *Tokens
	BaseURL string // "" : https://<shop>; tests and the local stack point it at a fake
	HTTP    *http.Client
	// Sleep waits out the bucket (default time.After); tests make it instant.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Connected lists the connected shops: one GetParametersByPath call (a page
// of ten names; more pages only past ten shops).
func (s *Shops) Connected(ctx context.Context) ([]string, error) { return s.Tokens.Shops(ctx) }

// Disconnect deletes the shop's stored token (one DeleteParameter).
func (s *Shops) Disconnect(ctx context.Context, shop string) error { return s.Tokens.Delete(ctx, shop) }

// OrdersSince reads the shop's token (one GetParameter) and pages through
// its orders updated at or after since; see Client.OrdersSince.
func (s *Shops) OrdersSince(ctx context.Context, shop string, since, now time.Time, fn func(Page) error) (time.Time, error) {
	token, err := s.Tokens.Get(ctx, shop)
	if err != nil {
		return since, err
	}
	hc := s.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 60 * time.Second}
	}
	c := &Client{Shop: shop, Token: token, HTTP: hc, BaseURL: s.BaseURL, Sleep: s.Sleep}
	return c.OrdersSince(ctx, since, now, fn)
}
