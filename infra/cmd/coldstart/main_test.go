package main

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/aftercare/aftercare/infra/devstack"
)

// No shipped function links text/template (html/template is built on it):
// its field lookup by reflect.Value.MethodByName makes the linker keep every
// exported method of every type, which doubled Dispatch's binary. The tags
// are the ones sam build uses.
func TestNoFunctionLinksTextTemplate(t *testing.T) {
	root, err := devstack.ProjectRoot()
	if err != nil {
		t.Fatal(err)
	}
	for _, fn := range functions {
		cmd := exec.Command("go", "list", "-tags", "lambda.norpc", "-deps", "./functions/"+fn)
		cmd.Dir = root
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("go list %s: %v", fn, err)
		}
		for _, pkg := range strings.Fields(string(out)) {
			if pkg == "text/template" || pkg == "html/template" {
				t.Errorf("%s links %s", fn, pkg)
			}
		}
	}
}
