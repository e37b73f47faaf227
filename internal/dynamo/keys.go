// Package dynamo is the DynamoDB adapter: one table holding every entity as a
// JSON document beside its key, optimistic version, due-index keys and expiry.
// It implements the typed stores of the state engine, the checks and
// dispatch; encoding (entity.go), key formats (here) and batch sizes are its
// own, so callers only ever see domain types.
//
// Keys (pk / sk):
//
//	SHOP#<shop> / ORDER#<id>            order
//	SHOP#<shop> / CUSTOMER#<id>         customer (contact, consent, history, holds, lifecycle marks)
//	SHOP#<shop> / INVENTORY#<item id>   inventory item with its variant and levels
//	SHOP#<shop> / WAIT#<variant>#<order> an order waiting for stock
//	SHOP#<shop> / STOCKOUT              the shop's out-of-stock variants (string set)
//	SHOP#<shop> / MESSAGE#<message id>  delivery ledger entry
//	SHOP#<shop> / CAP#<customer>        the customer's marketing cap slot
//	SHOP#<shop> / SETTINGS              per-shop settings overrides
//	SHOP#<shop> / INSTALL               the shop's app install and uninstall marks
//	SHOP#<shop> / DAY#<yyyy-mm-dd>      the shop's report counters of one day (c_<name> numbers, only ever ADDed)
//	SHOP#<shop> / DIGEST#<monday>       the shop's weekly digest of that week, due Monday after 08:00 shop time
//	SHIPMENT#<tracking key> / SHIPMENT  parcel (carriers do not know the shop)
//	EVENT#<event id> / EVENT            dedupe record (expires); carrier reports and
//	                                    fulfillments keep theirs in the parcel or order
//	                                    they write (aftercare.AppliedLog)
//	CHECK#<name> / CHECKPOINT           scheduled check progress
//	CHECK#reconcile / SHOP#<shop>       the reconcile check's cursor of a shop
//
// Due index "due" (sparse): due_pk = DUE#<kind>#<shard>, due_sk = <due time>#<pk>#<sk>,
// so a check reads exactly what is due up to a time, shard by shard.
//
// Owner index "owner" (sparse, keys only): owner_pk = OWNER#<shop>,
// owner_sk = <customer>#<pk>#<sk>, on the items that name a customer outside
// their entities (ledger entries, dedupe records whose outbox names one), so
// customers/redact finds them by the customer and shop/redact by the shop.
package dynamo

import (
	"fmt"
	"hash/fnv"
	"strings"
	"time"

	"github.com/aftercare/aftercare/internal/state"
)

const (
	attrPK      = "pk"
	attrSK      = "sk"
	attrKind    = "kind"
	attrDoc     = "doc"
	attrDocZ    = "docz" // the deflated doc (pack.go)
	attrVersion = "version"
	attrDuePK   = "due_pk"
	attrDueSK   = "due_sk"
	attrExpires = "expires_at"
	dueIndex    = "due"
	attrOwnerPK = "owner_pk"
	attrOwnerSK = "owner_sk"
	ownerIndex  = "owner"
)

// ownerKeys file an item naming a customer under the owner index.
func ownerKeys(shop, customer, pk, sk string) (string, string) {
	return "OWNER#" + shop, customer + "#" + pk + "#" + sk
}

// keyOf maps a domain key to the table's primary key.
func keyOf(k state.Key) (pk, sk string) {
	shop := "SHOP#" + k.Shop
	switch k.Kind {
	case state.ItemOrder:
		return shop, "ORDER#" + k.ID
	case state.ItemCustomer:
		return shop, "CUSTOMER#" + k.ID
	case state.ItemInventory:
		return shop, "INVENTORY#" + k.ID
	case state.ItemWait:
		return shop, "WAIT#" + k.ID
	case state.ItemStock:
		return shop, "STOCKOUT"
	case state.ItemLedger:
		return shop, "MESSAGE#" + k.ID
	case state.ItemCap:
		return shop, "CAP#" + k.ID
	case state.ItemSettings:
		return shop, "SETTINGS"
	case state.ItemInstall:
		return shop, "INSTALL"
	case state.ItemCounters:
		return shop, daySKPrefix + k.ID
	case state.ItemDigest:
		return shop, "DIGEST#" + k.ID
	case state.ItemShipment:
		return "SHIPMENT#" + k.ID, "SHIPMENT"
	case state.ItemReconcile:
		return "CHECK#reconcile", shop
	}
	panic(fmt.Sprintf("dynamo: no key for item kind %q", k.Kind))
}

// keyFrom maps a primary key back to a domain key; ok is false for items that
// are not entities (dedupe records, checkpoints).
func keyFrom(pk, sk string) (state.Key, bool) {
	if id, ok := strings.CutPrefix(pk, "SHIPMENT#"); ok {
		return state.Key{Kind: state.ItemShipment, ID: id}, true
	}
	shop, ok := strings.CutPrefix(pk, "SHOP#")
	if !ok {
		return state.Key{}, false
	}
	prefixes := []struct{ prefix, kind string }{
		{"ORDER#", state.ItemOrder}, {"CUSTOMER#", state.ItemCustomer}, {"INVENTORY#", state.ItemInventory},
		{"WAIT#", state.ItemWait}, {"MESSAGE#", state.ItemLedger}, {daySKPrefix, state.ItemCounters}, {"DIGEST#", state.ItemDigest}, {"CAP#", state.ItemCap},
	}
	for _, p := range prefixes {
		if id, ok := strings.CutPrefix(sk, p.prefix); ok {
			return state.Key{Kind: p.kind, Shop: shop, ID: id}, true
		}
	}
	switch sk {
	case "STOCKOUT":
		return state.Key{Kind: state.ItemStock, Shop: shop}, true
	case "SETTINGS":
		return state.Key{Kind: state.ItemSettings, Shop: shop}, true
	case "INSTALL":
		return state.Key{Kind: state.ItemInstall, Shop: shop}, true
	}
	return state.Key{}, false
}

func eventKey(id string) (pk, sk string) { return "EVENT#" + id, "EVENT" }

// dueTimeFormat is fixed-width so due_sk sorts by time.
const dueTimeFormat = "2006-01-02T15:04:05.000Z"

// dueKeys spreads due items over shards by a hash of their key.
func dueKeys(kind, pk, sk string, at time.Time, shards int) (string, string) {
	if shards < 1 {
		shards = 1
	}
	h := fnv.New32a()
	h.Write([]byte(pk))
	h.Write([]byte(sk))
	shard := int(h.Sum32() % uint32(shards))
	return fmt.Sprintf("DUE#%s#%d", kind, shard), at.UTC().Format(dueTimeFormat) + "#" + pk + "#" + sk
}
