// Package shopifyadmin is the Shopify GraphQL Admin API adapter: one shop's
// client (cost-aware: it paces itself by extensions.cost.throttleStatus and
// waits out THROTTLED errors), webhook subscriptions kept in line with the
// topics aftercare handles, bulk operations for history, the orders query
// the reconcile check pages through, and the per-shop access token in SSM
// Parameter Store.
package shopifyadmin

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aftercare/aftercare/internal/aftercare"
)

// APIVersion is the Admin API version aftercare is written against; it is
// the api_version of infra/shopify/shopify.app.toml too.
const APIVersion = "2026-10"

// Client talks to one shop's GraphQL Admin API.
type Client struct {
	Shop    string // example.myshopify.com
	Token   string // the shop's Admin API access token
	HTTP    *http.Client
	BaseURL string // default https://<shop>; tests point it at a local server
	// Sleep waits (tests make it instant and record it); default time.After.
	Sleep func(ctx context.Context, d time.Duration) error
	// MaxRetries bounds retries of a throttled or failed call (default 8).
	MaxRetries int

	// What the last response said about the bucket.
	available, restore float64
	known              bool
}

// Cost is extensions.cost of a response.
type Cost struct {
	RequestedQueryCost float64 `json:"requestedQueryCost"`
	ActualQueryCost    float64 `json:"actualQueryCost"`
	ThrottleStatus     struct {
		MaximumAvailable   float64 `json:"maximumAvailable"`
		CurrentlyAvailable float64 `json:"currentlyAvailable"`
		RestoreRate        float64 `json:"restoreRate"`
	} `json:"throttleStatus"`
}

// GraphQLError is one entry of a response's errors.
type GraphQLError struct {
	Message    string `json:"message"`
	Extensions struct {
		Code string `json:"code"`
	} `json:"extensions"`
}

// Error is a failed call: GraphQL errors, or an HTTP status with its body.
type Error struct {
	Status int
	Errors []GraphQLError
	Body   string
}

func (e *Error) Error() string {
	if len(e.Errors) > 0 {
		msgs := make([]string, 0, len(e.Errors))
		for _, g := range e.Errors {
			m := g.Message
			if g.Extensions.Code != "" {
				m += " (" + g.Extensions.Code + ")"
			}
			msgs = append(msgs, m)
		}
		return "shopify admin api: " + strings.Join(msgs, "; ")
	}
	return fmt.Sprintf("shopify admin api: HTTP %d: %s", e.Status, e.Body)
}

func (e *Error) throttled() bool {
	for _, g := range e.Errors {
		if g.Extensions.Code == "THROTTLED" {
			return true
		}
	}
	return e.Status == http.StatusTooManyRequests
}

// Do runs one query with variables and decodes data into out. Before a call
// it waits until the bucket (as the last response left it) holds what the
// last query cost; a THROTTLED answer is waited out by the restore rate and
// retried, as are 429s and 5xx.
func (c *Client) Do(ctx context.Context, query string, vars map[string]any, out any) (*Cost, error) {
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		return nil, err
	}
	retries := c.MaxRetries
	if retries == 0 {
		retries = 8
	}
	var last error
	for attempt := 0; attempt <= retries; attempt++ {
		cost, wait, err := c.once(ctx, body, out)
		if err == nil {
			return cost, nil
		}
		last = err
		if wait < 0 {
			return cost, err
		}
		if err := c.sleep(ctx, wait); err != nil {
			return nil, err
		}
	}
	return nil, fmt.Errorf("gave up after %d retries: %w", retries, last)
}

// once makes one request; wait >= 0 says the error is worth a retry after it.
func (c *Client) once(ctx context.Context, body []byte, out any) (*Cost, time.Duration, error) {
	url := c.BaseURL
	if url == "" {
		url = "https://" + c.Shop
	}
	url += "/admin/api/" + APIVersion + "/graphql.json"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, -1, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Shopify-Access-Token", c.Token)
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 60 * time.Second}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, time.Second, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, time.Second, err
	}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		d := time.Second
		if s, err := strconv.ParseFloat(resp.Header.Get("Retry-After"), 64); err == nil && s > 0 {
			d = time.Duration(s * float64(time.Second))
		}
		return nil, d, &Error{Status: resp.StatusCode, Body: clip(raw)}
	case resp.StatusCode >= 500:
		return nil, 2 * time.Second, &Error{Status: resp.StatusCode, Body: clip(raw)}
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return nil, -1, aftercare.Wrap(aftercare.EUNAUTHORIZED, &Error{Status: resp.StatusCode, Body: clip(raw)},
			"%s refused the access token (HTTP %d): store a valid one with `aftercare connect`", c.Shop, resp.StatusCode)
	case resp.StatusCode != http.StatusOK:
		return nil, -1, &Error{Status: resp.StatusCode, Body: clip(raw)}
	}
	var env struct {
		Data       json.RawMessage `json:"data"`
		Errors     []GraphQLError  `json:"errors"`
		Extensions struct {
			Cost *Cost `json:"cost"`
		} `json:"extensions"`
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		return nil, -1, fmt.Errorf("shopify admin api: response is not JSON: %w", err)
	}
	cost := env.Extensions.Cost
	if cost != nil {
		c.available, c.restore, c.known = cost.ThrottleStatus.CurrentlyAvailable, cost.ThrottleStatus.RestoreRate, true
	}
	if len(env.Errors) > 0 {
		e := &Error{Status: resp.StatusCode, Errors: env.Errors}
		if e.throttled() {
			return cost, c.refill(cost), e
		}
		return cost, -1, e
	}
	if out != nil && len(env.Data) > 0 {
		if err := json.Unmarshal(env.Data, out); err != nil {
			return cost, -1, fmt.Errorf("shopify admin api: unexpected data: %w", err)
		}
	}
	// Pace the next call: if the bucket cannot pay for another query like
	// this one, wait for it to refill first rather than be throttled.
	if cost != nil && c.restore > 0 {
		need := math.Max(cost.RequestedQueryCost, cost.ActualQueryCost)
		if c.available < need {
			if err := c.sleep(context.WithoutCancel(ctx), seconds((need-c.available)/c.restore)); err != nil {
				return cost, -1, err
			}
		}
	}
	return cost, 0, nil
}

// refill is how long the bucket needs to hold what a throttled query asked.
func (c *Client) refill(cost *Cost) time.Duration {
	if cost == nil || cost.ThrottleStatus.RestoreRate <= 0 {
		return time.Second
	}
	need := cost.RequestedQueryCost - cost.ThrottleStatus.CurrentlyAvailable
	if need <= 0 {
		return 100 * time.Millisecond
	}
	return seconds(need / cost.ThrottleStatus.RestoreRate)
}

func seconds(s float64) time.Duration { return time.Duration(math.Ceil(s*1000)) * time.Millisecond }

func (c *Client) sleep(ctx context.Context, d time.Duration) error {
	if c.Sleep != nil {
		return c.Sleep(ctx, d)
	}
	select {
	case <-time.After(d):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func clip(b []byte) string {
	if len(b) > 300 {
		b = b[:300]
	}
	return string(b)
}

// userErrors turns a mutation's userErrors into an error.
type userError struct {
	Field   []string `json:"field"`
	Message string   `json:"message"`
}

func userErrors(what string, errs []userError) error {
	if len(errs) == 0 {
		return nil
	}
	msgs := make([]string, 0, len(errs))
	for _, e := range errs {
		m := e.Message
		if len(e.Field) > 0 {
			m = strings.Join(e.Field, ".") + ": " + m
		}
		msgs = append(msgs, m)
	}
	return aftercare.Errorf(aftercare.EINVALID, "%s: %s", what, strings.Join(msgs, "; "))
}
