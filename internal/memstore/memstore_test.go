package memstore_test

import (
	"testing"

	"github.com/aftercare/aftercare/internal/memstore"
	"github.com/aftercare/aftercare/internal/storetest"
)

// The in-memory twin keeps the store contract (fast tier).
func TestContract(t *testing.T) {
	storetest.Run(t, func(*testing.T) storetest.Store {
		s := memstore.New()
		s.Shards = 4
		return s
	})
}
