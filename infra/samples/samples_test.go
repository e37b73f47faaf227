package samples

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/aftercare/aftercare/infra/devstack"
	"github.com/aftercare/aftercare/internal/sources"
	"github.com/aftercare/aftercare/internal/webhook"
)

func root(t *testing.T) string {
	t.Helper()
	r, err := devstack.ProjectRoot()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestSamplesAreCurrent fails when a committed sample differs from what the
// generator makes now: run `go run ./infra/cmd/samples` and commit.
func TestSamplesAreCurrent(t *testing.T) {
	r := root(t)
	files, err := Generate(r)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 11 {
		t.Fatalf("only %d samples", len(files))
	}
	for path, want := range files {
		got, err := os.ReadFile(filepath.Join(r, path))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s is missing or stale (%v): run `go run ./infra/cmd/samples`", path, err)
		}
	}
}

// TestSignedRequestsVerify pushes the API samples through the real ingest
// service with env.json's secrets: they must be accepted, not just look right.
func TestSignedRequestsVerify(t *testing.T) {
	r := root(t)
	secrets, err := localSecrets(filepath.Join(r, "infra/local/env.json"))
	if err != nil {
		t.Fatal(err)
	}
	q := &queue{}
	shop, carriers := sources.Service(func(v string) string { return secrets[v] })
	svc := &webhook.Service{Shopify: shop, Carriers: carriers, Queue: q}
	for _, src := range sources.All {
		name := APISample(src)
		b, err := os.ReadFile(filepath.Join(r, name))
		if err != nil {
			t.Fatal(err)
		}
		var req events.APIGatewayV2HTTPRequest
		if err := json.Unmarshal(b, &req); err != nil {
			t.Fatal(err)
		}
		h := http.Header{}
		for k, v := range req.Headers {
			h.Set(k, v)
		}
		query, err := url.ParseQuery(req.RawQueryString)
		if err != nil {
			t.Fatal(err)
		}
		source := "shopify"
		if c := req.PathParameters["carrier"]; c != "" {
			source = c
		}
		if source != src.Name {
			t.Errorf("%s routes to %s", name, source)
		}
		out, err := svc.Handle(context.Background(), source, []byte(req.Body), h, query)
		if err != nil || out.Status != "accepted" {
			t.Errorf("%s: %+v %v", name, out, err)
		}
	}
	if q.n != len(sources.All) {
		t.Fatalf("%d events queued, want %d", q.n, len(sources.All))
	}
}

type queue struct{ n int }

func (q *queue) Send(context.Context, string, []byte) error { q.n++; return nil }
