package aftercare

import (
	"os"
	"strings"
	"testing"
	"time"
)

func TestExampleSettingsAreValid(t *testing.T) {
	doc, err := os.ReadFile("../../infra/settings.example.json")
	if err != nil {
		t.Fatal(err)
	}
	s, err := ParseSettings(DefaultSettings(), doc)
	if err != nil {
		t.Fatalf("infra/settings.example.json: %v", err)
	}
	// The example documents every field: each must differ from a zero value.
	if s.ShopName == "" || s.SupportPhone == "" || len(s.HelpURLs) != len(HelpIssues) || len(s.DiscountCodes) == 0 || len(s.Replenishment) == 0 {
		t.Fatalf("the example must show every field: %+v", s)
	}
}

func TestBadSettingsNameTheField(t *testing.T) {
	cases := map[string]string{
		`{"time_zone": "Nowhere/City"}`:                   "settings.time_zone",
		`{"support_email": "not-an-address"}`:             "settings.support_email",
		`{"help_urls": {"tracking": "ftp://x"}}`:          "settings.help_urls.tracking",
		`{"help_urls": {"weather": "https://x.example"}}`: "settings.help_urls.weather",
		`{"discount_codes": {"birthday": "X"}}`:           "settings.discount_codes.birthday",
		`{"follow_ups": {"care_tips_days": 0}}`:           "settings.follow_ups.care_tips_days",
		`{"follow_ups": {"lapse_gap_factor": 0.5}}`:       "settings.follow_ups.lapse_gap_factor",
		`{"caps": {"quiet_hours_end": "25:00"}}`:          "settings.caps.quiet_hours_end",
		`{"replenishment_days": {"123": -1}}`:             "settings.replenishment_days.123",
		`{"shop_name": ""}`:                               "settings.shop_name",
		`{"unknown_field": 1}`:                            "unknown_field",
		`{"stall": {"no_scan_days": "three"}}`:            "settings",
	}
	for doc, field := range cases {
		_, err := ParseSettings(DefaultSettings(), []byte(doc))
		if err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("%s: want an error naming %s, got %v", doc, field, err)
		}
	}
}

func TestOverridesKeepDefaults(t *testing.T) {
	base := DefaultSettings()
	base.HelpURLs = map[string]string{"tracking": "https://a.example/t"}
	s, err := ParseSettings(base, []byte(`{"help_urls": {"damaged": "https://a.example/d"}, "stall": {"no_scan_days": 5}}`))
	if err != nil {
		t.Fatal(err)
	}
	if s.HelpURLs["tracking"] == "" || s.HelpURLs["damaged"] == "" || s.Stall.NoScanDays != 5 || s.Stall.UnshippedBusinessDays != 4 {
		t.Fatalf("merge lost a default: %+v", s)
	}
	if len(base.HelpURLs) != 1 {
		t.Fatal("parsing must not change the base")
	}
}

func TestQuietHours(t *testing.T) {
	s, err := ParseSettings(DefaultSettings(), []byte(`{"time_zone": "America/New_York"}`))
	if err != nil {
		t.Fatal(err)
	}
	ny, _ := time.LoadLocation("America/New_York")
	at := func(h, m int) time.Time { return time.Date(2026, 6, 10, h, m, 0, 0, ny) }
	cases := []struct {
		t    time.Time
		want time.Time
	}{
		{at(20, 59), time.Time{}},
		{at(21, 0), time.Date(2026, 6, 11, 8, 0, 0, 0, ny)},
		{at(23, 30), time.Date(2026, 6, 11, 8, 0, 0, 0, ny)},
		{at(3, 0), time.Date(2026, 6, 10, 8, 0, 0, 0, ny)},
		{at(8, 0), time.Time{}},
		{at(12, 0), time.Time{}},
	}
	for _, c := range cases {
		if got := s.QuietUntil(c.t); !got.Equal(c.want) {
			t.Errorf("QuietUntil(%s) = %s, want %s", c.t, got, c.want)
		}
	}
}

func TestAddBusinessDaysSkipsWeekends(t *testing.T) {
	s := DefaultSettings()
	fri := time.Date(2026, 1, 9, 10, 0, 0, 0, time.UTC)
	if got := s.AddBusinessDays(fri, 4); !got.Equal(time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC)) {
		t.Fatalf("Friday + 4 business days = %s, want Thursday", got)
	}
}
