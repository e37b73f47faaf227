package report_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aftercare/aftercare/internal/dynamo"
	"github.com/aftercare/aftercare/internal/report"
	"github.com/aftercare/aftercare/internal/report/reporttest"
	"github.com/aftercare/aftercare/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// The seeded shop's page, served from its day items in DynamoDB Local through
// a signed link, as a person sees it: screenshots at desktop and phone width,
// and every number in the DOM equal to the JSON's.
func TestDashboardInChromium(t *testing.T) {
	s := testenv.Fresh(t)
	store := &dynamo.Store{DB: s.DB, Streams: s.Streams, Table: s.Table, Shards: 4}
	e := runSeed(t, seedHistory())
	if err := store.SeedDays(context.Background(), shopDomain, days(e)); err != nil {
		t.Fatal(err)
	}
	// A real clock only for the link's expiry, which Chromium's request checks.
	now := time.Now()
	srv := httptest.NewServer(newHandler(store, now))
	defer srv.Close()
	link := report.SignedLink(srv.URL, token, shopDomain, seedRange(), now.Add(time.Hour))

	res := get(newHandler(store, now), seedQuery(), map[string]string{"Authorization": "Bearer " + token})
	if !jsonEqual(t, res.Body.Bytes(), []byte(seedWant)) {
		t.Fatalf("JSON from DynamoDB Local differs from the seeded expectation: %s", res.Body)
	}
	shown := reporttest.CheckDOM(t, string(reporttest.Headless(t, "--dump-dom", link)), res.Body.Bytes())
	var rep map[string]any
	if err := json.Unmarshal(res.Body.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	var opened float64
	for _, x := range rep["exceptions"].(map[string]any) {
		opened += x.(map[string]any)["opened"].(float64)
	}
	if got := shown["total.exceptions_opened"]; len(got) != 1 || got[0] != fmt.Sprint(opened) {
		t.Errorf("problems opened: page %v, JSON %v", got, opened)
	}
	if got := shown["total.recovered_revenue"]; len(got) != 1 || got[0] != "45.00" {
		t.Errorf("won back: page %v, JSON %v", got, rep["recovery"])
	}

	dir := os.Getenv("REPORT_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	}
	for _, size := range []struct{ w, h int }{{1280, 1400}, {390, 2400}} {
		file := filepath.Join(dir, fmt.Sprintf("dashboard-%d.png", size.w))
		reporttest.Screenshot(t, link, file, size.w, size.h)
		if size.w == 390 && reporttest.OverflowsRight(t, file, 8) {
			t.Errorf("%s: something runs into the right margin at phone width", file)
		}
	}
	if !strings.Contains(res.Header().Get("Content-Type"), "json") {
		t.Errorf("JSON answer has Content-Type %q", res.Header().Get("Content-Type"))
	}
}
