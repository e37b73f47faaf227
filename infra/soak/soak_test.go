//go:build soak

package main

import (
	"context"
	"os"
	"testing"
	"time"
)

// A small soak through the real stack: every fault kind injected a few
// times, and the delivery guarantees of SPEC section 16 asserted. It is
// behind the soak build tag (go test -tags soak ./infra/soak) until the
// engine keeps marketing at most once under unknown outcomes; see the
// README's "Soak test".
func TestSoakKeepsTheDeliveryGuarantees(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	rep, err := soak(ctx, options{N: 150, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	rep.print(os.Stdout)
	for _, k := range faultKinds {
		if n := rep.Faulty.FaultCount[k]; n < 3 {
			t.Errorf("fault %s injected %d times, want at least 3", k, n)
		}
	}
	if rep.Total.Expected < 30 {
		t.Errorf("the clean run delivered only %d messages", rep.Total.Expected)
	}
	for _, k := range []string{"transactional", "team"} {
		if l := rep.By[k]; l.Lost > 0 || l.Duplicated > 0 {
			t.Errorf("%s (at least once; a copy of one id only when its sender died after the 2xx): lost %v, duplicated %v", k, l.LostIDs, l.DupIDs)
		}
	}
	if l := rep.By["marketing"]; l.Duplicated > 0 {
		t.Errorf("marketing (at most once) reached the receiver more than once: %v", l.DupIDs)
	}
	if !rep.ok() {
		t.Errorf("the report fails: undrained %v %v", rep.Clean.Undrained, rep.Faulty.Undrained)
	}
	if rep.Faulty.DeadInbox > 0 || len(rep.Faulty.DeadOut) > 0 {
		t.Errorf("dead-lettered (needs a manual redrive): inbox %v, outbound %v", rep.Faulty.DeadIn, rep.Faulty.DeadOut)
	}
}
