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
// oldest due first. It reads exactly the due items: no scan, no filter. Items
// it cannot decode are left out and named in a *state.Undecodable, returned
// with the rest of the page and its cursor.
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
	full, err := s.whole(ctx, out.Items)
	if err != nil {
		return nil, "", err
	}
	items := make([]state.Entity, 0, len(full))
	var bad *state.Undecodable
	for _, it := range full {
		e, ok, err := decode(it)
		if err != nil {
			// Skipped, and named to the caller: the page and its cursor go on.
			if bad == nil {
				bad = &state.Undecodable{}
			}
			k, _ := keyFrom(getS(it, attrPK), getS(it, attrSK))
			bad.Keys = append(bad.Keys, k)
			continue
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
	if bad != nil {
		return items, next, bad
	}
	return items, next, nil
}

// whole returns the items a due-index page names, in its order. A KEYS_ONLY
// index (the template's: an update that keeps an item's due time then costs
// the index nothing) gives keys, read here in one BatchGetItem per 100; an
// index that projects the documents gives them as they are. An item gone
// since the index saw it is left out.
func (s *Store) whole(ctx context.Context, page []map[string]types.AttributeValue) ([]map[string]types.AttributeValue, error) {
	var keys []map[string]types.AttributeValue
	for _, it := range page {
		if _, z := it[attrDocZ]; z {
			continue
		}
		if _, d := it[attrDoc]; d {
			continue
		}
		keys = append(keys, key(getS(it, attrPK), getS(it, attrSK)))
	}
	if len(keys) == 0 {
		return page, nil
	}
	got := map[string]map[string]types.AttributeValue{}
	if err := s.batchGetAll(ctx, keys, func(it map[string]types.AttributeValue) error {
		got[getS(it, attrPK)+"|"+getS(it, attrSK)] = it
		return nil
	}); err != nil {
		return nil, err
	}
	out := make([]map[string]types.AttributeValue, 0, len(page))
	for _, it := range page {
		k := getS(it, attrPK) + "|" + getS(it, attrSK)
		if full, ok := got[k]; ok {
			out = append(out, full)
		} else if _, fetched := it[attrDocZ]; fetched {
			out = append(out, it)
		} else if _, fetched := it[attrDoc]; fetched {
			out = append(out, it)
		}
	}
	return out, nil
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

func reconcileKey(shop string) map[string]types.AttributeValue {
	return key(keyOf(state.Key{Kind: state.ItemReconcile, Shop: shop}))
}

// ReconcileCursor reads up to when the reconcile check has queued a shop's
// order changes (zero: never).
func (s *Store) ReconcileCursor(ctx context.Context, shop string) (aftercare.ReconcileCursor, error) {
	var c aftercare.ReconcileCursor
	out, err := s.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.Table), Key: reconcileKey(shop), ConsistentRead: aws.Bool(true)})
	if err != nil || out.Item == nil {
		return c, err
	}
	err = json.Unmarshal([]byte(getS(out.Item, attrDoc)), &c)
	return c, err
}

// SaveReconcileCursor records a shop's reconcile cursor (one small item per
// shop, beside the checks' checkpoints).
func (s *Store) SaveReconcileCursor(ctx context.Context, shop string, c aftercare.ReconcileCursor) error {
	doc, err := json.Marshal(c)
	if err != nil {
		return err
	}
	item := reconcileKey(shop)
	item[attrDoc], item[attrKind] = str(string(doc)), str("checkpoint")
	_, err = s.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.Table), Item: item})
	return err
}
