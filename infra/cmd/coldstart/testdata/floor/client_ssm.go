//go:build floor_ssm

package main

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
)

func init() {
	clients = append(clients, func(cfg aws.Config) func(context.Context) error {
		c := ssm.NewFromConfig(cfg)
		return func(ctx context.Context) error {
			_, err := c.GetParameters(ctx, &ssm.GetParametersInput{Names: []string{"/hello/world"}, WithDecryption: aws.Bool(true)})
			return err
		}
	})
}
