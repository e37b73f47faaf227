package dynamo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/aftercare/aftercare/internal/state"
)

// ShopPage reads one page of a shop's items: one Query on the shop's
// partition, at most limit items (and never more than DynamoDB's 1 MB). The
// cursor is the last sort key read; it stays a valid start after the items
// before it are deleted.
func (s *Store) ShopPage(ctx context.Context, shop, cursor string, limit int) ([]state.ShopItem, string, error) {
	if cursor == "" {
		// shop/redact deletes the shop's day items: fold first, so the
		// counts already in the stream go with them (a write landing after
		// the fold can still add a day item back; it names nobody).
		s.foldFirst(ctx)
	}
	pk := "SHOP#" + shop
	expr, err := expression.NewBuilder().WithKeyCondition(expression.Key(attrPK).Equal(expression.Value(pk))).Build()
	if err != nil {
		return nil, "", err
	}
	in := &dynamodb.QueryInput{
		TableName: aws.String(s.Table), KeyConditionExpression: expr.KeyCondition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
		ConsistentRead: aws.Bool(true), Limit: aws.Int32(int32(max(limit, 1))),
		ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
	}
	if cursor != "" {
		in.ExclusiveStartKey = key(pk, cursor)
	}
	out, err := s.DB.Query(ctx, in)
	if err != nil {
		return nil, "", err
	}
	items := make([]state.ShopItem, 0, len(out.Items))
	for _, it := range out.Items {
		k, ok := keyFrom(getS(it, attrPK), getS(it, attrSK))
		if !ok {
			return nil, "", fmt.Errorf("shop %s: an item with sort key %q this store does not know", shop, getS(it, attrSK))
		}
		e, _, err := decode(it)
		if err != nil {
			return nil, "", err
		}
		items = append(items, state.ShopItem{Key: k, Entity: e})
	}
	next := ""
	if len(out.LastEvaluatedKey) > 0 {
		next = getS(out.LastEvaluatedKey, attrSK)
	}
	return items, next, nil
}

// Traces reads one page of the owner index: a customer's items (the sort
// key's prefix) or, with no customer, the whole shop's. The index is
// eventually consistent: an item written in the last moment before a
// redaction may be missed, which is why a redrive also checks the tombstone
// before it re-sends anything (state.Processor.duplicate).
func (s *Store) Traces(ctx context.Context, shop, customerID, cursor string, limit int) ([]state.Trace, string, error) {
	opk, _ := ownerKeys(shop, "", "", "")
	cond := expression.Key(attrOwnerPK).Equal(expression.Value(opk))
	if customerID != "" {
		cond = cond.And(expression.Key(attrOwnerSK).BeginsWith(customerID + "#"))
	}
	expr, err := expression.NewBuilder().WithKeyCondition(cond).Build()
	if err != nil {
		return nil, "", err
	}
	in := &dynamodb.QueryInput{
		TableName: aws.String(s.Table), IndexName: aws.String(ownerIndex), KeyConditionExpression: expr.KeyCondition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
		Limit: aws.Int32(int32(max(limit, 1))), ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
	}
	if cursor != "" {
		var start []string
		if err := json.Unmarshal([]byte(cursor), &start); err != nil || len(start) != 3 {
			return nil, "", fmt.Errorf("owner index cursor %q: not one of this store's", cursor)
		}
		in.ExclusiveStartKey = map[string]types.AttributeValue{
			attrOwnerPK: str(opk), attrOwnerSK: str(start[0]), attrPK: str(start[1]), attrSK: str(start[2]),
		}
	}
	out, err := s.DB.Query(ctx, in)
	if err != nil {
		return nil, "", err
	}
	traces := make([]state.Trace, 0, len(out.Items))
	for _, it := range out.Items {
		pk, sk := getS(it, attrPK), getS(it, attrSK)
		if id, ok := strings.CutPrefix(pk, "EVENT#"); ok {
			traces = append(traces, state.Trace{EventID: id})
			continue
		}
		if k, ok := keyFrom(pk, sk); ok && k.Kind == state.ItemLedger {
			traces = append(traces, state.Trace{Key: k})
		}
	}
	next := ""
	if last := out.LastEvaluatedKey; len(last) > 0 {
		b, err := json.Marshal([]string{getS(last, attrOwnerSK), getS(last, attrPK), getS(last, attrSK)})
		if err != nil {
			return nil, "", err
		}
		next = string(b)
	}
	return traces, next, nil
}

// ScrubOutbox rewrites a dedupe record without the messages and internal
// events that name the customers (one consistent GetItem, one UpdateItem
// conditioned on the record still being the one read), refiling or taking
// it off the owner index.
func (s *Store) ScrubOutbox(ctx context.Context, eventID, shop string, customers []string) error {
	pk, sk := eventKey(eventID)
	for attempt := 0; attempt < 3; attempt++ {
		got, err := s.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.Table), Key: key(pk, sk), ConsistentRead: aws.Bool(true)})
		if err != nil || got.Item == nil {
			return err
		}
		doc, err := Doc(got.Item)
		if err != nil {
			return fmt.Errorf("dedupe record %s: %w", eventID, err)
		}
		d := &state.Dedupe{}
		if err := json.Unmarshal(doc, d); err != nil {
			return fmt.Errorf("dedupe record %s: %w", eventID, err)
		}
		changed := d.Scrub(shop, customers)
		oshop, owner := d.Owner()
		if !changed && getS(got.Item, attrOwnerPK) != "" && owner == "" {
			changed = true // filed under a customer it no longer names
		}
		if !changed {
			return nil
		}
		b, err := json.Marshal(d)
		if err != nil {
			return err
		}
		upd := expression.Set(expression.Name(attrDocZ), expression.Value(pack(b))).Remove(expression.Name(attrDoc))
		if owner != "" {
			opk, osk := ownerKeys(oshop, owner, pk, sk)
			upd = upd.Set(expression.Name(attrOwnerPK), expression.Value(opk)).Set(expression.Name(attrOwnerSK), expression.Value(osk))
		} else {
			upd = upd.Remove(expression.Name(attrOwnerPK)).Remove(expression.Name(attrOwnerSK))
		}
		// Still the record read: its docz as read (or, written before docz, its doc).
		cond := expression.Name(attrDoc).Equal(expression.Value(getS(got.Item, attrDoc)))
		if z, ok := got.Item[attrDocZ].(*types.AttributeValueMemberB); ok {
			cond = expression.Name(attrDocZ).Equal(expression.Value(z.Value))
		}
		expr, err := expression.NewBuilder().WithUpdate(upd).WithCondition(cond).Build()
		if err != nil {
			return err
		}
		_, err = s.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: aws.String(s.Table), Key: key(pk, sk), UpdateExpression: expr.Update(), ConditionExpression: expr.Condition(),
			ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
			ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
		})
		var cc *types.ConditionalCheckFailedException
		if !errors.As(err, &cc) {
			return err
		}
		// Rewritten (or expired) meanwhile: read it again.
	}
	return fmt.Errorf("dedupe record %s kept changing while it was scrubbed", eventID)
}

// Scanner is the Scan call IndexOwners needs (the store itself never scans).
type Scanner interface {
	Scan(context.Context, *dynamodb.ScanInput, ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
}

// IndexOwners files the ledger entries and dedupe records written before
// the owner index existed under it, so customers/redact finds them too: a
// one-off Scan of the table, for the operator after deploying the index
// (`aftercare index-owners`). Idempotent: an item already filed is skipped.
// It reports how many items it filed.
func (s *Store) IndexOwners(ctx context.Context, db Scanner) (int, error) {
	unfiled := expression.Name(attrOwnerPK).AttributeNotExists()
	ledgerNamed := expression.Name(attrKind).Equal(expression.Value(state.ItemLedger)).
		And(expression.Name("customer_id").AttributeExists(), expression.Name("customer_id").NotEqual(expression.Value("")))
	filter := unfiled.And(ledgerNamed.Or(expression.Name(attrKind).Equal(expression.Value("dedupe"))))
	expr, err := expression.NewBuilder().WithFilter(filter).Build()
	if err != nil {
		return 0, err
	}
	p := dynamodb.NewScanPaginator(db, &dynamodb.ScanInput{
		TableName: aws.String(s.Table), FilterExpression: expr.Filter(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
	})
	filed := 0
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return filed, err
		}
		for _, it := range page.Items {
			pk, sk := getS(it, attrPK), getS(it, attrSK)
			var shop, customer string
			if getS(it, attrKind) == "dedupe" {
				d := &state.Dedupe{}
				doc, err := Doc(it)
				if err != nil {
					return filed, fmt.Errorf("dedupe record %s: %w", pk, err)
				}
				if err := json.Unmarshal(doc, d); err != nil {
					return filed, fmt.Errorf("dedupe record %s: %w", pk, err)
				}
				shop, customer = d.Owner()
			} else {
				shop, customer = strings.TrimPrefix(pk, "SHOP#"), getS(it, "customer_id")
			}
			if customer == "" {
				continue
			}
			opk, osk := ownerKeys(shop, customer, pk, sk)
			upd := expression.Set(expression.Name(attrOwnerPK), expression.Value(opk)).Set(expression.Name(attrOwnerSK), expression.Value(osk))
			cond := expression.Name(attrPK).AttributeExists().And(expression.Name(attrOwnerPK).AttributeNotExists())
			ue, err := expression.NewBuilder().WithUpdate(upd).WithCondition(cond).Build()
			if err != nil {
				return filed, err
			}
			_, err = s.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
				TableName: aws.String(s.Table), Key: key(pk, sk), UpdateExpression: ue.Update(), ConditionExpression: ue.Condition(),
				ExpressionAttributeNames: ue.Names(), ExpressionAttributeValues: ue.Values(),
			})
			var cc *types.ConditionalCheckFailedException
			switch {
			case errors.As(err, &cc):
				// Gone or filed meanwhile.
			case err != nil:
				return filed, err
			default:
				filed++
			}
		}
	}
	return filed, nil
}
