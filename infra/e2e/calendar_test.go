package e2e

import (
	"go/ast"
	goparser "go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aftercare/aftercare/infra/devstack"
)

// A test that runs real code against the real clock (the local stack, or an
// emulator-backed integration test) rots when it hard-codes a date near
// today: main went red once the calendar passed a follow-up's staleness
// window. TestNoDatesNearToday fails on any date literal within a year of the
// day it runs in those tests; their dates derive from one injected now, or
// lie far enough in the past that no window reaches them.
func TestNoDatesNearToday(t *testing.T) {
	today := time.Now().UTC()
	root, err := devstack.ProjectRoot()
	if err != nil {
		t.Fatal(err)
	}
	// Every test file of a package counts once one of them starts an
	// emulator: they share its fixtures and clock.
	var files []string
	emulated := map[string]bool{}
	var tests []string
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); name == ".local" || name == ".git" || name == ".aws-sam" || name == "testdata" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, "_test.go") || filepath.Base(path) == "calendar_test.go" {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if strings.HasPrefix(rel, "infra/e2e/") || strings.HasPrefix(rel, "infra/devstack/") ||
			strings.Contains(string(src), "testenv.") {
			emulated[filepath.Dir(path)] = true
		}
		tests = append(tests, path)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range tests {
		if emulated[filepath.Dir(f)] {
			files = append(files, f)
		}
	}
	if len(files) < 5 {
		t.Fatalf("found only %d stack or emulator test files under %s", len(files), root)
	}
	for _, f := range files {
		for _, hit := range datesIn(t, f) {
			if gap := hit.at.Sub(today); gap > -366*24*time.Hour && gap < 366*24*time.Hour {
				rel, _ := filepath.Rel(root, f)
				t.Errorf("%s:%d: date %s is within a year of today: derive it from the test's injected now", rel, hit.line, hit.at.Format(time.DateOnly))
			}
		}
	}
}

type dateHit struct {
	at   time.Time
	line int
}

var dateLit = regexp.MustCompile(`\b(\d{4})-(\d{2})-(\d{2})`)

// datesIn finds the calendar dates a Go file spells out: in string literals
// and as time.Date(year, month, day, ...) calls with literal arguments.
func datesIn(t *testing.T, path string) []dateHit {
	t.Helper()
	fset := token.NewFileSet()
	f, err := goparser.ParseFile(fset, path, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var hits []dateHit
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.BasicLit:
			if n.Kind != token.STRING {
				return true
			}
			for _, m := range dateLit.FindAllStringSubmatch(n.Value, -1) {
				if at, err := time.Parse(time.DateOnly, m[0]); err == nil {
					hits = append(hits, dateHit{at, fset.Position(n.Pos()).Line})
				}
			}
		case *ast.CallExpr:
			sel, ok := n.Fun.(*ast.SelectorExpr)
			if !ok || sel.Sel.Name != "Date" || len(n.Args) < 3 {
				return true
			}
			if x, ok := sel.X.(*ast.Ident); !ok || x.Name != "time" {
				return true
			}
			var ymd [3]int
			for i := range ymd {
				lit, ok := n.Args[i].(*ast.BasicLit)
				if !ok || lit.Kind != token.INT {
					if i == 1 { // a time.Month constant such as time.March
						if s, ok := n.Args[i].(*ast.SelectorExpr); ok {
							if m := monthOf(s.Sel.Name); m > 0 {
								ymd[i] = m
								continue
							}
						}
					}
					return true
				}
				ymd[i], _ = strconv.Atoi(lit.Value)
			}
			at := time.Date(ymd[0], time.Month(ymd[1]), ymd[2], 0, 0, 0, 0, time.UTC)
			hits = append(hits, dateHit{at, fset.Position(n.Pos()).Line})
		}
		return true
	})
	return hits
}

func monthOf(name string) int {
	for m := time.January; m <= time.December; m++ {
		if m.String() == name {
			return int(m)
		}
	}
	return 0
}

// The check must see what it is meant to catch.
func TestDatesInFindsLiteralsAndCalls(t *testing.T) {
	dir := t.TempDir()
	src := "package x\nimport \"time\"\nvar a = `{\"at\": \"2031-05-06T10:00:00Z\"}`\nvar b = time.Date(2031, 7, 8, 0, 0, 0, 0, time.UTC)\nvar c = time.Date(2031, time.March, 9, 0, 0, 0, 0, time.UTC)\n"
	path := filepath.Join(dir, "x_test.go")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, h := range datesIn(t, path) {
		got = append(got, h.at.Format(time.DateOnly)+"@"+strconv.Itoa(h.line))
	}
	if strings.Join(got, " ") != "2031-05-06@3 2031-07-08@4 2031-03-09@5" {
		t.Fatalf("datesIn = %v", got)
	}
}
