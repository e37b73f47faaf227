package main

import (
	"fmt"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/aftercare/aftercare/infra/devstack"
	"github.com/aftercare/aftercare/internal/aftercare"
	"github.com/aftercare/aftercare/internal/handler"
)

// SPEC section 16: DynamoDB or SQS down for 15 minutes, or the delivery
// endpoint down for 6 hours, dead-letters nothing. A failed event or
// delivery comes back after its backoff, so what a queue can ride out is
// the sum of the backoffs before its last receive. (The soak's outage runs
// measure the same with a running stack; this is the arithmetic on
// template.yaml and the backoff rules.)
func TestRetryBudgetCoversTheOutages(t *testing.T) {
	root, err := devstack.ProjectRoot()
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := devstack.LoadTemplate(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	receives := func(queue string) int {
		rp, _ := tpl.Resources[queue].Properties["RedrivePolicy"].(map[string]any)
		n, err := strconv.Atoi(scalar(rp["maxReceiveCount"]))
		if err != nil {
			t.Fatalf("%s has no maxReceiveCount: %v", queue, rp)
		}
		return n
	}
	dispatch, _ := tpl.Function("DispatchFunction")
	baseSeconds, err := strconv.Atoi(scalar(dispatch.Environment["DELIVERY_RETRY_BASE_SECONDS"]))
	if err != nil {
		t.Fatalf("DELIVERY_RETRY_BASE_SECONDS: %v", err)
	}
	budget := func(n int, delay func(int) time.Duration) time.Duration {
		var sum time.Duration
		for r := 1; r < n; r++ {
			sum += delay(r)
		}
		return sum
	}
	inbox := budget(receives("InboxQueue"), handler.Backoff)
	if inbox < 15*time.Minute {
		t.Errorf("InboxQueue: maxReceiveCount %d rides out %s of DynamoDB or SQS outage, want 15m (events back off 5 s doubling to 2 min: 15 receives give 20m35s)",
			receives("InboxQueue"), inbox)
	}
	outbound := budget(receives("OutboundQueue"), func(r int) time.Duration {
		return aftercare.RetryDelay(time.Duration(baseSeconds)*time.Second, r, 12*time.Hour)
	})
	if outbound < 6*time.Hour {
		t.Errorf("OutboundQueue: maxReceiveCount %d rides out %s of endpoint outage, want 6h (deliveries back off %d s doubling: 11 receives give 8h31m30s)",
			receives("OutboundQueue"), outbound, baseSeconds)
	}
}

func scalar(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return fmt.Sprint(v)
}
