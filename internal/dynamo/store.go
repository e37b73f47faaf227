package dynamo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/aftercare/aftercare/internal/state"
)

// API is the part of the DynamoDB client the store uses.
type API interface {
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(context.Context, *dynamodb.DeleteItemInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	BatchGetItem(context.Context, *dynamodb.BatchGetItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
	BatchWriteItem(context.Context, *dynamodb.BatchWriteItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
	TransactWriteItems(context.Context, *dynamodb.TransactWriteItemsInput, ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

// Store is the table. It implements the stores of the state engine, the
// scheduled checks and dispatch.
type Store struct {
	DB        API
	Table     string
	Shards    int           // due index shards
	DedupeTTL time.Duration // how long dedupe records are kept
	Now       func() time.Time
	// Streams reads the table's stream, for the report's counters (Fold);
	// a store without it reads the day items as the last fold left them.
	Streams Streams

	fold foldCache
}

// DefaultDedupeTTL outlives every sender's retry window (Shopify: hours,
// AfterShip: about three days) many times over.
const DefaultDedupeTTL = 30 * 24 * time.Hour

func (s *Store) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrPK: str(pk), attrSK: str(sk)}
}

func str(v string) *types.AttributeValueMemberS { return &types.AttributeValueMemberS{Value: v} }

func num(v int64) *types.AttributeValueMemberN {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
}

func getS(item map[string]types.AttributeValue, name string) string {
	if v, ok := item[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

func getN(item map[string]types.AttributeValue, name string) int64 {
	if v, ok := item[name].(*types.AttributeValueMemberN); ok {
		n, _ := strconv.ParseInt(v.Value, 10, 64)
		return n
	}
	return 0
}

// Load reads the dedupe record and the named entities in one BatchGetItem
// (consistent reads; 100 keys a call), retrying unprocessed keys.
func (s *Store) Load(ctx context.Context, dedupeID string, keys []state.Key) (*state.Dedupe, *state.Loaded, error) {
	loaded := state.NewLoaded()
	var dedupe *state.Dedupe
	var want []map[string]types.AttributeValue
	if dedupeID != "" {
		want = append(want, key(eventKey(dedupeID)))
	}
	for _, k := range keys {
		want = append(want, key(keyOf(k)))
	}
	err := s.batchGetAll(ctx, want, func(it map[string]types.AttributeValue) error {
		pk, sk := getS(it, attrPK), getS(it, attrSK)
		if dpk, dsk := eventKey(dedupeID); dedupeID != "" && pk == dpk && sk == dsk {
			dedupe = &state.Dedupe{}
			doc, err := Doc(it)
			if err != nil {
				return fmt.Errorf("dedupe record %s: %w", dedupeID, err)
			}
			if err := json.Unmarshal(doc, dedupe); err != nil {
				return fmt.Errorf("dedupe record %s: %w", dedupeID, err)
			}
			return nil
		}
		return decodeInto(loaded, it)
	})
	if err != nil {
		return nil, nil, err
	}
	return dedupe, loaded, nil
}

func (s *Store) batchGet(ctx context.Context, keys []map[string]types.AttributeValue) ([]map[string]types.AttributeValue, error) {
	var out []map[string]types.AttributeValue
	req := map[string]types.KeysAndAttributes{s.Table: {Keys: keys, ConsistentRead: aws.Bool(true)}}
	for attempt := 0; len(req) > 0; attempt++ {
		if attempt > 0 {
			if err := backoff(ctx, attempt); err != nil {
				return nil, err
			}
		}
		res, err := s.DB.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req, ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal})
		if err != nil {
			return nil, err
		}
		out = append(out, res.Responses[s.Table]...)
		req = res.UnprocessedKeys
		if attempt > 8 && len(req) > 0 {
			return nil, errors.New("dynamodb left keys unprocessed after retries")
		}
	}
	return out, nil
}

// Commit writes the dedupe record and every change in one transaction, or,
// when they come to one item, in one conditional write of it. The report
// counters ride on the dedupe record or the first put (see Fold).
func (s *Store) Commit(ctx context.Context, c *state.Commit) error {
	var tx []types.TransactWriteItem
	rc, err := carry(c.Adds)
	if err != nil {
		return err
	}
	if c.Dedupe != nil {
		doc, err := json.Marshal(c.Dedupe)
		if err != nil {
			return err
		}
		pk, sk := eventKey(c.Dedupe.ID)
		fresh, _, err := versioned(0)
		if err != nil {
			return err
		}
		item := map[string]types.AttributeValue{
			attrPK: str(pk), attrSK: str(sk), attrKind: str("dedupe"), attrDocZ: &types.AttributeValueMemberB{Value: pack(doc)},
			attrExpires: num(s.now().Add(s.dedupeTTL()).Unix()),
		}
		if rc != "" {
			item[attrCarried], rc = str(rc), ""
		}
		if shop, customer := c.Dedupe.Owner(); customer != "" {
			// Found by customers/redact and shop/redact, which drop the outbox's messages.
			opk, osk := ownerKeys(shop, customer, pk, sk)
			item[attrOwnerPK], item[attrOwnerSK] = str(opk), str(osk)
		}
		tx = append(tx, types.TransactWriteItem{Put: &types.Put{
			TableName: aws.String(s.Table), Item: item,
			ConditionExpression: fresh.Condition(), ExpressionAttributeNames: fresh.Names(),
		}})
	}
	for _, e := range c.Puts {
		p, err := s.put(e)
		if err != nil {
			return err
		}
		if rc != "" {
			p.Item[attrCarried], rc = str(rc), ""
		}
		tx = append(tx, types.TransactWriteItem{Put: p})
	}
	for _, k := range c.Deletes {
		tx = append(tx, types.TransactWriteItem{Delete: &types.Delete{TableName: aws.String(s.Table), Key: key(keyOf(k))}})
	}
	// One update per shop's stock item, in the transaction: the event's
	// stock changes apply exactly once with it.
	for _, shop := range stockShops(c) {
		u, err := s.stockUpdate(shop, c.StockOut[shop], c.StockIn[shop])
		if err != nil {
			return err
		}
		tx = append(tx, types.TransactWriteItem{Update: u})
	}
	if rc != "" {
		// Counters with no item to ride on (SeedDays): straight to the day items.
		for _, a := range state.MergeAdds(c.Adds) {
			u, err := s.counterUpdate(a)
			if err != nil {
				return err
			}
			tx = append(tx, types.TransactWriteItem{Update: u})
		}
	}
	if len(tx) > maxTransact {
		return fmt.Errorf("one event touches %d items, over the %d a transaction allows", len(tx), maxTransact)
	}
	if _, err := s.writeItems(ctx, tx); err != nil {
		return commitError(err, c.Dedupe != nil)
	}
	return nil
}

// writeItems writes one change alone (writeOne) and several in one
// transaction; nothing, when there is nothing to write. A single write's
// failed condition returns the item as it was.
func (s *Store) writeItems(ctx context.Context, tx []types.TransactWriteItem) (map[string]types.AttributeValue, error) {
	switch len(tx) {
	case 0:
		return nil, nil
	case 1:
		return s.writeOne(ctx, tx[0])
	}
	_, err := s.DB.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: tx, ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal})
	return nil, err
}

// writeOne makes a change of one item a plain conditional write: the same
// all-or-nothing as a transaction of one, at half its write units (a
// transaction writes each item twice, to prepare and to commit). A failed
// condition comes back as ConditionalCheckFailedException with the item
// as it was, when the write asked for it.
func (s *Store) writeOne(ctx context.Context, w types.TransactWriteItem) (map[string]types.AttributeValue, error) {
	var err error
	switch total := types.ReturnConsumedCapacityTotal; {
	case w.Put != nil:
		p := w.Put
		_, err = s.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: p.TableName, Item: p.Item,
			ConditionExpression: p.ConditionExpression, ExpressionAttributeNames: p.ExpressionAttributeNames, ExpressionAttributeValues: p.ExpressionAttributeValues,
			ReturnValuesOnConditionCheckFailure: p.ReturnValuesOnConditionCheckFailure, ReturnConsumedCapacity: total})
	case w.Update != nil:
		u := w.Update
		_, err = s.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: u.TableName, Key: u.Key, UpdateExpression: u.UpdateExpression,
			ConditionExpression: u.ConditionExpression, ExpressionAttributeNames: u.ExpressionAttributeNames, ExpressionAttributeValues: u.ExpressionAttributeValues,
			ReturnValuesOnConditionCheckFailure: u.ReturnValuesOnConditionCheckFailure, ReturnConsumedCapacity: total})
	case w.Delete != nil:
		d := w.Delete
		_, err = s.DB.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: d.TableName, Key: d.Key,
			ConditionExpression: d.ConditionExpression, ExpressionAttributeNames: d.ExpressionAttributeNames, ExpressionAttributeValues: d.ExpressionAttributeValues,
			ReturnValuesOnConditionCheckFailure: d.ReturnValuesOnConditionCheckFailure, ReturnConsumedCapacity: total})
	default:
		return nil, errors.New("a write of one item must put, update or delete it")
	}
	var cc *types.ConditionalCheckFailedException
	if errors.As(err, &cc) {
		return cc.Item, err
	}
	return nil, err
}

// counterPrefix marks counter attributes on a counters item.
const counterPrefix = "c_"

// counterUpdate adds to counters with UpdateItem ADD, which starts a missing
// item or attribute at zero: no read, and safe beside concurrent events.
func (s *Store) counterUpdate(a state.Add) (*types.Update, error) {
	if a.Key.Kind != state.ItemCounters {
		return nil, fmt.Errorf("counters can only be added to a %s item, not %s", state.ItemCounters, a.Key.Kind)
	}
	upd := expression.Set(expression.Name(attrKind), expression.Value(state.ItemCounters))
	for _, name := range sortedNames(a.Counters) {
		upd = upd.Add(expression.Name(counterPrefix+name), expression.Value(a.Counters[name]))
	}
	expr, err := expression.NewBuilder().WithUpdate(upd).Build()
	if err != nil {
		return nil, err
	}
	return &types.Update{
		TableName: aws.String(s.Table), Key: key(keyOf(a.Key)), UpdateExpression: expr.Update(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
	}, nil
}

func sortedNames(m map[string]int64) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Counters folds, then reads counters items, 100 keys to a BatchGetItem.
func (s *Store) Counters(ctx context.Context, keys []state.Key) (map[state.Key]map[string]int64, error) {
	s.foldFirst(ctx)
	out := map[state.Key]map[string]int64{}
	want := make([]map[string]types.AttributeValue, 0, len(keys))
	for _, k := range keys {
		want = append(want, key(keyOf(k)))
	}
	err := s.batchGetAll(ctx, want, func(it map[string]types.AttributeValue) error {
		k, ok := keyFrom(getS(it, attrPK), getS(it, attrSK))
		if !ok || k.Kind != state.ItemCounters {
			return nil
		}
		counters := map[string]int64{}
		for name := range it {
			if c, ok := strings.CutPrefix(name, counterPrefix); ok {
				counters[c] = getN(it, name)
			}
		}
		out[k] = counters
		return nil
	})
	return out, err
}

// batchGetAll reads keys in BatchGetItem's chunks of 100 (consistent reads).
func (s *Store) batchGetAll(ctx context.Context, keys []map[string]types.AttributeValue, fn func(map[string]types.AttributeValue) error) error {
	for start := 0; start < len(keys); start += maxBatchGet {
		got, err := s.batchGet(ctx, keys[start:min(start+maxBatchGet, len(keys))])
		if err != nil {
			return err
		}
		for _, it := range got {
			if err := fn(it); err != nil {
				return err
			}
		}
	}
	return nil
}

// DynamoDB's per-call limits.
const (
	maxBatchGet   = 100
	maxBatchWrite = 25
	maxTransact   = 100
)

// stockShops are the shops whose stock item a commit changes, sorted.
func stockShops(c *state.Commit) []string {
	seen := map[string]bool{}
	var out []string
	for _, m := range []map[string][]string{c.StockOut, c.StockIn} {
		for shop := range m {
			if !seen[shop] {
				seen[shop] = true
				out = append(out, shop)
			}
		}
	}
	sort.Strings(out)
	return out
}

// stockOutPrefix names a variant's attribute on the stock item. One
// attribute per variant (not one string set) lets one update expression mark
// some variants out and others back in: ADD and DELETE on one set would be
// overlapping paths, which DynamoDB refuses.
const stockOutPrefix = "o_"

// stockUpdate marks variants out of stock and others back in, on the
// shop's stock item. Back in also deletes from the string set earlier
// versions kept (variants), so items written before read right.
func (s *Store) stockUpdate(shop string, out, in []string) (*types.Update, error) {
	pk, sk := keyOf(state.Key{Kind: state.ItemStock, Shop: shop})
	upd := expression.Set(expression.Name(attrKind), expression.Value(state.ItemStock))
	back := map[string]bool{}
	for _, v := range in {
		back[v] = true
	}
	for _, v := range out {
		if back[v] {
			return nil, fmt.Errorf("stock of %s: variant %s both out and back in one commit", shop, v)
		}
		upd = upd.Set(expression.NameNoDotSplit(stockOutPrefix+v), expression.Value(true))
	}
	for _, v := range in {
		upd = upd.Remove(expression.NameNoDotSplit(stockOutPrefix + v))
	}
	if len(in) > 0 {
		upd = upd.Delete(expression.Name("variants"), expression.Value(types.AttributeValueMemberSS{Value: in}))
	}
	expr, err := expression.NewBuilder().WithUpdate(upd).Build()
	if err != nil {
		return nil, err
	}
	return &types.Update{
		TableName: aws.String(s.Table), Key: key(pk, sk), UpdateExpression: expr.Update(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
	}, nil
}

// commitError maps a cancelled transaction to the state engine's errors: the
// dedupe put (first item) failing means the event was applied already.
func commitError(err error, hasDedupe bool) error {
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) {
		var cc *types.ConditionalCheckFailedException
		switch {
		case errors.As(err, &cc) && hasDedupe:
			return state.ErrDuplicate // a write of one item: the dedupe record alone
		case errors.As(err, &cc):
			return state.ErrConflict
		}
		return err
	}
	for i, r := range tce.CancellationReasons {
		code := aws.ToString(r.Code)
		switch {
		case code == "ConditionalCheckFailed" && i == 0 && hasDedupe:
			return state.ErrDuplicate
		case code == "ConditionalCheckFailed", code == "TransactionConflict":
			return fmt.Errorf("%w (%s on item %d)", state.ErrConflict, code, i)
		}
	}
	return err
}

// Waiting lists the orders waiting for a variant.
func (s *Store) Waiting(ctx context.Context, shop, variant string) ([]*state.Wait, error) {
	pk, _ := keyOf(state.Key{Kind: state.ItemWait, Shop: shop})
	cond := expression.Key(attrPK).Equal(expression.Value(pk)).And(expression.Key(attrSK).BeginsWith("WAIT#" + variant + "#"))
	expr, err := expression.NewBuilder().WithKeyCondition(cond).Build()
	if err != nil {
		return nil, err
	}
	var out []*state.Wait
	err = s.query(ctx, &dynamodb.QueryInput{
		TableName:                 aws.String(s.Table),
		KeyConditionExpression:    expr.KeyCondition(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
		ConsistentRead:            aws.Bool(true),
	}, func(it map[string]types.AttributeValue) error {
		e, ok, err := decode(it)
		if ok && e.Wait != nil {
			out = append(out, e.Wait)
		}
		return err
	})
	return out, err
}

// EachShopItem folds, then calls fn for every item of a shop, with the
// entity when it is one.
func (s *Store) EachShopItem(ctx context.Context, shop string, fn func(state.Key, state.Entity) error) error {
	s.foldFirst(ctx)
	expr, err := expression.NewBuilder().WithKeyCondition(expression.Key(attrPK).Equal(expression.Value("SHOP#" + shop))).Build()
	if err != nil {
		return err
	}
	return s.query(ctx, &dynamodb.QueryInput{
		TableName:                 aws.String(s.Table),
		KeyConditionExpression:    expr.KeyCondition(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
		ConsistentRead:            aws.Bool(true),
	}, func(it map[string]types.AttributeValue) error {
		k, ok := keyFrom(getS(it, attrPK), getS(it, attrSK))
		if !ok {
			return nil
		}
		e, _, err := decode(it)
		if err != nil {
			return err
		}
		return fn(k, e)
	})
}

func (s *Store) query(ctx context.Context, in *dynamodb.QueryInput, fn func(map[string]types.AttributeValue) error) error {
	in.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
	for {
		out, err := s.DB.Query(ctx, in)
		if err != nil {
			return err
		}
		for _, it := range out.Items {
			if err := fn(it); err != nil {
				return err
			}
		}
		if len(out.LastEvaluatedKey) == 0 {
			return nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// Delete removes items, 25 to a BatchWriteItem, retrying unprocessed ones.
func (s *Store) Delete(ctx context.Context, keys []state.Key) error {
	for start := 0; start < len(keys); start += maxBatchWrite {
		end := min(start+maxBatchWrite, len(keys))
		var reqs []types.WriteRequest
		for _, k := range keys[start:end] {
			reqs = append(reqs, types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: key(keyOf(k))}})
		}
		if err := s.batchWrite(ctx, reqs); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) batchWrite(ctx context.Context, reqs []types.WriteRequest) error {
	pending := map[string][]types.WriteRequest{s.Table: reqs}
	for attempt := 0; len(pending[s.Table]) > 0; attempt++ {
		if attempt > 0 {
			if attempt > 8 {
				return errors.New("dynamodb left writes unprocessed after retries")
			}
			if err := backoff(ctx, attempt); err != nil {
				return err
			}
		}
		out, err := s.DB.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: pending, ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal})
		if err != nil {
			return err
		}
		pending = out.UnprocessedItems
	}
	return nil
}

func (s *Store) dedupeTTL() time.Duration {
	if s.DedupeTTL > 0 {
		return s.DedupeTTL
	}
	return DefaultDedupeTTL
}

// backoff waits before retrying unprocessed batch items: 50 ms doubling, capped.
func backoff(ctx context.Context, attempt int) error {
	d := 50 * time.Millisecond << min(attempt-1, 5)
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// ShopSettings reads a shop's settings override document (nil when none).
func (s *Store) ShopSettings(ctx context.Context, shop string) ([]byte, error) {
	pk, sk := keyOf(state.Key{Kind: state.ItemSettings, Shop: shop})
	out, err := s.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.Table), Key: key(pk, sk), ConsistentRead: aws.Bool(true)})
	if err != nil || out.Item == nil {
		return nil, err
	}
	return []byte(getS(out.Item, attrDoc)), nil
}

// PutShopSettings stores a shop's settings override document (validate first).
func (s *Store) PutShopSettings(ctx context.Context, shop string, doc []byte) error {
	pk, sk := keyOf(state.Key{Kind: state.ItemSettings, Shop: shop})
	_, err := s.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.Table), Item: map[string]types.AttributeValue{
		attrPK: str(pk), attrSK: str(sk), attrKind: str(state.ItemSettings), attrDoc: str(string(doc)),
	}})
	return err
}

// PutAll writes entities unconditionally (each stored at its Version+1), 25
// to a BatchWriteItem and a few batches at once: for bulk loaders, where no
// event races the load.
func (s *Store) PutAll(ctx context.Context, items []state.Entity) error {
	const parallel = 8
	errs := make(chan error, parallel)
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for start := 0; start < len(items); start += maxBatchWrite {
		reqs := make([]types.WriteRequest, 0, maxBatchWrite)
		for _, e := range items[start:min(start+maxBatchWrite, len(items))] {
			item, err := s.encode(e)
			if err != nil {
				return err
			}
			reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: item}})
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := s.batchWrite(ctx, reqs); err != nil {
				select {
				case errs <- err:
				default:
				}
			}
		}()
	}
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
		return nil
	}
}
