package main

import (
	"testing"

	"github.com/aftercare/aftercare/infra/devstack"
)

// No shipped function links text/template (html/template is built on it):
// its field lookup by reflect.Value.MethodByName makes the linker keep every
// exported method of every type, which doubled Dispatch's binary.
func TestNoFunctionLinksTextTemplate(t *testing.T) {
	root, err := devstack.ProjectRoot()
	if err != nil {
		t.Fatal(err)
	}
	for _, fn := range functions {
		linked, err := deps(root, "./functions/"+fn)
		if err != nil {
			t.Fatal(err)
		}
		for _, pkg := range []string{"text/template", "html/template"} {
			if linked[pkg] {
				t.Errorf("%s links %s", fn, pkg)
			}
		}
	}
}
