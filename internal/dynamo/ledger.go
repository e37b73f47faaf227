package dynamo

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/aftercare/aftercare/internal/aftercare"
	"github.com/aftercare/aftercare/internal/ledger"
	"github.com/aftercare/aftercare/internal/state"
)

// Ledger entries outlive any way a message could be produced again (dedupe
// records last 30 days), so an id is delivered at most once.
const ledgerTTL = 400 * 24 * time.Hour

// Ledger statuses beyond the dispatch decisions.
const statusClaimed = "claimed"

// capKey is the customer's marketing cap slot.
func capKey(shop, customerID string) map[string]types.AttributeValue {
	return key("SHOP#"+shop, "CAP#"+customerID)
}

// State reads a message's customer and order in one BatchGetItem.
func (s *Store) State(ctx context.Context, shop, customerID, orderID string) (*aftercare.Customer, *aftercare.Order, error) {
	var keys []state.Key
	ck := state.Key{Kind: state.ItemCustomer, Shop: shop, ID: customerID}
	ok := state.Key{Kind: state.ItemOrder, Shop: shop, ID: orderID}
	if customerID != "" {
		keys = append(keys, ck)
	}
	if orderID != "" {
		keys = append(keys, ok)
	}
	if len(keys) == 0 {
		return nil, nil, nil
	}
	_, loaded, err := s.Load(ctx, "", keys)
	if err != nil {
		return nil, nil, err
	}
	return loaded.Customers[ck], loaded.Orders[ok], nil
}

// update builds one UpdateItem's parts on an item: what to set and, when
// given, the condition it must meet.
func (s *Store) update(k map[string]types.AttributeValue, upd expression.UpdateBuilder, cond *expression.ConditionBuilder) (*types.Update, error) {
	b := expression.NewBuilder().WithUpdate(upd)
	if cond != nil {
		b = b.WithCondition(*cond)
	}
	expr, err := b.Build()
	if err != nil {
		return nil, err
	}
	return &types.Update{TableName: aws.String(s.Table), Key: k, UpdateExpression: expr.Update(), ConditionExpression: expr.Condition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values()}, nil
}

// updateItem runs one update on its own.
func (s *Store) updateItem(ctx context.Context, u *types.Update, ret types.ReturnValue) (*dynamodb.UpdateItemOutput, error) {
	return s.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: u.TableName, Key: u.Key,
		UpdateExpression: u.UpdateExpression, ConditionExpression: u.ConditionExpression,
		ExpressionAttributeNames: u.ExpressionAttributeNames, ExpressionAttributeValues: u.ExpressionAttributeValues,
		ReturnValues: ret, ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal})
}

func name(n string) expression.NameBuilder { return expression.Name(n) }
func value(v any) expression.ValueBuilder  { return expression.Value(v) }

// Claim takes a message id with a lease ending at the invocation's deadline:
// a claim still in progress blocks other deliveries only until then, so the
// retry of a timed-out invocation is not locked out until some TTL, while a
// sent message stays sent. Marketing also takes the customer's cap slot in
// the same transaction.
func (s *Store) Claim(ctx context.Context, c ledger.Claim) (time.Time, error) {
	pk, sk := keyOf(state.Key{Kind: state.ItemLedger, Shop: c.Shop, ID: c.ID})
	upd := expression.Set(name("status"), value(statusClaimed)).
		Set(name("token"), value(c.Token)).
		Set(name("lease_until"), value(c.Lease.UnixMilli())).
		Set(name("message_kind"), value(string(c.Kind))).
		Set(name("customer_id"), value(c.CustomerID)).
		Set(name("updated_at"), value(c.Now.UTC().Format(time.RFC3339Nano))).
		Set(name(attrExpires), value(c.Now.Add(ledgerTTL).Unix())).
		Set(name(attrKind), value(state.ItemLedger)).
		Add(name("attempts"), value(1))
	// Claimable: new, a claim whose lease ran out, or held or failed before.
	cond := expression.AttributeNotExists(name(attrPK)).Or(
		name("status").Equal(value(statusClaimed)).And(name("lease_until").LessThan(value(c.Now.UnixMilli()))),
		name("status").In(value(ledger.Held), value(ledger.Failed)))
	claim, err := s.update(key(pk, sk), upd, &cond)
	if err != nil {
		return time.Time{}, err
	}
	if c.CapSince.IsZero() || c.CustomerID == "" {
		_, err := s.updateItem(ctx, claim, "")
		var cc *types.ConditionalCheckFailedException
		if errors.As(err, &cc) {
			return time.Time{}, ledger.ErrClaimed
		}
		return time.Time{}, err
	}
	slotCond := expression.AttributeNotExists(name("taken_at")).Or(
		name("taken_at").LessThan(value(c.CapSince.UnixMilli())), name("holder").Equal(value(c.ID)))
	slot, err := s.update(capKey(c.Shop, c.CustomerID),
		expression.Set(name("taken_at"), value(c.Now.UnixMilli())).Set(name("holder"), value(c.ID)).Set(name(attrKind), value("cap")),
		&slotCond)
	if err != nil {
		return time.Time{}, err
	}
	slot.ReturnValuesOnConditionCheckFailure = types.ReturnValuesOnConditionCheckFailureAllOld
	_, err = s.DB.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
		TransactItems:          []types.TransactWriteItem{{Update: claim}, {Update: slot}},
		ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
	})
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) {
		for i, r := range tce.CancellationReasons {
			if aws.ToString(r.Code) != "ConditionalCheckFailed" {
				continue
			}
			if i == 0 {
				return time.Time{}, ledger.ErrClaimed
			}
			return time.UnixMilli(getN(r.Item, "taken_at")).UTC(), ledger.ErrCapped
		}
		return time.Time{}, state.ErrConflict
	}
	return time.Time{}, err
}

// Release gives a claim back after a failed delivery (it becomes claimable),
// and frees the cap slot this message took.
func (s *Store) Release(ctx context.Context, shop, id, token, why string) error {
	pk, sk := keyOf(state.Key{Kind: state.ItemLedger, Shop: shop, ID: id})
	cond := name("token").Equal(value(token))
	u, err := s.update(key(pk, sk),
		expression.Set(name("status"), value(ledger.Failed)).Set(name("why"), value(truncate(why, 500))).
			Remove(name("lease_until")).Remove(name("token")),
		&cond)
	if err != nil {
		return err
	}
	out, err := s.updateItem(ctx, u, types.ReturnValueAllNew)
	var cc *types.ConditionalCheckFailedException
	if errors.As(err, &cc) {
		return nil // the lease ran out and someone else holds it now
	}
	if err != nil {
		return err
	}
	cid := getS(out.Attributes, "customer_id")
	if cid == "" {
		return nil
	}
	// A failed marketing delivery must not use up the customer's cap window.
	held := name("holder").Equal(value(id))
	u, err = s.update(capKey(shop, cid), expression.Remove(name("taken_at")).Remove(name("holder")), &held)
	if err != nil {
		return err
	}
	_, err = s.updateItem(ctx, u, "")
	if errors.As(err, &cc) {
		return nil
	}
	return err
}

// Record writes a final decision, and the changed customer with it.
func (s *Store) Record(ctx context.Context, r ledger.Record) error {
	pk, sk := keyOf(state.Key{Kind: state.ItemLedger, Shop: r.Shop, ID: r.ID})
	upd := expression.Set(name("status"), value(r.Decision)).
		Set(name("why"), value(truncate(r.Why, 500))).
		Set(name("channel"), value(string(r.Channel))).
		Set(name("message_kind"), value(string(r.Kind))).
		Set(name("customer_id"), value(r.CustomerID)).
		Set(name("order_id"), value(r.OrderID)).
		Set(name("updated_at"), value(r.At.UTC().Format(time.RFC3339Nano))).
		Set(name(attrExpires), value(r.At.Add(ledgerTTL).Unix())).
		Set(name(attrKind), value(state.ItemLedger)).
		Remove(name("lease_until")).Remove(name("token"))
	cond := name("token").Equal(value(r.Token))
	if r.Token == "" {
		// Not claimed: never overwrite a delivery or a live claim.
		cond = expression.AttributeNotExists(name(attrPK)).Or(expression.Not(name("status").In(value(ledger.Sent), value(statusClaimed))))
	}
	entry, err := s.update(key(pk, sk), upd, &cond)
	if err != nil {
		return err
	}
	if r.Customer == nil {
		_, err := s.updateItem(ctx, entry, "")
		var cc *types.ConditionalCheckFailedException
		if errors.As(err, &cc) {
			return ledger.ErrClaimed
		}
		return err
	}
	put, err := s.put(state.Entity{Customer: r.Customer})
	if err != nil {
		return err
	}
	_, err = s.DB.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
		TransactItems:          []types.TransactWriteItem{{Update: entry}, {Put: put}},
		ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
	})
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) {
		for i, r := range tce.CancellationReasons {
			switch code := aws.ToString(r.Code); {
			case code == "ConditionalCheckFailed" && i == 0:
				return ledger.ErrClaimed
			case code == "ConditionalCheckFailed", code == "TransactionConflict":
				return ledger.ErrConflict
			}
		}
	}
	return err
}

// ledgerRecord is a ledger item's attributes.
type ledgerRecord struct {
	SK         string `dynamodbav:"sk"`
	Status     string `dynamodbav:"status"`
	Kind       string `dynamodbav:"message_kind"`
	Why        string `dynamodbav:"why"`
	Channel    string `dynamodbav:"channel"`
	CustomerID string `dynamodbav:"customer_id"`
	OrderID    string `dynamodbav:"order_id"`
	Attempts   int64  `dynamodbav:"attempts"`
}

// Ledger lists a shop's ledger entries.
func (s *Store) Ledger(ctx context.Context, shop string) ([]ledger.Entry, error) {
	expr, err := expression.NewBuilder().WithKeyCondition(
		expression.Key(attrPK).Equal(value("SHOP#" + shop)).And(expression.Key(attrSK).BeginsWith("MESSAGE#"))).Build()
	if err != nil {
		return nil, err
	}
	var out []ledger.Entry
	err = s.query(ctx, &dynamodb.QueryInput{
		TableName:                 aws.String(s.Table),
		KeyConditionExpression:    expr.KeyCondition(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
		ConsistentRead:            aws.Bool(true),
	}, func(it map[string]types.AttributeValue) error {
		var r ledgerRecord
		if err := attributevalue.UnmarshalMap(it, &r); err != nil {
			return err
		}
		out = append(out, ledger.Entry{
			ID: strings.TrimPrefix(r.SK, "MESSAGE#"), Status: r.Status, Kind: r.Kind, Why: r.Why, Channel: r.Channel,
			CustomerID: r.CustomerID, OrderID: r.OrderID, Attempts: r.Attempts,
		})
		return nil
	})
	return out, err
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
