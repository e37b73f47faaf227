//go:build floor_sns

package main

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
)

func init() {
	clients = append(clients, func(cfg aws.Config) func(context.Context) error {
		c := sns.NewFromConfig(cfg)
		return func(ctx context.Context) error {
			_, err := c.Publish(ctx, &sns.PublishInput{PhoneNumber: aws.String("+15555550100"), Message: aws.String("hello world")})
			return err
		}
	})
}
