package aftercare

import "time"

// RetryDelay spaces the retries of failed work: base for the first attempt,
// doubling with each one after (at most ten times), never over limit.
func RetryDelay(base time.Duration, attempt int, limit time.Duration) time.Duration {
	return min(base<<min(max(attempt-1, 0), 10), limit)
}
