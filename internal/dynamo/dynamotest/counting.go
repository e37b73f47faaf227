// Package dynamotest holds test helpers for the DynamoDB adapter: a client
// wrapper that counts what the store costs, so tests and benchmarks can hold
// it to its budgets (round trips per event, items read per due message).
package dynamotest

import (
	"context"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/aftercare/aftercare/internal/dynamo"
)

// Counting wraps a client and counts round trips, items read and consumed
// capacity.
type Counting struct {
	dynamo.API
	mu    sync.Mutex
	calls map[string]int
	read  int     // items returned by reads (Get, BatchGet, Query)
	cu    float64 // capacity units consumed, where the service reports them
}

// NewCounting wraps api.
func NewCounting(api dynamo.API) *Counting { return &Counting{API: api, calls: map[string]int{}} }

// Stats is a snapshot of the counters.
type Stats struct {
	Calls     map[string]int
	Total     int
	ItemsRead int
	Capacity  float64
}

// Stats returns the counters so far.
func (c *Counting) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := Stats{Calls: map[string]int{}, ItemsRead: c.read, Capacity: c.cu}
	for k, v := range c.calls {
		s.Calls[k] = v
		s.Total += v
	}
	return s
}

// Reset zeroes the counters.
func (c *Counting) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls, c.read, c.cu = map[string]int{}, 0, 0
}

func (c *Counting) add(op string, items int, cc ...types.ConsumedCapacity) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls[op]++
	c.read += items
	for _, x := range cc {
		if x.CapacityUnits != nil {
			c.cu += *x.CapacityUnits
		}
	}
}

func one(cc *types.ConsumedCapacity) []types.ConsumedCapacity {
	if cc == nil {
		return nil
	}
	return []types.ConsumedCapacity{*cc}
}

func (c *Counting) GetItem(ctx context.Context, in *dynamodb.GetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	out, err := c.API.GetItem(ctx, in, o...)
	n := 0
	if err == nil && out.Item != nil {
		n = 1
	}
	var cc []types.ConsumedCapacity
	if err == nil {
		cc = one(out.ConsumedCapacity)
	}
	c.add("GetItem", n, cc...)
	return out, err
}

func (c *Counting) PutItem(ctx context.Context, in *dynamodb.PutItemInput, o ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	out, err := c.API.PutItem(ctx, in, o...)
	var cc []types.ConsumedCapacity
	if err == nil {
		cc = one(out.ConsumedCapacity)
	}
	c.add("PutItem", 0, cc...)
	return out, err
}

func (c *Counting) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, o ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	out, err := c.API.UpdateItem(ctx, in, o...)
	var cc []types.ConsumedCapacity
	if err == nil {
		cc = one(out.ConsumedCapacity)
	}
	c.add("UpdateItem", 0, cc...)
	return out, err
}

func (c *Counting) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, o ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	out, err := c.API.DeleteItem(ctx, in, o...)
	var cc []types.ConsumedCapacity
	if err == nil {
		cc = one(out.ConsumedCapacity)
	}
	c.add("DeleteItem", 0, cc...)
	return out, err
}

func (c *Counting) Query(ctx context.Context, in *dynamodb.QueryInput, o ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	out, err := c.API.Query(ctx, in, o...)
	n := 0
	var cc []types.ConsumedCapacity
	if err == nil {
		n = len(out.Items)
		cc = one(out.ConsumedCapacity)
	}
	c.add("Query", n, cc...)
	return out, err
}

func (c *Counting) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	out, err := c.API.BatchGetItem(ctx, in, o...)
	n := 0
	var cc []types.ConsumedCapacity
	if err == nil {
		for _, items := range out.Responses {
			n += len(items)
		}
		cc = out.ConsumedCapacity
	}
	c.add("BatchGetItem", n, cc...)
	return out, err
}

func (c *Counting) BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, o ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	out, err := c.API.BatchWriteItem(ctx, in, o...)
	var cc []types.ConsumedCapacity
	if err == nil {
		cc = out.ConsumedCapacity
	}
	c.add("BatchWriteItem", 0, cc...)
	return out, err
}

func (c *Counting) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, o ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	out, err := c.API.TransactWriteItems(ctx, in, o...)
	var cc []types.ConsumedCapacity
	if err == nil {
		cc = out.ConsumedCapacity
	}
	c.add("TransactWriteItems", 0, cc...)
	return out, err
}
