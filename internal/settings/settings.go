// Package settings serves each shop's settings: the defaults validated at start
// (a bad default stops the function from starting, naming the field) merged
// with the shop's overrides from the table, cached for a few minutes so a
// batch costs no extra round trips.
package settings

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/aftercare/aftercare/internal/aftercare"
)

// Loader reads a shop's override document; nil means none.
type Loader func(ctx context.Context, shop string) ([]byte, error)

// Cache serves settings per shop.
type Cache struct {
	Defaults aftercare.Settings
	Load     Loader
	TTL      time.Duration
	Log      *slog.Logger
	Now      func() time.Time

	mu      sync.Mutex
	entries map[string]entry
}

type entry struct {
	s       aftercare.Settings
	fetched time.Time
}

// DefaultTTL bounds how stale a shop's settings may be in a warm function.
const DefaultTTL = 5 * time.Minute

// Defaults parses and validates the default settings document (the
// AFTERCARE_SETTINGS environment variable).
func Defaults(doc string) (aftercare.Settings, error) {
	return aftercare.ParseSettings(aftercare.DefaultSettings(), []byte(doc))
}

// Settings returns the shop's settings. Overrides that do not validate are
// logged and ignored, so one bad shop row cannot stop a batch; they are
// validated when written (see `aftercare settings`, infra/cmd/aftercare).
func (c *Cache) Settings(ctx context.Context, shop string) (aftercare.Settings, error) {
	now := time.Now()
	if c.Now != nil {
		now = c.Now()
	}
	ttl := c.TTL
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	c.mu.Lock()
	if e, ok := c.entries[shop]; ok && now.Sub(e.fetched) < ttl {
		c.mu.Unlock()
		return e.s, nil
	}
	c.mu.Unlock()
	s := c.Defaults
	if c.Load != nil && shop != "" {
		doc, err := c.Load(ctx, shop)
		if err != nil {
			return aftercare.Settings{}, aftercare.Wrap(aftercare.EUNAVAILABLE, err, "read settings of %s", shop)
		}
		if len(doc) > 0 {
			merged, err := aftercare.ParseSettings(c.Defaults, doc)
			if err != nil {
				if c.Log != nil {
					c.Log.Error("shop settings invalid; using defaults", slog.String("shop", shop), slog.String("error", err.Error()))
				}
			} else {
				s = merged
			}
		}
	}
	c.mu.Lock()
	if c.entries == nil {
		c.entries = map[string]entry{}
	}
	c.entries[shop] = entry{s: s, fetched: now}
	c.mu.Unlock()
	return s, nil
}
