package dynamo

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/aftercare/aftercare/internal/aftercare"
	"github.com/aftercare/aftercare/internal/ledger"
	"github.com/aftercare/aftercare/internal/report"
	"github.com/aftercare/aftercare/internal/state"
)

// Ledger entries outlive any way a message could be produced again (dedupe
// records last 30 days), so an id is delivered at most once.
const ledgerTTL = 400 * 24 * time.Hour

// Ledger statuses beyond the dispatch decisions.
const statusClaimed = "claimed"

// capKey is the customer's marketing cap slot.
func capKey(shop, customerID string) map[string]types.AttributeValue {
	return key(keyOf(state.Key{Kind: state.ItemCap, Shop: shop, ID: customerID}))
}

// unowned takes a ledger entry off the owner index and drops the customer's
// id from it: an entry written before 2026-12-07 named the customer.
func unowned(u *types.Update) {
	u.ExpressionAttributeNames["#opk"], u.ExpressionAttributeNames["#osk"] = attrOwnerPK, attrOwnerSK
	expr := aws.ToString(u.UpdateExpression)
	switch {
	case strings.Contains(expr, " REMOVE "):
		expr = strings.Replace(expr, " REMOVE ", " REMOVE #opk, #osk, customer_id, ", 1)
	case strings.Contains(expr, " ADD "):
		expr = strings.Replace(expr, " ADD ", " REMOVE #opk, #osk, customer_id ADD ", 1)
	default:
		expr += " REMOVE #opk, #osk, customer_id"
	}
	u.UpdateExpression = aws.String(expr)
}

// State reads a message's customer and order and the shop's install marks
// in one BatchGetItem.
func (s *Store) State(ctx context.Context, shop, customerID, orderID string) (*aftercare.Customer, *aftercare.Order, *aftercare.Install, error) {
	var keys []state.Key
	ck := state.Key{Kind: state.ItemCustomer, Shop: shop, ID: customerID}
	ok := state.Key{Kind: state.ItemOrder, Shop: shop, ID: orderID}
	ik := state.Key{Kind: state.ItemInstall, Shop: shop}
	if customerID != "" {
		keys = append(keys, ck)
	}
	if orderID != "" {
		keys = append(keys, ok)
	}
	if shop != "" {
		keys = append(keys, ik)
	}
	if len(keys) == 0 {
		return nil, nil, nil, nil
	}
	_, loaded, err := s.Load(ctx, "", keys)
	if err != nil {
		return nil, nil, nil, err
	}
	return loaded.Customers[ck], loaded.Orders[ok], loaded.Installs[ik], nil
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
		UpdateExpression: aws.String("SET #s = :claimed, #tok = :tok, lease_until = :lease, message_kind = :mk, " +
			"updated_at = :now, expires_at = :exp, #k = :kind ADD attempts :one"),
		ConditionExpression:      aws.String("attribute_not_exists(pk) OR (#s = :claimed AND lease_until < :nowms) OR #s IN (:held, :failed)"),
		ExpressionAttributeNames: map[string]string{"#s": "status", "#tok": "token", "#k": attrKind},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":claimed": str(statusClaimed), ":tok": str(c.Token), ":lease": num(c.Lease.UnixMilli()), ":nowms": num(c.Now.UnixMilli()),
			":mk": str(string(c.Kind)), ":now": str(c.Now.UTC().Format(time.RFC3339Nano)),
			":exp": num(c.Now.Add(ledgerTTL).Unix()), ":kind": str(state.ItemLedger), ":one": num(1),
			":held": str(ledger.Held), ":failed": str(ledger.Failed),
		},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}
	// The entry names no customer (its id is a hash of the cause): nothing
	// for customers/redact to find, no owner-index entry to write.
	unowned(claim)
	if !c.CapSince.IsZero() {
		// An expired claim is an attempt that died: transactional messages
		// take it over (at least once); marketing does not (at most once).
		claim.ConditionExpression = aws.String("attribute_not_exists(pk) OR #s IN (:held, :failed)")
		delete(claim.ExpressionAttributeValues, ":nowms")
	}
	if c.CapSince.IsZero() || c.CustomerID == "" {
		_, err := s.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: claim.TableName, Key: claim.Key,
			UpdateExpression: claim.UpdateExpression, ConditionExpression: claim.ConditionExpression,
			ExpressionAttributeNames: claim.ExpressionAttributeNames, ExpressionAttributeValues: claim.ExpressionAttributeValues,
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
			ReturnConsumedCapacity:              types.ReturnConsumedCapacityTotal})
		var cc *types.ConditionalCheckFailedException
		if errors.As(err, &cc) {
			return claimRefused(cc.Item, c.Now)
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
				return claimRefused(r.Item, c.Now)
			}
			return time.UnixMilli(getN(r.Item, "taken_at")).UTC(), ledger.ErrCapped
		}
		return time.Time{}, state.ErrConflict
	}
	return time.Time{}, err
}

// claimRefused says why a claim's condition failed, from the entry as it was:
// a live lease (with its end), an expired one refused to marketing, or a
// final decision.
func claimRefused(old map[string]types.AttributeValue, now time.Time) (time.Time, error) {
	if getS(old, "status") != statusClaimed {
		return time.Time{}, ledger.ErrClaimed
	}
	if lease := getN(old, "lease_until"); lease >= now.UnixMilli() {
		return time.UnixMilli(lease).UTC(), ledger.ErrInFlight
	}
	return time.Time{}, ledger.ErrUnknownOutcome
}

// Release gives a claim back after a failed delivery (it becomes claimable
// and counts as failed in the report, on r.At's day), and frees the cap slot
// this message took.
func (s *Store) Release(ctx context.Context, r ledger.Record) error {
	pk, sk := keyOf(state.Key{Kind: state.ItemLedger, Shop: r.Shop, ID: r.ID})
	err := s.writeDecision(ctx, decisionWrite{
		shop: r.Shop, kind: r.Kind, decision: ledger.Failed, at: r.At, zone: r.Zone,
		entry: func() *types.Update {
			return &types.Update{
				TableName:                aws.String(s.Table),
				Key:                      key(pk, sk),
				UpdateExpression:         aws.String("SET #s = :failed, why = :why REMOVE lease_until, #tok"),
				ConditionExpression:      aws.String("#tok = :tok"),
				ExpressionAttributeNames: map[string]string{"#s": "status", "#tok": "token"},
				ExpressionAttributeValues: map[string]types.AttributeValue{
					":failed": str(ledger.Failed), ":why": str(truncate(r.Why, 500)), ":tok": str(r.Token),
				},
			}
		},
		owns: func(old map[string]types.AttributeValue) bool { return getS(old, "token") == r.Token },
	})
	if errors.Is(err, ledger.ErrClaimed) {
		return nil // the lease ran out and someone else holds it now
	}
	if err != nil || r.CustomerID == "" {
		return err
	}
	// A failed marketing delivery must not use up the customer's cap window.
	_, err = s.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.Table), Key: capKey(r.Shop, r.CustomerID),
		UpdateExpression:          aws.String("REMOVE taken_at, holder"),
		ConditionExpression:       aws.String("holder = :id"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":id": str(r.ID)},
	})
	var cc *types.ConditionalCheckFailedException
	if errors.As(err, &cc) {
		return nil
	}
	return err
}

// Record writes a final decision, and the changed customer with it.
func (s *Store) Record(ctx context.Context, r ledger.Record) error {
	pk, sk := keyOf(state.Key{Kind: state.ItemLedger, Shop: r.Shop, ID: r.ID})
	entry := func() *types.Update {
		names := map[string]string{"#s": "status", "#tok": "token", "#k": attrKind}
		vals := map[string]types.AttributeValue{
			":s": str(r.Decision), ":why": str(truncate(r.Why, 500)), ":ch": str(string(r.Channel)), ":mk": str(string(r.Kind)),
			":oid": str(r.OrderID), ":now": str(r.At.UTC().Format(time.RFC3339Nano)),
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
		u := &types.Update{
			TableName: aws.String(s.Table), Key: key(pk, sk),
			UpdateExpression: aws.String("SET #s = :s, why = :why, channel = :ch, message_kind = :mk, order_id = :oid, " +
				"updated_at = :now, expires_at = :exp, #k = :kind REMOVE lease_until, #tok"),
			ConditionExpression: aws.String(cond), ExpressionAttributeNames: names, ExpressionAttributeValues: vals,
		}
		unowned(u) // as the claim
		return u
	}
	owns := func(old map[string]types.AttributeValue) bool {
		if r.Token != "" {
			return getS(old, "token") == r.Token
		}
		st := getS(old, "status")
		return len(old) == 0 || (st != ledger.Sent && st != statusClaimed)
	}
	w := decisionWrite{shop: r.Shop, kind: r.Kind, decision: r.Decision, at: r.At, zone: r.Zone, adds: r.Adds, entry: entry, owns: owns}
	if r.Customer != nil {
		put, err := s.put(state.Entity{Customer: r.Customer})
		if err != nil {
			return err
		}
		w.customer = put
	}
	return s.writeDecision(ctx, w)
}

// decisionWrite is one ledger decision: the entry's update, the customer put
// that goes with it (if any), and the report counters both add.
type decisionWrite struct {
	shop     string
	kind     aftercare.Kind
	decision string
	at       time.Time
	zone     *time.Location
	adds     report.Adds // beside the decision's own: the customer's change
	entry    func() *types.Update
	owns     func(old map[string]types.AttributeValue) bool // the entry's own condition, on the item as it was
	customer *types.Put
}

// writeDecision commits a decision with its report counters carried on the
// entry (one UpdateItem, a transaction only with a customer put). The entry's
// update is also conditioned on the decision it counted so far, which the
// first try assumes is none (the common case: a new message); if another
// decision was counted, the failed condition returns the entry as it is and
// the write is retried once against it, so each decision moves the counters
// exactly once.
func (s *Store) writeDecision(ctx context.Context, w decisionWrite) error {
	var prev ledger.Counted
	for attempt := 0; ; attempt++ {
		next, adds := ledger.Recount(w.kind, prev, w.decision, w.at, w.zone)
		adds.Merge(w.adds)
		u := w.entry()
		u.ExpressionAttributeNames["#cd"], u.ExpressionAttributeNames["#ca"] = "counted", "counted_at"
		u.ExpressionAttributeValues[":ncd"] = str(next.Decision)
		u.ExpressionAttributeValues[":nca"] = str(next.At.UTC().Format(time.RFC3339Nano))
		before, rest, _ := strings.Cut(aws.ToString(u.UpdateExpression), " REMOVE ")
		expr := before + ", #cd = :ncd, #ca = :nca"
		rc, err := carry(state.DayAdds(w.shop, adds))
		if err != nil {
			return err
		}
		if rc != "" {
			// The decision's counters ride on the entry (see Fold).
			u.ExpressionAttributeNames["#rc"] = attrCarried
			u.ExpressionAttributeValues[":rc"] = str(rc)
			expr += ", #rc = :rc"
		}
		if rest != "" {
			expr += " REMOVE " + rest
		}
		u.UpdateExpression = aws.String(expr)
		counted := "attribute_not_exists(#cd)"
		if prev.Decision != "" {
			counted = "(#cd = :pcd AND #ca = :pca)"
			u.ExpressionAttributeValues[":pcd"] = str(prev.Decision)
			u.ExpressionAttributeValues[":pca"] = str(prev.At.UTC().Format(time.RFC3339Nano))
		}
		u.ConditionExpression = aws.String("(" + aws.ToString(u.ConditionExpression) + ") AND " + counted)
		u.ReturnValuesOnConditionCheckFailure = types.ReturnValuesOnConditionCheckFailureAllOld

		tx := []types.TransactWriteItem{{Update: u}}
		if w.customer != nil {
			tx = append(tx, types.TransactWriteItem{Put: w.customer})
		}
		old, err := s.writeAll(ctx, tx)
		if err == nil || !errors.Is(err, errEntryCondition) {
			return err
		}
		if !w.owns(old) {
			return ledger.ErrClaimed
		}
		now := ledger.Counted{Decision: getS(old, "counted")}
		now.At, _ = time.Parse(time.RFC3339Nano, getS(old, "counted_at"))
		if attempt >= 2 || now == prev {
			return fmt.Errorf("ledger entry %s: counted decision keeps changing", getS(old, attrSK))
		}
		prev = now
	}
}

// errEntryCondition: the ledger entry's condition failed (the first item).
var errEntryCondition = errors.New("ledger entry condition failed")

// writeAll writes one update alone, or several in a transaction; when the
// first item's condition fails it returns that item as it was.
func (s *Store) writeAll(ctx context.Context, tx []types.TransactWriteItem) (map[string]types.AttributeValue, error) {
	if len(tx) > maxTransact {
		return nil, fmt.Errorf("one decision touches %d items, over the %d a transaction allows", len(tx), maxTransact)
	}
	old, err := s.writeItems(ctx, tx)
	var cc *types.ConditionalCheckFailedException
	if errors.As(err, &cc) {
		return old, errEntryCondition
	}
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) {
		for i, r := range tce.CancellationReasons {
			switch code := aws.ToString(r.Code); {
			case code == "ConditionalCheckFailed" && i == 0:
				return r.Item, errEntryCondition
			case code == "ConditionalCheckFailed", code == "TransactionConflict":
				return nil, ledger.ErrConflict
			}
		}
	}
	return nil, err
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
			Counted: ledger.Counted{Decision: getS(it, "counted"), At: parseTime(getS(it, "counted_at"))},
		})
		return nil
	})
	return out, err
}

func parseTime(s string) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
