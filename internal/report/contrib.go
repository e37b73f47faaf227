package report

import (
	"sort"
	"strings"
	"time"

	"github.com/aftercare/aftercare/internal/aftercare"
)

// Recovery window after a win_back or lapse_note (SPEC 14).
const RecoveryWindow = aftercare.RecoveryWindow

// ExceptionTypes are the playbooks the report lists, in the SPEC's order.
var ExceptionTypes = []aftercare.ExceptionKind{
	aftercare.ExceptionDelay, aftercare.ExceptionFailedDelivery, aftercare.ExceptionDamaged,
	aftercare.ExceptionLost, aftercare.ExceptionReturned, aftercare.ExceptionBackorder,
}

// RecoveryKinds are the messages whose effect the report follows.
var RecoveryKinds = aftercare.RecoveryKinds

// Decisions the report counts per message kind.
var Decisions = []string{"sent", "held", "suppressed", "stale", "failed"}

// Order is what an order adds to its shop's days: itself and its revenue on its
// creation day, and each playbook on the order itself (tagged by the merchant,
// unshipped past its promise, backordered) on the days it opened and closed.
// Parcel playbooks are counted from the parcel's own history (Shipment),
// which, unlike the order's playbook slots, is the same whatever order the
// scans arrived in. Test orders add nothing; a cancelled order adds only its
// playbooks.
func Order(o *aftercare.Order, loc *time.Location) Adds {
	a := Adds{}
	if o == nil || o.Test || !o.Seen || o.CreatedAt.IsZero() {
		return a
	}
	if !o.Cancelled() {
		day := dayOf(o.CreatedAt, loc)
		a.Add(day, cOrders, 1)
		net := o.TotalCents
		for _, c := range o.Refunds {
			net -= c
		}
		a.Add(day, name(cRevenue, currency(o.Currency)), max(net, 0))
	}
	for _, e := range o.Exceptions {
		if e == nil || e.Subject != "" || e.OpenedAt.IsZero() {
			continue
		}
		episode(a, string(e.Kind), e.OpenedAt, e.ClosedAt, loc)
	}
	return a
}

// episode adds one playbook opening (and its closing, unless closed is zero).
func episode(a Adds, typ string, opened, closed time.Time, loc *time.Location) {
	a.Add(dayOf(opened, loc), name(cExcOpened, typ), 1)
	if closed.IsZero() {
		a.Add(dayOf(opened, loc), name(cExcStillOpen, typ), 1)
		return
	}
	day := dayOf(closed, loc)
	a.Add(day, name(cExcResolved, typ), 1)
	a.Add(day, name(cExcHours, typ, itoa(hoursBucket(int(closed.Sub(opened).Hours())))), 1)
}

// Customer is what a customer adds: being new on their first order day, being
// active on each order day (keyed by the days since their previous order day,
// which makes distinct-customer counts over any range exact), their second
// order, recoveries after a win-back or lapse note, and unsubscribes.
func Customer(c *aftercare.Customer, loc *time.Location) Adds {
	a := Adds{}
	if c == nil {
		return a
	}
	placed := c.Placed()
	repeat := c.OrderCount() >= 2
	var days []time.Time // distinct order days, oldest first
	for _, o := range placed {
		d := civil(o.At, loc)
		if len(days) == 0 || !d.Equal(days[len(days)-1]) {
			days = append(days, d)
		}
	}
	// Orders folded into EarlierOrders are older than any kept one, so the
	// first kept day is not the customer's first.
	for i, d := range days {
		gap := gapFirst
		if i > 0 {
			if g := int(d.Sub(days[i-1]).Hours() / 24); g <= MaxRangeDays {
				gap = itoa(g)
			}
		}
		day := d.Format(DayFormat)
		a.Add(day, name(cActive, gap), 1)
		if repeat {
			a.Add(day, name(cRepeatActive, gap), 1)
		}
		if i == 0 && c.EarlierOrders == 0 {
			a.Add(day, cNew, 1)
		}
	}
	if c.EarlierOrders == 0 && len(placed) >= 2 {
		first, second := placed[0], placed[1]
		a.Add(dayOf(second.At, loc), name(cSecond, itoa(daysBucket(int(second.At.Sub(first.At).Hours()/24)))), 1)
	}
	for _, kind := range RecoveryKinds {
		for _, sentAt := range sentMarks(c, kind) {
			for _, o := range placed {
				if o.At.After(sentAt) && !o.At.After(sentAt.Add(RecoveryWindow)) {
					day := dayOf(o.At, loc)
					a.Add(day, name(cRecovered, string(kind)), 1)
					a.Add(day, name(cRecoveredCent, string(kind)), max(o.Cents-o.Refunded, 0))
					break
				}
			}
		}
	}
	for _, cons := range []aftercare.Consent{c.EmailConsent, c.SMSConsent} {
		if cons.State == aftercare.ConsentUnsubscribed && !cons.UpdatedAt.IsZero() {
			a.Add(dayOf(cons.UpdatedAt, loc), cUnsubscribes, 1)
		}
	}
	return a
}

// sentMarks are the times a lifecycle kind was sent to the customer, oldest first.
func sentMarks(c *aftercare.Customer, kind aftercare.Kind) []time.Time {
	var out []time.Time
	for key, m := range c.Marks {
		if m.State == aftercare.MarkSent && (key == string(kind) || strings.HasPrefix(key, string(kind)+":")) {
			out = append(out, m.At)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Before(out[j]) })
	return out
}

// Shipment is what a linked parcel adds, all read from its time-sorted
// history of applied scans: its carrier's volume on the day it first moved,
// each playbook episode (a problem status until the next status that is not
// that problem) by type and by carrier, and its delivery, on time or late
// against the carrier's first estimated day. Parcels of test orders add
// nothing.
func Shipment(s *aftercare.Shipment, loc *time.Location) Adds {
	a := Adds{}
	if s == nil || !s.Linked() || s.Test {
		return a
	}
	// A tracking number another order reused is a parcel per trip: the
	// earlier trip's reports count as they did before the number moved.
	if e := EarlierTrip(s); len(e.History) > 0 {
		trip(a, e.Carrier, e.History, e.Status, e.ShippedAt, loc)
	}
	_, current := trips(s)
	trip(a, s.Carrier, current, s.Status, s.ShippedAt, loc)
	return a
}

// trips splits a parcel's reports at its current trip's start: the
// earlier trips' (none unless the number was reused) and the current one's.
func trips(s *aftercare.Shipment) (earlier, current []aftercare.Scan) {
	from := s.TripStart()
	if from.IsZero() {
		return nil, s.History
	}
	for _, sc := range s.History {
		if sc.At.After(from) {
			current = append(current, sc)
		} else {
			earlier = append(earlier, sc)
		}
	}
	return earlier, current
}

// EarlierTrip is a reused parcel as its trips before the current one left
// it: their reports, the status they ended in, and when it was first seen
// past its label (as the state engine marks a parcel shipped). A parcel of
// one trip has none: its copy holds no reports.
func EarlierTrip(s *aftercare.Shipment) *aftercare.Shipment {
	e := *s
	e.Status, e.ShippedAt, e.Reused = "", time.Time{}, false
	e.History, _ = trips(s)
	for _, sc := range e.History {
		if sc.Applied {
			e.Status = sc.Status
			if e.ShippedAt.IsZero() && (sc.Status.Moving() || sc.Status == aftercare.StatusDelivered || sc.Status == aftercare.StatusReturned) {
				e.ShippedAt = sc.At
			}
		}
	}
	return &e
}

// trip adds one trip of a parcel: its reports, the status they ended in,
// and when it was seen shipped if no report says.
func trip(a Adds, carrierName string, history []aftercare.Scan, status aftercare.ShipmentStatus, shippedAt time.Time, loc *time.Location) {
	carrier := Carrier(carrierName)
	var start, eta, delivered, openedAt time.Time
	var open aftercare.ExceptionKind
	for _, sc := range history {
		if !sc.Applied {
			continue
		}
		if start.IsZero() && sc.Status.Moving() {
			start = sc.At
		}
		if eta.IsZero() && !sc.EstimatedDelivery.IsZero() {
			eta = sc.EstimatedDelivery
		}
		if delivered.IsZero() && sc.Status == aftercare.StatusDelivered {
			delivered = sc.At
		}
		if kind := problemOf(sc); kind != open {
			if open != "" {
				episode(a, string(open), openedAt, sc.At, loc)
			}
			if kind != "" {
				a.Add(dayOf(sc.At, loc), name(cCarrierExc, carrier, string(kind)), 1)
			}
			open, openedAt = kind, sc.At
		}
	}
	if open != "" {
		episode(a, string(open), openedAt, time.Time{}, loc)
	}
	if start.IsZero() {
		start = shippedAt
	}
	if !start.IsZero() {
		a.Add(dayOf(start, loc), name(cParcels, carrier), 1)
	}
	if delivered.IsZero() || status != aftercare.StatusDelivered {
		return
	}
	day := dayOf(delivered, loc)
	a.Add(day, cDeliveries, 1)
	if !eta.IsZero() {
		// The estimate is a date: compare days, not instants.
		if civil(delivered, loc).After(civil(eta, loc)) {
			a.Add(day, cLate, 1)
		} else {
			a.Add(day, cOnTime, 1)
		}
	}
	if !start.IsZero() {
		a.Add(day, name(cDeliverDays, itoa(daysBucket(daysBetween(start, delivered, loc)))), 1)
	}
}

// problemOf is the playbook a scan's status keeps open, as the state engine
// decides it: a problem status, with the kind its source named or the
// status's own.
func problemOf(sc aftercare.Scan) aftercare.ExceptionKind {
	switch sc.Status {
	case aftercare.StatusException, aftercare.StatusAttemptedDelivery, aftercare.StatusAvailableForPickup, aftercare.StatusReturned:
		if sc.Exception != "" {
			return sc.Exception
		}
		return aftercare.ExceptionFor(sc.Status)
	}
	return ""
}

// Decision is one message's current delivery decision, as the ledger keeps it.
type Decision struct {
	Kind     aftercare.Kind
	Decision string // sent, held, suppressed, stale, failed (others count nowhere)
	At       time.Time
}

// Message is what a message's decision adds: one on the day of the decision.
// A held message later sent moves from held to sent.
func Message(d *Decision, loc *time.Location) Adds {
	a := Adds{}
	if d == nil || d.At.IsZero() || !d.Kind.Valid() {
		return a
	}
	for _, v := range Decisions {
		if d.Decision == v {
			a.Add(dayOf(d.At, loc), name(cMessages, string(d.Kind), v), 1)
		}
	}
	return a
}

// Carrier bounds and normalizes a carrier name into a counter name part.
func Carrier(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(s)) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == ' ' || r == '-' || r == '_' || r == '.':
			b.WriteByte('_')
		}
		if b.Len() >= 24 {
			break
		}
	}
	if b.Len() == 0 {
		return "unknown"
	}
	return b.String()
}

func currency(s string) string {
	s = strings.ToUpper(strings.TrimSpace(s))
	if len(s) != 3 {
		return "XXX"
	}
	for _, r := range s {
		if r < 'A' || r > 'Z' {
			return "XXX"
		}
	}
	return s
}

// For is the contribution of any entity the report follows (*aftercare.Order,
// *aftercare.Customer, *aftercare.Shipment, *Decision); other values add
// nothing. A redacted customer keeps what it added: the counts hold no
// personal data and the past does not change.
func For(v any, loc *time.Location) Adds {
	switch e := v.(type) {
	case *aftercare.Order:
		return Order(e, loc)
	case *aftercare.Customer:
		return Customer(e, loc)
	case *aftercare.Shipment:
		return Shipment(e, loc)
	case *Decision:
		return Message(e, loc)
	}
	return Adds{}
}

// Change is what the engine adds when an entity moves from before (nil: new)
// to after (nil: deleted). Redactions and deletions add nothing, so
// reports of past periods stay as they were.
func Change(before, after any, loc *time.Location) Adds {
	if after == nil || isNil(after) {
		return Adds{}
	}
	if c, ok := after.(*aftercare.Customer); ok && c.Suppressed() {
		return Adds{}
	}
	var b Adds
	if before == nil || isNil(before) {
		b = Adds{}
	} else {
		b = For(before, loc)
	}
	return Delta(b, For(after, loc))
}

func isNil(v any) bool {
	switch e := v.(type) {
	case *aftercare.Order:
		return e == nil
	case *aftercare.Customer:
		return e == nil
	case *aftercare.Shipment:
		return e == nil
	case *Decision:
		return e == nil
	}
	return false
}
