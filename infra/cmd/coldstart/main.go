// Command coldstart holds each function to its floor: a hello-world
// aws-lambda-go bootstrap that constructs the same SDK clients the function
// links (testdata/floor, one build tag per client). It prints, per function,
// the stripped linux/arm64 binary's size and the Init Duration (process
// start to its first request for work, as the local runtime reports it,
// median of -n fresh starts of a host build) beside the floor's, with the
// ratios and the bounds of SPEC section 17 (binary 1.2x, init 1.5x). The
// functions get placeholder settings; nothing is called.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aftercare/aftercare/infra/devstack"
	"github.com/aftercare/aftercare/internal/config"
)

// The bounds a function's binary and init are held to, as ratios to its floor.
const (
	binaryBound = 1.2
	initBound   = 1.5
)

// services are the SDK clients a floor can construct (its build tags).
var services = []string{"dynamodb", "dynamodbstreams", "sqs", "ssm", "sesv2", "sns"}

var functions = []string{"WebhookFunction", "EventProcessorFunction", "LifecycleChecksFunction", "DispatchFunction", "ReportFunction", "UnsubscribeFunction"}

func main() {
	n := flag.Int("n", 15, "cold starts per function")
	useSSM := flag.Bool("ssm", false, "functions read their secrets from SSM (moto, started here) as in AWS, instead of from the environment")
	flag.Parse()
	if err := run(*n, *useSSM); err != nil {
		fmt.Fprintln(os.Stderr, "coldstart:", err)
		os.Exit(1)
	}
}

func run(n int, useSSM bool) error {
	root, err := devstack.ProjectRoot()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "coldstart-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	const secret = "coldstart-placeholder-secret-32b" // every secret's minimum length
	env := map[string]string{"PATH": os.Getenv("PATH"), "AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x",
		"TABLE_NAME": "t", "INBOX_QUEUE_URL": "http://127.0.0.1:1/q", "OUTBOUND_QUEUE_URL": "http://127.0.0.1:1/q", "AFTERCARE_SETTINGS": "{}",
		"SHOPIFY_WEBHOOK_SECRET": secret, "EASYPOST_WEBHOOK_SECRET": secret, "AFTERSHIP_WEBHOOK_SECRET": secret, "SHIPPO_WEBHOOK_TOKEN": secret,
		"DELIVERY_SIGNING_SECRET": secret, "UNSUBSCRIBE_SECRET": secret, "REPORT_TOKEN": secret, "LOG_LEVEL": "ERROR", "DUE_SHARDS": "8",
		"AWS_EC2_METADATA_DISABLED": "true"}
	if useSSM {
		stop, err := secretsFromSSM(root, env)
		if err != nil {
			return err
		}
		defer stop()
	}
	fmt.Printf("%-24s %-22s %9s %9s %6s %9s %9s %6s\n", "function", "SDK clients", "binary", "floor", "ratio", "init ms", "floor ms", "ratio")
	over := 0
	floors := map[string]measured{} // by client set
	for _, fn := range functions {
		pkg := "./functions/" + fn
		clients, err := clientsOf(root, pkg)
		if err != nil {
			return err
		}
		set := strings.Join(clients, ",")
		f, ok := floors[set]
		if !ok {
			tags := "lambda.norpc"
			for _, c := range clients {
				tags += " floor_" + c
			}
			if f, err = measure(root, filepath.Join(dir, "floor-"+strings.ReplaceAll(set, ",", "-")), "./infra/cmd/coldstart/testdata/floor", tags, env, n); err != nil {
				return err
			}
			floors[set] = f
		}
		m, err := measure(root, filepath.Join(dir, fn), pkg, "lambda.norpc", env, n)
		if err != nil {
			return err
		}
		br, ir := float64(m.size)/float64(f.size), m.init/f.init
		mark := ""
		if br > binaryBound || ir > initBound {
			mark = "  over the bound"
			over++
		}
		fmt.Printf("%-24s %-22s %8.1fM %8.1fM %5.2fx %9.2f %9.2f %5.2fx%s\n", fn, set, mb(m.size), mb(f.size), br, m.init, f.init, ir, mark)
	}
	fmt.Printf("bounds: binary %.1fx, init %.1fx of the floor; %d of %d functions over\n", binaryBound, initBound, over, len(functions))
	return nil
}

func mb(b int64) float64 { return float64(b) / (1 << 20) }

// measured is one program's stripped arm64 size and median host init.
type measured struct {
	size int64
	init float64
}

// deps are the packages pkg links, built as sam build builds it.
func deps(root, pkg string) (map[string]bool, error) {
	cmd := exec.Command("go", "list", "-tags", "lambda.norpc", "-deps", pkg)
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list %s: %w", pkg, err)
	}
	set := map[string]bool{}
	for _, l := range strings.Fields(string(out)) {
		set[l] = true
	}
	return set, nil
}

// clientsOf lists the SDK service clients a package links.
func clientsOf(root, pkg string) ([]string, error) {
	deps, err := deps(root, pkg)
	if err != nil {
		return nil, err
	}
	var have []string
	for _, s := range services {
		if deps["github.com/aws/aws-sdk-go-v2/service/"+s] {
			have = append(have, s)
		}
	}
	return have, nil
}

// measure builds pkg twice (stripped linux/arm64 for the size Lambda ships,
// the host's for starting it here) and takes the median init of n starts.
func measure(root, dir, pkg, tags string, env map[string]string, n int) (measured, error) {
	var m measured
	arm := filepath.Join(dir, "arm64", "bootstrap")
	host := filepath.Join(dir, "host", "bootstrap")
	for _, b := range []struct{ out, arch string }{{arm, "arm64"}, {host, ""}} {
		cmd := exec.Command("go", "build", "-tags", tags, "-trimpath", "-ldflags", "-s -w", "-o", b.out, pkg)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if b.arch != "" {
			cmd.Env = append(cmd.Env, "GOOS=linux", "GOARCH="+b.arch)
		}
		if out, err := cmd.CombinedOutput(); err != nil {
			return m, fmt.Errorf("build %s: %s", pkg, out)
		}
	}
	st, err := os.Stat(arm)
	if err != nil {
		return m, err
	}
	m.size = st.Size()
	re := regexp.MustCompile(`Init Duration: ([0-9.]+) ms`)
	var inits []float64
	var last bytes.Buffer
	for range n {
		var log bytes.Buffer
		r := devstack.NewRunner(devstack.FunctionConfig{Name: filepath.Base(dir), Bootstrap: host, Timeout: 5 * time.Second, Env: env, Log: &log, Concurrency: 1})
		r.Invoke(context.Background(), []byte(`{"check":"bogus"}`))
		r.Close()
		if mm := re.FindStringSubmatch(log.String()); mm != nil {
			v, _ := strconv.ParseFloat(mm[1], 64)
			inits = append(inits, v)
		}
		last = log
	}
	if len(inits) == 0 {
		return m, fmt.Errorf("%s reported no init; its log:\n%s", pkg, last.String())
	}
	sort.Float64s(inits)
	m.init = inits[len(inits)/2]
	return m, nil
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
