package settings_test

import (
	"context"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aftercare/aftercare/internal/aftercare"
	"github.com/aftercare/aftercare/internal/dynamo"
	"github.com/aftercare/aftercare/internal/memstore"
	"github.com/aftercare/aftercare/internal/obs"
	"github.com/aftercare/aftercare/internal/settings"
	"github.com/aftercare/aftercare/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// overrides is where a shop's settings overrides are kept.
type overrides interface {
	ShopSettings(ctx context.Context, shop string) ([]byte, error)
	PutShopSettings(ctx context.Context, shop string, doc []byte) error
}

// On the in-memory store and DynamoDB Local: a shop's overrides merge over
// the defaults, are cached for the TTL, a bad override falls back to the
// defaults, and a shop without a row gets the defaults.
func TestShopOverridesFromTheTable(t *testing.T) {
	t.Run("memory", func(t *testing.T) { shopOverrides(t, memstore.New()) })
	t.Run("dynamodb", func(t *testing.T) {
		s := testenv.Fresh(t)
		shopOverrides(t, &dynamo.Store{DB: s.DB, Streams: s.Streams, Table: s.Table, Shards: 4})
	})
}

func shopOverrides(t *testing.T, store overrides) {
	ctx := context.Background()
	defaults, err := settings.Defaults(`{"shop_name": "Default Shop", "support_email": "help@default.test"}`)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.PutShopSettings(ctx, "a.myshopify.com", []byte(`{"shop_name": "Shop A"}`)); err != nil {
		t.Fatal(err)
	}
	if err := store.PutShopSettings(ctx, "bad.myshopify.com", []byte(`{"time_zone": "Mars/Olympus"}`)); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2024, 11, 20, 12, 0, 0, 0, time.UTC) // long before any real today
	c := &settings.Cache{Defaults: defaults, Load: store.ShopSettings, Log: obs.NewLogger(io.Discard, "ERROR"), Now: func() time.Time { return now }}
	get := func(shop string) aftercare.Settings {
		t.Helper()
		st, err := c.Settings(ctx, shop)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	if a := get("a.myshopify.com"); a.ShopName != "Shop A" || a.SupportEmail != "help@default.test" {
		t.Fatalf("merged settings %q %q", a.ShopName, a.SupportEmail)
	}
	if b := get("bad.myshopify.com"); b.ShopName != "Default Shop" {
		t.Fatalf("bad override not ignored: %q", b.ShopName)
	}
	if n := get("none.myshopify.com"); n.ShopName != "Default Shop" {
		t.Fatalf("shop without overrides: %q", n.ShopName)
	}
	// Cached until the TTL passes.
	if err := store.PutShopSettings(ctx, "a.myshopify.com", []byte(`{"shop_name": "Shop A2"}`)); err != nil {
		t.Fatal(err)
	}
	if a := get("a.myshopify.com"); a.ShopName != "Shop A" {
		t.Fatalf("not cached: %q", a.ShopName)
	}
	now = now.Add(settings.DefaultTTL + time.Second)
	if a := get("a.myshopify.com"); a.ShopName != "Shop A2" {
		t.Fatalf("stale after the TTL: %q", a.ShopName)
	}
}

// Bad defaults fail at start, naming the field.
func TestBadDefaultsNameTheField(t *testing.T) {
	_, err := settings.Defaults(`{"time_zone": "Mars/Olympus"}`)
	if err == nil || !strings.Contains(err.Error(), "time_zone") {
		t.Fatalf("got %v, want an error naming time_zone", err)
	}
}
