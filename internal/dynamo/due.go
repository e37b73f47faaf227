package dynamo

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/aftercare/aftercare/internal/aftercare"
	"github.com/aftercare/aftercare/internal/state"
)

// cursor is where a due-index page ended (the index's exclusive start key).
type cursor struct {
	PK    string `json:"pk"`
	SK    string `json:"sk"`
	DuePK string `json:"due_pk"`
	DueSK string `json:"due_sk"`
}

// Shards is the number of due-index shards per kind.
func (s *Store) ShardCount() int { return max(s.Shards, 1) }

// Due reads one page of the items of a kind due up to a time in one shard,
// oldest due first. It reads exactly the due items: no scan, no filter.
func (s *Store) Due(ctx context.Context, kind string, shard int, upTo time.Time, after string, limit int) ([]state.Entity, string, error) {
	// '$' sorts after the '#' that follows the time in due_sk.
	cond := expression.Key(attrDuePK).Equal(expression.Value("DUE#" + kind + "#" + strconv.Itoa(shard))).
		And(expression.Key(attrDueSK).LessThan(expression.Value(upTo.UTC().Format(dueTimeFormat) + "$")))
	expr, err := expression.NewBuilder().WithKeyCondition(cond).Build()
	if err != nil {
		return nil, "", err
	}
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.Table),
		IndexName:                 aws.String(dueIndex),
		KeyConditionExpression:    expr.KeyCondition(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
		Limit:                     aws.Int32(int32(max(limit, 1))),
		ReturnConsumedCapacity:    types.ReturnConsumedCapacityTotal,
	}
	if after != "" {
		var c cursor
		if err := json.Unmarshal([]byte(after), &c); err != nil {
			return nil, "", err
		}
		in.ExclusiveStartKey = map[string]types.AttributeValue{attrPK: str(c.PK), attrSK: str(c.SK), attrDuePK: str(c.DuePK), attrDueSK: str(c.DueSK)}
	}
	out, err := s.DB.Query(ctx, in)
	if err != nil {
		return nil, "", err
	}
	items := make([]state.Entity, 0, len(out.Items))
	for _, it := range out.Items {
		e, ok, err := decode(it)
		if err != nil {
			return nil, "", err
		}
		if ok {
			items = append(items, e)
		}
	}
	next := ""
	if lek := out.LastEvaluatedKey; len(lek) > 0 {
		b, _ := json.Marshal(cursor{PK: getS(lek, attrPK), SK: getS(lek, attrSK), DuePK: getS(lek, attrDuePK), DueSK: getS(lek, attrDueSK)})
		next = string(b)
	}
	return items, next, nil
}

// Save writes an entity back if its version is still the one read.
func (s *Store) Save(ctx context.Context, e state.Entity) error {
	p, err := s.put(e)
	if err != nil {
		return err
	}
	_, err = s.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: p.TableName, Item: p.Item, ConditionExpression: p.ConditionExpression,
		ExpressionAttributeNames: p.ExpressionAttributeNames, ExpressionAttributeValues: p.ExpressionAttributeValues,
		ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal})
	var cc *types.ConditionalCheckFailedException
	if errors.As(err, &cc) {
		return state.ErrConflict
	}
	return err
}

// OutOfStock reads a shop's out-of-stock variants.
func (s *Store) OutOfStock(ctx context.Context, shop string) (map[string]bool, error) {
	pk, sk := keyOf(state.Key{Kind: state.ItemStock, Shop: shop})
	out, err := s.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.Table), Key: key(pk, sk), ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal})
	if err != nil {
		return nil, err
	}
	return decodeStock(out.Item)
}

// Install reads a shop's install marks (nil when none are stored).
func (s *Store) Install(ctx context.Context, shop string) (*aftercare.Install, error) {
	pk, sk := keyOf(state.Key{Kind: state.ItemInstall, Shop: shop})
	out, err := s.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.Table), Key: key(pk, sk), ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal})
	if err != nil || out.Item == nil {
		return nil, err
	}
	e, _, err := decode(out.Item)
	return e.Install, err
}

func checkpointKey(check string) map[string]types.AttributeValue {
	return key("CHECK#"+check, "CURSOR")
}

// Cursors reads where a cut-short run of a check stopped.
func (s *Store) Cursors(ctx context.Context, check string) (map[string]string, error) {
	out, err := s.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.Table), Key: checkpointKey(check), ConsistentRead: aws.Bool(true)})
	if err != nil || out.Item == nil {
		return map[string]string{}, err
	}
	m := map[string]string{}
	err = json.Unmarshal([]byte(getS(out.Item, attrDoc)), &m)
	return m, err
}

// SaveCursors records (or, when empty, clears) where a run stopped.
func (s *Store) SaveCursors(ctx context.Context, check string, cursors map[string]string) error {
	if len(cursors) == 0 {
		_, err := s.DB.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.Table), Key: checkpointKey(check)})
		return err
	}
	doc, err := json.Marshal(cursors)
	if err != nil {
		return err
	}
	item := checkpointKey(check)
	item[attrDoc], item[attrKind] = str(string(doc)), str("checkpoint")
	_, err = s.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.Table), Item: item})
	return err
}
