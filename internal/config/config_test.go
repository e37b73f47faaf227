package config

import (
	"strings"
	"testing"
)

func env(m map[string]string) Getenv { return func(k string) string { return m[k] } }

func TestErrorsNameTheVariable(t *testing.T) {
	base := map[string]string{"TABLE_NAME": "t", "INBOX_QUEUE_URL": "http://q/in", "OUTBOUND_QUEUE_URL": "http://q/out", "SHOPIFY_WEBHOOK_SECRET": "s"}
	with := func(k, v string) map[string]string {
		m := map[string]string{}
		for a, b := range base {
			m[a] = b
		}
		m[k] = v
		return m
	}
	cases := []struct {
		name string
		load func(Getenv) error
		env  map[string]string
		want string
	}{
		{"table", func(g Getenv) error { _, err := LoadProcessor(g); return err }, with("TABLE_NAME", ""), "TABLE_NAME"},
		{"settings", func(g Getenv) error { _, err := LoadProcessor(g); return err }, with("AFTERCARE_SETTINGS", `{"time_zone":"X/Y"}`), "settings.time_zone"},
		{"shards", func(g Getenv) error { _, err := LoadChecks(g); return err }, with("DUE_SHARDS", "0"), "DUE_SHARDS"},
		{"cap", func(g Getenv) error { _, err := LoadWebhook(g); return err }, with("WEBHOOK_MAX_BODY_BYTES", "1000"), "WEBHOOK_MAX_BODY_BYTES"},
		{"secret", func(g Getenv) error { _, err := LoadWebhook(g); return err }, with("SHOPIFY_WEBHOOK_SECRET", ""), "SHOPIFY_WEBHOOK_SECRET"},
		{"url", func(g Getenv) error { _, err := LoadDispatch(g); return err }, with("DELIVERY_URL", "not a url"), "DELIVERY_URL"},
		{"signing", func(g Getenv) error { _, err := LoadDispatch(g); return err }, with("DELIVERY_URL", "https://sink.example/in"), "DELIVERY_SIGNING_SECRET"},
		{"queue", func(g Getenv) error { _, err := LoadDispatch(g); return err }, with("OUTBOUND_QUEUE_URL", "queue"), "OUTBOUND_QUEUE_URL"},
	}
	for _, c := range cases {
		err := c.load(env(c.env))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: want an error naming %s, got %v", c.name, c.want, err)
		}
	}
	if _, err := LoadDispatch(env(base)); err != nil {
		t.Fatalf("without DELIVERY_URL dispatch logs messages: %v", err)
	}
}
