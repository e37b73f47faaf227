package templates

import (
	"strings"
	"text/template"
)

// funcs are the helpers templates may call. A plain {{if .Carrier}} checks
// an optional field: Render has already trimmed every field.
var funcs = template.FuncMap{
	"clip":    clip,
	"problem": problem,
	"list":    list,
}

// clip shortens s to at most n characters at a word boundary, so a long
// product list still fits a subject line.
func clip(n int, s string) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	cut := string(r[:max(n-3, 0)])
	if i := strings.LastIndex(cut, " "); i > 0 {
		cut = cut[:i]
	}
	return strings.TrimRight(cut, " ,;:-(") + "..."
}

// problem names a playbook in words: "damaged" -> "damaged parcel".
func problem(playbook string) string {
	return or(problems[playbook], "problem")
}

// list joins the values that are set with ", ": {{list .CustomerEmail .CustomerPhone}}.
func list(values ...string) string {
	var set []string
	for _, v := range values {
		if v != "" {
			set = append(set, v)
		}
	}
	return strings.Join(set, ", ")
}
