// Package obs sets up structured JSON logging and counts things as CloudWatch
// metrics through the Embedded Metric Format (one JSON log line per count, no
// API call on the hot path).
package obs

import (
	"context"
	"io"
	"log/slog"
	"sort"
	"strings"
	"time"
)

// Namespace of every aftercare metric.
const Namespace = "aftercare"

// NewLogger returns a JSON logger at the given level (DEBUG, INFO, WARN, ERROR;
// anything else means INFO).
func NewLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	switch strings.ToUpper(level) {
	case "DEBUG":
		l = slog.LevelDebug
	case "WARN", "WARNING":
		l = slog.LevelWarn
	case "ERROR":
		l = slog.LevelError
	default:
		l = slog.LevelInfo
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l}))
}

// Count emits one EMF record counting n of metric, with the given dimensions
// (for example shop, kind and decision). CloudWatch turns it into a metric; the
// line stays a readable log entry.
func Count(ctx context.Context, log *slog.Logger, metric string, n int, dims map[string]string) {
	Record(ctx, log, "metric", metric, n, dims)
}

// Record is Count on a log line of its own message and fields: what a
// decision logs and what it counts go in one line (CloudWatch Logs bills
// every byte ingested). The fields are not dimensions.
func Record(ctx context.Context, log *slog.Logger, msg, metric string, n int, dims map[string]string, fields ...any) {
	keys := make([]string, 0, len(dims))
	for k := range dims {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	attrs := make([]any, 0, 2*len(keys)+4+len(fields))
	attrs = append(attrs, slog.Any("_aws", map[string]any{
		"Timestamp": time.Now().UnixMilli(),
		"CloudWatchMetrics": []map[string]any{{
			"Namespace":  Namespace,
			"Dimensions": [][]string{keys},
			"Metrics":    []map[string]string{{"Name": metric, "Unit": "Count"}},
		}},
	}))
	for _, k := range keys {
		attrs = append(attrs, slog.String(k, dims[k]))
	}
	attrs = append(attrs, slog.Int(metric, n))
	log.Log(ctx, slog.LevelInfo, msg, append(attrs, fields...)...)
}
