// Command floor is the floor a function's binary and cold start are held
// to: aws-lambda-go, the SDK's config, and the same SDK clients the function
// links (one build tag per client: floor_dynamodb, floor_sqs, floor_ssm,
// floor_sesv2, floor_sns), each constructed at init as a function does.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
)

// clients are the constructors the build tags add.
var clients []func(aws.Config) any

func main() {
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		panic(err)
	}
	made := make([]any, 0, len(clients))
	for _, c := range clients {
		made = append(made, c(cfg))
	}
	lambda.Start(func(ctx context.Context, in map[string]any) (int, error) { return len(made), nil })
}
