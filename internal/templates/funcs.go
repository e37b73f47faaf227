package templates

import (
	"errors"
	"strings"
)

// funcs are the helpers templates may call. Each checks its arguments when a
// template is parsed and returns the call, so a wrong call stops the function
// at start. A plain {{if .Carrier}} checks an optional field: Render has
// already trimmed every field.
var funcs = map[string]func(args []arg) (expr, error){
	"clip": func(a []arg) (expr, error) {
		if len(a) != 2 || !a[0].isNum || a[1].isNum {
			return nil, errors.New("clip wants a length and a text: clip 60 .Items")
		}
		n, s := a[0].num, a[1].e
		return func(v []string) string { return clip(n, s(v)) }, nil
	},
	"problem": func(a []arg) (expr, error) {
		if len(a) != 1 || a[0].isNum {
			return nil, errors.New("problem wants one text: problem .Playbook")
		}
		s := a[0].e
		return func(v []string) string { return problem(s(v)) }, nil
	},
	"list": func(a []arg) (expr, error) {
		s, err := texts("list", a, 0)
		if err != nil {
			return nil, err
		}
		return func(v []string) string {
			values := make([]string, len(s))
			for i, e := range s {
				values[i] = e(v)
			}
			return list(values...)
		}, nil
	},
	// or is text/template's: the first argument that is not empty, else the
	// last one.
	"or": func(a []arg) (expr, error) {
		s, err := texts("or", a, 1)
		if err != nil {
			return nil, err
		}
		return func(v []string) string {
			for _, e := range s[:len(s)-1] {
				if x := e(v); x != "" {
					return x
				}
			}
			return s[len(s)-1](v)
		}, nil
	},
}

// texts are a helper's arguments: at least least of them, none a number.
func texts(name string, a []arg, least int) ([]expr, error) {
	if len(a) < least {
		return nil, errors.New(name + " wants an argument")
	}
	s := make([]expr, len(a))
	for i, x := range a {
		if x.isNum {
			return nil, errors.New(name + " wants texts, not a number")
		}
		s[i] = x.e
	}
	return s, nil
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
