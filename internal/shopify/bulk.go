package shopify

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/aftercare/aftercare/internal/aftercare"
)

// MaxBulkLine bounds one line of a bulk operation's JSONL. An order line
// holds the order with its fulfillments (line items come as their own
// lines), so a few hundred KiB is already generous.
const MaxBulkLine = 4 << 20

// BulkLine is one classified line of a bulk operation's JSONL.
type BulkLine struct {
	Order    *AdminOrder    // an Order line (no __parentId)
	LineItem *AdminLineItem // a LineItem line
	ParentID string         // the order a line item belongs to (a global id)
}

// ParseBulkLine reads one JSONL line: an Order, or one of its line items
// (a LineItem with __parentId). Anything else is an EINVALID error naming
// what is wrong; it never panics, whatever the bytes.
func ParseBulkLine(line []byte) (BulkLine, error) {
	var head struct {
		ID       string `json:"id"`
		ParentID string `json:"__parentId"`
	}
	if err := json.Unmarshal(line, &head); err != nil {
		return BulkLine{}, aftercare.Wrap(aftercare.EINVALID, err, "not a JSON object: %s", clip(err.Error()))
	}
	switch t := gidType(head.ID); {
	case head.ParentID == "" && t == "Order":
		var o AdminOrder
		if err := json.Unmarshal(line, &o); err != nil {
			return BulkLine{}, aftercare.Wrap(aftercare.EINVALID, err, "order %s: %s", clip(head.ID), clip(err.Error()))
		}
		return BulkLine{Order: &o}, nil
	case head.ParentID != "" && t == "LineItem":
		var li AdminLineItem
		if err := json.Unmarshal(line, &li); err != nil {
			return BulkLine{}, aftercare.Wrap(aftercare.EINVALID, err, "line item %s: %s", clip(head.ID), clip(err.Error()))
		}
		return BulkLine{LineItem: &li, ParentID: head.ParentID}, nil
	case head.ID == "":
		return BulkLine{}, aftercare.Errorf(aftercare.EINVALID, "line has no id")
	default:
		return BulkLine{}, aftercare.Errorf(aftercare.EINVALID, "%s is neither an order nor an order's line item", clip(head.ID))
	}
}

// BulkOrder is one order read from the JSONL, as a normalized event, with
// where the next order starts (a resume point) and how many lines it took.
type BulkOrder struct {
	Event  aftercare.Event
	Next   int64 // byte offset just past this order's last line
	Lines  int
	Issues []string // lines skipped inside this order
}

// BulkReader streams a bulk operation's JSONL order by order: it holds one
// order and its line items at a time, so a 1 GB file reads in bounded memory.
type BulkReader struct {
	Shop    string
	Topic   string // TopicBackfill unless set
	History bool
	Now     func() time.Time

	r       *bufio.Reader
	offset  int64 // bytes consumed
	cur     *AdminOrder
	curLine int
	issues  []string
	done    bool
	// Skipped counts lines that were not usable (bad JSON, orphan line items).
	Skipped int
}

// NewBulkReader reads from r, whose first byte is at offset base of the file
// (non-zero when resuming).
func NewBulkReader(r io.Reader, base int64, shop string, now func() time.Time) *BulkReader {
	return &BulkReader{Shop: shop, Topic: TopicBackfill, History: true, Now: now, r: bufio.NewReaderSize(r, 64<<10), offset: base}
}

// errLong marks a line over MaxBulkLine (it is skipped, not read into memory).
var errLong = errors.New("line too long")

// readLine returns the next line without its newline, skipping past lines
// longer than MaxBulkLine without holding them.
func (b *BulkReader) readLine() ([]byte, error) {
	var buf []byte
	for {
		chunk, err := b.r.ReadSlice('\n')
		b.offset += int64(len(chunk))
		if len(buf)+len(chunk) <= MaxBulkLine {
			buf = append(buf, chunk...)
		} else {
			// Drain the rest of the line without keeping it.
			for errors.Is(err, bufio.ErrBufferFull) {
				chunk, err = b.r.ReadSlice('\n')
				b.offset += int64(len(chunk))
			}
			if err != nil && !errors.Is(err, io.EOF) {
				return nil, err
			}
			return nil, errLong
		}
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case err == nil:
			return bytes.TrimRight(buf, "\r\n"), nil
		case errors.Is(err, io.EOF) && len(buf) > 0:
			return bytes.TrimRight(buf, "\r\n"), nil
		default:
			return nil, err
		}
	}
}

// Next returns the next order, or io.EOF after the last. A line that cannot
// be used is skipped and noted on the order it was found in, never fatal:
// one bad line must not stop an import of a million orders.
func (b *BulkReader) Next() (BulkOrder, error) {
	for !b.done {
		start := b.offset
		line, err := b.readLine()
		switch {
		case errors.Is(err, io.EOF):
			b.done = true
			continue
		case errors.Is(err, errLong):
			b.skip(fmt.Sprintf("line at byte %d is over %d bytes", start, MaxBulkLine))
			continue
		case err != nil:
			return BulkOrder{}, err
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		l, err := ParseBulkLine(line)
		if err != nil {
			b.skip(fmt.Sprintf("line at byte %d: %s", start, aftercare.ErrorMessage(err)))
			continue
		}
		if l.LineItem != nil {
			if b.cur == nil || l.ParentID != b.cur.ID {
				b.skip(fmt.Sprintf("line item at byte %d does not follow its order %s", start, clip(l.ParentID)))
				continue
			}
			b.cur.AddLineItem(*l.LineItem)
			b.curLine++
			continue
		}
		prev, prevLines, prevIssues := b.cur, b.curLine, b.issues
		b.cur, b.curLine, b.issues = l.Order, 1, nil
		if prev != nil {
			// The new order's line starts where the previous order ended.
			return b.emit(prev, prevLines, prevIssues, start)
		}
	}
	if b.cur != nil {
		prev, lines, issues := b.cur, b.curLine, b.issues
		b.cur, b.issues = nil, nil
		return b.emit(prev, lines, issues, b.offset)
	}
	return BulkOrder{}, io.EOF
}

func (b *BulkReader) skip(why string) {
	b.Skipped++
	if len(b.issues) < 20 {
		b.issues = append(b.issues, why)
	}
}

func (b *BulkReader) emit(o *AdminOrder, lines int, issues []string, next int64) (BulkOrder, error) {
	ev, err := o.Event(b.Shop, b.Topic, b.History, b.Now())
	out := BulkOrder{Event: ev, Next: next, Lines: lines, Issues: issues}
	if err != nil {
		b.Skipped += lines
		out.Issues = append(out.Issues, fmt.Sprintf("order %s: %s", clip(o.ID), aftercare.ErrorMessage(err)))
		out.Event.Kind = "" // nothing to send; the caller counts it
		return out, nil
	}
	return out, nil
}
