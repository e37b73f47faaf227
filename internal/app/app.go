// Package app is the bootstrap every function shares: the JSON logger, the
// AWS configuration and clients, secrets read once from SSM Parameter Store,
// the function's configuration (refusing to start with a message naming the
// bad variable or settings field), the store and settings cache, and a
// Lambda start that runs shutdown hooks on SIGTERM. A functions/*/main.go
// only wires what it builds here into its handler.
package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"strconv"
	"sync"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	awsssm "github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/aftercare/aftercare/internal/config"
	"github.com/aftercare/aftercare/internal/dynamo"
	"github.com/aftercare/aftercare/internal/obs"
	"github.com/aftercare/aftercare/internal/settings"
	"github.com/aftercare/aftercare/internal/sqs"
	"github.com/aftercare/aftercare/internal/ssm"
)

// App is one function's process-wide state, built once at init.
type App struct {
	Log *slog.Logger
	AWS aws.Config
	// Getenv is the environment with secrets filled in from SSM: pass it to
	// the config.Load* functions, or read config.ReportToken and the like.
	Getenv config.Getenv
	// SecretCalls is how many GetParameters round trips init made.
	SecretCalls int

	mu       sync.Mutex
	sqs      *awssqs.Client
	shutdown []func()
}

// Options are what Init reads instead of the process (tests).
type Options struct {
	Getenv func(string) string
	Stdout io.Writer
}

// New builds the App from the process environment; when that fails it logs
// why and exits, which Lambda reports as an init error.
func New() *App {
	if limit, ok := MemoryLimit(os.Getenv); ok {
		debug.SetMemoryLimit(limit)
	}
	a, err := Init(context.Background(), Options{Getenv: os.Getenv, Stdout: os.Stdout})
	if err != nil {
		fail(a.Log, err)
	}
	return a
}

// MemoryLimit is the Go runtime's soft memory limit for a function of
// AWS_LAMBDA_FUNCTION_MEMORY_SIZE MB: nine tenths of it. Lambda stops a
// process that outgrows its memory size; near the limit the collector runs
// harder first, where by default it lets the heap reach twice what is live
// (a webhook process that read a body over the 5 MiB cap and then an order
// at it peaked at 80 MB of the Webhook's 128). A GOMEMLIMIT set in the
// environment wins.
func MemoryLimit(getenv func(string) string) (int64, bool) {
	mb, err := strconv.Atoi(getenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE"))
	if err != nil || mb <= 0 || getenv("GOMEMLIMIT") != "" {
		return 0, false
	}
	return int64(mb) << 20 / 10 * 9, true
}

// Init loads the AWS configuration and resolves every secret that the
// environment names by parameter (<VAR>_PARAM) but does not set, in one
// GetParameters call. It always returns an App with a logger.
func Init(ctx context.Context, o Options) (*App, error) {
	a := &App{Log: obs.NewLogger(o.Stdout, o.Getenv("LOG_LEVEL")), Getenv: o.Getenv}
	cfg, err := config.AWS(ctx)
	if err != nil {
		return a, fmt.Errorf("aws config: %w", err)
	}
	a.AWS = cfg
	secrets, err := ssm.Resolve(ctx, func() ssm.API { return awsssm.NewFromConfig(cfg) }, o.Getenv, config.SecretVars(), config.ParamSuffix)
	a.SecretCalls = secrets.Calls
	if err != nil {
		return a, err
	}
	for _, v := range secrets.Missing {
		// Names only: never a value.
		// Info, not a warning: an unused carrier has no parameter on purpose;
		// a required secret fails the start in config with its own message.
		a.Log.Info("secret parameter not found", "variable", v, "parameter", o.Getenv(v+config.ParamSuffix))
	}
	a.Getenv = secrets.Getenv(o.Getenv)
	return a, nil
}

// Load reads the function's configuration with the App's environment and
// exits with a message naming the bad variable or field if it is wrong.
func Load[T any](a *App, load func(config.Getenv) (T, error)) T {
	c, err := load(a.Getenv)
	if err != nil {
		fail(a.Log, err)
	}
	return c
}

// Store is the table adapter for a function's common configuration.
func (a *App) Store(c config.Common) *dynamo.Store {
	return &dynamo.Store{DB: dynamodb.NewFromConfig(a.AWS), Table: c.Table, Shards: c.Shards}
}

// FoldingStore is Store with a reader of the table's stream: it folds the
// report's counters into the day items before it reads them (ReportFunction,
// the hourly checks, shop/redact in the processor). Dispatch renders the
// weekly digest from what the check run that queued it had just folded.
func (a *App) FoldingStore(c config.Common) *dynamo.Store {
	s := a.Store(c)
	s.Streams = dynamodbstreams.NewFromConfig(a.AWS)
	return s
}

// Settings is the per-shop settings cache over the store, with the
// configuration's defaults.
func (a *App) Settings(c config.Common, s *dynamo.Store) *settings.Cache {
	return &settings.Cache{Defaults: c.Settings, Load: s.ShopSettings, Log: a.Log}
}

// Queue is the SQS adapter for one queue; all queues share one client.
func (a *App) Queue(url string) *sqs.Queue {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.sqs == nil {
		a.sqs = awssqs.NewFromConfig(a.AWS)
	}
	return &sqs.Queue{API: a.sqs, URL: url}
}

// OnShutdown registers f to run when Lambda stops the process (SIGTERM),
// for flushing buffered work.
func (a *App) OnShutdown(f func()) {
	a.mu.Lock()
	a.shutdown = append(a.shutdown, f)
	a.mu.Unlock()
}

// Shutdown runs the hooks, last registered first; Start calls it on SIGTERM.
func (a *App) Shutdown() {
	a.mu.Lock()
	hooks := append([]func(){}, a.shutdown...)
	a.mu.Unlock()
	for i := len(hooks) - 1; i >= 0; i-- {
		hooks[i]()
	}
	a.Log.Info("shutting down")
}

// Start hands the handler to Lambda. Lambda sends SIGTERM before it stops a
// process only when an extension is registered; WithEnableSIGTERM registers
// an internal one, so the shutdown hooks get their chance. Without hooks it
// registers none: the registration is a round trip of every cold start
// (about 2.5 ms of a 12 ms init, measured locally) that would buy nothing.
func (a *App) Start(handler any) {
	lambda.StartWithOptions(handler, a.startOptions()...)
}

func (a *App) startOptions() []lambda.Option {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.shutdown) == 0 {
		return nil
	}
	return []lambda.Option{lambda.WithEnableSIGTERM(a.Shutdown)}
}

func fail(log *slog.Logger, err error) {
	log.Error("cannot start", "error", err.Error())
	os.Exit(1)
}
