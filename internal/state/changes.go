package state

import (
	"time"

	"github.com/aftercare/aftercare/internal/aftercare"
)

// ChangeType names a domain change the rules react to.
type ChangeType string

const (
	OrderPlaced       ChangeType = "order_placed"
	OrderCancelled    ChangeType = "order_cancelled"
	OrderDelivered    ChangeType = "order_delivered"  // every parcel delivered
	ShipmentShipped   ChangeType = "shipment_shipped" // first pickup or in-transit scan
	ShipmentDelivered ChangeType = "shipment_delivered"
	ExceptionOpened   ChangeType = "exception_opened"
	ExceptionClosed   ChangeType = "exception_closed"
	StockReturned     ChangeType = "stock_returned"
	CustomerRedacted  ChangeType = "customer_redacted"
	DataRequested     ChangeType = "data_requested"
)

// Change is one thing that happened to state, with what the rules need to
// word a message about it.
type Change struct {
	Type       ChangeType
	Shop       string
	OrderID    string
	CustomerID string
	Shipment   string // tracking key
	Tracking   string // tracking number as printed
	Carrier    string
	// TrackingURL and ETA are the parcel's link and estimated delivery, when known.
	TrackingURL string
	ETA         time.Time
	Exception   *aftercare.Exception // opened or closed
	Resolved    bool                 // closed because things moved on (tell the customer)
	VariantID   string
	At          time.Time
	What        string
	Export      []byte // data_requested
	RequestID   string
	Part, Parts int  // data_requested: which part of how many (an export larger than one queue message)
	History     bool // caused by an imported past event: state only, nothing sent about it
}
