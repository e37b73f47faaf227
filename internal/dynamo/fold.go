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
	"sync"
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
// nothing). Readers with a stream reader fold before they read (ReportDays,
// Counters), and every hourly check run folds first, well inside the
// stream's 24 hours.

const (
	attrCarried = "rc"
	foldPK      = "FOLD"
	// foldDays bounds the day items of one fold transaction (DynamoDB
	// takes 100 actions; one is the fold mark).
	foldDays = 99
	// foldEmptyPages is how many empty pages in a row end the reading of
	// an open shard, whose newest record the stream may not show yet (the
	// next fold goes on from the mark); a closed shard is read to its end.
	foldEmptyPages = 5
	// foldEvery bounds the records read between two commits, so a long
	// backlog makes progress even when a fold is cut short by more than its
	// deadline (foldMargin covers that); each commit rewrites the day items
	// it touches, so not too often: an hour of a busy shard is one commit.
	foldEvery = 10000
	// foldMargin is the time before the invocation's deadline at which a
	// fold stops reading and commits what it has.
	foldMargin = 3 * time.Second
	// foldCacheFor is how long a process keeps the table's streams and
	// shards (DescribeStream takes 10 calls a second): a shard opened
	// meanwhile is read by the next fold after it, well inside 24 hours.
	foldCacheFor = time.Minute
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
// the mark as read, and the loser reads again from the winner's.
func (s *Store) Fold(ctx context.Context) (state.FoldStats, error) {
	var st state.FoldStats
	if s.Streams == nil {
		return st, errors.New("report counters: no stream reader configured (dynamo.Store.Streams)")
	}
	shards, err := s.shards(ctx)
	if err != nil {
		return st, err
	}
	marks, err := s.marks(ctx)
	if err != nil {
		return st, err
	}
	for _, sh := range shards {
		m := marks[sh.markSK()]
		for attempt := 0; ; attempt++ {
			err = s.foldShard(ctx, sh, m, &st)
			if !errors.Is(err, errFoldRace) || attempt == 4 {
				break
			}
			st.Races++
			if m, err = s.mark(ctx, sh); err != nil { // the winner's
				break
			}
		}
		if err != nil {
			return st, err
		}
		if stopping(ctx) {
			break // the next fold goes on from the marks
		}
	}
	return st, nil
}

// foldFirst folds before a read, when the store has a stream reader. A
// fold that fails is logged and the read goes on with the day items as the
// last fold left them: a report an hour behind beats no report, and a
// stream fault must not stop shop/redact. The hourly checks fold again.
func (s *Store) foldFirst(ctx context.Context) {
	if s.Streams == nil {
		return
	}
	if _, err := s.Fold(ctx); err != nil {
		slog.Error("report counters not folded before a read; it shows the last fold's", "error", err.Error())
	}
}

// stopping reports that the invocation's deadline is near.
func stopping(ctx context.Context) bool {
	d, ok := ctx.Deadline()
	return ctx.Err() != nil || (ok && time.Until(d) < foldMargin)
}

// shard is one shard of one of the table's streams.
type shard struct {
	arn, id string
	closed  bool // it has an ending sequence number: no record will be added
}

// markSK is a shard's mark's sort key; the stream's label (its creation
// time) keeps the shards of a stream turned off and on again apart.
func (sh shard) markSK() string {
	return "SHARD#" + sh.arn[strings.LastIndexByte(sh.arn, '/')+1:] + "#" + sh.id
}

// foldCache keeps the table's shards for foldCacheFor.
type foldCache struct {
	mu     sync.Mutex
	at     time.Time
	shards []shard
}

// shards lists the shards of the table's streams (the current one, and a
// previous one still readable after the stream was turned off and on).
func (s *Store) shards(ctx context.Context) ([]shard, error) {
	s.fold.mu.Lock()
	defer s.fold.mu.Unlock()
	if s.fold.shards != nil && time.Since(s.fold.at) < foldCacheFor {
		return s.fold.shards, nil
	}
	var arns []string
	in := &dynamodbstreams.ListStreamsInput{TableName: aws.String(s.Table)}
	for {
		res, err := s.Streams.ListStreams(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("report counters: list the table's streams: %w", err)
		}
		for _, st := range res.Streams {
			arns = append(arns, aws.ToString(st.StreamArn))
		}
		if res.LastEvaluatedStreamArn == nil {
			break
		}
		in.ExclusiveStartStreamArn = res.LastEvaluatedStreamArn
	}
	if len(arns) == 0 {
		return nil, fmt.Errorf("report counters: table %s has no stream (template.yaml: StreamSpecification)", s.Table)
	}
	var out []shard
	for _, arn := range arns {
		in := &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(arn)}
		for {
			res, err := s.Streams.DescribeStream(ctx, in)
			if err != nil {
				return nil, fmt.Errorf("report counters: describe the stream: %w", err)
			}
			d := res.StreamDescription
			if d.StreamViewType != streamtypes.StreamViewTypeNewAndOldImages {
				// Without the old image a kept rc would count again; without
				// the new one nothing would count.
				return nil, fmt.Errorf("report counters: the table's stream shows %s, the fold needs %s",
					d.StreamViewType, streamtypes.StreamViewTypeNewAndOldImages)
			}
			for _, sh := range d.Shards {
				closed := sh.SequenceNumberRange != nil && sh.SequenceNumberRange.EndingSequenceNumber != nil
				out = append(out, shard{arn: arn, id: aws.ToString(sh.ShardId), closed: closed})
			}
			if d.LastEvaluatedShardId == nil {
				break
			}
			in.ExclusiveStartShardId = d.LastEvaluatedShardId
		}
	}
	s.fold.at, s.fold.shards = time.Now(), out
	return out, nil
}

// errFoldRace: another fold moved the shard's mark first.
var errFoldRace = errors.New("another fold moved the shard's mark")

// foldMark is a shard's position: the last record whose counters are all
// in the day items (seq); a record whose days took more than one
// transaction, and how many of its days are in (part, partDays); whether
// the shard was read to its end; and the mark's own write count (n), which
// each fold's write is conditioned on.
type foldMark struct {
	seq, part string
	partDays  int
	done      bool
	n         int64
}

func markOf(it map[string]types.AttributeValue) foldMark {
	done, _ := it["done"].(*types.AttributeValueMemberBOOL)
	return foldMark{seq: getS(it, "seq"), part: getS(it, "part"), partDays: int(getN(it, "part_days")),
		done: done != nil && done.Value, n: getN(it, "n")}
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
func (s *Store) mark(ctx context.Context, sh shard) (foldMark, error) {
	out, err := s.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.Table), Key: key(foldPK, sh.markSK()), ConsistentRead: aws.Bool(true)})
	if err != nil || out.Item == nil {
		return foldMark{}, err
	}
	return markOf(out.Item), nil
}

// shardFold is one fold of one shard: the counters read since its mark's
// last write, by day item, and the record they run up to.
type shardFold struct {
	s       *Store
	sh      shard
	m       foldMark
	pending map[state.Key]report.Counters
	last    string // the last record read whose counters are all in pending (or in the day items)
	moved   bool   // read a record past the mark that is not the fold's own writing
	read    int    // records read since the last commit
	st      *state.FoldStats
}

// foldShard folds one shard from its mark.
func (s *Store) foldShard(ctx context.Context, sh shard, m foldMark, st *state.FoldStats) error {
	if m.done {
		return nil
	}
	in := &dynamodbstreams.GetShardIteratorInput{StreamArn: aws.String(sh.arn), ShardId: aws.String(sh.id), ShardIteratorType: streamtypes.ShardIteratorTypeTrimHorizon}
	if m.seq != "" {
		in.ShardIteratorType, in.SequenceNumber = streamtypes.ShardIteratorTypeAfterSequenceNumber, aws.String(m.seq)
	}
	it, err := s.Streams.GetShardIterator(ctx, in)
	var trimmed *streamtypes.TrimmedDataAccessException
	if errors.As(err, &trimmed) {
		// Nothing folded this shard for 24 hours: what the stream dropped is
		// lost to the report. Loud, and the fold goes on from what is left.
		slog.Error("report counters: stream records expired before a fold read them; the report misses their counts",
			"shard", sh.id, "mark", m.seq)
		in.ShardIteratorType, in.SequenceNumber = streamtypes.ShardIteratorTypeTrimHorizon, nil
		m.part, m.partDays = "", 0
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
	f := &shardFold{s: s, sh: sh, m: m, pending: map[state.Key]report.Counters{}, last: m.seq, st: st}
	iter, empty := it.ShardIterator, 0
	for iter != nil && !stopping(ctx) {
		res, err := s.Streams.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: iter})
		if err != nil {
			return fmt.Errorf("report counters: read the stream: %w", err)
		}
		st.Reads++
		for _, r := range res.Records {
			if err := f.add(ctx, r); err != nil {
				return err
			}
		}
		iter = res.NextShardIterator
		if len(res.Records) > 0 {
			empty = 0
		} else if empty++; !sh.closed && empty == foldEmptyPages {
			break // an open shard, read up to the newest record it shows
		}
	}
	return f.commit(ctx, iter == nil)
}

// add takes one record's counters into the fold, committing first when
// they would not fit one transaction with what is pending.
func (f *shardFold) add(ctx context.Context, r streamtypes.Record) error {
	f.st.Records++
	seq := aws.ToString(r.Dynamodb.SequenceNumber)
	if own(r) {
		f.last = seq // nothing to add: the fold's own writing
		return nil
	}
	shops, err := countedBy(r)
	if err != nil {
		// A carried value this code cannot read is not worth losing the
		// rest of the report over; it is logged.
		slog.Error("report counters: unreadable carried counters skipped", "shard", f.sh.id, "sequence", seq, "error", err.Error())
		shops = nil
	}
	adds := flatten(shops)
	if len(adds) > 0 {
		f.st.Counted++
	}
	done := 0 // the days of this record a cut-short fold added already
	if f.m.part == seq {
		done = min(f.m.partDays, len(adds))
		adds = adds[done:]
	}
	if f.fits(adds) {
		f.take(adds)
	} else {
		// Commit what is pending up to the record before, then this
		// record's days a transaction at a time, each with the mark of
		// how many of them are in.
		if err := f.commit(ctx, false); err != nil {
			return err
		}
		for len(adds) > foldDays {
			f.take(adds[:foldDays])
			adds, done = adds[foldDays:], done+foldDays
			if err := f.write(ctx, f.last, seq, done, false); err != nil {
				return err
			}
		}
		f.take(adds)
	}
	f.last, f.moved = seq, true
	if f.read++; f.read >= foldEvery {
		return f.commit(ctx, false)
	}
	return nil
}

// fits reports whether adds fit one transaction with what is pending.
func (f *shardFold) fits(adds []state.Add) bool {
	n := len(f.pending)
	for _, a := range adds {
		if f.pending[a.Key] == nil {
			n++
		}
	}
	return n <= foldDays
}

func (f *shardFold) take(adds []state.Add) {
	for _, a := range adds {
		c := f.pending[a.Key]
		if c == nil {
			c = report.Counters{}
			f.pending[a.Key] = c
		}
		for name, v := range a.Counters {
			c[name] += v
		}
	}
}

// commit writes what is pending with the mark at the last record read
// (done: the shard was read to its end). A fold that read only its own
// writing writes nothing, unless it finishes the shard.
func (f *shardFold) commit(ctx context.Context, done bool) error {
	if !f.moved && len(f.pending) == 0 && !(done && f.last != "") {
		return nil
	}
	if err := f.write(ctx, f.last, "", 0, done); err != nil {
		return err
	}
	f.moved, f.read = false, 0
	return nil
}

// write adds what is pending to the day items and moves the shard's mark,
// in one transaction conditioned on the mark as read.
func (f *shardFold) write(ctx context.Context, seq, part string, partDays int, done bool) error {
	s := f.s
	next := foldMark{seq: seq, part: part, partDays: partDays, done: done, n: f.m.n + 1}
	item := map[string]types.AttributeValue{
		attrPK: str(foldPK), attrSK: str(f.sh.markSK()), attrKind: str("fold"),
		"done": &types.AttributeValueMemberBOOL{Value: done}, "n": num(next.n), attrExpires: num(s.now().Add(foldMarkTTL).Unix()),
	}
	if seq != "" {
		item["seq"] = str(seq)
	}
	if part != "" {
		item["part"], item["part_days"] = str(part), num(int64(partDays))
	}
	put := &types.Put{TableName: aws.String(s.Table), Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)")}
	if f.m.n > 0 {
		put.ConditionExpression = aws.String("n = :n")
		put.ExpressionAttributeValues = map[string]types.AttributeValue{":n": num(f.m.n)}
	}
	tx := []types.TransactWriteItem{{Put: put}}
	keys := make([]state.Key, 0, len(f.pending))
	for k := range f.pending {
		keys = append(keys, k)
	}
	state.SortKeys(keys)
	for _, k := range keys {
		u, err := s.counterUpdate(state.Add{Key: k, Counters: f.pending[k]})
		if err != nil {
			return err
		}
		tx = append(tx, types.TransactWriteItem{Update: u})
	}
	_, err := s.writeItems(ctx, tx)
	if raced(err) {
		return errFoldRace
	}
	if err != nil {
		return fmt.Errorf("report counters: fold: %w", err)
	}
	f.st.Writes++
	f.m, f.pending = next, map[state.Key]report.Counters{}
	return nil
}

// flatten is a record's counters as day-item adds, in key order (a record
// folded in parts is cut at the same place every time).
func flatten(shops map[string]report.Adds) []state.Add {
	var out []state.Add
	for shop, adds := range shops {
		for day, c := range adds {
			if len(c) > 0 {
				out = append(out, state.Add{Key: state.DayKey(shop, day), Counters: c})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key.Less(out[j].Key) })
	return out
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
