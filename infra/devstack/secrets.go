package devstack

import (
	"context"
	"fmt"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/aftercare/aftercare/internal/config"
)

// SSMPutter is the one SSM call seeding needs.
type SSMPutter interface {
	PutParameter(ctx context.Context, in *ssm.PutParameterInput, opts ...func(*ssm.Options)) (*ssm.PutParameterOutput, error)
}

// SSM is an SSM client for moto, which serves it on the SQS endpoint.
func (e *Emulators) SSM() *ssm.Client {
	return ssm.NewFromConfig(AWSConfig(), func(o *ssm.Options) { o.BaseEndpoint = aws.String(e.SQSEndpoint) })
}

// SeedSecrets does locally what an operator does in AWS: for every secret
// variable V the function declares beside V_PARAM, a value of V (from the
// env file or the shell) is stored as a SecureString at the parameter V_PARAM
// names and removed from the function's environment, so the bootstrap reads
// it from SSM as it does in AWS. It returns the variables it seeded.
func SeedSecrets(ctx context.Context, api SSMPutter, env map[string]string) ([]string, error) {
	var seeded []string
	for _, v := range config.SecretVars() {
		value, param := env[v], env[v+config.ParamSuffix]
		if value == "" || param == "" {
			continue
		}
		if _, err := api.PutParameter(ctx, &ssm.PutParameterInput{
			Name: aws.String(param), Value: aws.String(value), Type: ssmtypes.ParameterTypeSecureString, Overwrite: aws.Bool(true),
		}); err != nil {
			return seeded, fmt.Errorf("seed %s into SSM parameter %s: %w", v, param, err)
		}
		delete(env, v)
		seeded = append(seeded, v)
	}
	sort.Strings(seeded)
	return seeded, nil
}
