package obs

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
)

func TestCountIsEMF(t *testing.T) {
	var buf bytes.Buffer
	Count(context.Background(), NewLogger(&buf, "INFO"), "Messages", 2, map[string]string{"Shop": "s.myshopify.com", "Kind": "win_back"})
	var rec struct {
		AWS struct {
			CloudWatchMetrics []struct {
				Namespace  string
				Dimensions [][]string
				Metrics    []struct{ Name, Unit string }
			}
		} `json:"_aws"`
		Shop, Kind string
		Messages   int
	}
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatalf("not one JSON line: %v: %s", err, buf.String())
	}
	m := rec.AWS.CloudWatchMetrics
	if len(m) != 1 || m[0].Namespace != Namespace || len(m[0].Dimensions) != 1 || len(m[0].Dimensions[0]) != 2 ||
		m[0].Metrics[0].Name != "Messages" || rec.Messages != 2 || rec.Shop != "s.myshopify.com" || rec.Kind != "win_back" {
		t.Fatalf("bad EMF record: %s", buf.String())
	}
}

// A decision's line is its metric record: the EMF fields plus its own.
func TestRecordIsOneLine(t *testing.T) {
	var buf bytes.Buffer
	Record(context.Background(), NewLogger(&buf, "INFO"), "message", "Messages", 1, map[string]string{"Decision": "sent"}, "message_id", "m-1")
	var rec struct {
		Msg       string
		AWS       map[string]any `json:"_aws"`
		Decision  string
		MessageID string `json:"message_id"`
		Messages  int
	}
	if bytes.Count(buf.Bytes(), []byte("\n")) != 1 || json.Unmarshal(buf.Bytes(), &rec) != nil {
		t.Fatalf("not one JSON line: %s", buf.String())
	}
	if rec.Msg != "message" || rec.AWS["CloudWatchMetrics"] == nil || rec.Decision != "sent" || rec.MessageID != "m-1" || rec.Messages != 1 {
		t.Fatalf("bad record: %s", buf.String())
	}
}

func TestLevel(t *testing.T) {
	var buf bytes.Buffer
	log := NewLogger(&buf, "warn")
	log.Info("hidden")
	log.Warn("shown")
	if bytes.Contains(buf.Bytes(), []byte("hidden")) || !bytes.Contains(buf.Bytes(), []byte("shown")) {
		t.Fatalf("level not applied: %s", buf.String())
	}
}
