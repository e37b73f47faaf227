// Package backfill imports a shop's history: it streams the JSONL of a
// Shopify bulk operation (infra/shopify/backfill.graphql), turns each order
// into the normalized event a webhook would give, marked History so nothing
// is sent about the past, and queues the events on the inbox ten to a
// SendMessageBatch. Event ids are stable, so an import run twice changes
// nothing; a progress file next to the input lets a crashed import resume.
package backfill

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/aftercare/aftercare/internal/shopify"
	"github.com/aftercare/aftercare/internal/sqs"
)

// Sender queues events; *sqs.Queue is one.
type Sender interface {
	SendBatch(ctx context.Context, entries []sqs.Entry) error
}

// BatchSize is how many events go out per SendMessageBatch.
const BatchSize = 10

// maxBody keeps a message under SQS's 256 KiB limit with room to spare.
const maxBody = 240 << 10

// Options says what to import and where to report.
type Options struct {
	Shop     string
	File     string
	Progress string           // resume file; default File + ".progress"
	Now      func() time.Time // stamps Received on the events
	Out      io.Writer        // progress lines (stderr); nil: none
	Every    time.Duration    // how often a progress line is printed (2 s)
	Log      *slog.Logger     // skipped lines; never personal data
	// Clock times the progress lines only (orders/s); default time.Now.
	Clock func() time.Time
}

// Result counts what an import did.
type Result struct {
	Orders  int   // orders read, this run
	Sent    int   // events queued, this run
	Skipped int   // lines or orders that could not be used
	Batches int   // SendMessageBatch calls asked for
	Resumed int64 // byte offset the run started at (0: from the start)
	Size    int64
}

// progress is the resume file: where the next unsent order starts.
type progress struct {
	Shop   string `json:"shop"`
	Size   int64  `json:"size"`
	Offset int64  `json:"offset"`
	Orders int    `json:"orders"`
	Sent   int    `json:"sent"`
}

// Import runs the import, resuming from the progress file when it belongs
// to this shop and file. It removes the progress file when done, so a second
// run imports everything again (and the processor's dedupe makes that a
// no-op).
func Import(ctx context.Context, q Sender, o Options) (Result, error) {
	if o.Progress == "" {
		o.Progress = o.File + ".progress"
	}
	if o.Every == 0 {
		o.Every = 2 * time.Second
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	f, err := os.Open(o.File)
	if err != nil {
		return Result{}, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return Result{}, err
	}
	res := Result{Size: info.Size()}
	p := progress{Shop: o.Shop, Size: info.Size()}
	if prev, ok := readProgress(o.Progress); ok && prev.Shop == o.Shop && prev.Size == info.Size() && prev.Offset <= info.Size() {
		p = prev
		res.Resumed = p.Offset
		if _, err := f.Seek(p.Offset, io.SeekStart); err != nil {
			return res, err
		}
	}
	r := shopify.NewBulkReader(f, p.Offset, o.Shop, o.Now)
	start, lastPrint := o.Clock(), o.Clock()
	batch := make([]sqs.Entry, 0, BatchSize)
	var pendingOffset int64 = p.Offset
	tooBig := 0
	pendingOrders := 0
	flush := func() error {
		if len(batch) > 0 {
			if err := q.SendBatch(ctx, batch); err != nil {
				return fmt.Errorf("queue events (the import resumes at byte %d): %w", p.Offset, err)
			}
			res.Batches++
			res.Sent += len(batch)
			p.Sent += len(batch)
			batch = batch[:0]
		}
		p.Offset, p.Orders = pendingOffset, p.Orders+pendingOrders
		pendingOrders = 0
		return writeProgress(o.Progress, p)
	}
	report := func(final bool) {
		if o.Out == nil {
			return
		}
		el := o.Clock().Sub(start).Seconds()
		rate := 0.0
		if el > 0 {
			rate = float64(res.Orders) / el
		}
		pct := 100.0
		if res.Size > 0 {
			pct = 100 * float64(pendingOffset) / float64(res.Size)
		}
		state := "importing"
		if final {
			state = "done"
		}
		fmt.Fprintf(o.Out, "backfill %s: %s %d orders (%d queued, %d skipped), %.1f/%.1f MB (%.0f%%), %.0f orders/s\n",
			o.Shop, state, p.Orders+pendingOrders, p.Sent+len(batch), tooBig+r.Skipped, float64(pendingOffset)/1e6, float64(res.Size)/1e6, pct, rate)
	}
	for {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		bo, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return res, err
		}
		res.Orders++
		pendingOrders++
		pendingOffset = bo.Next
		for _, why := range bo.Issues {
			o.Log.Warn("backfill skipped a line", slog.String("shop", o.Shop), slog.String("why", why))
		}
		if bo.Event.Kind != "" {
			if err := bo.Event.Bound(); err != nil {
				o.Log.Warn("backfill skipped an order it cannot store", slog.String("shop", o.Shop), slog.String("why", err.Error()))
				tooBig++
				continue
			}
			body, err := json.Marshal(&bo.Event)
			if err != nil {
				return res, err
			}
			if len(body) > maxBody {
				o.Log.Warn("backfill skipped an order too big for the queue", slog.String("shop", o.Shop), slog.String("order_id", bo.Event.Order.ID), slog.Int("bytes", len(body)))
				tooBig++
			} else {
				batch = append(batch, sqs.Entry{ID: bo.Event.ID, Body: body})
			}
		}
		if len(batch) == BatchSize {
			if err := flush(); err != nil {
				return res, err
			}
		}
		if o.Clock().Sub(lastPrint) >= o.Every {
			lastPrint = o.Clock()
			report(false)
		}
	}
	res.Skipped = tooBig + r.Skipped
	if err := flush(); err != nil {
		return res, err
	}
	report(true)
	if err := os.Remove(o.Progress); err != nil && !errors.Is(err, os.ErrNotExist) {
		return res, err
	}
	return res, nil
}

func readProgress(path string) (progress, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return progress{}, false
	}
	var p progress
	return p, json.Unmarshal(b, &p) == nil
}

// writeProgress replaces the file atomically, so a crash leaves the old or
// the new point, never half of one.
func writeProgress(path string, p progress) error {
	b, err := json.Marshal(p)
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
