package dynamo_test

import (
	"os"
	"testing"
	"time"

	"github.com/aftercare/aftercare/internal/dynamo"
	"github.com/aftercare/aftercare/internal/storetest"
	"github.com/aftercare/aftercare/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// The table keeps the store contract, against DynamoDB Local (emulator tier).
func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Store {
		s := testenv.Fresh(t)
		return &dynamo.Store{DB: s.DB, Table: s.Table, Shards: 4, Now: func() time.Time { return storetest.Now }}
	})
}
