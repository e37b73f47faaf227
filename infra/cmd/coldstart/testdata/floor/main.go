// Command floor is the floor a function's binary and cold start are held
// to: aws-lambda-go, the SDK's config, and the same SDK clients the function
// links (one build tag per client: floor_dynamodb, floor_dynamodbstreams,
// floor_sqs, floor_ssm, floor_sesv2, floor_sns), each constructed at init as
// a function does and used once by the handler: one GetItem, ListStreams,
// SendMessage, GetParameters, SendEmail or Publish. A client that is never called is not a hello world
// with that client: the linker drops the whole request path (signing,
// retries, the credential chain), which every real function has.
package main

import (
	"context"
	"errors"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
)

// clients are the constructors the build tags add; each returns the one
// call the handler makes with it.
var clients []func(aws.Config) func(context.Context) error

func main() {
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		panic(err)
	}
	calls := make([]func(context.Context) error, 0, len(clients))
	for _, c := range clients {
		calls = append(calls, c(cfg))
	}
	lambda.Start(func(ctx context.Context, in map[string]any) (int, error) {
		var errs []error
		for _, call := range calls {
			errs = append(errs, call(ctx))
		}
		return len(calls), errors.Join(errs...)
	})
}
