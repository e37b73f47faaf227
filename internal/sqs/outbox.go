package sqs

import (
	"context"
	"encoding/json"
	"time"

	"github.com/aftercare/aftercare/internal/aftercare"
)

// Outbox sends what the state engine produced: messages to the outbound queue
// and internal events to the inbox.
type Outbox struct {
	Messages *Queue
	Events   *Queue
}

// SendMessages queues messages for DispatchFunction.
func (o *Outbox) SendMessages(ctx context.Context, msgs []aftercare.Message, now time.Time) error {
	return o.Messages.SendMessages(ctx, msgs, now)
}

// SendEvents queues internal events on the inbox, batched.
func (o *Outbox) SendEvents(ctx context.Context, evs []aftercare.Event) error {
	entries := make([]Entry, 0, len(evs))
	for i := range evs {
		b, err := json.Marshal(&evs[i])
		if err != nil {
			return err
		}
		entries = append(entries, Entry{ID: evs[i].ID, Body: b})
	}
	if len(entries) == 1 {
		return o.Events.Send(ctx, entries[0].ID, entries[0].Body)
	}
	return o.Events.SendBatch(ctx, entries)
}
