package aftercare

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/mail"
	"net/url"
	"sort"
	"strings"
	"time"
)

// Settings is everything a merchant can change. Defaults come from the
// environment (AFTERCARE_SETTINGS); each shop may override any field in the
// table. infra/settings.example.json documents every field.
type Settings struct {
	ShopName     string `json:"shop_name"`
	SupportEmail string `json:"support_email"`
	SupportPhone string `json:"support_phone"`
	// HelpURLs by issue type: tracking, delay, failed_delivery, damaged, lost,
	// returned, backorder, setup, review, shop, support.
	HelpURLs map[string]string `json:"help_urls"`
	// DiscountCodes by message kind: win_back, lapse_note (and any other kind).
	DiscountCodes map[string]string `json:"discount_codes"`
	TimeZone      string            `json:"time_zone"`

	// EmailFrom is the shop's verified SES sender ("Shop <news@shop.example>");
	// empty uses support_email. TeamEmail gets team messages (support tasks,
	// data requests, the weekly report); empty uses support_email.
	EmailFrom string   `json:"email_from"`
	TeamEmail string   `json:"team_email"`
	Channels  Channels `json:"channels"`

	FollowUps FollowUps `json:"follow_ups"`
	Stall     Stall     `json:"stall"`
	Holds     Holds     `json:"holds"`
	Caps      Caps      `json:"caps"`
	// Replenishment maps a product id to the days its purchase lasts.
	Replenishment map[string]int `json:"replenishment_days"`

	loc *time.Location
}

// FollowUps are the lifecycle delays, in days.
type FollowUps struct {
	ReviewRequestDays int     `json:"review_request_days"`
	CareTipsDays      int     `json:"care_tips_days"`
	CheckInDays       int     `json:"check_in_days"`
	WinBackDays       int     `json:"win_back_days"`
	StaleAfterDays    int     `json:"stale_after_days"`
	LapseMinOrders    int     `json:"lapse_min_orders"`
	LapseGapFactor    float64 `json:"lapse_gap_factor"`
	LapseMinDays      int     `json:"lapse_min_days"`
}

// Stall says when a quiet parcel or an unshipped order opens a delay playbook.
type Stall struct {
	NoScanDays            int `json:"no_scan_days"`
	UnshippedBusinessDays int `json:"unshipped_business_days"`
}

// Holds bound how long marketing waits after a problem.
type Holds struct {
	CancelledDays int `json:"cancelled_days"`
	MaxDays       int `json:"max_days"` // no hold outlives this, so nobody is held forever
}

// Caps limit marketing volume and SMS timing.
type Caps struct {
	MarketingPerHours int    `json:"marketing_per_hours"` // at most one marketing message per this many hours
	QuietStart        string `json:"quiet_hours_start"`   // "21:00" in the shop's time zone
	QuietEnd          string `json:"quiet_hours_end"`     // "08:00"
}

// Channels choose a provider per channel for this shop; empty keeps the
// deployment's default (EMAIL_PROVIDER, SMS_PROVIDER).
type Channels struct {
	EmailProvider string `json:"email_provider"` // ses | webhook | log
	SMSProvider   string `json:"sms_provider"`   // sns | webhook | log
}

// Sender is the From of the shop's emails.
func (s Settings) Sender() string {
	if s.EmailFrom != "" {
		return s.EmailFrom
	}
	return s.SupportEmail
}

// TeamAddress is where the shop's team messages go.
func (s Settings) TeamAddress() string {
	if s.TeamEmail != "" {
		return s.TeamEmail
	}
	return s.SupportEmail
}

// HelpIssues are the issue types help links are kept for.
var HelpIssues = []string{"tracking", "delay", "failed_delivery", "damaged", "lost", "returned", "backorder", "setup", "review", "shop", "support"}

// DefaultSettings are the SPEC defaults.
func DefaultSettings() Settings {
	return Settings{
		ShopName:      "our shop",
		SupportEmail:  "support@example.com",
		HelpURLs:      map[string]string{},
		DiscountCodes: map[string]string{},
		TimeZone:      "UTC",
		FollowUps: FollowUps{
			ReviewRequestDays: 7, CareTipsDays: 14, CheckInDays: 90, WinBackDays: 90,
			StaleAfterDays: 7, LapseMinOrders: 3, LapseGapFactor: 2, LapseMinDays: 30,
		},
		Stall:         Stall{NoScanDays: 3, UnshippedBusinessDays: 4},
		Holds:         Holds{CancelledDays: 14, MaxDays: 30},
		Caps:          Caps{MarketingPerHours: 24, QuietStart: "21:00", QuietEnd: "08:00"},
		Replenishment: map[string]int{},
		loc:           time.UTC,
	}
}

// ParseSettings decodes doc over base (fields absent from doc keep base's value)
// and validates the result. Errors name the offending field.
func ParseSettings(base Settings, doc []byte) (Settings, error) {
	s := base.clone()
	doc = bytes.TrimSpace(doc)
	if len(doc) > 0 {
		dec := json.NewDecoder(bytes.NewReader(doc))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&s); err != nil {
			return Settings{}, Errorf(EINVALID, "settings: %v", err)
		}
	}
	if err := s.Validate(); err != nil {
		return Settings{}, err
	}
	return s, nil
}

func (s Settings) clone() Settings {
	c := s
	c.HelpURLs = cloneMap(s.HelpURLs)
	c.DiscountCodes = cloneMap(s.DiscountCodes)
	c.Replenishment = cloneMap(s.Replenishment)
	return c
}

func cloneMap[V any](m map[string]V) map[string]V {
	c := make(map[string]V, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// Validate checks every field and prepares the time zone.
func (s *Settings) Validate() error {
	bad := func(field, format string, args ...any) error {
		return Errorf(EINVALID, "settings.%s: %s", field, fmt.Sprintf(format, args...))
	}
	if strings.TrimSpace(s.ShopName) == "" {
		return bad("shop_name", "must not be empty")
	}
	if s.SupportEmail == "" && s.SupportPhone == "" {
		return bad("support_email", "a support email or support_phone is required")
	}
	if s.SupportEmail != "" {
		if _, err := mail.ParseAddress(s.SupportEmail); err != nil {
			return bad("support_email", "%q is not an email address", s.SupportEmail)
		}
	}
	for _, a := range []struct{ field, v string }{{"email_from", s.EmailFrom}, {"team_email", s.TeamEmail}} {
		if a.v != "" {
			if _, err := mail.ParseAddress(a.v); err != nil {
				return bad(a.field, "%q is not an email address", a.v)
			}
		}
	}
	if p := s.Channels.EmailProvider; p != "" && p != "ses" && p != "webhook" && p != "log" {
		return bad("channels.email_provider", "%q is not one of ses, webhook, log", p)
	}
	if p := s.Channels.SMSProvider; p != "" && p != "sns" && p != "webhook" && p != "log" {
		return bad("channels.sms_provider", "%q is not one of sns, webhook, log", p)
	}
	for _, k := range sortedKeys(s.HelpURLs) {
		u, err := url.Parse(s.HelpURLs[k])
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return bad("help_urls."+k, "%q is not an http(s) URL", s.HelpURLs[k])
		}
		if !contains(HelpIssues, k) {
			return bad("help_urls."+k, "unknown issue type (known: %s)", strings.Join(HelpIssues, ", "))
		}
	}
	for _, k := range sortedKeys(s.DiscountCodes) {
		if !Kind(k).Valid() {
			return bad("discount_codes."+k, "unknown message kind")
		}
	}
	loc, err := time.LoadLocation(s.TimeZone)
	if err != nil || s.TimeZone == "" {
		return bad("time_zone", "%q is not an IANA time zone", s.TimeZone)
	}
	s.loc = loc
	positive := []struct {
		name string
		v    int
	}{
		{"follow_ups.review_request_days", s.FollowUps.ReviewRequestDays},
		{"follow_ups.care_tips_days", s.FollowUps.CareTipsDays},
		{"follow_ups.check_in_days", s.FollowUps.CheckInDays},
		{"follow_ups.win_back_days", s.FollowUps.WinBackDays},
		{"follow_ups.stale_after_days", s.FollowUps.StaleAfterDays},
		{"follow_ups.lapse_min_orders", s.FollowUps.LapseMinOrders},
		{"follow_ups.lapse_min_days", s.FollowUps.LapseMinDays},
		{"stall.no_scan_days", s.Stall.NoScanDays},
		{"stall.unshipped_business_days", s.Stall.UnshippedBusinessDays},
		{"holds.cancelled_days", s.Holds.CancelledDays},
		{"holds.max_days", s.Holds.MaxDays},
		{"caps.marketing_per_hours", s.Caps.MarketingPerHours},
	}
	for _, p := range positive {
		if p.v <= 0 {
			return bad(p.name, "must be a positive number, got %d", p.v)
		}
	}
	if s.FollowUps.LapseMinOrders < 2 {
		return bad("follow_ups.lapse_min_orders", "needs at least 2 orders to have a gap, got %d", s.FollowUps.LapseMinOrders)
	}
	if s.FollowUps.LapseGapFactor < 1 {
		return bad("follow_ups.lapse_gap_factor", "must be at least 1, got %g", s.FollowUps.LapseGapFactor)
	}
	if _, err := clock(s.Caps.QuietStart); err != nil {
		return bad("caps.quiet_hours_start", "%v", err)
	}
	if _, err := clock(s.Caps.QuietEnd); err != nil {
		return bad("caps.quiet_hours_end", "%v", err)
	}
	for _, k := range sortedKeys(s.Replenishment) {
		if s.Replenishment[k] <= 0 {
			return bad("replenishment_days."+k, "must be a positive number of days, got %d", s.Replenishment[k])
		}
	}
	return nil
}

// Location is the shop's time zone.
func (s Settings) Location() *time.Location {
	if s.loc == nil {
		if loc, err := time.LoadLocation(s.TimeZone); err == nil {
			return loc
		}
		return time.UTC
	}
	return s.loc
}

// Days turns a day count into a duration.
func Days(n int) time.Duration { return time.Duration(n) * 24 * time.Hour }

// AddBusinessDays moves t forward n weekdays in the shop's time zone, keeping
// the time of day.
func (s Settings) AddBusinessDays(t time.Time, n int) time.Time {
	lt := t.In(s.Location())
	for n > 0 {
		lt = lt.AddDate(0, 0, 1)
		if wd := lt.Weekday(); wd != time.Saturday && wd != time.Sunday {
			n--
		}
	}
	return lt.UTC()
}

// QuietUntil returns when SMS may go out if t falls in the shop's quiet hours,
// or the zero time when t is fine.
func (s Settings) QuietUntil(t time.Time) time.Time {
	start, _ := clock(s.Caps.QuietStart)
	end, _ := clock(s.Caps.QuietEnd)
	if start == end {
		return time.Time{}
	}
	lt := t.In(s.Location())
	mins := lt.Hour()*60 + lt.Minute()
	midnight := time.Date(lt.Year(), lt.Month(), lt.Day(), 0, 0, 0, 0, lt.Location())
	at := func(day time.Time, m int) time.Time {
		return time.Date(day.Year(), day.Month(), day.Day(), m/60, m%60, 0, 0, day.Location()).UTC()
	}
	if start > end { // spans midnight, e.g. 21:00-08:00
		switch {
		case mins >= start:
			return at(midnight.AddDate(0, 0, 1), end)
		case mins < end:
			return at(midnight, end)
		}
		return time.Time{}
	}
	if mins >= start && mins < end {
		return at(midnight, end)
	}
	return time.Time{}
}

// HelpURL is the help link for an issue type, falling back to the general one.
func (s Settings) HelpURL(issue string) string {
	if u := s.HelpURLs[issue]; u != "" {
		return u
	}
	if u := s.HelpURLs["support"]; u != "" {
		return u
	}
	return ""
}

// SupportContact is how a customer reaches the shop.
func (s Settings) SupportContact() string {
	switch {
	case s.SupportEmail != "" && s.SupportPhone != "":
		return s.SupportEmail + " or " + s.SupportPhone
	case s.SupportEmail != "":
		return s.SupportEmail
	}
	return s.SupportPhone
}

func clock(v string) (int, error) {
	t, err := time.Parse("15:04", v)
	if err != nil {
		return 0, fmt.Errorf("%q is not a HH:MM time", v)
	}
	return t.Hour()*60 + t.Minute(), nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func contains(list []string, v string) bool {
	for _, s := range list {
		if s == v {
			return true
		}
	}
	return false
}
