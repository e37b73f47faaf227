package config

import (
	"slices"
	"strings"
	"testing"
)

func env(m map[string]string) Getenv { return func(k string) string { return m[k] } }

func TestErrorsNameTheVariable(t *testing.T) {
	base := map[string]string{"TABLE_NAME": "t", "INBOX_QUEUE_URL": "http://q/in", "OUTBOUND_QUEUE_URL": "http://q/out", "SHOPIFY_WEBHOOK_SECRET": "s", "UNSUBSCRIBE_SECRET": "u"}
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
		{"tombstone key", func(g Getenv) error { _, err := LoadProcessor(g); return err }, with("UNSUBSCRIBE_SECRET", ""), "UNSUBSCRIBE_SECRET_PARAM"},
		{"shards", func(g Getenv) error { _, err := LoadChecks(g); return err }, with("DUE_SHARDS", "0"), "DUE_SHARDS"},
		{"admin", func(g Getenv) error { _, err := LoadChecks(g); return err }, with("SHOPIFY_ADMIN_URL", "localhost:9"), "SHOPIFY_ADMIN_URL"},
		{"lookback", func(g Getenv) error { _, err := LoadChecks(g); return err }, with("RECONCILE_LOOKBACK_HOURS", "0"), "RECONCILE_LOOKBACK_HOURS"},
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

// WebhookFunction's configuration ranges over the webhook secrets: each
// source's secret variable lands in Secrets, and only required ones stop the
// start when missing.
func TestWebhookSecretsFollowTheRegistry(t *testing.T) {
	e := map[string]string{"INBOX_QUEUE_URL": "http://q/in"}
	for _, s := range WebhookSecrets {
		e[s.Var] = "secret-of-" + s.Source
	}
	w, err := LoadWebhook(env(e))
	if err != nil {
		t.Fatal(err)
	}
	if len(w.Secrets) != len(WebhookSecrets) {
		t.Errorf("%d secrets for %d sources", len(w.Secrets), len(WebhookSecrets))
	}
	for _, s := range WebhookSecrets {
		if w.Secrets[s.Var] != "secret-of-"+s.Source {
			t.Errorf("%s: %q", s.Var, w.Secrets[s.Var])
		}
		without := map[string]string{}
		for k, v := range e {
			without[k] = v
		}
		delete(without, s.Var)
		_, err := LoadWebhook(env(without))
		if s.Required != (err != nil) {
			t.Errorf("%s missing: err %v, required %v", s.Var, err, s.Required)
		}
		if err != nil && !strings.Contains(err.Error(), s.Var+ParamSuffix) {
			t.Errorf("error does not say where the secret lives: %v", err)
		}
	}
	vars := SecretVars()
	for _, v := range []string{"SHOPIFY_WEBHOOK_SECRET", "EASYPOST_WEBHOOK_SECRET", "AFTERSHIP_WEBHOOK_SECRET", "SHIPPO_WEBHOOK_TOKEN", DeliverySigningSecret, ReportToken, UnsubscribeSecret} {
		if !slices.Contains(vars, v) {
			t.Errorf("SecretVars lacks %s", v)
		}
	}
}
