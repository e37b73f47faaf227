package shopifyapp

import (
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/aftercare/aftercare/internal/shopify"
)

// The committed shopify.app.toml is what the code's topic list renders.
func TestAppTOMLIsUpToDate(t *testing.T) {
	if AppTOML != Render(Placeholder) {
		t.Fatal("infra/shopify/shopify.app.toml is out of date: run `go run ./infra/cmd/aftercare app-config > infra/shopify/shopify.app.toml`")
	}
}

// Read back from the file itself: exactly the handled topics (app/uninstalled
// among them), and the three compliance topics on their own.
func TestAppTOMLListsExactlyTheHandledTopics(t *testing.T) {
	blocks := strings.Split(AppTOML, "[[webhooks.subscriptions]]")
	if len(blocks) != 3 {
		t.Fatalf("want two subscription blocks, got %d", len(blocks)-1)
	}
	quoted := regexp.MustCompile(`"([a-z_]+/[a-z_]+)"`)
	read := func(block, key string) []string {
		i := strings.Index(block, key+" = [")
		if i < 0 {
			t.Fatalf("no %s in %q", key, block)
		}
		list := block[i : i+strings.Index(block[i:], "]")]
		var out []string
		for _, m := range quoted.FindAllStringSubmatch(list, -1) {
			out = append(out, m[1])
		}
		sort.Strings(out)
		return out
	}
	topics := read(blocks[1], "topics")
	want := shopify.WebhookTopics()
	if strings.Join(topics, ",") != strings.Join(want, ",") {
		t.Fatalf("topics in the file:\n%v\nhandled by the code:\n%v", topics, want)
	}
	for _, must := range []string{"app/uninstalled", "products/create", "products/update", "orders/fulfilled", "refunds/create"} {
		if !strings.Contains(strings.Join(topics, " "), must) {
			t.Errorf("%s is missing", must)
		}
	}
	comp := read(blocks[2], "compliance_topics")
	if strings.Join(comp, ",") != "customers/data_request,customers/redact,shop/redact" {
		t.Fatalf("compliance topics %v", comp)
	}
	if !strings.Contains(AppTOML, `api_version = "2026-10"`) || !strings.Contains(blocks[1], `uri = "https://YOUR_API_ID.execute-api.us-east-1.amazonaws.com/webhooks/shopify"`) {
		t.Fatal("the API version is pinned and the subscriptions point at the API's Shopify route")
	}
}

func TestRenderForEventBridge(t *testing.T) {
	arn := "arn:aws:events:us-east-1::event-source/aws.partner/shopify.com/1234567/aftercare"
	got := Render(Config{ClientID: "abc", APIURL: "https://x.example.com/", EventBridgeARN: arn})
	blocks := strings.Split(got, "[[webhooks.subscriptions]]")
	if !strings.Contains(blocks[1], `uri = "`+arn+`"`) || !strings.Contains(blocks[2], `uri = "https://x.example.com/webhooks/shopify"`) {
		t.Fatalf("topics go to EventBridge, compliance topics stay on HTTPS:\n%s", got)
	}
	if !strings.Contains(BackfillQuery, "displayFulfillmentStatus") || !strings.Contains(BackfillQuery, "trackingInfo { company number url }") {
		t.Fatal("the backfill query is embedded")
	}
}
