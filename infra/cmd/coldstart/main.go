// Command coldstart measures each function's Init Duration (process start to
// its first request for work, as Lambda reports it) against a hello-world
// aws-lambda-go bootstrap, each started fresh -n times under the local
// runtime. The functions get placeholder settings; nothing is called.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strconv"
	"time"

	"github.com/aftercare/aftercare/infra/devstack"
	"github.com/aftercare/aftercare/internal/config"
)

func main() {
	n := flag.Int("n", 15, "cold starts per function")
	useSSM := flag.Bool("ssm", false, "functions read their secrets from SSM (moto, started here) as in AWS, instead of from the environment")
	flag.Parse()
	root, err := devstack.ProjectRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, "coldstart:", err)
		os.Exit(1)
	}
	dir, err := os.MkdirTemp("", "coldstart-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "coldstart:", err)
		os.Exit(1)
	}
	defer os.RemoveAll(dir)
	bins := map[string]string{}
	for name, pkg := range map[string]string{"hello": "./infra/cmd/coldstart/testdata/hello", "WebhookFunction": "./functions/WebhookFunction",
		"EventProcessorFunction": "./functions/EventProcessorFunction", "LifecycleChecksFunction": "./functions/LifecycleChecksFunction", "DispatchFunction": "./functions/DispatchFunction"} {
		out := dir + "/" + name + "/bootstrap"
		cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-ldflags", "-s -w", "-o", out, pkg)
		cmd.Dir = root
		if b, err := cmd.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "coldstart: build %s: %s\n", name, b)
			os.Exit(1)
		}
		bins[name] = out
	}
	env := map[string]string{"PATH": os.Getenv("PATH"), "AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x",
		"TABLE_NAME": "t", "INBOX_QUEUE_URL": "http://127.0.0.1:1/q", "OUTBOUND_QUEUE_URL": "http://127.0.0.1:1/q", "AFTERCARE_SETTINGS": "{}",
		"SHOPIFY_WEBHOOK_SECRET": "s", "EASYPOST_WEBHOOK_SECRET": "s", "AFTERSHIP_WEBHOOK_SECRET": "s", "SHIPPO_WEBHOOK_TOKEN": "s",
		"DELIVERY_SIGNING_SECRET": "s", "UNSUBSCRIBE_SECRET": "s", "LOG_LEVEL": "ERROR", "DUE_SHARDS": "8", "AWS_EC2_METADATA_DISABLED": "true"}
	if *useSSM {
		stop, err := secretsFromSSM(root, env)
		if err != nil {
			fmt.Fprintln(os.Stderr, "coldstart:", err)
			os.Exit(1)
		}
		defer stop()
	}
	re := regexp.MustCompile(`Init Duration: ([0-9.]+) ms`)
	names := []string{"hello", "WebhookFunction", "EventProcessorFunction", "LifecycleChecksFunction", "DispatchFunction"}
	for _, name := range names {
		var inits []float64
		for i := 0; i < *n; i++ {
			var log bytes.Buffer
			r := devstack.NewRunner(devstack.FunctionConfig{Name: name, Bootstrap: bins[name], Timeout: 5 * time.Second, Env: env, Log: &log, Concurrency: 1})
			r.Invoke(context.Background(), []byte(`{"check":"bogus"}`))
			r.Close()
			if m := re.FindStringSubmatch(log.String()); m != nil {
				v, _ := strconv.ParseFloat(m[1], 64)
				inits = append(inits, v)
			}
		}
		sort.Float64s(inits)
		if len(inits) == 0 {
			fmt.Println(name, "no init reported")
			continue
		}
		fmt.Printf("%-24s init median %.2f ms (min %.2f, max %.2f, n=%d)\n", name, inits[len(inits)/2], inits[0], inits[len(inits)-1], len(inits))
	}
}

// secretsFromSSM starts moto, stores every secret of env there and replaces
// each value with the name of its parameter, so init includes the one
// GetParameters round trip it makes in AWS (to a local server: the network
// part of AWS's latency is not in the number).
func secretsFromSSM(root string, env map[string]string) (func(), error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	emu, err := devstack.StartEmulators(ctx, devstack.EmulatorOptions{Root: root})
	if err != nil {
		return nil, err
	}
	for _, v := range config.SecretVars() {
		if env[v] == "" {
			continue
		}
		env[v+config.ParamSuffix] = "/coldstart/" + v
	}
	if _, err := devstack.SeedSecrets(ctx, emu.SSM(), env); err != nil {
		emu.Stop()
		return nil, err
	}
	env["AWS_ENDPOINT_URL_SSM"] = emu.SQSEndpoint
	return emu.Stop, nil
}
