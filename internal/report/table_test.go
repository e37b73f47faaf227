package report_test

import (
	"strings"
	"testing"

	"github.com/aftercare/aftercare/internal/report"
)

// The table prints the same numbers as the JSON, a row per figure.
func TestWriteTable(t *testing.T) {
	e := runSeed(t, seedHistory())
	var b strings.Builder
	if err := report.WriteTable(&b, report.Compute(shopDomain, seedRange(), days(e))); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	t.Logf("\n%s", out)
	rows := map[string][]string{} // section/label -> figures
	section := ""
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		switch f[0] {
		case "Problem", "Carrier", "Recovery", "Messages":
			section = f[0] + "/"
			continue
		}
		rows[section+strings.Join(labelOf(f), " ")] = numbersOf(f)
	}
	for row, want := range map[string][]string{
		"Orders":                      {"5"},
		"Revenue":                     {"200.50", "USD"},
		"New customers":               {"3"},
		"Returning customers":         {"1"},
		"Repeat purchase rate":        {"50.0%"},
		"Median days to second order": {"66"},
		"Deliveries":                  {"3", "on", "time", "1,", "late", "2"},
		"On-time rate":                {"33.3%"},
		"Median days to deliver":      {"4"},
		"Unsubscribes":                {"1"},
		"Problem/Damaged":             {"1", "1", "0", "78"},
		"Problem/Delay":               {"0", "0", "0", "–"},
		"Carrier/usps":                {"1", "1", "100.0%"},
		"Carrier/ups":                 {"2", "0", "0.0%"},
		"Recovery/Win back":           {"1", "1", "45.00"},
		"Recovery/Lapse note":         {"0", "0", "0.00"},
		"Messages/Win back":           {"1", "0", "0", "0", "0"},
		"Messages/Order shipped":      {"3", "0", "0", "0", "0"},
		"Messages/Review request":     {"0", "1", "0", "0", "0"},
		"Messages/Care tips":          {"0", "0", "0", "1", "0"},
	} {
		if got := rows[row]; strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("row %q: got %v, want %v", row, got, want)
		}
	}
}

// labelOf is the leading words of a row that are not figures.
func labelOf(f []string) []string {
	for i, w := range f {
		if isFigure(w) {
			return f[:i]
		}
	}
	return f
}

func numbersOf(f []string) []string { return f[len(labelOf(f)):] }

func isFigure(w string) bool {
	return w == "–" || strings.IndexAny(w[:1], "0123456789") == 0
}
