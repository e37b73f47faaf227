package templates

import (
	"strings"
	"testing"

	"github.com/aftercare/aftercare/internal/aftercare"
)

// The customer is told what they can do; the team is told what fixes it.
func TestBuildNextActionByAudience(t *testing.T) {
	s := testSettings(false)
	seen := map[string]aftercare.ExceptionKind{}
	for _, p := range aftercare.ExceptionKinds {
		notice := Build(p.MessageKind(), s, Fields{OrderNumber: "#1001", Carrier: "UPS"})
		task := Build(aftercare.KindSupportTask, s, Fields{OrderNumber: "#1001", Playbook: string(p)})
		if notice.NextAction == "" || task.NextAction == "" || notice.NextAction == task.NextAction {
			t.Errorf("%s: customer %q, team %q", p, notice.NextAction, task.NextAction)
		}
		if other, dup := seen[task.NextAction]; dup {
			t.Errorf("%s and %s share the team's next action %q", p, other, task.NextAction)
		}
		seen[task.NextAction] = p
	}
	damaged := Build(aftercare.KindSupportTask, s, Fields{Playbook: "damaged"}).NextAction
	if !strings.Contains(damaged, "carrier claim") || !strings.Contains(damaged, "replacement or refund") {
		t.Errorf("damaged support task: %q", damaged)
	}
}

func TestBuildFromSettings(t *testing.T) {
	s := testSettings(true)
	for _, k := range aftercare.Kinds {
		f := Build(k, s, stateFields(k, "Ada"))
		issue := k.HelpIssue()
		if k == aftercare.KindSupportTask {
			issue = string(playbookOf(k)) // the page the customer's notice links
		}
		if f.HelpURL != s.HelpURLs[issue] {
			t.Errorf("%s: help link %q, want the %s page %q", k, f.HelpURL, issue, s.HelpURLs[issue])
		}
		if f.SupportContact != "hello@juniperandoak.example or +1 555 010 0199" || f.ShopName != s.ShopName {
			t.Errorf("%s: contact %q, shop %q", k, f.SupportContact, f.ShopName)
		}
		if f.DiscountCode != s.DiscountCodes[string(k)] {
			t.Errorf("%s: code %q, want %q", k, f.DiscountCode, s.DiscountCodes[string(k)])
		}
		if f.WhatHappened == "" || f.NextAction == "" {
			t.Errorf("%s: what happened %q, next action %q", k, f.WhatHappened, f.NextAction)
		}
	}
}

// A discount code configured for a team kind never reaches the team message:
// the delivery contract would carry a code nobody should use.
func TestBuildNoCodeForTeam(t *testing.T) {
	s := testSettings(false)
	s.DiscountCodes[string(aftercare.KindSupportTask)] = "STAFF"
	if f := Build(aftercare.KindSupportTask, s, Fields{Playbook: "lost"}); f.DiscountCode != "" {
		t.Errorf("support task got code %q", f.DiscountCode)
	}
}

// What the caller knows wins over defaults.
func TestBuildKeepsCallerFields(t *testing.T) {
	in := Fields{WhatHappened: "Delivery attempted", NextAction: "Call us", SupportContact: "shop@x.example",
		HelpURL: "https://x.example/h", ShopName: "X", DiscountCode: "MINE"}
	if got := Build(aftercare.KindWinBack, testSettings(true), in); got != in {
		t.Errorf("Build changed caller fields:\n got %+v\nwant %+v", got, in)
	}
}

// Follow-up delays are settings; the wording follows them.
func TestBuildTimedWording(t *testing.T) {
	s := testSettings(false)
	s.FollowUps.WinBackDays = 60
	s.FollowUps.CareTipsDays = 30
	if got := Build(aftercare.KindWinBack, s, Fields{}).WhatHappened; got != "It's been about 2 months since your last order." {
		t.Errorf("win_back after 60 days: %q", got)
	}
	if got := Build(aftercare.KindCareTips, s, Fields{OrderNumber: "#7"}).WhatHappened; got != "Your order #7 arrived about a month ago." {
		t.Errorf("care_tips after 30 days: %q", got)
	}
}

func TestAbout(t *testing.T) {
	for days, want := range map[int]string{
		1: "a day", 3: "a few days", 7: "about a week", 14: "about two weeks", 21: "about three weeks",
		30: "about a month", 60: "about 2 months", 90: "about 3 months", 180: "about 6 months", 365: "about a year",
	} {
		if got := about(days); got != want {
			t.Errorf("about(%d) = %q, want %q", days, got, want)
		}
	}
}

func TestClip(t *testing.T) {
	for _, c := range []struct {
		n       int
		in, out string
	}{
		{20, "Linen apron", "Linen apron"},
		{20, "Linen apron, Beeswax food wraps", "Linen apron..."},
		{25, "Linen apron, Beeswax (set of 3)", "Linen apron, Beeswax..."},
		{10, "Walnutserverboard", "Walnuts..."},
	} {
		if got := clip(c.n, c.in); got != c.out || len([]rune(got)) > c.n {
			t.Errorf("clip(%d, %q) = %q, want %q", c.n, c.in, got, c.out)
		}
	}
}

func TestList(t *testing.T) {
	if got := list("Ada", "", "+44 7700 900123"); got != "Ada, +44 7700 900123" {
		t.Errorf("list = %q", got)
	}
}
