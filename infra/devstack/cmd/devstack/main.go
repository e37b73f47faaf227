// Command devstack runs aftercare locally without Docker (`make dev`): DynamoDB
// Local and moto, the table and queues from template.yaml, every function's own
// bootstrap against a local Lambda Runtime API, the HTTP API, a Lambda Invoke
// API, SQS pollers and rate() schedules. Ctrl-C stops everything.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/aftercare/aftercare/infra/devstack"
)

type params map[string]string

func (p params) String() string { return fmt.Sprint(map[string]string(p)) }
func (p params) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("want Name=value, got %q", s)
	}
	p[k] = v
	return nil
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return v
	}
	return def
}

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	root, err := devstack.ProjectRoot()
	if err != nil {
		log.Error("cannot find the project root", "error", err.Error())
		os.Exit(1)
	}
	o := devstack.Options{Root: root, Parameters: params{}}
	flag.IntVar(&o.HTTPPort, "http-port", envInt("DEV_HTTP_PORT", 3000), "HTTP API port (DEV_HTTP_PORT)")
	flag.IntVar(&o.InvokePort, "invoke-port", envInt("DEV_INVOKE_PORT", 3001), "Lambda Invoke API port (DEV_INVOKE_PORT)")
	flag.IntVar(&o.DynamoPort, "dynamodb-port", envInt("DEV_DYNAMODB_PORT", 8000), "DynamoDB Local port (DEV_DYNAMODB_PORT)")
	flag.IntVar(&o.SQSPort, "sqs-port", envInt("DEV_SQS_PORT", 9324), "moto (SQS) port (DEV_SQS_PORT)")
	flag.StringVar(&o.EnvFile, "env-file", filepath.Join(root, "infra", "local", "env.json"), "sam local --env-vars file (- for none)")
	flag.StringVar(&o.Prefix, "prefix", "aftercare-local-", "name prefix of the local table and queues")
	flag.IntVar(&o.VisibilityTimeout, "visibility-timeout", envInt("DEV_VISIBILITY_TIMEOUT", 0), "seconds before a failed SQS message is retried (DEV_VISIBILITY_TIMEOUT; 0 keeps the template's)")
	flag.BoolVar(&o.NoSchedules, "no-schedules", os.Getenv("DEV_NO_SCHEDULES") != "", "do not run rate() schedules (DEV_NO_SCHEDULES)")
	flag.Var(params(o.Parameters), "param", "template parameter override Name=value (repeatable), e.g. -param 'CheckSchedule=rate(5 minutes)'")
	flag.Parse()

	run := filepath.Join(root, ".local", "run")
	if err := os.MkdirAll(run, 0o755); err != nil {
		log.Error("cannot create .local/run", "error", err.Error())
		os.Exit(1)
	}
	emuLog, err := os.Create(filepath.Join(run, "emulators.log"))
	if err != nil {
		log.Error("cannot create the emulator log", "error", err.Error())
		os.Exit(1)
	}
	defer emuLog.Close()
	o.EmulatorLog = emuLog
	o.PidFile = filepath.Join(run, "devstack.pids")
	o.Log = os.Stdout

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	s, err := devstack.Start(ctx, o)
	if err != nil {
		log.Error("local stack did not start", "error", err.Error())
		os.Exit(1)
	}
	ready(os.Stderr, s, root, emuLog.Name())
	<-ctx.Done()
	stop()
	fmt.Fprintln(os.Stderr, "stopping…")
	t := time.Now()
	_ = s.Close()
	fmt.Fprintf(os.Stderr, "stopped in %.1fs\n", time.Since(t).Seconds())
}

// ready prints what a developer needs: where things are and what to try.
func ready(w io.Writer, s *devstack.Stack, root, emuLog string) {
	aws := filepath.Join(root, ".local", "venv", "bin", "aws")
	if rel, err := filepath.Rel(mustWd(), aws); err == nil && !strings.HasPrefix(rel, "..") {
		aws = rel
	}
	fmt.Fprintf(w, "\naftercare local stack ready in %.1fs (build %.1fs, emulators %.1fs, in parallel)\n\n", s.ReadyIn.Seconds(), s.BuildTime.Seconds(), s.EmulatorTime.Seconds())
	fmt.Fprintf(w, "  HTTP API     %s\n", s.HTTPURL)
	for _, r := range s.Routes {
		fmt.Fprintf(w, "               %-36s -> %s\n", r.Key(), r.Function)
	}
	fmt.Fprintf(w, "  Invoke API   %s   (%s)\n", s.InvokeURL, strings.Join(s.Functions, ", "))
	fmt.Fprintf(w, "  DynamoDB     %s   table %s\n", s.DynamoEndpoint, s.Table)
	fmt.Fprintf(w, "  SQS (moto)   %s\n", s.SQSEndpoint)
	ids := make([]string, 0, len(s.Queues))
	for id := range s.Queues {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		fmt.Fprintf(w, "               %-24s %s\n", id, s.Queues[id])
	}
	for _, src := range s.Sources {
		fmt.Fprintf(w, "  Poller       %s -> %s (batch %d)\n", src.QueueARN[strings.LastIndex(src.QueueARN, ":")+1:], src.Function, src.BatchSize)
	}
	for _, sc := range s.Schedules {
		note := "runs locally"
		if sc.Every == 0 {
			note = "not run locally: invoke by hand"
		}
		fmt.Fprintf(w, "  Schedule     %s %s (%s)\n", sc.Function, sc.Expression, note)
	}
	fmt.Fprintf(w, "  Logs         functions and stack on stdout (JSON lines, \"function\" names the source); emulators in %s\n\n", emuLog)
	fmt.Fprintf(w, "Try:\n")
	fmt.Fprintf(w, "  curl -i %s/healthz\n", s.HTTPURL)
	fmt.Fprintf(w, "  %s lambda invoke --endpoint-url %s --function-name LifecycleChecksFunction \\\n      --payload '{\"check\":\"all\",\"scheduled_time\":\"%s\"}' out.json && cat out.json\n", aws, s.InvokeURL, time.Now().UTC().Format(time.RFC3339))
	fmt.Fprintf(w, "      (AWS CLI v2: add --cli-binary-format raw-in-base64-out)\n")
	fmt.Fprintf(w, "  %s --endpoint-url %s dynamodb scan --table-name %s\n", aws, s.DynamoEndpoint, s.Table)
	if u := s.Queues["InboxDeadLetterQueue"]; u != "" {
		fmt.Fprintf(w, "  %s --endpoint-url %s sqs receive-message --queue-url %s\n", aws, s.SQSEndpoint, u)
	}
	fmt.Fprintf(w, "  (the local AWS CLI needs no real credentials: AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_DEFAULT_REGION=%s)\n\n", devstack.Region)
	fmt.Fprintf(w, "Ctrl-C stops everything.\n\n")
}

func mustWd() string {
	wd, _ := os.Getwd()
	return wd
}
