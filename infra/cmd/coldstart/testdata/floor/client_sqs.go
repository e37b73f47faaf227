//go:build floor_sqs

package main

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

func init() {
	clients = append(clients, func(cfg aws.Config) func(context.Context) error {
		c := sqs.NewFromConfig(cfg)
		return func(ctx context.Context) error {
			_, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String("hello"), MessageBody: aws.String("world")})
			return err
		}
	})
}
