package main

import (
	"context"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/aftercare/aftercare/internal/config"
)

// awsClients builds the SDK clients a command needs; the endpoints follow
// the SDK's own variables (AWS_ENDPOINT_URL_SQS, AWS_ENDPOINT_URL_SSM,
// AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL_DYNAMODB_STREAMS), which is
// how the local stack is reached.
type awsClients interface {
	SQS(ctx context.Context) (*awssqs.Client, error)
	SSM(ctx context.Context) (*ssm.Client, error)
	DynamoDB(ctx context.Context) (*dynamodb.Client, error)
	DynamoDBStreams(ctx context.Context) (*dynamodbstreams.Client, error)
}

type sdkClients struct {
	cfg    aws.Config
	loaded bool
}

func (s *sdkClients) config(ctx context.Context) (aws.Config, error) {
	if !s.loaded {
		cfg, err := config.AWS(ctx)
		if err != nil {
			return cfg, err
		}
		s.cfg, s.loaded = cfg, true
	}
	return s.cfg, nil
}

func (s *sdkClients) SQS(ctx context.Context) (*awssqs.Client, error) {
	cfg, err := s.config(ctx)
	return awssqs.NewFromConfig(cfg), err
}

func (s *sdkClients) SSM(ctx context.Context) (*ssm.Client, error) {
	cfg, err := s.config(ctx)
	return ssm.NewFromConfig(cfg), err
}

func (s *sdkClients) DynamoDB(ctx context.Context) (*dynamodb.Client, error) {
	cfg, err := s.config(ctx)
	return dynamodb.NewFromConfig(cfg), err
}

func (s *sdkClients) DynamoDBStreams(ctx context.Context) (*dynamodbstreams.Client, error) {
	cfg, err := s.config(ctx)
	return dynamodbstreams.NewFromConfig(cfg), err
}

// queueURL accepts a queue URL or a queue name (aftercare-local-InboxQueue).
func queueURL(ctx context.Context, q *awssqs.Client, v string) (string, error) {
	if strings.Contains(v, "://") {
		return v, nil
	}
	out, err := q.GetQueueUrl(ctx, &awssqs.GetQueueUrlInput{QueueName: aws.String(v)})
	if err != nil {
		return "", err
	}
	return aws.ToString(out.QueueUrl), nil
}
