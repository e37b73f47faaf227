// Command preview renders every message kind and channel for a shop's
// settings into a folder with an index page (make preview).
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/aftercare/aftercare/internal/aftercare"
	"github.com/aftercare/aftercare/internal/preview"
	"github.com/aftercare/aftercare/internal/unsubscribe"
)

func main() {
	settings := flag.String("settings", "infra/settings.example.json", "shop settings to render with")
	out := flag.String("out", ".local/preview", "folder to write")
	flag.Parse()
	doc, err := os.ReadFile(*settings)
	if err == nil {
		var st aftercare.Settings
		if st, err = aftercare.ParseSettings(aftercare.DefaultSettings(), doc); err == nil {
			links := unsubscribe.Links{Signer: unsubscribe.Signer{Secret: []byte("preview-only-secret")}, Base: preview.UnsubscribeBase}
			var entries []preview.Entry
			if entries, err = preview.Write(*out, st, links, time.Now()); err == nil {
				abs, _ := filepath.Abs(filepath.Join(*out, "index.html"))
				fmt.Printf("preview: %d messages, open file://%s\n", len(entries), abs)
				return
			}
		}
	}
	fmt.Fprintln(os.Stderr, "preview:", err)
	os.Exit(1)
}
