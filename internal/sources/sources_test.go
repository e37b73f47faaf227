package sources_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aftercare/aftercare/infra/devstack"
	"github.com/aftercare/aftercare/internal/aftercare"
	"github.com/aftercare/aftercare/internal/config"
	"github.com/aftercare/aftercare/internal/sources"
)

// Every source of the registry is wired where the README's "Adding a
// carrier" says: its route is served by WebhookFunction, the template names
// its secret's SSM parameter (a template parameter) in WebhookFunction's
// environment and lets ssm:GetParameters read it, an output gives its URL,
// infra/local/env.json gives it a local secret, and it has golden events, a
// sample and a status table of normalized statuses. A carrier added to the
// registry but not to the template (or the reverse) fails here.
func TestRegistryMatchesTemplateAndEnvFile(t *testing.T) {
	root, err := devstack.ProjectRoot()
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := devstack.LoadTemplate(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	fn, ok := tpl.Function("WebhookFunction")
	if !ok {
		t.Fatal("no WebhookFunction in template.yaml")
	}
	routes := map[string]bool{}
	for _, r := range devstack.HTTPRoutes([]devstack.Function{fn}) {
		routes[r.Method+" "+r.Path] = true
	}
	envFile, err := devstack.LoadEnvFile(filepath.Join(root, "infra/local/env.json"))
	if err != nil {
		t.Fatal(err)
	}
	policies := devstackPolicies(t, tpl)
	valid := map[aftercare.ShipmentStatus]bool{"": true}
	for _, s := range []aftercare.ShipmentStatus{aftercare.StatusPreTransit, aftercare.StatusInTransit, aftercare.StatusOutForDelivery,
		aftercare.StatusAttemptedDelivery, aftercare.StatusAvailableForPickup, aftercare.StatusDelivered, aftercare.StatusException,
		aftercare.StatusReturned, aftercare.StatusCancelled, aftercare.StatusUnknown} {
		valid[s] = true
	}
	names := map[string]bool{}
	for _, src := range sources.All {
		t.Run(src.Name, func(t *testing.T) {
			if names[src.Name] {
				t.Fatalf("%s is registered twice", src.Name)
			}
			names[src.Name] = true
			if got := src.New("x").Name(); got != src.Name {
				t.Errorf("its Source says its name is %q", got)
			}
			route := "POST " + src.Path
			if src.Carrier() {
				if src.Path != strings.Replace(sources.CarrierRoute, "{carrier}", src.Name, 1) {
					t.Errorf("carrier path %s is not under %s", src.Path, sources.CarrierRoute)
				}
				route = "POST " + sources.CarrierRoute
			}
			if !routes[route] {
				t.Errorf("template.yaml: WebhookFunction serves no %s", route)
			}
			ref, _ := fn.Environment[src.Secret+config.ParamSuffix].(map[string]any)
			param, _ := ref["Ref"].(string)
			if _, ok := tpl.Parameters[param]; !ok {
				t.Errorf("template.yaml: WebhookFunction's %s%s is not a template parameter (got %v)", src.Secret, config.ParamSuffix, fn.Environment[src.Secret+config.ParamSuffix])
			}
			if !strings.Contains(policies, "${"+param+"}") {
				t.Errorf("template.yaml: WebhookFunction may not ssm:GetParameters the parameter %s names", param)
			}
			if v, declared := fn.Environment[src.Secret]; !declared || v != "" {
				t.Errorf("template.yaml: WebhookFunction should declare %s empty (for sam local), got %v", src.Secret, v)
			}
			if !hasOutput(tpl, src.Path) {
				t.Errorf("template.yaml: no output gives the %s URL", src.Path)
			}
			if envFile["WebhookFunction"][src.Secret] == "" {
				t.Errorf("infra/local/env.json: WebhookFunction has no local %s", src.Secret)
			}
			goldens, _ := filepath.Glob(filepath.Join(root, src.Goldens(), "*.json"))
			if len(goldens) < 10 {
				t.Errorf("%s has %d golden events, want at least 10", src.Goldens(), len(goldens))
			}
			if _, err := os.Stat(filepath.Join(root, src.Goldens(), src.Sample)); err != nil {
				t.Errorf("sample: %v", err)
			}
			table := src.StatusTable()
			if len(table) == 0 {
				t.Error("empty status table")
			}
			for value, status := range table {
				if !valid[status] {
					t.Errorf("status table maps %q to %q, not a normalized status", value, status)
				}
			}
		})
	}
	if !names[aftercare.SourceShopify] {
		t.Error("Shopify is not in the registry")
	}
}

// A sender's signature verifies with the same secret and fails with another:
// the registry's Sign and the source's Verify agree.
func TestSignAndVerifyAgree(t *testing.T) {
	body := []byte(`{"id":"evt_1","event":"track_updated","description":"tracker.updated"}`)
	for _, src := range sources.All {
		h, q := src.Sign("right-secret", body)
		if err := src.New("right-secret").Verify(body, h, q); err != nil {
			t.Errorf("%s: signed body does not verify: %v", src.Name, err)
		}
		if err := src.New("other-secret").Verify(body, h, q); aftercare.ErrorCode(err) != aftercare.EUNAUTHORIZED {
			t.Errorf("%s: verified with another secret: %v", src.Name, err)
		}
		if err := src.New("").Verify(body, h, q); aftercare.ErrorCode(err) != aftercare.EUNAUTHORIZED {
			t.Errorf("%s: verified with no secret configured: %v", src.Name, err)
		}
	}
}

// Service hands each source its own secret, Shopify apart from the carriers.
func TestServiceWiresEverySource(t *testing.T) {
	body := []byte(`{}`)
	shop, carriers := sources.Service(func(v string) string { return "secret-of-" + v })
	if shop == nil || len(carriers) != len(sources.All)-1 {
		t.Fatalf("shopify %v, %d carriers", shop, len(carriers))
	}
	for _, src := range sources.All {
		got := shop
		if src.Carrier() {
			got = carriers[src.Name]
		}
		h, q := src.Sign("secret-of-"+src.Secret, body)
		if err := got.Verify(body, h, q); err != nil {
			t.Errorf("%s did not get its own secret: %v", src.Name, err)
		}
	}
}

func hasOutput(tpl *devstack.Template, path string) bool {
	for _, o := range tpl.Outputs {
		v, _ := o.(map[string]any)["Value"].(map[string]any)
		if sub, _ := v["Fn::Sub"].(string); strings.HasSuffix(sub, path) {
			return true
		}
	}
	return false
}

// devstackPolicies is WebhookFunction's policy statements as text, enough to
// see which parameter names they cover.
func devstackPolicies(t *testing.T, tpl *devstack.Template) string {
	t.Helper()
	var b strings.Builder
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for _, e := range x {
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		case string:
			b.WriteString(x + "\n")
		}
	}
	walk(tpl.Resources["WebhookFunction"].Properties["Policies"])
	return b.String()
}

// Configuration keeps its own list of the sources' secrets (so that reading
// it does not link every parser); it must say what the registry says.
func TestConfigKnowsEverySourceSecret(t *testing.T) {
	if len(config.WebhookSecrets) != len(sources.All) {
		t.Fatalf("config.WebhookSecrets has %d entries for %d sources", len(config.WebhookSecrets), len(sources.All))
	}
	for i, s := range sources.All {
		want := config.WebhookSecret{Source: s.Name, Var: s.Secret, Required: s.Required}
		if got := config.WebhookSecrets[i]; got != want {
			t.Errorf("config.WebhookSecrets[%d] = %+v, the registry says %+v", i, got, want)
		}
	}
}
