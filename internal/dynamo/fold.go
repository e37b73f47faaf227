package dynamo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"github.com/aftercare/aftercare/internal/report"
	"github.com/aftercare/aftercare/internal/state"
)

// The report's day counters are not written with the writes that cause
// them. A write that moves counters carries them on one item it writes
// anyway (the dedupe record, the first entity, the ledger entry or the
// customer), in the attribute rc with a write id of its own; Fold reads the
// table's stream and adds what each write carried to the shop's day items,
// exactly once: a shard's position (its fold mark) moves on in the same
// transaction as the counters it read. So an event's transaction no longer
// holds a day item (2 write units each, and a dispatch decision goes alone),
// and a day item is written once per fold and day, not once per event.
//
// Sums commute, so the order in which shards are folded does not matter;
// a record counts only when its new image carries a write id its old image
// did not (an update that leaves rc alone, a delete and a TTL expiry count
// nothing). Readers fold before they read (ReportDays, Counters), and the
// scheduled checks fold every few hours, well inside the stream's 24 hours.

const (
	attrCarried = "rc"
	foldPK      = "FOLD"
	// foldDays bounds the day items of one fold transaction (DynamoDB
	// takes 100 actions; one is the fold mark).
	foldDays = 99
	// foldEmptyPages is how many empty pages in a row end the reading of
	// an open shard: the stream can answer empty before its newest records
	// (the next fold goes on from the mark).
	foldEmptyPages = 5
	// foldMarkTTL keeps a shard's mark past the stream's 24 hours.
	foldMarkTTL = 48 * time.Hour
)

// Streams is the part of the DynamoDB Streams API the fold uses.
type Streams interface {
	ListStreams(context.Context, *dynamodbstreams.ListStreamsInput, ...func(*dynamodbstreams.Options)) (*dynamodbstreams.ListStreamsOutput, error)
	DescribeStream(context.Context, *dynamodbstreams.DescribeStreamInput, ...func(*dynamodbstreams.Options)) (*dynamodbstreams.DescribeStreamOutput, error)
	GetShardIterator(context.Context, *dynamodbstreams.GetShardIteratorInput, ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetShardIteratorOutput, error)
	GetRecords(context.Context, *dynamodbstreams.GetRecordsInput, ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetRecordsOutput, error)
}

// carried is what one write adds to the report: by shop, by day.
type carried struct {
	W string                 `json:"w"` // the write's id: an update that keeps rc counts nothing again
	A map[string]report.Adds `json:"a"`
}

// carry encodes adds as the rc attribute of the item that takes them, or
// returns "" when they add nothing.
func carry(adds []state.Add) (string, error) {
	c := carried{A: map[string]report.Adds{}}
	for _, a := range state.MergeAdds(adds) {
		if a.Key.Kind != state.ItemCounters {
			return "", fmt.Errorf("counters can only be added to a %s item, not %s", state.ItemCounters, a.Key.Kind)
		}
		if len(a.Counters) == 0 {
			continue
		}
		if c.A[a.Key.Shop] == nil {
			c.A[a.Key.Shop] = report.Adds{}
		}
		c.A[a.Key.Shop].Merge(report.Adds{a.Key.ID: a.Counters})
	}
	if len(c.A) == 0 {
		return "", nil
	}
	id := make([]byte, 12)
	if _, err := rand.Read(id); err != nil {
		return "", err
	}
	c.W = hex.EncodeToString(id)
	b, err := json.Marshal(c)
	return string(b), err
}

// Fold adds the counters carried by every write since the last fold to the
// day items. Concurrent folds are safe: each shard's mark is conditioned on
// the position it read from, and the loser reads again from the winner's.
func (s *Store) Fold(ctx context.Context) (state.FoldStats, error) {
	var st state.FoldStats
	if s.Streams == nil {
		return st, errors.New("report counters: no stream reader configured (dynamo.Store.Streams)")
	}
	streams, err := s.streams(ctx)
	if err != nil {
		return st, err
	}
	marks, err := s.marks(ctx)
	if err != nil {
		return st, err
	}
	for _, arn := range streams {
		shards, err := s.shards(ctx, arn)
		if err != nil {
			return st, err
		}
		for _, shard := range shards {
			m := marks[markSK(arn, shard)]
			for attempt := 0; ; attempt++ {
				err = s.foldShard(ctx, arn, shard, m, &st)
				if !errors.Is(err, errFoldRace) || attempt == 4 {
					break
				}
				if m, err = s.mark(ctx, arn, shard); err != nil { // the winner's
					break
				}
			}
			if err != nil {
				return st, err
			}
		}
	}
	return st, nil
}

// streams lists the table's streams: the current one, and a previous one
// still readable after the stream was turned off and on.
func (s *Store) streams(ctx context.Context) ([]string, error) {
	var out []string
	in := &dynamodbstreams.ListStreamsInput{TableName: aws.String(s.Table)}
	for {
		res, err := s.Streams.ListStreams(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("report counters: list the table's streams: %w", err)
		}
		for _, st := range res.Streams {
			out = append(out, aws.ToString(st.StreamArn))
		}
		if res.LastEvaluatedStreamArn == nil {
			break
		}
		in.ExclusiveStartStreamArn = res.LastEvaluatedStreamArn
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("report counters: table %s has no stream (template.yaml: StreamSpecification)", s.Table)
	}
	return out, nil
}

func (s *Store) shards(ctx context.Context, arn string) ([]string, error) {
	var out []string
	in := &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(arn)}
	for {
		res, err := s.Streams.DescribeStream(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("report counters: describe the stream: %w", err)
		}
		for _, sh := range res.StreamDescription.Shards {
			out = append(out, aws.ToString(sh.ShardId))
		}
		if res.StreamDescription.LastEvaluatedShardId == nil {
			break
		}
		in.ExclusiveStartShardId = res.StreamDescription.LastEvaluatedShardId
	}
	return out, nil
}

// errFoldRace: another fold moved the shard's mark first.
var errFoldRace = errors.New("another fold moved the shard's mark")

// foldMark is a shard's position: the last record folded, and whether the
// shard was read to its end.
type foldMark struct {
	seq    string
	done   bool
	exists bool
}

// markSK is a shard's mark's sort key; the stream's label (its creation
// time) keeps the shards of a stream turned off and on again apart.
func markSK(arn, shard string) string {
	return "SHARD#" + arn[strings.LastIndexByte(arn, '/')+1:] + "#" + shard
}

func markOf(it map[string]types.AttributeValue) foldMark {
	done, _ := it["done"].(*types.AttributeValueMemberBOOL)
	return foldMark{seq: getS(it, "seq"), done: done != nil && done.Value, exists: true}
}

// marks reads every shard's mark in one Query (they live 48 hours).
func (s *Store) marks(ctx context.Context) (map[string]foldMark, error) {
	out := map[string]foldMark{}
	err := s.query(ctx, &dynamodb.QueryInput{
		TableName: aws.String(s.Table), KeyConditionExpression: aws.String("pk = :pk"), ConsistentRead: aws.Bool(true),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(foldPK)},
	}, func(it map[string]types.AttributeValue) error {
		out[getS(it, attrSK)] = markOf(it)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("report counters: read the fold's marks: %w", err)
	}
	return out, nil
}

// mark reads one shard's mark again, after another fold moved it.
func (s *Store) mark(ctx context.Context, arn, shard string) (foldMark, error) {
	out, err := s.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.Table), Key: key(foldPK, markSK(arn, shard)), ConsistentRead: aws.Bool(true)})
	if err != nil || out.Item == nil {
		return foldMark{}, err
	}
	return markOf(out.Item), nil
}

// foldShard folds one shard from its mark.
func (s *Store) foldShard(ctx context.Context, arn, shard string, m foldMark, st *state.FoldStats) error {
	if m.done {
		return nil
	}
	in := &dynamodbstreams.GetShardIteratorInput{StreamArn: aws.String(arn), ShardId: aws.String(shard), ShardIteratorType: streamtypes.ShardIteratorTypeTrimHorizon}
	if m.seq != "" {
		in.ShardIteratorType, in.SequenceNumber = streamtypes.ShardIteratorTypeAfterSequenceNumber, aws.String(m.seq)
	}
	it, err := s.Streams.GetShardIterator(ctx, in)
	var trimmed *streamtypes.TrimmedDataAccessException
	if errors.As(err, &trimmed) {
		// Nothing folded this shard for 24 hours: what the stream dropped is
		// lost to the report. Loud, and the fold goes on from what is left.
		slog.Error("report counters: stream records expired before a fold read them; the report misses their counts",
			"shard", shard, "mark", m.seq)
		in.ShardIteratorType, in.SequenceNumber = streamtypes.ShardIteratorTypeTrimHorizon, nil
		it, err = s.Streams.GetShardIterator(ctx, in)
	}
	var notFound *streamtypes.ResourceNotFoundException
	if errors.As(err, &notFound) {
		return nil // the shard aged out of the stream between describe and read
	}
	if err != nil {
		return fmt.Errorf("report counters: shard iterator: %w", err)
	}
	st.Shards++
	pending := map[state.Key]report.Counters{}
	var last string
	foreign := false // read a record that is not the fold's own writing
	flush := func(done bool) error {
		if last == "" || (!foreign && len(pending) == 0 && !done) {
			return nil
		}
		if err := s.commitFold(ctx, arn, shard, &m, last, done, pending); err != nil {
			return err
		}
		st.Writes++
		pending, foreign = map[state.Key]report.Counters{}, false
		return nil
	}
	iter, empty := it.ShardIterator, 0
	for iter != nil {
		res, err := s.Streams.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: iter})
		if errors.As(err, &trimmed) {
			return fmt.Errorf("report counters: the stream dropped records while they were read: %w", err)
		}
		if err != nil {
			return fmt.Errorf("report counters: read the stream: %w", err)
		}
		for _, r := range res.Records {
			st.Records++
			last = aws.ToString(r.Dynamodb.SequenceNumber)
			if own(r) {
				continue
			}
			foreign = true
			shops, err := countedBy(r)
			if err != nil {
				// A carried value this code cannot read is not worth losing
				// the rest of the report over; it is counted and logged.
				slog.Error("report counters: unreadable carried counters skipped", "shard", shard, "sequence", last, "error", err.Error())
				continue
			}
			if len(shops) > 0 {
				st.Counted++
			}
			for shop, adds := range shops {
				for day, c := range adds {
					k := state.DayKey(shop, day)
					if pending[k] == nil {
						if len(pending) == foldDays {
							if err := flush(false); err != nil {
								return err
							}
						}
						pending[k] = report.Counters{}
					}
					for name, v := range c {
						pending[k][name] += v
					}
				}
			}
		}
		iter = res.NextShardIterator
		if len(res.Records) == 0 {
			if empty++; empty == foldEmptyPages {
				break // an open shard, read up to its newest record
			}
		} else {
			empty = 0
		}
	}
	return flush(iter == nil)
}

// own reports whether a record is the fold's own writing (a day item or a
// fold mark), which carries nothing.
func own(r streamtypes.Record) bool {
	k := r.Dynamodb.Keys
	pk, _ := k[attrPK].(*streamtypes.AttributeValueMemberS)
	sk, _ := k[attrSK].(*streamtypes.AttributeValueMemberS)
	return (pk != nil && pk.Value == foldPK) || (sk != nil && strings.HasPrefix(sk.Value, daySKPrefix))
}

// countedBy is what one stream record adds: the counters its new image
// carries under a write id its old image does not.
func countedBy(r streamtypes.Record) (map[string]report.Adds, error) {
	if r.EventName == streamtypes.OperationTypeRemove {
		return nil, nil
	}
	now, _ := r.Dynamodb.NewImage[attrCarried].(*streamtypes.AttributeValueMemberS)
	if now == nil {
		return nil, nil
	}
	if was, _ := r.Dynamodb.OldImage[attrCarried].(*streamtypes.AttributeValueMemberS); was != nil && was.Value == now.Value {
		return nil, nil
	}
	var c carried
	if err := json.Unmarshal([]byte(now.Value), &c); err != nil {
		return nil, err
	}
	return c.A, nil
}

// commitFold adds pending to the day items and moves the shard's mark to
// last, in one transaction conditioned on the mark as read.
func (s *Store) commitFold(ctx context.Context, arn, shard string, m *foldMark, last string, done bool, pending map[state.Key]report.Counters) error {
	item := map[string]types.AttributeValue{
		attrPK: str(foldPK), attrSK: str(markSK(arn, shard)), attrKind: str("fold"), "seq": str(last),
		"done": &types.AttributeValueMemberBOOL{Value: done}, attrExpires: num(s.now().Add(foldMarkTTL).Unix()),
	}
	put := &types.Put{TableName: aws.String(s.Table), Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)")}
	if m.exists {
		put.ConditionExpression = aws.String("seq = :seq")
		put.ExpressionAttributeValues = map[string]types.AttributeValue{":seq": str(m.seq)}
	}
	tx := []types.TransactWriteItem{{Put: put}}
	keys := make([]state.Key, 0, len(pending))
	for k := range pending {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].Shop+keys[i].ID < keys[j].Shop+keys[j].ID })
	for _, k := range keys {
		u, err := s.counterUpdate(state.Add{Key: k, Counters: pending[k]})
		if err != nil {
			return err
		}
		tx = append(tx, types.TransactWriteItem{Update: u})
	}
	var err error
	if len(tx) == 1 {
		_, err = s.writeOne(ctx, tx[0])
	} else {
		_, err = s.DB.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: tx, ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal})
	}
	if raced(err) {
		return errFoldRace
	}
	if err != nil {
		return fmt.Errorf("report counters: fold: %w", err)
	}
	*m = foldMark{seq: last, done: done, exists: true}
	return nil
}

// raced reports a fold's write refused because another fold got there
// first: its mark moved, or its transaction met ours on a day item.
func raced(err error) bool {
	var cc *types.ConditionalCheckFailedException
	if errors.As(err, &cc) {
		return true
	}
	var tc *types.TransactionCanceledException
	if !errors.As(err, &tc) {
		return false
	}
	for _, r := range tc.CancellationReasons {
		if c := aws.ToString(r.Code); c == "ConditionalCheckFailed" || c == "TransactionConflict" {
			return true
		}
	}
	return false
}
