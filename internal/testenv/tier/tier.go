// Package tier is the one switch between the test tiers: `go test -short`
// runs the fast tier (pure and in-memory tests, no emulator, Java or Python);
// without -short the emulator tier runs too, and a missing emulator fails.
// It imports nothing of the project, so any test (devstack's own included)
// can use it; testenv.NeedEmulators is the same function.
package tier

import "testing"

// NeedEmulators marks a test as belonging to the emulator tier: under -short
// it is skipped; otherwise it runs, and a missing emulator fails it.
func NeedEmulators(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("emulator tier: skipped under -short")
	}
}
