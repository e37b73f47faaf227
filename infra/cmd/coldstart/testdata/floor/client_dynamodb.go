//go:build floor_dynamodb

package main

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func init() {
	clients = append(clients, func(cfg aws.Config) func(context.Context) error {
		c := dynamodb.NewFromConfig(cfg)
		return func(ctx context.Context) error {
			_, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("hello"),
				Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "world"}}})
			return err
		}
	})
}
