package templates

import (
	"fmt"
	"strconv"
	"strings"
)

// The package runs its .tmpl files itself instead of through text/template:
// text/template reaches fields by reflect.Value.MethodByName, which makes the
// linker keep every exported method of every type in the binary and doubles
// the size of a Lambda function. The files keep text/template's syntax, but
// only the part they use: text, {{/* comments */}}, {{define "x"}},
// {{template "x" .}}, {{if}}/{{else if}}/{{else}}/{{end}}, and pipelines of
// fields, string and number literals, parenthesised calls and the helpers in
// funcs. Anything else fails to parse, so at start.

// expr yields a string from the field values (in the order of
// Fields.strings). Every value in these templates is a string.
type expr func(v []string) string

// node is text, an {{expr}}, a {{template}} call or an {{if}} chain.
type node struct {
	text     string
	out      expr
	call     string
	branches []branch
}

// branch is one arm of an {{if}} chain; the {{else}} arm has no cond.
type branch struct {
	cond expr
	body []node
}

// set is a kind's templates by name: its own and its channel's common ones.
type set map[string][]node

// exec writes nodes to b. Parsing has checked every name, so it cannot fail.
func (s set) exec(b *strings.Builder, nodes []node, v []string) {
	for _, n := range nodes {
		switch {
		case n.out != nil:
			b.WriteString(n.out(v))
		case n.call != "":
			s.exec(b, s[n.call], v)
		case n.branches != nil:
			for _, br := range n.branches {
				// text/template's truth for a string: not empty.
				if br.cond == nil || br.cond(v) != "" {
					s.exec(b, br.body, v)
					break
				}
			}
		default:
			b.WriteString(n.text)
		}
	}
}

// check makes sure every {{template}} in s names a template of s and none
// calls itself, directly or not, which would recurse forever.
func (s set) check() error {
	var walk func(nodes []node, depth int) error
	walk = func(nodes []node, depth int) error {
		for _, n := range nodes {
			for _, br := range n.branches {
				if err := walk(br.body, depth); err != nil {
					return err
				}
			}
			if n.call == "" {
				continue
			}
			body, ok := s[n.call]
			switch {
			case !ok:
				return fmt.Errorf("no template %q", n.call)
			case depth > len(s): // a longer chain of calls repeats one
				return fmt.Errorf("template %q calls itself", n.call)
			}
			if err := walk(body, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	for _, body := range s {
		if err := walk(body, 0); err != nil {
			return err
		}
	}
	return nil
}

// fieldIndex is where each field name is in Fields.strings.
var fieldIndex = func() map[string]int {
	m := map[string]int{}
	for i, x := range (&Fields{}).strings() {
		m[x.name] = i
	}
	return m
}()

// parse adds the templates file src defines to s. A file's own template (its
// text outside {{define}}) is never executed, so only comments and text may be
// there. A definition replaces one from common.tmpl, as in text/template.
func (s set) parse(src string) error {
	p := &parser{src: src, line: 1}
	own := map[string]bool{}
	for {
		_, words, err := p.next()
		if err != nil || words == nil {
			return err
		}
		name, ok := literal(words[len(words)-1])
		if len(words) != 2 || words[0] != "define" || !ok {
			return p.errorf("want {{define \"name\"}} outside a definition, got {{%s}}", p.action)
		}
		if own[name] {
			return p.errorf("%q defined twice", name)
		}
		own[name] = true
		body, end, err := p.body()
		if err != nil {
			return err
		}
		if end == nil {
			return p.errorf("{{define %q}} not closed by {{end}}", name)
		}
		if len(end) != 1 || end[0] != "end" {
			return p.errorf("unexpected {{%s}} in {{define %q}}", p.action, name)
		}
		s[name] = body
	}
}

// An action's words are strings; a string literal keeps its quotes, so no
// literal is taken for a keyword or a helper.

// literal is the value of a string literal word.
func literal(w string) (string, bool) {
	if !strings.HasPrefix(w, `"`) {
		return "", false
	}
	s, err := strconv.Unquote(w) // lex has checked it
	return s, err == nil
}

type parser struct {
	src    string // what is left to read
	line   int    // of the action last read, for errors
	action string // the action last read, for errors
}

func (p *parser) errorf(format string, args ...any) error {
	return fmt.Errorf("line %d: "+format, append([]any{p.line}, args...)...)
}

// next reads up to the next action and returns the text before it and its
// words; comments are skipped. At the end of src words is nil.
func (p *parser) next() (text string, words []string, err error) {
	var b strings.Builder
	for {
		i := strings.Index(p.src, "{{")
		if i < 0 {
			b.WriteString(p.src)
			p.src = ""
			return b.String(), nil, nil
		}
		b.WriteString(p.src[:i])
		p.line += strings.Count(p.src[:i], "\n")
		p.src = p.src[i+2:]
		if rest, ok := strings.CutPrefix(p.src, "/*"); ok {
			c, after, ok := strings.Cut(rest, "*/")
			if !ok || !strings.HasPrefix(after, "}}") {
				return "", nil, p.errorf("comment not closed by */}}")
			}
			p.line += strings.Count(c, "\n")
			p.src = after[2:]
			continue
		}
		if words, err = p.lex(); err == nil && len(words) == 0 {
			err = p.errorf("empty action")
		}
		return b.String(), words, err
	}
}

// lex splits the action at the start of src into words, up to its "}}".
func (p *parser) lex() ([]string, error) {
	var words []string
	start := p.src
	for {
		p.src = strings.TrimLeft(p.src, " \t\r\n")
		switch {
		case p.src == "":
			return nil, p.errorf("action not closed by }}")
		case strings.HasPrefix(p.src, "}}"):
			p.action = strings.TrimSpace(start[:len(start)-len(p.src)])
			p.line += strings.Count(p.action, "\n")
			p.src = p.src[2:]
			return words, nil
		case p.src[0] == '(' || p.src[0] == ')':
			words, p.src = append(words, p.src[:1]), p.src[1:]
		case p.src[0] == '"':
			i := 1
			for i < len(p.src) && p.src[i] != '"' && p.src[i] != '\n' {
				if p.src[i] == '\\' {
					i++
				}
				i++
			}
			w := p.src[:min(i+1, len(p.src))]
			if _, err := strconv.Unquote(w); err != nil {
				return nil, p.errorf("bad string %s", w)
			}
			words, p.src = append(words, w), p.src[len(w):]
		default:
			i := strings.IndexAny(p.src, " \t\r\n()\"}")
			if i < 0 {
				i = len(p.src)
			}
			if i == 0 { // a lone '}'
				i = 1
			}
			words, p.src = append(words, p.src[:i]), p.src[i:]
		}
	}
}

// body reads nodes up to the {{else}} or {{end}} that closes them, which it
// returns (nil at the end of the file).
func (p *parser) body() ([]node, []string, error) {
	var nodes []node
	for {
		text, words, err := p.next()
		if err != nil {
			return nil, nil, err
		}
		if text != "" {
			nodes = append(nodes, node{text: text})
		}
		if words == nil {
			return nodes, nil, nil
		}
		switch words[0] {
		case "end", "else":
			return nodes, words, nil
		case "if":
			n, err := p.ifChain(words[1:])
			if err != nil {
				return nil, nil, err
			}
			nodes = append(nodes, n)
		case "template":
			name, ok := literal(words[min(1, len(words)-1)])
			if len(words) != 3 || !ok || words[2] != "." {
				return nil, nil, p.errorf("want {{template \"name\" .}}, got {{%s}}", p.action)
			}
			nodes = append(nodes, node{call: name})
		default:
			e, err := p.pipe(words)
			if err != nil {
				return nil, nil, err
			}
			nodes = append(nodes, node{out: e})
		}
	}
}

// ifChain reads an {{if}} from its condition to its {{end}}.
func (p *parser) ifChain(cond []string) (node, error) {
	var n node
	for final := false; ; {
		var c expr
		if !final {
			var err error
			if c, err = p.pipe(cond); err != nil {
				return node{}, err
			}
		}
		body, end, err := p.body()
		if err != nil {
			return node{}, err
		}
		n.branches = append(n.branches, branch{cond: c, body: body})
		switch {
		case len(end) == 1 && end[0] == "end":
			return n, nil
		case !final && len(end) == 1 && end[0] == "else":
			final = true
		case !final && len(end) > 2 && end[0] == "else" && end[1] == "if":
			cond = end[2:]
		case end == nil:
			return node{}, p.errorf("{{if}} not closed by {{end}}")
		default:
			return node{}, p.errorf("unexpected {{%s}} in {{if}}", p.action)
		}
	}
}

// arg is an operand: a string expression or, for clip, a number literal.
type arg struct {
	e     expr
	num   int
	isNum bool
}

// pipe parses the words of an action that yields a string.
func (p *parser) pipe(words []string) (expr, error) {
	a, rest, err := p.command(words)
	if err == nil && len(rest) > 0 {
		err = p.errorf("unexpected %q in {{%s}}", rest[0], p.action)
	}
	if err == nil && a.e == nil {
		err = p.errorf("a number is not text in {{%s}}", p.action)
	}
	return a.e, err
}

// command parses a helper call or a single operand from the start of words,
// up to a ")" or the end, and returns the words left.
func (p *parser) command(words []string) (arg, []string, error) {
	if len(words) == 0 {
		return arg{}, nil, p.errorf("missing value in {{%s}}", p.action)
	}
	build, ok := funcs[words[0]]
	if !ok {
		a, rest, err := p.operand(words)
		if err == nil && len(rest) > 0 && rest[0] != ")" {
			err = p.errorf("%s is not a helper and takes no arguments in {{%s}}", words[0], p.action)
		}
		return a, rest, err
	}
	var args []arg
	rest := words[1:]
	for len(rest) > 0 && rest[0] != ")" {
		a, r, err := p.operand(rest)
		if err != nil {
			return arg{}, nil, err
		}
		args, rest = append(args, a), r
	}
	e, err := build(args)
	if err != nil {
		return arg{}, nil, p.errorf("%s in {{%s}}", err, p.action)
	}
	return arg{e: e}, rest, nil
}

// operand parses one field, literal or parenthesised call.
func (p *parser) operand(words []string) (arg, []string, error) {
	w, rest := words[0], words[1:]
	switch {
	case strings.HasPrefix(w, `"`):
		s, _ := literal(w)
		return arg{e: func([]string) string { return s }}, rest, nil
	case w == "(":
		a, rest, err := p.command(rest)
		if err != nil {
			return arg{}, nil, err
		}
		if len(rest) == 0 || rest[0] != ")" {
			return arg{}, nil, p.errorf("unclosed ( in {{%s}}", p.action)
		}
		return a, rest[1:], nil
	case strings.HasPrefix(w, "."):
		i, ok := fieldIndex[w[1:]]
		if !ok {
			return arg{}, nil, p.errorf("no field %s in {{%s}}", w, p.action)
		}
		return arg{e: func(v []string) string { return v[i] }}, rest, nil
	}
	if n, err := strconv.Atoi(w); err == nil && n >= 0 && w[0] != '+' {
		return arg{num: n, isNum: true}, rest, nil
	}
	return arg{}, nil, p.errorf("unknown or unsupported %q in {{%s}}", w, p.action)
}
