package dynamo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/aftercare/aftercare/internal/aftercare"
	"github.com/aftercare/aftercare/internal/state"
)

// customerRetries bounds the re-reads when events keep changing a customer
// between UpdateCustomer's read and its write.
const customerRetries = 5

// UpdateCustomer changes one customer outside an event: a consistent read,
// change (which reports whether it changed anything), then an update of
// doc and version only, conditioned on the version read, so an event
// applied meanwhile is never overwritten (it reads again and retries). The
// due-index keys stay as they are: the next event or check refreshes them.
// A customer the shop does not have is ENOTFOUND. adds (may be nil) names the
// counters the change moves (the report's), carried on the customer's
// update (see Fold). Two round trips.
func (s *Store) UpdateCustomer(ctx context.Context, shop, id string, change func(*aftercare.Customer) bool, adds func(before, after *aftercare.Customer) []state.Add) error {
	pk, sk := keyOf(state.Key{Kind: state.ItemCustomer, Shop: shop, ID: id})
	for attempt := 0; ; attempt++ {
		out, err := s.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.Table), Key: key(pk, sk), ConsistentRead: aws.Bool(true),
			ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal})
		if err != nil {
			return err
		}
		if out.Item == nil {
			return aftercare.Errorf(aftercare.ENOTFOUND, "no customer %s in %s", id, shop)
		}
		e, _, err := decode(out.Item)
		if err != nil {
			return aftercare.Wrap(aftercare.EINTERNAL, err, "customer %s/%s", shop, id)
		}
		c := e.Customer
		before := *c // change sets fields; a shallow copy keeps what it replaced
		if !change(c) {
			return nil
		}
		var counted []state.Add
		if adds != nil {
			counted = adds(&before, c)
		}
		rc, err := carry(counted)
		if err != nil {
			return err
		}
		read := c.Version
		doc, err := json.Marshal(c)
		if err != nil {
			return err
		}
		upd := expression.Set(expression.Name(attrDocZ), expression.Value(pack(doc))).Remove(expression.Name(attrDoc)).
			Set(expression.Name(attrVersion), expression.Value(read+1))
		if rc != "" {
			upd = upd.Set(expression.Name(attrCarried), expression.Value(rc)) // the change's counters (see Fold)
		}
		expr, err := expression.NewBuilder().WithUpdate(upd).
			WithCondition(expression.Name(attrVersion).Equal(expression.Value(read))).
			Build()
		if err != nil {
			return err
		}
		_, err = s.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(s.Table), Key: key(pk, sk),
			UpdateExpression: expr.Update(), ConditionExpression: expr.Condition(),
			ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
			ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal})
		var cc *types.ConditionalCheckFailedException
		if !errors.As(err, &cc) && !errors.Is(err, state.ErrConflict) {
			return err
		}
		if attempt == customerRetries {
			return fmt.Errorf("%w (customer %s/%s, %d attempts)", state.ErrConflict, shop, id, attempt+1)
		}
	}
}
