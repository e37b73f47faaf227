package aftercare

import (
	"testing"
	"time"
)

func TestEmailFeedback(t *testing.T) {
	at := time.Date(2031, 3, 4, 5, 6, 7, 0, time.UTC)
	c := &Customer{Email: "Ada@Example.org"}
	if c.ApplyEmailFeedback(EmailFeedback{Type: FeedbackSoftBounce, Address: "ada@example.org", At: at}) {
		t.Fatal("a soft bounce changed the customer")
	}
	if c.ApplyEmailFeedback(EmailFeedback{Type: FeedbackHardBounce, Address: "other@example.org", At: at}) {
		t.Fatal("feedback about another address changed the customer")
	}
	if c.EmailBlocked(Transactional) != "" || c.EmailBlocked(Marketing) != "" {
		t.Fatal("blocked before any feedback")
	}
	if !c.ApplyEmailFeedback(EmailFeedback{Type: FeedbackComplaint, Address: "ada@example.org", At: at}) {
		t.Fatal("complaint not recorded")
	}
	if c.EmailBlocked(Transactional) != "" || c.EmailBlocked(Marketing) == "" {
		t.Fatalf("complaint: transactional %q, marketing %q", c.EmailBlocked(Transactional), c.EmailBlocked(Marketing))
	}
	if !c.ApplyEmailFeedback(EmailFeedback{Type: FeedbackHardBounce, Address: "ada@example.org", At: at.Add(time.Hour)}) {
		t.Fatal("hard bounce not recorded")
	}
	if c.EmailBlocked(Transactional) == "" {
		t.Fatal("a hard bounce did not stop transactional email")
	}
	if c.ApplyEmailFeedback(EmailFeedback{Type: FeedbackHardBounce, Address: "ada@example.org", At: at.Add(2 * time.Hour)}) || !c.EmailBouncedAt.Equal(at.Add(time.Hour)) {
		t.Fatal("a repeat bounce rewrote the first")
	}
	c.Email = "ada.new@example.org" // a later profile: a different mailbox
	if c.EmailBlocked(Transactional) != "" || c.EmailBlocked(Marketing) != "" {
		t.Fatal("feedback about the old address blocks the new one")
	}
}
