package templates

import (
	"io/fs"
	"path"
	"strings"
	"testing"

	"github.com/aftercare/aftercare/internal/aftercare"
)

// Every embedded file belongs to a kind written for that channel (or is the
// channel's common.tmpl), and every kind has its file on every channel.
func TestFilesMatchKinds(t *testing.T) {
	want := map[string]bool{"email/common.tmpl": true, "sms/common.tmpl": true}
	for _, k := range aftercare.Kinds {
		for _, ch := range channels(k) {
			want[string(ch)+"/"+string(k)+".tmpl"] = true
		}
	}
	seen := map[string]bool{}
	err := fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		seen[p] = true
		if !want[p] {
			t.Errorf("%s belongs to no kind and channel", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for p := range want {
		if !seen[p] {
			t.Errorf("%s is missing", p)
		}
	}
	if len(seen) < len(aftercare.Kinds) {
		t.Fatalf("walked only %d files", len(seen))
	}
}

// The common pieces are all used by some template; a piece nobody calls is
// wording nobody reviews.
func TestCommonPiecesUsed(t *testing.T) {
	for _, ch := range []aftercare.Channel{aftercare.ChannelEmail, aftercare.ChannelSMS} {
		if sets[setKey{aftercare.KindOrderShipped, ch}]["contact"] == nil {
			t.Fatalf("%s: common.tmpl not parsed", ch)
		}
		var all strings.Builder
		entries, err := fs.ReadDir(files, string(ch))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if e.Name() == "common.tmpl" {
				continue
			}
			b, err := fs.ReadFile(files, path.Join(string(ch), e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			all.Write(b)
		}
		b, _ := fs.ReadFile(files, path.Join(string(ch), "common.tmpl"))
		for _, line := range strings.Split(string(b), "\n") {
			name, ok := strings.CutPrefix(line, `{{define "`)
			if !ok {
				continue
			}
			name = name[:strings.Index(name, `"`)]
			if !strings.Contains(all.String()+string(b), `{{template "`+name+`" .}}`) {
				t.Errorf("%s/common.tmpl: %q is never used", ch, name)
			}
		}
	}
}

// The table of needs covers exactly the kinds there are.
func TestNeedsCoverKinds(t *testing.T) {
	if len(needs) != len(aftercare.Kinds) {
		t.Errorf("needs has %d kinds, aftercare.Kinds %d", len(needs), len(aftercare.Kinds))
	}
	for _, k := range aftercare.Kinds {
		if _, ok := needs[k]; !ok {
			t.Errorf("needs lacks %s", k)
		}
	}
}
