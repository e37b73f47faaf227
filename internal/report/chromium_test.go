package report_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"image/png"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aftercare/aftercare/infra/devstack"
	"github.com/aftercare/aftercare/internal/dynamo"
	"github.com/aftercare/aftercare/internal/report"
	"github.com/aftercare/aftercare/internal/testenv"
)

var (
	chromiumOnce sync.Once
	chromiumPath string
	chromiumErr  error
)

// chromium finds Debian's chromium, running the project's installer once when
// it is missing, as the emulators are installed. Missing after that fails.
func chromium(t *testing.T) string {
	t.Helper()
	chromiumOnce.Do(func() {
		if chromiumPath, chromiumErr = exec.LookPath("chromium"); chromiumErr == nil {
			return
		}
		root, err := devstack.ProjectRoot()
		if err != nil {
			chromiumErr = err
			return
		}
		out, err := exec.Command("bash", filepath.Join(root, "infra/local/install.sh")).CombinedOutput()
		if err != nil {
			chromiumErr = fmt.Errorf("install.sh: %v\n%s", err, out)
			return
		}
		chromiumPath, chromiumErr = exec.LookPath("chromium")
	})
	if chromiumErr != nil {
		t.Fatalf("headless chromium is needed for the dashboard tests: %v", chromiumErr)
	}
	return chromiumPath
}

func headless(t *testing.T, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars",
		"--no-first-run", "--user-data-dir=" + t.TempDir()}
	cmd := exec.CommandContext(ctx, chromium(t), append(base, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium %v: %v\n%s", args, err, stderr.String())
	}
	return out
}

// The seeded shop's page, served from its day items in DynamoDB Local through
// a signed link, as a person sees it: screenshots at desktop and phone width,
// and every number in the DOM equal to the JSON's.
func TestDashboardInChromium(t *testing.T) {
	s := testenv.Fresh(t)
	store := &dynamo.Store{DB: s.DB, Table: s.Table, Shards: 4}
	e := runSeed(t, seedHistory())
	if err := store.AddDays(context.Background(), shopDomain, days(e)); err != nil {
		t.Fatal(err)
	}
	// Now is a real clock only for the link's expiry, which Chromium's request checks.
	now := time.Now()
	srv := httptest.NewServer(newHandler(store, now))
	defer srv.Close()
	link := report.SignedLink(srv.URL, token, shopDomain, seedRange(), now.Add(time.Hour))

	jsonRes := get(newHandler(store, now), seedQuery(), map[string]string{"Authorization": "Bearer " + token})
	var rep map[string]any
	if err := json.Unmarshal(jsonRes.Body.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}

	dom := string(headless(t, "--dump-dom", link))
	if strings.Contains(dom, "<script") || regexp.MustCompile(`(src|href)="https?:`).MatchString(dom) {
		t.Error("the page loads something external or runs a script")
	}
	shown := metrics(dom)
	if len(shown) == 0 {
		t.Fatalf("no data-metric in the DOM:\n%s", dom)
	}
	leaves := map[string]any{}
	flatten("", rep, leaves)
	for path, v := range leaves {
		if strings.HasPrefix(path, "carriers.") && strings.Contains(path, ".exceptions.") || strings.HasPrefix(path, "orders.other_currencies") {
			continue // shown as a per-carrier total, checked below
		}
		texts, ok := shown[path]
		if !ok {
			t.Errorf("%s (%v) is not on the page", path, v)
			continue
		}
		for _, got := range texts {
			if want := display(path, v); got != want {
				t.Errorf("%s: page shows %q, JSON says %v (want %q)", path, got, v, want)
			}
		}
	}
	var opened float64
	for _, x := range rep["exceptions"].(map[string]any) {
		opened += x.(map[string]any)["opened"].(float64)
	}
	if got := shown["total.exceptions_opened"]; len(got) != 1 || got[0] != fmt.Sprint(opened) {
		t.Errorf("problems opened: page %v, JSON %v", got, opened)
	}
	rec := rep["recovery"].(map[string]any)
	if got := shown["total.recovered_revenue"]; len(got) != 1 || got[0] != "45.00" || rec["win_back"].(map[string]any)["revenue"] != "45.00" {
		t.Errorf("won back: page %v, JSON %v", got, rec)
	}

	dir := os.Getenv("REPORT_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	}
	for _, size := range []struct{ w, h int }{{1280, 1400}, {390, 2400}} {
		file := filepath.Join(dir, fmt.Sprintf("dashboard-%d.png", size.w))
		headless(t, "--screenshot="+file, fmt.Sprintf("--window-size=%d,%d", size.w, size.h), link)
		f, err := os.Open(file)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := png.DecodeConfig(f)
		st, _ := f.Stat()
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		t.Logf("%s: %dx%d, %d bytes", file, cfg.Width, cfg.Height, st.Size())
		if cfg.Width != size.w || cfg.Height != size.h {
			t.Errorf("%s is %dx%d, want %dx%d", file, cfg.Width, cfg.Height, size.w, size.h)
		}
		if st.Size() < 20_000 {
			t.Errorf("%s is %d bytes: an empty page?", file, st.Size())
		}
		if size.w == 390 && overflowsRight(t, file, 8) {
			t.Errorf("%s: something runs into the right margin at phone width", file)
		}
	}
}

// overflowsRight reports whether anything but the page's background is drawn
// in the right margin: a card or table wider than a phone's screen.
func overflowsRight(t *testing.T, file string, margin int) bool {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	b := img.Bounds()
	bg := img.At(b.Max.X-1, b.Max.Y-1)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Max.X - margin; x < b.Max.X; x++ {
			if img.At(x, y) != bg {
				return true
			}
		}
	}
	return false
}

var metricRe = regexp.MustCompile(`data-metric="([^"]+)"[^>]*>([^<]*)<`)

func metrics(dom string) map[string][]string {
	out := map[string][]string{}
	for _, m := range metricRe.FindAllStringSubmatch(dom, -1) {
		out[m[1]] = append(out[m[1]], strings.TrimSpace(html.UnescapeString(m[2])))
	}
	return out
}

func flatten(prefix string, v any, out map[string]any) {
	if m, ok := v.(map[string]any); ok {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			flatten(p, m[k], out)
		}
		return
	}
	out[prefix] = v
}

// display is how the page writes a JSON value: rates as percentages, no data
// as a dash, numbers as JSON writes them.
func display(path string, v any) string {
	switch x := v.(type) {
	case nil:
		return "–"
	case string:
		return x
	case float64:
		if strings.HasSuffix(path, "_rate") {
			return fmt.Sprintf("%.1f%%", x*100)
		}
		b, _ := json.Marshal(x)
		return string(b)
	}
	return fmt.Sprint(v)
}

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }
