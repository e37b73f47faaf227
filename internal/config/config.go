// Package config reads each function's settings from its environment once, at
// start, and refuses to start with a message naming the variable or settings
// field that is wrong, rather than failing mid-batch.
package config

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"

	"github.com/aftercare/aftercare/internal/aftercare"
	"github.com/aftercare/aftercare/internal/settings"
)

// Secrets other than the webhook sources' (those are WebhookSecrets). Each is a variable holding the value; in AWS the function's
// environment holds only <variable>_PARAM, the name of an SSM SecureString
// parameter, and the bootstrap reads the value at init (SPEC 16).
const (
	DeliverySigningSecret = "DELIVERY_SIGNING_SECRET" // X-Aftercare-Signature key
	ReportToken           = "REPORT_TOKEN"            // bearer token of GET /report
	UnsubscribeSecret     = "UNSUBSCRIBE_SECRET"      // HMAC key of unsubscribe tokens
)

// ParamSuffix turns a secret variable into the variable naming its SSM
// parameter: SHOPIFY_WEBHOOK_SECRET_PARAM.
const ParamSuffix = "_PARAM"

// SecretVars is every secret variable: the webhook sources', then the rest.
func SecretVars() []string {
	vars := make([]string, 0, len(WebhookSecrets)+3)
	for _, w := range WebhookSecrets {
		vars = append(vars, w.Var)
	}
	return append(vars, DeliverySigningSecret, ReportToken, UnsubscribeSecret)
}

// WebhookSecret is the variable holding one webhook source's signing secret
// or token.
type WebhookSecret struct {
	Source string // the route name, as in sources.All
	Var    string
	// Required sources refuse to start without their secret; an optional
	// one without it answers 401 on its route.
	Required bool
}

// WebhookSecrets is every webhook source's secret, in the order of
// sources.All (a test there keeps the two the same). It is kept here, not
// read from sources.All, so that the functions that only read their
// configuration do not link every webhook parser with the registry.
var WebhookSecrets = []WebhookSecret{
	{Source: "shopify", Var: "SHOPIFY_WEBHOOK_SECRET", Required: true},
	{Source: "easypost", Var: "EASYPOST_WEBHOOK_SECRET"},
	{Source: "aftership", Var: "AFTERSHIP_WEBHOOK_SECRET"},
	{Source: "shippo", Var: "SHIPPO_WEBHOOK_TOKEN"},
}

// Getenv reads one variable (os.Getenv in production).
type Getenv func(string) string

// Common is what every function that touches state needs.
type Common struct {
	Table    string
	Settings aftercare.Settings // defaults; shops may override in the table
	Shards   int                // due index shards (every writer must agree)
	LogLevel string
}

// Webhook is WebhookFunction's configuration.
type Webhook struct {
	InboxURL string
	Secrets  map[string]string // by variable, one per source of the registry
	MaxBody  int64
	LogLevel string
}

// Processor is EventProcessorFunction's configuration.
type Processor struct {
	Common
	InboxURL    string
	OutboundURL string
	// TombstoneKey keys redacted customers' tombstones: the unsubscribe
	// secret, reused under its own label (aftercare.TombstoneID), so no new
	// secret has to be provisioned and the tombstone names nobody.
	TombstoneKey []byte
}

// Checks is LifecycleChecksFunction's configuration.
type Checks struct {
	Common
	InboxURL    string
	OutboundURL string
	// AdminURL overrides the Shopify Admin API base URL of every shop
	// (SHOPIFY_ADMIN_URL; empty: https://<shop>), for tests and the local
	// stack.
	AdminURL string
	// ReconcileLookback is how far back a shop's first reconcile asks
	// (RECONCILE_LOOKBACK_HOURS, default 24).
	ReconcileLookback time.Duration
}

// Dispatch is DispatchFunction's configuration.
type Dispatch struct {
	Common
	OutboundURL   string
	DeliveryURL   string // empty: log messages instead of sending
	SigningSecret []byte
	// UnsubscribeSecret signs unsubscribe tokens; ReportToken is the
	// report's bearer token, whose key also signs the digest's links.
	// Both optional here: the features that need them check.
	UnsubscribeSecret []byte
	ReportToken       string
	PublicAPIURL      string // PUBLIC_API_URL: where the digest's dashboard link points
	Timeout           time.Duration
	RetryBase         time.Duration
	RetryMax          time.Duration // the longest wait between two delivery attempts
}

type reader struct {
	get Getenv
	err error
}

func (r *reader) required(name string) string {
	v := r.get(name)
	if v == "" && r.err == nil {
		r.err = fmt.Errorf("config: %s is not set", name)
	}
	return v
}

// secret reads a secret variable; its error also names the variable that
// names its SSM parameter, which is where the value lives in AWS.
func (r *reader) secret(name string, required bool) string {
	v := r.get(name)
	if v == "" && required && r.err == nil {
		r.err = fmt.Errorf("config: %s is not set (neither in the environment nor in the SSM parameter %s%s names)", name, name, ParamSuffix)
	}
	return v
}

func (r *reader) url(name string) string {
	v := r.required(name)
	if v != "" && r.err == nil {
		if u, err := url.Parse(v); err != nil || u.Scheme == "" || u.Host == "" {
			r.err = fmt.Errorf("config: %s=%q is not a URL", name, v)
		}
	}
	return v
}

func (r *reader) int(name string, def, least int) int {
	v := r.get(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if (err != nil || n < least) && r.err == nil {
		r.err = fmt.Errorf("config: %s=%q must be a whole number of at least %d", name, v, least)
	}
	return n
}

func (r *reader) common() Common {
	c := Common{Table: r.required("TABLE_NAME"), Shards: r.int("DUE_SHARDS", 8, 1), LogLevel: r.get("LOG_LEVEL")}
	s, err := settings.Defaults(r.get("AFTERCARE_SETTINGS"))
	if err != nil && r.err == nil {
		r.err = fmt.Errorf("config: AFTERCARE_SETTINGS: %s", aftercare.ErrorMessage(err))
	}
	c.Settings = s
	return c
}

// LoadWebhook reads WebhookFunction's environment: one secret per source of
// the registry. Optional (carrier) secrets may be empty: that carrier's
// route then answers 401.
func LoadWebhook(get Getenv) (Webhook, error) {
	r := &reader{get: get}
	w := Webhook{
		InboxURL: r.url("INBOX_QUEUE_URL"),
		Secrets:  map[string]string{},
		MaxBody:  int64(r.int("WEBHOOK_MAX_BODY_BYTES", 5<<20, 5<<20)),
		LogLevel: get("LOG_LEVEL"),
	}
	for _, s := range WebhookSecrets {
		w.Secrets[s.Var] = r.secret(s.Var, s.Required)
	}
	return w, r.err
}

// LoadCommon reads what every function with the table needs (table, shards,
// default settings), for functions with nothing more of their own.
func LoadCommon(get Getenv) (Common, error) {
	r := &reader{get: get}
	c := r.common()
	return c, r.err
}

// LoadProcessor reads EventProcessorFunction's environment.
func LoadProcessor(get Getenv) (Processor, error) {
	r := &reader{get: get}
	p := Processor{Common: r.common(), InboxURL: r.url("INBOX_QUEUE_URL"), OutboundURL: r.url("OUTBOUND_QUEUE_URL")}
	p.TombstoneKey = []byte(r.secret(UnsubscribeSecret, true))
	return p, r.err
}

// LoadChecks reads LifecycleChecksFunction's environment.
func LoadChecks(get Getenv) (Checks, error) {
	r := &reader{get: get}
	c := Checks{Common: r.common(), InboxURL: r.url("INBOX_QUEUE_URL"), OutboundURL: r.url("OUTBOUND_QUEUE_URL"),
		AdminURL:          get("SHOPIFY_ADMIN_URL"),
		ReconcileLookback: time.Duration(r.int("RECONCILE_LOOKBACK_HOURS", 24, 1)) * time.Hour}
	if c.AdminURL != "" && r.err == nil {
		if u, err := url.Parse(c.AdminURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			r.err = fmt.Errorf("config: SHOPIFY_ADMIN_URL=%q is not an http(s) URL", c.AdminURL)
		}
	}
	return c, r.err
}

// LoadDispatch reads DispatchFunction's environment.
func LoadDispatch(get Getenv) (Dispatch, error) {
	r := &reader{get: get}
	d := Dispatch{
		Common:            r.common(),
		OutboundURL:       r.url("OUTBOUND_QUEUE_URL"),
		DeliveryURL:       get("DELIVERY_URL"),
		SigningSecret:     []byte(get(DeliverySigningSecret)),
		UnsubscribeSecret: []byte(get(UnsubscribeSecret)),
		ReportToken:       get(ReportToken),
		PublicAPIURL:      get("PUBLIC_API_URL"),
		Timeout:           time.Duration(r.int("DELIVERY_TIMEOUT_SECONDS", 10, 1)) * time.Second,
		RetryBase:         time.Duration(r.int("DELIVERY_RETRY_BASE_SECONDS", 30, 1)) * time.Second,
		RetryMax:          time.Duration(r.int("DELIVERY_RETRY_MAX_SECONDS", 3600, 1)) * time.Second,
	}
	if d.DeliveryURL != "" && r.err == nil {
		if u, err := url.Parse(d.DeliveryURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			r.err = fmt.Errorf("config: DELIVERY_URL=%q is not an http(s) URL", d.DeliveryURL)
		} else if len(d.SigningSecret) == 0 {
			r.err = fmt.Errorf("config: %s is not set (every delivery is signed; in AWS it is read from the SSM parameter %s%s names)", DeliverySigningSecret, DeliverySigningSecret, ParamSuffix)
		}
	}
	if d.PublicAPIURL != "" && r.err == nil {
		if u, err := url.Parse(d.PublicAPIURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			r.err = fmt.Errorf("config: PUBLIC_API_URL=%q is not an http(s) URL", d.PublicAPIURL)
		}
	}
	return d, r.err
}

// AWS loads the SDK configuration. Local runs point it at the emulators with
// AWS_ENDPOINT_URL_DYNAMODB / AWS_ENDPOINT_URL_SQS / AWS_ENDPOINT_URL_SSM; no
// code path differs.
// Throttling and transient errors are retried (with jittered backoff) before
// they reach the handlers, which then report the item as failed.
func AWS(ctx context.Context) (aws.Config, error) {
	return awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRetryer(func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) { o.MaxAttempts = 6 })
	}))
}
