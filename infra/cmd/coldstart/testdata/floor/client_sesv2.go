//go:build floor_sesv2

package main

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"
)

func init() {
	clients = append(clients, func(cfg aws.Config) func(context.Context) error {
		c := sesv2.NewFromConfig(cfg)
		return func(ctx context.Context) error {
			_, err := c.SendEmail(ctx, &sesv2.SendEmailInput{Content: &types.EmailContent{Raw: &types.RawMessage{Data: []byte("hello world")}}})
			return err
		}
	})
}
