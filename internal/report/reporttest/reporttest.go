// Package reporttest looks at the dashboard as a person does: headless
// Chromium loads it, takes screenshots and dumps the DOM, and the numbers on
// the page are compared with the report's JSON.
package reporttest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"image/png"
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
	"github.com/aftercare/aftercare/internal/testenv/tier"
)

var (
	once sync.Once
	path string
	err  error
)

// Chromium finds Debian's chromium, running the project's installer once when
// it is missing, as the emulators are installed. Still missing fails the test.
func Chromium(t testing.TB) string {
	t.Helper()
	tier.NeedEmulators(t) // a browser is the heavy tier's, like the emulators
	once.Do(func() {
		if path, err = exec.LookPath("chromium"); err == nil {
			return
		}
		root, rerr := devstack.ProjectRoot()
		if rerr != nil {
			err = rerr
			return
		}
		out, ierr := exec.Command("bash", filepath.Join(root, "infra/local/install.sh")).CombinedOutput()
		if ierr != nil {
			err = fmt.Errorf("install.sh: %v\n%s", ierr, out)
			return
		}
		path, err = exec.LookPath("chromium")
	})
	if err != nil {
		t.Fatalf("headless chromium is needed to test pages and emails as a person sees them: %v", err)
	}
	return path
}

// Headless runs chromium --headless with args and returns its stdout.
func Headless(t testing.TB, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars",
		"--no-first-run", "--user-data-dir=" + t.TempDir()}
	cmd := exec.CommandContext(ctx, Chromium(t), append(base, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium %v: %v\n%s", args, err, stderr.String())
	}
	return out
}

// Screenshot takes a w x h screenshot of url into file and checks its size:
// the given dimensions and more than an empty page's bytes.
func Screenshot(t testing.TB, url, file string, w, h int) {
	t.Helper()
	Headless(t, "--screenshot="+file, fmt.Sprintf("--window-size=%d,%d", w, h), url)
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg, err := png.DecodeConfig(f)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	st, _ := f.Stat()
	t.Logf("%s: %dx%d, %d bytes", file, cfg.Width, cfg.Height, st.Size())
	if cfg.Width != w || cfg.Height != h {
		t.Errorf("%s is %dx%d, want %dx%d", file, cfg.Width, cfg.Height, w, h)
	}
	if st.Size() < 20_000 {
		t.Errorf("%s is %d bytes: an empty page?", file, st.Size())
	}
}

// OverflowsRight reports whether anything but the page's background is drawn
// in the screenshot's right margin: something wider than the screen.
func OverflowsRight(t testing.TB, file string, margin int) bool {
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

// Metrics are the texts of the DOM's data-metric elements, by metric.
func Metrics(dom string) map[string][]string {
	out := map[string][]string{}
	for _, m := range metricRe.FindAllStringSubmatch(dom, -1) {
		out[m[1]] = append(out[m[1]], strings.TrimSpace(html.UnescapeString(m[2])))
	}
	return out
}

// CheckDOM asserts that every figure of the report JSON is on the page as the
// page writes it (per-carrier exception kinds and other currencies aside), and
// that the page loads nothing and runs nothing.
func CheckDOM(t testing.TB, dom string, reportJSON []byte) map[string][]string {
	t.Helper()
	if strings.Contains(dom, "<script") || regexp.MustCompile(`(src|href)="https?:`).MatchString(dom) {
		t.Error("the page loads something external or runs a script")
	}
	var rep map[string]any
	if err := json.Unmarshal(reportJSON, &rep); err != nil {
		t.Fatal(err)
	}
	shown := Metrics(dom)
	if len(shown) == 0 {
		t.Fatalf("no data-metric in the DOM:\n%s", dom)
	}
	leaves := map[string]any{}
	flatten("", rep, leaves)
	for p, v := range leaves {
		if strings.HasPrefix(p, "carriers.") && strings.Contains(p, ".exceptions.") || strings.HasPrefix(p, "orders.other_currencies") {
			continue
		}
		texts, ok := shown[p]
		if !ok {
			t.Errorf("%s (%v) is not on the page", p, v)
			continue
		}
		for _, got := range texts {
			if want := Display(p, v); got != want {
				t.Errorf("%s: page shows %q, JSON says %v (want %q)", p, got, v, want)
			}
		}
	}
	return shown
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

// Display is how the page writes a JSON value: rates as percentages, no data
// as a dash, numbers as JSON writes them.
func Display(path string, v any) string {
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
