package templates

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/aftercare/aftercare/internal/aftercare"
)

const (
	smsLimit   = 320 // two GSM segments
	optOutSMS  = "Reply STOP to opt out."
	optOutMail = "You get this email because you subscribed to news from"
)

// TestRenderEveryKind renders every kind on every channel it is written for,
// with and without a first name and discount codes, and checks the contract.
func TestRenderEveryKind(t *testing.T) {
	longest, longestKind := 0, aftercare.Kind("")
	for _, codes := range []bool{true, false} {
		s := testSettings(codes)
		for _, name := range []string{"Ada", ""} {
			for _, k := range aftercare.Kinds {
				for _, ch := range channels(k) {
					f := Build(k, s, stateFields(k, name))
					r, err := Render(k, ch, f)
					if err != nil {
						t.Errorf("%s %s: %v", k, ch, err)
						continue
					}
					check := func(ok bool, format string, args ...any) {
						t.Helper()
						if !ok {
							t.Errorf("%s %s (codes %v, name %q): "+format+"\n%s\n%s", append([]any{k, ch, codes, name}, append(args, r.Subject, r.Body)...)...)
						}
					}
					checkRendered(check, k, ch, f, r)
					checkCode(check, k, s, r)
					if ch == aftercare.ChannelSMS {
						n := utf8.RuneCountInString(r.Body)
						check(n <= smsLimit, "SMS is %d characters, limit %d", n, smsLimit)
						if n > longest {
							longest, longestKind = n, k
						}
					}
					if ch == aftercare.ChannelEmail && k.Audience() == aftercare.AudienceCustomer {
						greeting := "Hello,"
						if name != "" {
							greeting = "Hi " + name + ","
						}
						check(strings.HasPrefix(r.Body, greeting+"\n"), "body does not open with %q", greeting)
					}
				}
			}
		}
	}
	t.Logf("longest SMS: %d characters (%s)", longest, longestKind)
}

type checkFunc func(ok bool, format string, args ...any)

func checkRendered(check checkFunc, k aftercare.Kind, ch aftercare.Channel, f Fields, r Rendered) {
	for _, bad := range []string{"<no value>", "{{", "}}", "%!", "  ", " .", " ,", "\n\n\n", " \n"} {
		check(!strings.Contains(r.Subject+"\n"+r.Body, bad), "output contains %q", bad)
	}
	if ch == aftercare.ChannelEmail {
		check(r.Subject != "", "empty subject")
		check(!strings.Contains(r.Subject, "\n"), "subject spans lines")
		check(strings.Contains(r.Body, f.NextAction), "body lacks the next action %q", f.NextAction)
	} else {
		check(r.Subject == "", "SMS has a subject %q", r.Subject)
		check(!strings.Contains(r.Body, "\n"), "SMS spans lines")
		// Outside ASCII a character may leave the GSM alphabet, and the
		// whole text falls back to 70-character segments.
		check(strings.IndexFunc(r.Body, func(c rune) bool { return c > 0x7e }) < 0, "SMS has a non-ASCII character")
	}
	if strings.HasPrefix(string(k), "exception_") || k == aftercare.KindSupportTask {
		check(strings.Contains(r.Body, f.WhatHappened) || ch == aftercare.ChannelSMS, "body lacks what happened %q", f.WhatHappened)
	}

	for _, key := range []string{"what_happened", "next_action", "support_contact", "help_url"} {
		check(r.Fields[key] != "", "fields lack %s: %v", key, r.Fields)
	}
	_, hasOrder := r.Fields["order_number"]
	check(hasOrder == (needs[k].order != noOrder), "order_number in fields is %v for %s", hasOrder, k)
	shown := strings.Contains(r.Body, "#1001")
	check(shown == (needs[k].order != noOrder), "order number shown is %v", shown)
	for _, v := range []string{f.SupportContact, f.HelpURL} {
		check(strings.Contains(r.Body, v), "body lacks %q", v)
	}

	marketing := k.Category() == aftercare.Marketing
	if ch == aftercare.ChannelSMS {
		check(strings.HasSuffix(r.Body, optOutSMS) == marketing, "SMS opt-out line present is %v", !marketing)
	} else {
		check(strings.Contains(r.Body, optOutMail) == marketing, "email opt-out line present is %v", !marketing)
	}
	if !marketing {
		for _, word := range []string{"STOP", "unsubscribe", "subscribed"} {
			check(!strings.Contains(r.Body, word), "transactional body contains %q", word)
		}
	}
}

// checkCode: a configured code is shown, an absent one leaves no trace, and
// team messages never carry one.
func checkCode(check checkFunc, k aftercare.Kind, s aftercare.Settings, r Rendered) {
	code := s.DiscountCodes[string(k)]
	for _, c := range []string{"WELCOMEBACK15", "THANKYOU20"} {
		check(strings.Contains(r.Body, c) == (c == code), "code %s shown is %v", c, c != code)
	}
	lower := strings.ToLower(r.Body)
	if code == "" {
		check(!strings.Contains(lower, "code:") && !strings.Contains(lower, "use code") && !strings.Contains(lower, "code for"),
			"a code sentence without a code")
	}
}

// Transactional customer kinds show a code too when the merchant configures
// one for them (an apology code on a delay, say): what the delivery contract
// carries must be in the words the customer reads.
func TestRenderCodeOnAnyCustomerKind(t *testing.T) {
	s := testSettings(false)
	for _, k := range aftercare.Kinds {
		s.DiscountCodes[string(k)] = "SORRY10"
	}
	renderAll(t, s, "Ada", func(k aftercare.Kind, ch aftercare.Channel, r Rendered) {
		customer := k.Audience() == aftercare.AudienceCustomer
		if got := strings.Contains(r.Body, "SORRY10"); got != customer {
			t.Errorf("%s %s: code shown is %v, want %v\n%s", k, ch, got, customer, r.Body)
		}
	})
}

func TestRenderOptionalOrder(t *testing.T) {
	s := testSettings(false)
	for _, k := range aftercare.Kinds {
		if needs[k].order != maybeOrder {
			continue
		}
		for _, ch := range channels(k) {
			f := stateFields(k, "Ada")
			f.OrderNumber = ""
			r, err := Render(k, ch, Build(k, s, f))
			if err != nil {
				t.Fatalf("%s %s without an order: %v", k, ch, err)
			}
			if _, ok := r.Fields["order_number"]; ok || strings.Contains(r.Body, "order #") || strings.Contains(r.Body, "  ") {
				t.Errorf("%s %s without an order:\n%s\n%v", k, ch, r.Body, r.Fields)
			}
		}
	}
}

func TestRenderNoOrderKindDropsOrderNumber(t *testing.T) {
	f := Build(aftercare.KindWinBack, testSettings(true), Fields{OrderNumber: "#1001"})
	r, err := Render(aftercare.KindWinBack, aftercare.ChannelEmail, f)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := r.Fields["order_number"]; ok || strings.Contains(r.Body, "#1001") {
		t.Errorf("win_back shows an order:\n%s\n%v", r.Body, r.Fields)
	}
}

func TestRenderErrors(t *testing.T) {
	s := testSettings(false)
	cases := []struct {
		name string
		kind aftercare.Kind
		ch   aftercare.Channel
		f    Fields
	}{
		{"unknown kind", "exception_alien", aftercare.ChannelEmail, Build(aftercare.KindCheckIn, s, Fields{})},
		{"unknown channel", aftercare.KindCheckIn, "fax", Build(aftercare.KindCheckIn, s, Fields{})},
		{"order kind without order", aftercare.KindExceptionLost, aftercare.ChannelSMS, Build(aftercare.KindExceptionLost, s, Fields{})},
		{"support task without playbook", aftercare.KindSupportTask, aftercare.ChannelEmail,
			Build(aftercare.KindSupportTask, s, Fields{OrderNumber: "#1001"})},
		{"resolved with unknown playbook", aftercare.KindExceptionResolved, aftercare.ChannelEmail,
			Build(aftercare.KindExceptionResolved, s, Fields{OrderNumber: "#1001", Playbook: "alien"})},
		{"no support contact", aftercare.KindCheckIn, aftercare.ChannelEmail, Fields{WhatHappened: "x", NextAction: "y"}},
		{"not built", aftercare.KindCheckIn, aftercare.ChannelEmail, Fields{SupportContact: "a@b.example"}},
	}
	for _, c := range cases {
		_, err := Render(c.kind, c.ch, c.f)
		if aftercare.ErrorCode(err) != aftercare.EINVALID {
			t.Errorf("%s: got %v, want an %s error", c.name, err, aftercare.EINVALID)
		}
	}
}

// A team message is email whatever channel the caller asks for.
func TestRenderTeamIsEmail(t *testing.T) {
	k := aftercare.KindSupportTask
	f := Build(k, testSettings(false), stateFields(k, ""))
	r, err := Render(k, aftercare.ChannelSMS, f)
	if err != nil {
		t.Fatal(err)
	}
	if r.Subject == "" || !strings.Contains(r.Body, "\n") {
		t.Errorf("support_task asked for as SMS did not render as email:\n%s", r.Body)
	}
}

// Carrier text arrives with newlines and runs of spaces; none may reach a
// subject line or an SMS.
func TestRenderTidiesFields(t *testing.T) {
	k := aftercare.KindExceptionFailedDelivery
	f := stateFields(k, "  Ada\n")
	f.WhatHappened = "delivery attempted\n\n  no   access\t to building"
	f.OrderNumber = "#1001\n"
	f = Build(k, testSettings(false), f)
	for _, ch := range channels(k) {
		r, err := Render(k, ch, f)
		if err != nil {
			t.Fatal(err)
		}
		if ch == aftercare.ChannelEmail && !strings.Contains(r.Body, "What happened: Delivery attempted no access to building\n") {
			t.Errorf("what happened not tidied:\n%s", r.Body)
		}
		if r.Fields["what_happened"] != "Delivery attempted no access to building" || r.Fields["order_number"] != "#1001" {
			t.Errorf("fields not tidied: %q", r.Fields)
		}
		if strings.Contains(r.Subject, "\n") || strings.Contains(r.Body, "  ") || (ch == aftercare.ChannelSMS && strings.Contains(r.Body, "\n")) {
			t.Errorf("%s not tidy:\n%q\n%q", ch, r.Subject, r.Body)
		}
	}
}

func TestRenderWithoutHelpLinks(t *testing.T) {
	renderAll(t, aftercare.DefaultSettings(), "", func(k aftercare.Kind, ch aftercare.Channel, r Rendered) {
		if r.Fields["help_url"] != "" || strings.Contains(r.Body, "http") || strings.Contains(r.Body, ": \n") || strings.HasSuffix(r.Body, ":") {
			t.Errorf("%s %s without help links:\n%s", k, ch, r.Body)
		}
	})
}
