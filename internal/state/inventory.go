package state

import "time"

// Inventory is one inventory item of a shop: which variant it stocks and how
// many are available per location.
type Inventory struct {
	Shop      string           `json:"shop"`
	ID        string           `json:"id"` // inventory_item_id
	VariantID string           `json:"variant_id,omitempty"`
	ProductID string           `json:"product_id,omitempty"`
	Tracked   bool             `json:"tracked,omitempty"`
	Levels    map[string]Level `json:"levels,omitempty"` // by location
	// ProductQty is the variant's inventory_quantity from product webhooks, used
	// while no per-location level is known.
	ProductQty   *int      `json:"product_qty,omitempty"`
	ProductQtyAt time.Time `json:"product_qty_at,omitzero"`
	// ProductAt is the updated_at of the product webhook that last mapped
	// the variant: an older one's copy changes nothing (order-insensitive).
	ProductAt time.Time `json:"product_at,omitzero"`
	Version   int64     `json:"version"`
}

// Level is the available quantity at one location.
type Level struct {
	Available int       `json:"available"`
	At        time.Time `json:"at"`
}

// Known reports whether any quantity is known.
func (i *Inventory) Known() bool { return len(i.Levels) > 0 || i.ProductQty != nil }

// Available is the quantity across locations.
func (i *Inventory) Available() int {
	if len(i.Levels) == 0 {
		if i.ProductQty != nil {
			return *i.ProductQty
		}
		return 0
	}
	n := 0
	for _, l := range i.Levels {
		n += l.Available
	}
	return n
}

// InStock reports whether the item can be sold: unknown counts as in stock.
func (i *Inventory) InStock() bool { return !i.Known() || i.Available() > 0 }

// Wait is an order waiting for a variant to come back.
type Wait struct {
	Shop       string    `json:"shop"`
	VariantID  string    `json:"variant_id"`
	ProductID  string    `json:"product_id,omitempty"`
	OrderID    string    `json:"order_id"`
	CustomerID string    `json:"customer_id,omitempty"`
	Since      time.Time `json:"since"`
	Version    int64     `json:"-"`
}
