package devstack_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aftercare/aftercare/infra/devstack"
	"github.com/aftercare/aftercare/internal/testenv/tier"
)

func invokeAPI(t *testing.T) *httptest.Server {
	t.Helper()
	r, _ := newRunner(t, 2*time.Second, nil)
	api := &devstack.InvokeAPI{Functions: map[string]devstack.Invoker{"TestFunction": r}}
	srv := httptest.NewServer(api.Handler())
	t.Cleanup(func() { srv.Close(); api.Wait() })
	return srv
}

func invoke(t *testing.T, srv *httptest.Server, name, typ, payload string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest("POST", srv.URL+"/2015-03-31/functions/"+name+"/invocations", strings.NewReader(payload))
	if typ != "" {
		req.Header.Set("X-Amz-Invocation-Type", typ)
	}
	return do(t, req)
}

func TestInvokeAPI(t *testing.T) {
	srv := invokeAPI(t)

	for _, typ := range []string{"", "RequestResponse"} {
		resp, b := invoke(t, srv, "TestFunction", typ, `{"action":"echo"}`)
		var e echoed
		if resp.StatusCode != 200 || json.Unmarshal(b, &e) != nil || string(e.Payload) != `{"action":"echo"}` {
			t.Errorf("%q: %d %s", typ, resp.StatusCode, b)
		}
		if resp.Header.Get("X-Amz-Executed-Version") != "$LATEST" || resp.Header.Get("X-Amzn-Requestid") != e.RequestID || resp.Header.Get("X-Amz-Function-Error") != "" {
			t.Errorf("%q: headers %v", typ, resp.Header)
		}
	}

	resp, b := invoke(t, srv, "arn:aws:lambda:us-east-1:123456789012:function:TestFunction", "", `{"action":"echo"}`)
	if resp.StatusCode != 200 {
		t.Errorf("by ARN: %d %s", resp.StatusCode, b)
	}

	resp, b = invoke(t, srv, "TestFunction", "RequestResponse", `{"action":"error","message":"nope"}`)
	var fe devstack.FunctionError
	if resp.StatusCode != 200 || resp.Header.Get("X-Amz-Function-Error") != "Unhandled" || json.Unmarshal(b, &fe) != nil || fe.Message != "nope" {
		t.Errorf("function error: %d %v %s", resp.StatusCode, resp.Header, b)
	}

	marker := filepath.Join(t.TempDir(), "ran")
	resp, b = invoke(t, srv, "TestFunction", "Event", fmt.Sprintf(`{"action":"touch","path":%q}`, marker))
	if resp.StatusCode != 202 || len(b) != 0 {
		t.Errorf("Event: %d %s", resp.StatusCode, b)
	}
	waitFor(t, 5*time.Second, "the Event invocation to run", func() bool { _, err := os.Stat(marker); return err == nil })

	resp, _ = invoke(t, srv, "TestFunction", "DryRun", `{}`)
	if resp.StatusCode != 204 {
		t.Errorf("DryRun: %d", resp.StatusCode)
	}

	resp, b = invoke(t, srv, "Missing", "", `{}`)
	want := `{"Message":"Function not found: arn:aws:lambda:us-east-1:123456789012:function:Missing","Type":"User"}`
	if resp.StatusCode != 404 || string(b) != want || resp.Header.Get("X-Amzn-Errortype") != "ResourceNotFoundException" {
		t.Errorf("unknown function: %d %v %s", resp.StatusCode, resp.Header, b)
	}

	resp, b = invoke(t, srv, "TestFunction", "", `{not json`)
	if resp.StatusCode != 400 || resp.Header.Get("X-Amzn-Errortype") != "InvalidRequestContentException" {
		t.Errorf("invalid JSON: %d %s", resp.StatusCode, b)
	}
	resp, _ = invoke(t, srv, "TestFunction", "Bogus", `{}`)
	if resp.StatusCode != 400 {
		t.Errorf("bad invocation type: %d", resp.StatusCode)
	}
}

// The real AWS CLI can invoke through the local API, as with sam local start-lambda.
func TestInvokeAPIWithAWSCLI(t *testing.T) {
	tier.NeedEmulators(t)
	root, err := devstack.ProjectRoot()
	if err != nil {
		t.Fatal(err)
	}
	cli := filepath.Join(root, ".local", "venv", "bin", "aws")
	if _, err := os.Stat(cli); err != nil {
		t.Fatalf("the AWS CLI is not installed at %s: run `bash infra/local/install.sh`", cli)
	}
	srv := invokeAPI(t)
	dir := t.TempDir()
	run := func(args ...string) (string, string, error) {
		cmd := exec.Command(cli, append([]string{"lambda", "invoke", "--endpoint-url", srv.URL}, args...)...)
		cmd.Dir = dir
		cmd.Env = []string{
			"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local",
			"AWS_DEFAULT_REGION=us-east-1", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null",
		}
		var out, errb strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		return out.String(), errb.String(), err
	}
	stdout, stderr, err := run("--function-name", "TestFunction", "--payload", `{"action":"echo","message":"cli"}`, "out.json")
	if err != nil {
		t.Fatalf("aws lambda invoke: %v\n%s%s", err, stdout, stderr)
	}
	var meta struct {
		StatusCode      int
		FunctionError   string
		ExecutedVersion string
	}
	if err := json.Unmarshal([]byte(stdout), &meta); err != nil || meta.StatusCode != 200 || meta.FunctionError != "" || meta.ExecutedVersion != "$LATEST" {
		t.Errorf("CLI output %s (%v)", stdout, err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "out.json"))
	var e echoed
	if err != nil || json.Unmarshal(b, &e) != nil || string(e.Payload) != `{"action":"echo","message":"cli"}` {
		t.Errorf("out.json = %s (%v)", b, err)
	}
	_, stderr, err = run("--function-name", "Missing", "out.json")
	if err == nil || !strings.Contains(stderr, "ResourceNotFoundException") || !strings.Contains(stderr, "Function not found") {
		t.Errorf("unknown function through the CLI: %v %s", err, stderr)
	}
}
