package aftercare

import (
	"testing"
	"time"
)

func TestRetryDelay(t *testing.T) {
	s := time.Second
	for _, c := range []struct {
		base    time.Duration
		attempt int
		limit   time.Duration
		want    time.Duration
	}{
		{5 * s, 0, time.Hour, 5 * s}, {5 * s, 1, time.Hour, 5 * s}, {5 * s, 2, time.Hour, 10 * s}, {5 * s, 4, time.Hour, 40 * s},
		{5 * s, 6, 2 * time.Minute, 2 * time.Minute}, {30 * s, 11, 24 * time.Hour, 30 * s << 10}, {30 * s, 99, 24 * time.Hour, 30 * s << 10},
		{30 * s, 12, 12 * time.Hour, 30 * s << 10},
	} {
		if got := RetryDelay(c.base, c.attempt, c.limit); got != c.want {
			t.Errorf("RetryDelay(%s, %d, %s) = %s, want %s", c.base, c.attempt, c.limit, got, c.want)
		}
	}
}
