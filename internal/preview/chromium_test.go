package preview_test

import (
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aftercare/aftercare/infra/devstack"
	"github.com/aftercare/aftercare/internal/aftercare"
	"github.com/aftercare/aftercare/internal/preview"
	"github.com/aftercare/aftercare/internal/report/reporttest"
	"github.com/aftercare/aftercare/internal/unsubscribe"
)

// run is headless Chromium, shared with the dashboard tests.
func run(t *testing.T, args ...string) []byte {
	t.Helper()
	return reporttest.Headless(t, args...)
}

func settings(t *testing.T) aftercare.Settings {
	t.Helper()
	root, _ := devstack.ProjectRoot()
	doc, err := os.ReadFile(filepath.Join(root, "infra/settings.example.json"))
	if err != nil {
		t.Fatal(err)
	}
	st, err := aftercare.ParseSettings(aftercare.DefaultSettings(), doc)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func shot(t *testing.T, page, png string, width, height int, dark bool) image.Image {
	t.Helper()
	args := []string{"--window-size=" + itoa(width) + "," + itoa(height), "--screenshot=" + png}
	if dark {
		args = append(args, "--force-dark-mode")
	}
	run(t, append(args, "file://"+page)...)
	f, err := os.Open(png)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := decodePNG(f)
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != width || b.Dy() != height {
		t.Fatalf("%s is %dx%d, want %dx%d", png, b.Dx(), b.Dy(), width, height)
	}
	return img
}

func decodePNG(f *os.File) (image.Image, error) { return png.Decode(f) }

func itoa(n int) string { return strconv.Itoa(n) }

// luma is a pixel's brightness, 0..255.
func luma(img image.Image, x, y int) int {
	r, g, b, _ := img.At(x, y).RGBA()
	return int((299*r + 587*g + 114*b) / 1000 >> 8)
}

// TestEmailsRenderInChromium renders the preview's emails as a person sees
// them: light and dark, desktop and phone width, and checks the text a
// reader gets from the DOM.
func TestEmailsRenderInChromium(t *testing.T) {
	dir := t.TempDir()
	if keep := os.Getenv("PREVIEW_SHOTS"); keep != "" {
		dir = keep // to look at the screenshots afterwards
	}
	now := time.Date(2031, 3, 4, 15, 0, 0, 0, time.UTC)
	links := unsubscribe.Links{Signer: unsubscribe.Signer{Secret: []byte("preview-test-secret")}, Base: preview.UnsubscribeBase}
	entries, err := preview.Write(dir, settings(t), links, now)
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	for _, k := range aftercare.Kinds {
		want += 2 // email and SMS
		if k.Audience() == aftercare.AudienceTeam {
			want-- // team messages are email only
		}
	}
	if len(entries) != want {
		t.Fatalf("%d previews, want %d (every kind x channel, team on email only)", len(entries), want)
	}

	shipped := filepath.Join(dir, "order_shipped.email.html")
	dom := string(run(t, "--dump-dom", "file://"+shipped))
	for _, want := range []string{"Northwind Coffee", "#1001", "1Z999AA10123456784", "Track your parcel with UPS",
		`href="https://www.ups.com/track?tracknum=1Z999AA10123456784"`, "Expected delivery: Friday, March 7", "help@northwind.example"} {
		if !strings.Contains(dom, want) {
			t.Errorf("order_shipped DOM lacks %q", want)
		}
	}
	if strings.Contains(dom, "Unsubscribe") {
		t.Error("a transactional email shows an unsubscribe link")
	}
	light := shot(t, shipped, filepath.Join(dir, "order_shipped.light.png"), 600, 900, false)
	if l := luma(light, 5, 5); l < 200 {
		t.Errorf("light background is dark (luma %d)", l)
	}
	if l := luma(light, 300, 40); l < 230 {
		t.Errorf("light card is not white (luma %d)", l)
	}

	winBack := filepath.Join(dir, "win_back.email.html")
	dom = string(run(t, "--dump-dom", "file://"+winBack))
	if !strings.Contains(dom, `href="`+preview.UnsubscribeBase+`/unsubscribe/`) || !strings.Contains(dom, ">Unsubscribe</a>") {
		t.Errorf("win_back has no unsubscribe link:\n%s", dom)
	}
	dark := shot(t, winBack, filepath.Join(dir, "win_back.dark.png"), 600, 900, true)
	if l := luma(dark, 5, 5); l > 60 {
		t.Errorf("dark mode background is light (luma %d)", l)
	}
	if l := luma(dark, 300, 40); l > 60 {
		t.Errorf("dark mode card is light (luma %d)", l)
	}

	// A phone: the card fills the width, nothing overflows to the right.
	phone := shot(t, shipped, filepath.Join(dir, "order_shipped.phone.png"), 360, 900, false)
	if l := luma(phone, 180, 40); l < 230 {
		t.Errorf("phone card is not white at the middle (luma %d)", l)
	}
	dom = string(run(t, "--window-size=360,900", "--dump-dom", "file://"+filepath.Join(dir, "index.html")))
	if n := strings.Count(dom, "<tr "); n != len(entries)+1 {
		t.Errorf("index lists %d rows, want %d", n, len(entries)+1)
	}
}
