package dynamo

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
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

// Claim takes a message id with a lease ending at the invocation's deadline:
// a claim still in progress blocks other deliveries only until then, so the
// retry of a timed-out invocation is not locked out until some TTL, while a
// sent message stays sent. Marketing also takes the customer's cap slot in
// the same transaction.
func (s *Store) Claim(ctx context.Context, c ledger.Claim) (time.Time, error) {
	pk, sk := keyOf(state.Key{Kind: state.ItemLedger, Shop: c.Shop, ID: c.ID})
	claim := &types.Update{
		TableName: aws.String(s.Table),
		Key:       key(pk, sk),
		UpdateExpression: aws.String("SET #s = :claimed, #tok = :tok, lease_until = :lease, message_kind = :mk, customer_id = :cid, " +
			"updated_at = :now, expires_at = :exp, #k = :kind ADD attempts :one"),
		ConditionExpression:      aws.String("attribute_not_exists(pk) OR (#s = :claimed AND lease_until < :nowms) OR #s IN (:held, :failed)"),
		ExpressionAttributeNames: map[string]string{"#s": "status", "#tok": "token", "#k": attrKind},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":claimed": str(statusClaimed), ":tok": str(c.Token), ":lease": num(c.Lease.UnixMilli()), ":nowms": num(c.Now.UnixMilli()),
			":mk": str(string(c.Kind)), ":cid": str(c.CustomerID), ":now": str(c.Now.UTC().Format(time.RFC3339Nano)),
			":exp": num(c.Now.Add(ledgerTTL).Unix()), ":kind": str(state.ItemLedger), ":one": num(1),
			":held": str(ledger.Held), ":failed": str(ledger.Failed),
		},
	}
	if c.CapSince.IsZero() || c.CustomerID == "" {
		_, err := s.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: claim.TableName, Key: claim.Key,
			UpdateExpression: claim.UpdateExpression, ConditionExpression: claim.ConditionExpression,
			ExpressionAttributeNames: claim.ExpressionAttributeNames, ExpressionAttributeValues: claim.ExpressionAttributeValues,
			ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal})
		var cc *types.ConditionalCheckFailedException
		if errors.As(err, &cc) {
			return time.Time{}, ledger.ErrClaimed
		}
		return time.Time{}, err
	}
	slot := &types.Update{
		TableName:                aws.String(s.Table),
		Key:                      capKey(c.Shop, c.CustomerID),
		UpdateExpression:         aws.String("SET taken_at = :nowms, holder = :id, #k = :cap"),
		ConditionExpression:      aws.String("attribute_not_exists(taken_at) OR taken_at < :since OR holder = :id"),
		ExpressionAttributeNames: map[string]string{"#k": attrKind},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":nowms": num(c.Now.UnixMilli()), ":id": str(c.ID), ":since": num(c.CapSince.UnixMilli()), ":cap": str("cap"),
		},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}
	_, err := s.DB.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
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
	out, err := s.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                aws.String(s.Table),
		Key:                      key(pk, sk),
		UpdateExpression:         aws.String("SET #s = :failed, why = :why REMOVE lease_until, #tok"),
		ConditionExpression:      aws.String("#tok = :tok"),
		ExpressionAttributeNames: map[string]string{"#s": "status", "#tok": "token"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":failed": str(ledger.Failed), ":why": str(truncate(why, 500)), ":tok": str(token),
		},
		ReturnValues: types.ReturnValueAllNew,
	})
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
	_, err = s.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.Table), Key: capKey(shop, cid),
		UpdateExpression:          aws.String("REMOVE taken_at, holder"),
		ConditionExpression:       aws.String("holder = :id"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":id": str(id)},
	})
	if errors.As(err, &cc) {
		return nil
	}
	return err
}

// Record writes a final decision, and the changed customer with it.
func (s *Store) Record(ctx context.Context, r ledger.Record) error {
	pk, sk := keyOf(state.Key{Kind: state.ItemLedger, Shop: r.Shop, ID: r.ID})
	names := map[string]string{"#s": "status", "#tok": "token", "#k": attrKind}
	vals := map[string]types.AttributeValue{
		":s": str(r.Decision), ":why": str(truncate(r.Why, 500)), ":ch": str(string(r.Channel)), ":mk": str(string(r.Kind)),
		":cid": str(r.CustomerID), ":oid": str(r.OrderID), ":now": str(r.At.UTC().Format(time.RFC3339Nano)),
		":exp": num(r.At.Add(ledgerTTL).Unix()), ":kind": str(state.ItemLedger),
	}
	cond := "#tok = :tok"
	if r.Token != "" {
		vals[":tok"] = str(r.Token)
	} else {
		// Not claimed: never overwrite a delivery or a live claim.
		cond = "attribute_not_exists(pk) OR NOT (#s IN (:sent, :claimed))"
		vals[":sent"], vals[":claimed"] = str(ledger.Sent), str(statusClaimed)
	}
	entry := &types.Update{
		TableName: aws.String(s.Table), Key: key(pk, sk),
		UpdateExpression: aws.String("SET #s = :s, why = :why, channel = :ch, message_kind = :mk, customer_id = :cid, order_id = :oid, " +
			"updated_at = :now, expires_at = :exp, #k = :kind REMOVE lease_until, #tok"),
		ConditionExpression: aws.String(cond), ExpressionAttributeNames: names, ExpressionAttributeValues: vals,
	}
	if r.Customer == nil {
		_, err := s.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: entry.TableName, Key: entry.Key,
			UpdateExpression: entry.UpdateExpression, ConditionExpression: entry.ConditionExpression,
			ExpressionAttributeNames: names, ExpressionAttributeValues: vals, ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal})
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

// Ledger lists a shop's ledger entries.
func (s *Store) Ledger(ctx context.Context, shop string) ([]ledger.Entry, error) {
	var out []ledger.Entry
	err := s.query(ctx, &dynamodb.QueryInput{
		TableName:              aws.String(s.Table),
		KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :p)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str("SHOP#" + shop), ":p": str("MESSAGE#"),
		},
		ConsistentRead: aws.Bool(true),
	}, func(it map[string]types.AttributeValue) error {
		out = append(out, ledger.Entry{
			ID: getS(it, attrSK)[len("MESSAGE#"):], Status: getS(it, "status"), Kind: getS(it, "message_kind"),
			Why: getS(it, "why"), Channel: getS(it, "channel"), CustomerID: getS(it, "customer_id"),
			OrderID: getS(it, "order_id"), Attempts: getN(it, "attempts"),
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
