//go:build floor_dynamodbstreams

package main

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
)

func init() {
	clients = append(clients, func(cfg aws.Config) func(context.Context) error {
		c := dynamodbstreams.NewFromConfig(cfg)
		return func(ctx context.Context) error {
			_, err := c.ListStreams(ctx, &dynamodbstreams.ListStreamsInput{TableName: aws.String("hello")})
			return err
		}
	})
}
