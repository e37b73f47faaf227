// Package devstack runs aftercare locally without Docker: it reads template.yaml,
// starts DynamoDB Local and moto, creates the table and queues the template
// declares, and runs every function's own bootstrap binary against a local
// Lambda Runtime API, with an HTTP API, a Lambda Invoke API and SQS pollers in
// front. Integration tests use the same pieces.
package devstack

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Template is the part of a SAM template the local stack needs.
type Template struct {
	Parameters map[string]Parameter
	Resources  map[string]Resource
	Globals    map[string]any // Globals.Function
	Outputs    map[string]any // Outputs, each {"Value": ..., "Description": ...}
}

// Parameter is a template parameter.
type Parameter struct {
	Type    string
	Default *string
}

// Resource is one template resource with its properties as plain Go values;
// intrinsic functions appear in their long form ({"Ref": ...}, {"Fn::GetAtt": ...}).
type Resource struct {
	Type       string
	Properties map[string]any
}

// LoadTemplate reads and parses a SAM template file.
func LoadTemplate(path string) (*Template, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseTemplate(b)
}

// ParseTemplate parses a SAM template, turning short-form tags (!Ref, !GetAtt,
// !Sub, ...) into their long form.
func ParseTemplate(b []byte) (*Template, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		return nil, fmt.Errorf("template: %w", err)
	}
	if len(root.Content) == 0 {
		return nil, fmt.Errorf("template: empty document")
	}
	doc, err := nodeValue(root.Content[0])
	if err != nil {
		return nil, fmt.Errorf("template: %w", err)
	}
	m, ok := doc.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("template: top level is not a mapping")
	}
	t := &Template{Parameters: map[string]Parameter{}, Resources: map[string]Resource{}}
	for name, v := range asMap(m["Parameters"]) {
		p := asMap(v)
		param := Parameter{Type: asString(p["Type"])}
		if d, ok := p["Default"]; ok {
			s := scalarString(d)
			param.Default = &s
		}
		t.Parameters[name] = param
	}
	for name, v := range asMap(m["Resources"]) {
		r := asMap(v)
		t.Resources[name] = Resource{Type: asString(r["Type"]), Properties: asMap(r["Properties"])}
	}
	t.Globals = asMap(asMap(m["Globals"])["Function"])
	t.Outputs = asMap(m["Outputs"])
	return t, nil
}

// nodeValue converts a YAML node into plain Go values, expanding CloudFormation tags.
func nodeValue(n *yaml.Node) (any, error) {
	var v any
	switch n.Kind {
	case yaml.AliasNode:
		return nodeValue(n.Alias)
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			val, err := nodeValue(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			m[n.Content[i].Value] = val
		}
		v = m
	case yaml.SequenceNode:
		s := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			val, err := nodeValue(c)
			if err != nil {
				return nil, err
			}
			s = append(s, val)
		}
		v = s
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!int":
			i, err := strconv.ParseInt(n.Value, 0, 64)
			if err != nil {
				return nil, err
			}
			v = i
		case "!!bool":
			v = n.Value == "true" || n.Value == "True" || n.Value == "TRUE"
		case "!!null":
			v = nil
		default:
			v = n.Value
		}
	default:
		return nil, fmt.Errorf("unexpected YAML node kind %d", n.Kind)
	}
	if strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") {
		fn := n.Tag[1:]
		switch fn {
		case "Ref", "Condition":
			return map[string]any{fn: v}, nil
		case "GetAtt":
			if s, ok := v.(string); ok {
				res, attr, _ := strings.Cut(s, ".")
				return map[string]any{"Fn::GetAtt": []any{res, attr}}, nil
			}
		}
		return map[string]any{"Fn::" + fn: v}, nil
	}
	return v, nil
}

// Function is one AWS::Serverless::Function with Globals applied.
type Function struct {
	Name        string
	CodeURI     string
	Timeout     int            // seconds
	MemorySize  int            // MB
	Environment map[string]any // unresolved values
	Events      map[string]Event
	Reserved    int // ReservedConcurrentExecutions, 0 when unset
}

// Event is one event source of a function.
type Event struct {
	Type       string
	Properties map[string]any
}

// Functions lists the template's functions, sorted by name.
func (t *Template) Functions() []Function {
	var out []Function
	for name, r := range t.Resources {
		if r.Type != "AWS::Serverless::Function" {
			continue
		}
		f := Function{
			Name:        name,
			CodeURI:     asString(r.Properties["CodeUri"]),
			Timeout:     intOr(r.Properties["Timeout"], intOr(t.Globals["Timeout"], 3)),
			MemorySize:  intOr(r.Properties["MemorySize"], intOr(t.Globals["MemorySize"], 128)),
			Environment: map[string]any{},
			Events:      map[string]Event{},
			Reserved:    intOr(r.Properties["ReservedConcurrentExecutions"], 0),
		}
		for k, v := range asMap(asMap(t.Globals["Environment"])["Variables"]) {
			f.Environment[k] = v
		}
		for k, v := range asMap(asMap(r.Properties["Environment"])["Variables"]) {
			f.Environment[k] = v
		}
		for en, ev := range asMap(r.Properties["Events"]) {
			e := asMap(ev)
			f.Events[en] = Event{Type: asString(e["Type"]), Properties: asMap(e["Properties"])}
		}
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Function returns the named function.
func (t *Template) Function(name string) (Function, bool) {
	for _, f := range t.Functions() {
		if f.Name == name {
			return f, true
		}
	}
	return Function{}, false
}

// ResourcesOfType lists logical ids of a type, sorted.
func (t *Template) ResourcesOfType(typ string) []string {
	var out []string
	for name, r := range t.Resources {
		if r.Type == typ {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// Names are the local physical names and attributes of resources, used to
// resolve intrinsic functions.
type Names struct {
	Region     string
	Account    string
	Params     map[string]string            // parameter values
	Refs       map[string]string            // logical id -> Ref value
	Attributes map[string]map[string]string // logical id -> attribute -> value
}

// Resolve evaluates an unresolved property value (string, number or intrinsic)
// to a string.
func (n *Names) Resolve(v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "", nil
	case string:
		return x, nil
	case int64, int, float64, bool:
		return scalarString(x), nil
	case map[string]any:
		if len(x) != 1 {
			break
		}
		for fn, arg := range x {
			switch fn {
			case "Ref":
				return n.ref(asString(arg))
			case "Fn::GetAtt":
				parts := asSlice(arg)
				if s, ok := arg.(string); ok {
					a, b, _ := strings.Cut(s, ".")
					parts = []any{a, b}
				}
				if len(parts) != 2 {
					return "", fmt.Errorf("Fn::GetAtt needs [resource, attribute], got %v", arg)
				}
				return n.getAtt(asString(parts[0]), asString(parts[1]))
			case "Fn::Sub":
				return n.sub(arg)
			case "Fn::Join":
				parts := asSlice(arg)
				if len(parts) != 2 {
					return "", fmt.Errorf("Fn::Join needs [delimiter, list]")
				}
				var out []string
				for _, p := range asSlice(parts[1]) {
					s, err := n.Resolve(p)
					if err != nil {
						return "", err
					}
					out = append(out, s)
				}
				return strings.Join(out, asString(parts[0])), nil
			}
			return "", fmt.Errorf("intrinsic %s is not supported locally", fn)
		}
	}
	return "", fmt.Errorf("cannot resolve %v", v)
}

func (n *Names) ref(name string) (string, error) {
	switch name {
	case "AWS::Region":
		return n.Region, nil
	case "AWS::AccountId":
		return n.Account, nil
	case "AWS::StackName":
		return "aftercare-local", nil
	case "AWS::URLSuffix":
		return "amazonaws.com", nil
	case "AWS::Partition":
		return "aws", nil
	}
	if v, ok := n.Params[name]; ok {
		return v, nil
	}
	if v, ok := n.Refs[name]; ok {
		return v, nil
	}
	// Resources the local stack does not create (the API, alarms) resolve to their
	// logical id, as a placeholder.
	return name, nil
}

func (n *Names) getAtt(res, attr string) (string, error) {
	if v, ok := n.Attributes[res][attr]; ok {
		return v, nil
	}
	return "", fmt.Errorf("Fn::GetAtt %s.%s is not known locally", res, attr)
}

var subVar = regexp.MustCompile(`\$\{([^}!]+)\}`)

func (n *Names) sub(arg any) (string, error) {
	s, vars := "", map[string]any{}
	switch x := arg.(type) {
	case string:
		s = x
	case []any:
		if len(x) != 2 {
			return "", fmt.Errorf("Fn::Sub needs a string or [string, map]")
		}
		s, vars = asString(x[0]), asMap(x[1])
	}
	var firstErr error
	out := subVar.ReplaceAllStringFunc(s, func(m string) string {
		name := m[2 : len(m)-1]
		var v string
		var err error
		if val, ok := vars[name]; ok {
			v, err = n.Resolve(val)
		} else if res, attr, ok := strings.Cut(name, "."); ok && !strings.HasPrefix(name, "AWS::") {
			v, err = n.getAtt(res, attr)
		} else {
			v, err = n.ref(name)
		}
		if err != nil && firstErr == nil {
			firstErr = err
		}
		return v
	})
	return out, firstErr
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

func asSlice(v any) []any {
	s, _ := v.([]any)
	return s
}

func asString(v any) string {
	s, _ := v.(string)
	return s
}

func scalarString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return ""
	default:
		b, _ := json.Marshal(x)
		return string(b)
	}
}

func intOr(v any, def int) int {
	switch x := v.(type) {
	case int64:
		return int(x)
	case int:
		return x
	case float64:
		return int(x)
	case string:
		if i, err := strconv.Atoi(x); err == nil {
			return i
		}
	}
	return def
}
