package devstack

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Schedule is one Schedule or ScheduleV2 event of a function.
type Schedule struct {
	Function   string
	Event      string
	Type       string // Schedule (EventBridge rule) or ScheduleV2 (EventBridge Scheduler)
	Expression string
	Input      string        // empty: the service's default payload
	Every      time.Duration // zero when the expression is not a rate()
}

var rateExpr = regexp.MustCompile(`^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$`)

// ParseRate parses rate(N minute|minutes|hour|hours|day|days).
func ParseRate(expr string) (time.Duration, error) {
	m := rateExpr.FindStringSubmatch(strings.TrimSpace(expr))
	if m == nil {
		return 0, fmt.Errorf("%q is not rate(N minute[s]|hour[s]|day[s])", expr)
	}
	n, err := strconv.Atoi(m[1])
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%q: the value must be a positive whole number", expr)
	}
	unit := map[string]time.Duration{"minute": time.Minute, "hour": time.Hour, "day": 24 * time.Hour}[strings.TrimSuffix(m[2], "s")]
	return time.Duration(n) * unit, nil
}

// Schedules lists the template's enabled schedules, expressions resolved.
func Schedules(fns []Function, names *Names) ([]Schedule, error) {
	var out []Schedule
	for _, f := range fns {
		for en, e := range f.Events {
			if e.Type != "Schedule" && e.Type != "ScheduleV2" {
				continue
			}
			if v, ok := e.Properties["Enabled"].(bool); ok && !v {
				continue
			}
			if strings.EqualFold(asString(e.Properties["State"]), "DISABLED") {
				continue
			}
			expr, err := names.Resolve(e.Properties["ScheduleExpression"])
			if err != nil {
				return nil, fmt.Errorf("%s event %s: %w", f.Name, en, err)
			}
			input, err := names.Resolve(e.Properties["Input"])
			if err != nil {
				return nil, fmt.Errorf("%s event %s input: %w", f.Name, en, err)
			}
			s := Schedule{Function: f.Name, Event: en, Type: e.Type, Expression: expr, Input: input}
			if d, err := ParseRate(expr); err == nil {
				s.Every = d
			} else if strings.HasPrefix(expr, "rate(") {
				return nil, fmt.Errorf("%s event %s: %w", f.Name, en, err)
			}
			out = append(out, s)
		}
	}
	return out, nil
}

// Payload is what the scheduler sends at t: the Input with Scheduler's context
// placeholders filled in, or the service's default event.
func (s Schedule) Payload(t time.Time) []byte {
	t = t.UTC().Truncate(time.Second)
	arn := "arn:aws:scheduler:" + Region + ":" + Account + ":schedule/default/" + s.Function + "-" + s.Event
	if s.Input != "" {
		if s.Type == "Schedule" {
			return []byte(s.Input)
		}
		return []byte(strings.NewReplacer(
			"<aws.scheduler.scheduled-time>", t.Format(time.RFC3339),
			"<aws.scheduler.schedule-arn>", arn,
			"<aws.scheduler.execution-id>", newRequestID(),
			"<aws.scheduler.attempt-number>", "1",
		).Replace(s.Input))
	}
	if s.Type == "ScheduleV2" {
		return []byte("{}")
	}
	b, _ := json.Marshal(map[string]any{
		"version": "0", "id": newRequestID(), "detail-type": "Scheduled Event", "source": "aws.events",
		"account": Account, "time": t.Format(time.RFC3339), "region": Region,
		"resources": []string{"arn:aws:events:" + Region + ":" + Account + ":rule/" + s.Function + "-" + s.Event},
		"detail":    map[string]any{},
	})
	return b
}

// runSchedule invokes fn every s.Every until ctx ends, first after one period,
// as a new schedule does.
func runSchedule(ctx context.Context, s Schedule, fn Invoker, log *slog.Logger) {
	t := time.NewTicker(s.Every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			res := fn.Invoke(ctx, s.Payload(now))
			if res.Error != nil {
				log.Warn("scheduled invocation failed", "function", s.Function, "schedule", s.Expression, "request_id", res.RequestID, "error_type", res.Error.Type, "error", res.Error.Message)
			} else {
				log.Info("scheduled invocation", "function", s.Function, "schedule", s.Expression, "request_id", res.RequestID, "duration_ms", res.Duration.Milliseconds())
			}
		}
	}
}
