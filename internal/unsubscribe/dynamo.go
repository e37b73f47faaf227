package unsubscribe

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/aftercare/aftercare/internal/aftercare"
)

// DynamoAPI is the part of the DynamoDB client the consent store uses.
type DynamoAPI interface {
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
}

// Dynamo withdraws consent on the customer item of the table (SHOP#<shop> /
// CUSTOMER#<id>, the JSON document beside its version, as internal/dynamo
// stores it): a consistent read, then an update conditioned on the version
// read, so a webhook applied meanwhile is never overwritten. The update sets
// only doc and version; the due-index keys stay as they are.
type Dynamo struct {
	DB    DynamoAPI
	Table string
}

// Unsubscribe implements Consent.
func (d *Dynamo) Unsubscribe(ctx context.Context, shop, customerID string, ch aftercare.Channel, at time.Time, source string) error {
	key := map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: "SHOP#" + shop},
		"sk": &types.AttributeValueMemberS{Value: "CUSTOMER#" + customerID},
	}
	for attempt := 0; ; attempt++ {
		out, err := d.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(d.Table), Key: key, ConsistentRead: aws.Bool(true)})
		if err != nil {
			return err
		}
		doc, okDoc := out.Item["doc"].(*types.AttributeValueMemberS)
		ver, okVer := out.Item["version"].(*types.AttributeValueMemberN)
		if !okDoc || !okVer {
			return aftercare.Errorf(aftercare.ENOTFOUND, "unsubscribe: no customer %s in %s", customerID, shop)
		}
		var c aftercare.Customer
		if err := json.Unmarshal([]byte(doc.Value), &c); err != nil {
			return aftercare.Wrap(aftercare.EINTERNAL, err, "unsubscribe: customer %s", customerID)
		}
		if !Withdraw(&c, ch, at, source) {
			return nil // already unsubscribed, or nobody to protect: same answer, nothing written
		}
		v, _ := strconv.ParseInt(ver.Value, 10, 64)
		c.Version = v
		b, err := json.Marshal(&c)
		if err != nil {
			return err
		}
		_, err = d.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: aws.String(d.Table), Key: key,
			UpdateExpression:    aws.String("SET #doc = :doc, #v = :next"),
			ConditionExpression: aws.String("#v = :v"),
			ExpressionAttributeNames: map[string]string{
				"#doc": "doc", "#v": "version",
			},
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":doc":  &types.AttributeValueMemberS{Value: string(b)},
				":v":    &types.AttributeValueMemberN{Value: ver.Value},
				":next": &types.AttributeValueMemberN{Value: strconv.FormatInt(v+1, 10)},
			},
		})
		var cond *types.ConditionalCheckFailedException
		if errors.As(err, &cond) && attempt < 5 {
			continue // a webhook changed the customer meanwhile: read it again
		}
		return err
	}
}
