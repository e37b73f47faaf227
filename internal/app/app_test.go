package app

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsssm "github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/aftercare/aftercare/infra/devstack"
	"github.com/aftercare/aftercare/internal/config"
	"github.com/aftercare/aftercare/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// The bootstrap reads the secrets the environment names from SSM (moto here,
// as under make dev), lets a value in the environment win, and logs neither.
func TestInitReadsSecretsFromSSM(t *testing.T) {
	e := testenv.Get(t)
	t.Setenv("AWS_ENDPOINT_URL_SSM", e.SQSEndpoint)
	t.Setenv("AWS_REGION", devstack.Region)
	t.Setenv("AWS_ACCESS_KEY_ID", "local")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "local")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	c := awsssm.NewFromConfig(devstack.AWSConfig(), func(o *awsssm.Options) { o.BaseEndpoint = aws.String(e.SQSEndpoint) })
	for name, value := range map[string]string{"/app-test/shopify": "shopify-from-ssm", "/app-test/easypost": "easypost-from-ssm"} {
		if _, err := c.PutParameter(context.Background(), &awsssm.PutParameterInput{
			Name: aws.String(name), Value: aws.String(value), Type: ssmtypes.ParameterTypeSecureString, Overwrite: aws.Bool(true),
		}); err != nil {
			t.Fatal(err)
		}
	}
	env := map[string]string{
		"INBOX_QUEUE_URL":                "http://127.0.0.1:1/q",
		"SHOPIFY_WEBHOOK_SECRET_PARAM":   "/app-test/shopify",
		"EASYPOST_WEBHOOK_SECRET_PARAM":  "/app-test/easypost",
		"AFTERSHIP_WEBHOOK_SECRET_PARAM": "/app-test/not-there",
		"SHIPPO_WEBHOOK_TOKEN":           "shippo-from-env",
		"SHIPPO_WEBHOOK_TOKEN_PARAM":     "/app-test/easypost", // the environment's value wins
		"DELIVERY_SIGNING_SECRET_PARAM":  "",
		"LOG_LEVEL":                      "DEBUG",
	}
	var out bytes.Buffer
	a, err := Init(context.Background(), Options{Getenv: func(k string) string { return env[k] }, Stdout: &out})
	if err != nil {
		t.Fatal(err)
	}
	if a.SecretCalls != 1 {
		t.Errorf("%d GetParameters calls, want 1", a.SecretCalls)
	}
	cfg, err := config.LoadWebhook(a.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"SHOPIFY_WEBHOOK_SECRET": "shopify-from-ssm", "EASYPOST_WEBHOOK_SECRET": "easypost-from-ssm",
		"AFTERSHIP_WEBHOOK_SECRET": "", "SHIPPO_WEBHOOK_TOKEN": "shippo-from-env"}
	for k, v := range want {
		if cfg.Secrets[k] != v {
			t.Errorf("%s = %q, want %q", k, cfg.Secrets[k], v)
		}
	}
	log := out.String()
	if !strings.Contains(log, "AFTERSHIP_WEBHOOK_SECRET") || !strings.Contains(log, "/app-test/not-there") {
		t.Errorf("the missing parameter is not logged by name: %s", log)
	}
	for _, v := range want {
		if v != "" && strings.Contains(log, v) {
			t.Errorf("a secret value is in the log: %s", log)
		}
	}

	// A required secret whose parameter is missing stops the start with a
	// message naming the variable and where it was looked for.
	env["SHOPIFY_WEBHOOK_SECRET_PARAM"] = "/app-test/missing"
	a, err = Init(context.Background(), Options{Getenv: func(k string) string { return env[k] }, Stdout: &out})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := config.LoadWebhook(a.Getenv); err == nil || !strings.Contains(err.Error(), "SHOPIFY_WEBHOOK_SECRET") || !strings.Contains(err.Error(), "SSM") {
		t.Errorf("missing required secret: %v", err)
	}
}

// With every secret set in the environment (tests, coldstart) init makes no
// SSM call at all.
func TestInitWithoutParametersMakesNoCall(t *testing.T) {
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_ENDPOINT_URL_SSM", "http://127.0.0.1:1")
	env := map[string]string{"SHOPIFY_WEBHOOK_SECRET": "s", "SHOPIFY_WEBHOOK_SECRET_PARAM": "/x"}
	a, err := Init(context.Background(), Options{Getenv: func(k string) string { return env[k] }, Stdout: &bytes.Buffer{}})
	if err != nil || a.SecretCalls != 0 || a.Getenv("SHOPIFY_WEBHOOK_SECRET") != "s" {
		t.Fatalf("calls %d, err %v", a.SecretCalls, err)
	}
}

func TestShutdownRunsHooksLastFirst(t *testing.T) {
	a := &App{Log: devNull()}
	var order atomic.Int64
	var first, second int64
	a.OnShutdown(func() { first = order.Add(1) })
	a.OnShutdown(func() { second = order.Add(1) })
	a.Shutdown()
	if second != 1 || first != 2 {
		t.Errorf("hooks ran in order %d, %d; want the last registered first", first, second)
	}
}

func devNull() *slog.Logger { return slog.New(slog.NewJSONHandler(io.Discard, nil)) }

// The SIGTERM extension is registered only for a process with something to
// flush: its registration is a round trip of every cold start.
func TestStartRegistersTheExtensionOnlyForHooks(t *testing.T) {
	a := &App{Log: devNull()}
	if opts := a.startOptions(); len(opts) != 0 {
		t.Errorf("no hooks: %d start options, want none", len(opts))
	}
	a.OnShutdown(func() {})
	if opts := a.startOptions(); len(opts) != 1 {
		t.Errorf("one hook: %d start options, want WithEnableSIGTERM", len(opts))
	}
}

func TestMemoryLimitIsNineTenthsOfTheFunctionsMemory(t *testing.T) {
	env := func(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }
	if got, ok := MemoryLimit(env(map[string]string{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128"})); !ok || got != 128<<20/10*9 {
		t.Errorf("128 MB: %d %v, want %d", got, ok, 128<<20/10*9)
	}
	for name, kv := range map[string]map[string]string{
		"outside Lambda":  {},
		"not a number":    {"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "lots"},
		"GOMEMLIMIT wins": {"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128", "GOMEMLIMIT": "64MiB"},
	} {
		if got, ok := MemoryLimit(env(kv)); ok {
			t.Errorf("%s: limit %d, want none", name, got)
		}
	}
}
