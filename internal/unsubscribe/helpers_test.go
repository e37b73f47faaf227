package unsubscribe_test

import (
	"context"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/aftercare/aftercare/internal/dynamo"
)

func dynamoKey(table string) *dynamodb.GetItemInput {
	return &dynamodb.GetItemInput{TableName: aws.String(table), Key: map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: "SHOP#" + shop}, "sk": &types.AttributeValueMemberS{Value: "CUSTOMER#42"}}}
}

// racingDB runs before once, after the first read and before the first write.
type racingDB struct {
	dynamo.API
	before func()
	once   sync.Once
}

func (r *racingDB) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	r.once.Do(r.before)
	return r.API.UpdateItem(ctx, in, opts...)
}

// TransactWriteItems is the write when the unsubscribe is counted in the report.
func (r *racingDB) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	r.once.Do(r.before)
	return r.API.TransactWriteItems(ctx, in, opts...)
}
