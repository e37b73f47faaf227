// Command aftercare is the operator's tool: connect a shop, import its
// history, manage settings, redrive dead letters, read the report.
//
//	go run ./infra/cmd/aftercare <command> [flags]
//	go run ./infra/cmd/aftercare <command> --help
//
// Exit codes: 0 done, 1 the command failed, 2 the command line is wrong.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"
)

// command is one subcommand.
type command struct {
	summary string
	run     func(ctx context.Context, e *env, args []string) error
}

var commands = map[string]command{
	"connect":      {"store a shop's Admin API token and register or update its webhook subscriptions", runConnect},
	"backfill":     {"import a shop's order history (bulk-operation JSONL) without messaging about the past", runBackfill},
	"settings":     {"check a settings file, or store or print a shop's settings overrides", runSettings},
	"redrive":      {"move messages from a dead-letter queue back to its queue", runRedrive},
	"report":       {"print a shop's report for a date range", runReport},
	"reconcile":    {"queue the shop's orders updated since a time (heals missed webhooks)", runReconcile},
	"app-config":   {"print infra/shopify/shopify.app.toml for a deployed stack", runAppConfig},
	"index-owners": {"file ledger entries and dedupe records from before the owner index under it (once, after deploying it)", runIndexOwners},
}

// env is what a command may touch, so tests run commands in-process.
type env struct {
	stdout, stderr io.Writer
	stdin          io.Reader
	aws            awsClients
}

// errUsage marks a wrong command line (exit code 2).
var errUsage = errors.New("usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], &env{stdout: os.Stdout, stderr: os.Stderr, stdin: os.Stdin, aws: &sdkClients{}}))
}

func run(ctx context.Context, args []string, e *env) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(e.stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(e.stderr, "aftercare: unknown command %q\n\n", args[0])
		usage(e.stderr)
		return 2
	}
	err := c.run(ctx, e, args[1:])
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	default:
		fmt.Fprintf(e.stderr, "aftercare %s: %v\n", args[0], err)
		return 1
	}
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "aftercare: the operator's tool.\n\nUsage: aftercare <command> [flags]   (aftercare <command> --help for its flags)\n\nCommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-11s %s\n", n, commands[n].summary)
	}
}

// flags builds a command's flag set: errors and --help go to stderr, and a
// parse error is a usage error.
func flags(e *env, name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "Usage: aftercare %s\n\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return errUsage
	}
	return nil
}

// need reports a missing flag as a usage error.
func need(fs *flag.FlagSet, vals ...string) error {
	for i := 0; i+1 < len(vals); i += 2 {
		if vals[i+1] == "" {
			fmt.Fprintf(fs.Output(), "--%s is required\n", vals[i])
			fs.Usage()
			return errUsage
		}
	}
	return nil
}
