// Package motoapi reads what the local moto server recorded as sent: raw SES
// emails and SNS SMS, from its /moto-api/data.json. It is for the local stack
// and tests (make outbox); nothing deployed uses it.
package motoapi

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// Email is one email SES accepted.
type Email struct {
	ID           string   `json:"id"`
	Source       string   `json:"source"`
	Destinations []string `json:"destinations"`
	Raw          []byte   `json:"-"` // the raw MIME
}

// SMS is one text SNS accepted.
type SMS struct {
	ID      string `json:"message_id"`
	Phone   string `json:"phone_number"`
	Message string `json:"message"`
}

// Outbox is everything sent so far, oldest first.
type Outbox struct {
	Emails []Email
	SMS    []SMS
}

// Read fetches the outbox from a moto server (e.g. http://127.0.0.1:9324).
func Read(ctx context.Context, endpoint string) (*Outbox, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(endpoint, "/")+"/moto-api/data.json", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("moto-api answered %d", resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return nil, err
	}
	var d struct {
		SES struct {
			RawMessage []struct {
				Email
				RawData string `json:"raw_data"`
			}
		} `json:"ses"`
		SNS struct {
			SMS []SMS
		} `json:"sns"`
	}
	if err := json.Unmarshal(body, &d); err != nil {
		return nil, fmt.Errorf("moto-api data: %w", err)
	}
	out := &Outbox{SMS: d.SNS.SMS}
	for _, m := range d.SES.RawMessage {
		e := m.Email
		// moto keeps the raw message base64-encoded.
		if e.Raw, err = base64.StdEncoding.DecodeString(m.RawData); err != nil {
			e.Raw = []byte(m.RawData)
		}
		out.Emails = append(out.Emails, e)
	}
	return out, nil
}
