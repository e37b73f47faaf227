package devstack_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/aftercare/aftercare/infra/devstack"
)

// Template < env file Parameters (declared only) < env file function section <
// process environment (declared only).
func TestFunctionEnvPrecedence(t *testing.T) {
	fn := devstack.Function{Name: "F", Environment: map[string]any{
		"TABLE": map[string]any{"Ref": "Table"},
		"LEVEL": map[string]any{"Ref": "LogLevel"},
		"A":     "template", "B": "template", "C": "template", "D": "template",
	}}
	names := &devstack.Names{Params: map[string]string{"LogLevel": "INFO"}, Refs: map[string]string{"Table": "t-Table"}}
	file := devstack.EnvFile{
		"Parameters": {"A": "params", "B": "params", "C": "params", "NOT_DECLARED": "x"},
		"F":          {"B": "function", "C": "function", "EXTRA": "function"},
		"Other":      {"D": "other function"},
	}
	proc := map[string]string{"C": "process", "D": "", "UNRELATED": "shell"}
	lookup := func(k string) (string, bool) { v, ok := proc[k]; return v, ok }
	env, src, err := devstack.FunctionEnv(fn, names, file, lookup)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"TABLE": "t-Table", "LEVEL": "INFO", "A": "params", "B": "function", "C": "process", "D": ""}
	if len(env) != len(want) {
		t.Errorf("env = %v, want %v", env, want)
	}
	for k, v := range want {
		if got, ok := env[k]; !ok || got != v {
			t.Errorf("%s = %q (from %s), want %q", k, got, src[k], v)
		}
	}
	if src["TABLE"] != devstack.FromTemplate || src["A"] != devstack.FromParameters || src["B"] != devstack.FromFunction || src["C"] != devstack.FromProcess || src["EXTRA"] != devstack.Ignored {
		t.Errorf("sources = %v", src)
	}
}

// With the real template and env.json, DELIVERY_URL from the shell wins
// (DELIVERY_URL=http://... make dev), secrets come from env.json, the rest
// from the template resolved with the local names; Lambda's own variables
// point the SDK at the emulators.
func TestFunctionEnvRealTemplate(t *testing.T) {
	root, err := devstack.ProjectRoot()
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := devstack.LoadTemplate(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	file, err := devstack.LoadEnvFile(filepath.Join(root, "infra/local/env.json"))
	if err != nil {
		t.Fatal(err)
	}
	fn, ok := tpl.Function("DispatchFunction")
	if !ok {
		t.Fatal("no DispatchFunction")
	}
	names := &devstack.Names{
		Region: devstack.Region, Account: devstack.Account,
		Params: map[string]string{"LogLevel": "INFO", "SettingsJson": "{}", "DeliveryUrl": "", "DeliverySigningSecret": ""},
		Refs:   map[string]string{"Table": "x-Table", "OutboundQueue": "http://q/x-OutboundQueue"},
	}
	env, _, err := devstack.FunctionEnv(fn, names, file, devstack.ProcessEnv(map[string]string{"DELIVERY_URL": "http://127.0.0.1:9999/hook", "HOME": "/nope"}))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{
		"DELIVERY_URL": "http://127.0.0.1:9999/hook", "DELIVERY_SIGNING_SECRET": "local-delivery-secret",
		"TABLE_NAME": "x-Table", "OUTBOUND_QUEUE_URL": "http://q/x-OutboundQueue", "LOG_LEVEL": "DEBUG", "DUE_SHARDS": "8",
	} {
		if env[k] != v {
			t.Errorf("%s = %q, want %q", k, env[k], v)
		}
	}
	if _, ok := env["HOME"]; ok {
		t.Error("an undeclared process variable reached the function")
	}
	rt := devstack.RuntimeEnv(fn, "http://127.0.0.1:1", "http://127.0.0.1:2", "/build/DispatchFunction")
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:1", "AWS_ENDPOINT_URL_SQS": "http://127.0.0.1:2",
		"AWS_REGION": devstack.Region, "AWS_LAMBDA_FUNCTION_NAME": "DispatchFunction", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
		"AWS_LAMBDA_FUNCTION_VERSION": "$LATEST", "AWS_LAMBDA_LOG_FORMAT": "JSON", "_HANDLER": "bootstrap", "TZ": ":UTC",
		"PATH": os.Getenv("PATH"), "LAMBDA_TASK_ROOT": "/build/DispatchFunction",
	} {
		if rt[k] != v {
			t.Errorf("runtime %s = %q, want %q", k, rt[k], v)
		}
	}
}
