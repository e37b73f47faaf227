package devstack

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strconv"
)

// EnvFile is a `sam local --env-vars` file: {"Parameters": {VAR: value},
// "<FunctionName>": {VAR: value}}.
type EnvFile map[string]map[string]string

// LoadEnvFile reads an env-vars file; an empty path is an empty file.
func LoadEnvFile(path string) (EnvFile, error) {
	if path == "" {
		return EnvFile{}, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var raw map[string]map[string]any
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	out := EnvFile{}
	for sec, vars := range raw {
		out[sec] = map[string]string{}
		for k, v := range vars {
			out[sec][k] = scalarString(v) // SAM accepts numbers and booleans too
		}
	}
	return out, nil
}

// LookupFunc finds a variable in the process environment.
type LookupFunc func(string) (string, bool)

// ProcessEnv looks a variable up in extra, then in the real process environment.
func ProcessEnv(extra map[string]string) LookupFunc {
	return func(k string) (string, bool) {
		if v, ok := extra[k]; ok {
			return v, true
		}
		return os.LookupEnv(k)
	}
}

// EnvSource says where a function variable's value came from.
type EnvSource string

// Where a variable's value can come from, lowest precedence first.
const (
	FromTemplate   EnvSource = "template"
	FromParameters EnvSource = "env-file Parameters"
	FromFunction   EnvSource = "env-file function section"
	FromProcess    EnvSource = "process environment"
	// Ignored marks an env-file variable the function does not declare: as
	// with sam local, it is not passed (a typo must not look like a setting).
	Ignored EnvSource = "ignored: not declared by the function"
)

// FunctionEnv is a function's own variables: the template's (Globals and the
// function's, resolved with names), overridden by the env file's Parameters
// (variables the function declares only), then by its section in the env file,
// then by the process environment (declared variables only, so a developer's
// unrelated shell variables never reach the function). Sources says where each
// value came from.
func FunctionEnv(fn Function, names *Names, file EnvFile, lookup LookupFunc) (env map[string]string, sources map[string]EnvSource, err error) {
	env, sources = map[string]string{}, map[string]EnvSource{}
	keys := make([]string, 0, len(fn.Environment))
	for k := range fn.Environment {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v, err := names.Resolve(fn.Environment[k])
		if err != nil {
			return nil, nil, fmt.Errorf("%s: variable %s: %w", fn.Name, k, err)
		}
		env[k], sources[k] = v, FromTemplate
	}
	for k, v := range file["Parameters"] {
		if _, declared := fn.Environment[k]; declared {
			env[k], sources[k] = v, FromParameters
		}
	}
	for k, v := range file[fn.Name] {
		if _, declared := fn.Environment[k]; declared {
			env[k], sources[k] = v, FromFunction
		} else {
			sources[k] = Ignored
		}
	}
	if lookup != nil {
		for _, k := range keys {
			if v, ok := lookup(k); ok {
				env[k], sources[k] = v, FromProcess
			}
		}
	}
	return env, sources, nil
}

// RuntimeEnv is what Lambda itself sets for a function, pointed at the local
// emulators. These win over the function's variables, as Lambda's reserved ones do.
func RuntimeEnv(fn Function, dynamoEndpoint, sqsEndpoint, taskRoot string) map[string]string {
	return map[string]string{
		"AWS_REGION":                        Region,
		"AWS_DEFAULT_REGION":                Region,
		"AWS_ACCESS_KEY_ID":                 "local",
		"AWS_SECRET_ACCESS_KEY":             "local",
		"AWS_ENDPOINT_URL_DYNAMODB":         dynamoEndpoint,
		"AWS_ENDPOINT_URL_DYNAMODB_STREAMS": dynamoEndpoint, // DynamoDB Local serves its streams too
		"AWS_ENDPOINT_URL_SQS":              sqsEndpoint,
		"AWS_ENDPOINT_URL_SSM":              sqsEndpoint, // moto serves SSM (the secrets) beside SQS
		"AWS_ENDPOINT_URL_SESV2":            sqsEndpoint, // moto serves SES and SNS too, and keeps what was sent
		"AWS_ENDPOINT_URL_SNS":              sqsEndpoint,
		"AWS_EC2_METADATA_DISABLED":         "true", // no instance metadata probes on a laptop
		"AWS_LAMBDA_FUNCTION_NAME":          fn.Name,
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE":   strconv.Itoa(fn.MemorySize),
		"AWS_LAMBDA_FUNCTION_VERSION":       "$LATEST",
		"AWS_LAMBDA_LOG_FORMAT":             "JSON",
		"AWS_LAMBDA_LOG_GROUP_NAME":         "/aws/lambda/" + fn.Name,
		"AWS_LAMBDA_LOG_STREAM_NAME":        "local/[$LATEST]" + fn.Name,
		"AWS_LAMBDA_INITIALIZATION_TYPE":    "on-demand",
		"LAMBDA_TASK_ROOT":                  taskRoot,
		"_HANDLER":                          "bootstrap",
		"TZ":                                ":UTC",
		"LANG":                              "en_US.UTF-8",
		"PATH":                              os.Getenv("PATH"),
	}
}

// MergeEnv returns the union of maps, later ones winning.
func MergeEnv(ms ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}
