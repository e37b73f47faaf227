package aftercare

import "testing"

func TestCanFollow(t *testing.T) {
	cases := []struct {
		next, cur ShipmentStatus
		want      bool
	}{
		{StatusInTransit, StatusPreTransit, true},
		{StatusInTransit, StatusOutForDelivery, true}, // a reroute, newer in time
		{StatusInTransit, StatusDelivered, false},     // never downgrade delivered
		{StatusReturned, StatusDelivered, true},
		{StatusException, StatusDelivered, false},
		{StatusInTransit, StatusReturned, false},
		{StatusInTransit, StatusCancelled, false},
		{StatusUnknown, StatusInTransit, false}, // unknown says nothing
		{StatusUnknown, "", true},
		{StatusDelivered, StatusException, true},
	}
	for _, c := range cases {
		if got := c.next.CanFollow(c.cur); got != c.want {
			t.Errorf("%s after %s: %v, want %v", c.next, c.cur, got, c.want)
		}
	}
}

func TestTrackingKeyMatchesPrintedForms(t *testing.T) {
	if TrackingKey("9400 1000 0000-0000 0000 00") != TrackingKey("94001000000000000000000"[:22]) {
		t.Fatal("spaces and dashes must not matter")
	}
	if TrackingKey("1z999aa10123456784") != "1Z999AA10123456784" {
		t.Fatal("case must not matter")
	}
}

func TestMessageIDFromCause(t *testing.T) {
	a := MessageID(KindOrderShipped, "s", "parcel-1")
	if a != MessageID(KindOrderShipped, "s", "parcel-1") {
		t.Fatal("same cause, same id")
	}
	for _, other := range []string{MessageID(KindOrderShipped, "s", "parcel-2"), MessageID(KindDeliveredSetup, "s", "parcel-1"),
		MessageID(KindOrderShipped, "t", "parcel-1"), MessageID(KindOrderShipped, "s", "parcel", "-1")} {
		if other == a {
			t.Fatalf("different causes share id %s", a)
		}
	}
}
