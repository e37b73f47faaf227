// Package ssm reads the functions' secrets from AWS Systems Manager Parameter
// Store (SecureString) once, at init. The environment names each parameter
// (SHOPIFY_WEBHOOK_SECRET_PARAM=/aftercare/shopify-webhook-secret) rather
// than holding the value, so GetFunctionConfiguration shows no secret.
package ssm

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsssm "github.com/aws/aws-sdk-go-v2/service/ssm"
)

// API is the one call this package makes.
type API interface {
	GetParameters(ctx context.Context, in *awsssm.GetParametersInput, opts ...func(*awsssm.Options)) (*awsssm.GetParametersOutput, error)
}

// maxNames is GetParameters' limit on names per call.
const maxNames = 10

// Secrets is what Resolve found.
type Secrets struct {
	// Values holds each secret variable read from its parameter.
	Values map[string]string
	// Missing lists variables whose parameter does not exist; the
	// configuration then reports them if they are required.
	Missing []string
	// Calls is the number of GetParameters round trips made (one for up to
	// ten secrets, none when every value is already in the environment).
	Calls int
}

// Resolve reads, for each variable in vars that is not set in the
// environment but whose variable+suffix names a parameter, that parameter's
// decrypted value. A value set in the environment wins (local development
// and tests), so nothing is fetched for it.
func Resolve(ctx context.Context, api func() API, get func(string) string, vars []string, suffix string) (Secrets, error) {
	out := Secrets{Values: map[string]string{}}
	byParam := map[string][]string{} // two variables may share one parameter
	var names []string
	for _, v := range vars {
		if get(v) != "" {
			continue
		}
		p := get(v + suffix)
		if p == "" {
			continue
		}
		if _, seen := byParam[p]; !seen {
			names = append(names, p)
		}
		byParam[p] = append(byParam[p], v)
	}
	if len(names) == 0 {
		return out, nil
	}
	client := api()
	for len(names) > 0 {
		n := min(len(names), maxNames)
		chunk := names[:n]
		names = names[n:]
		res, err := client.GetParameters(ctx, &awsssm.GetParametersInput{Names: chunk, WithDecryption: aws.Bool(true)})
		out.Calls++
		if err != nil {
			return out, fmt.Errorf("ssm: read %d secret parameters: %w", len(chunk), err)
		}
		for _, p := range res.Parameters {
			for _, v := range byParam[aws.ToString(p.Name)] {
				out.Values[v] = aws.ToString(p.Value)
			}
		}
		for _, p := range res.InvalidParameters {
			out.Missing = append(out.Missing, byParam[p]...)
		}
	}
	return out, nil
}

// Getenv layers resolved secrets under the environment: a variable set in
// the environment wins, then its parameter's value.
func (s Secrets) Getenv(get func(string) string) func(string) string {
	return func(k string) string {
		if v := get(k); v != "" {
			return v
		}
		return s.Values[k]
	}
}
