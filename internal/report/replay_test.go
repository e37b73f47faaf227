package report_test

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/aftercare/aftercare/internal/report"
)

func runSeed(t testing.TB, steps []step) *engine {
	t.Helper()
	e := newEngine(seedSettings(), seedNow)
	if err := e.run(steps); err != nil {
		t.Fatal(err)
	}
	return e
}

func days(e *engine) map[string]report.Counters { return e.store.days[shopDomain] }

func TestSeededShopReport(t *testing.T) {
	e := runSeed(t, seedHistory())
	got, err := json.Marshal(report.Compute(shopDomain, seedRange(), days(e)))
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	if err := json.Compact(&want, []byte(seedWant)); err != nil {
		t.Fatal(err)
	}
	if !jsonEqual(t, got, want.Bytes()) {
		t.Errorf("report:\n got %s\nwant %s", got, want.Bytes())
	}
}

func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatal(err)
	}
	return reflect.DeepEqual(x, y)
}

// Ten deliveries of every event and decision add what one does.
func TestReplayTenTimesSameAggregates(t *testing.T) {
	want := days(runSeed(t, seedHistory()))
	var steps []step
	for range 10 {
		steps = append(steps, seedHistory()...)
	}
	if got := days(runSeed(t, steps)); !reflect.DeepEqual(got, want) {
		t.Errorf("10x replay:\n got %v\nwant %v", got, want)
	}
}

// Any arrival order gives the same aggregates. The seed is logged; set it in
// permutationSeed to replay a failure.
func TestPermutationsSameAggregates(t *testing.T) {
	want := days(runSeed(t, seedHistory()))
	seed := uint64(time.Now().UnixNano())
	if permutationSeed != 0 {
		seed = permutationSeed
	}
	t.Logf("permutation seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, seed>>1))
	for i := range 20 {
		steps := seedHistory()
		rng.Shuffle(len(steps), func(a, b int) { steps[a], steps[b] = steps[b], steps[a] })
		// And a duplicate of some of them, late.
		steps = append(steps, steps[:len(steps)/3]...)
		got := days(runSeed(t, steps))
		if !reflect.DeepEqual(got, want) {
			order := make([]string, len(steps))
			for j, s := range steps {
				order[j] = s.String()
			}
			t.Fatalf("permutation %d (seed %d) differs:\norder %v\n got %v\nwant %v", i, seed, order, got, want)
		}
	}
}

const permutationSeed = 0
