package devstack_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/aftercare/aftercare/infra/devstack"
)

func TestParseRate(t *testing.T) {
	good := map[string]time.Duration{
		"rate(1 minute)": time.Minute, "rate(5 minutes)": 5 * time.Minute, "rate(1 hour)": time.Hour,
		"rate(12 hours)": 12 * time.Hour, "rate(1 day)": 24 * time.Hour, "rate(7 days)": 7 * 24 * time.Hour,
		" rate( 2 hours ) ": 2 * time.Hour,
	}
	for expr, want := range good {
		if got, err := devstack.ParseRate(expr); err != nil || got != want {
			t.Errorf("ParseRate(%q) = %s, %v; want %s", expr, got, err, want)
		}
	}
	for _, expr := range []string{"rate(0 minutes)", "rate(1 second)", "rate(minutes)", "rate(-1 hour)", "cron(0 * * * ? *)", "rate(1.5 hours)", ""} {
		if _, err := devstack.ParseRate(expr); err == nil {
			t.Errorf("ParseRate(%q) succeeded", expr)
		}
	}
}

// The template's ScheduleV2 runs LifecycleChecksFunction on CheckSchedule with
// its Input, the scheduled time filled in; a cron() expression is listed but
// not run.
func TestSchedulesFromTemplate(t *testing.T) {
	root, _ := devstack.ProjectRoot()
	tpl, err := devstack.LoadTemplate(root + "/template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	names := &devstack.Names{Params: map[string]string{"CheckSchedule": "rate(1 hour)"}}
	scheds, err := devstack.Schedules(tpl.Functions(), names)
	if err != nil {
		t.Fatal(err)
	}
	if len(scheds) != 1 || scheds[0].Function != "LifecycleChecksFunction" || scheds[0].Every != time.Hour || scheds[0].Type != "ScheduleV2" {
		t.Fatalf("schedules = %+v", scheds)
	}
	at := time.Date(2015, 11, 23, 10, 0, 0, 0, time.FixedZone("x", 3600))
	var in struct{ Check, ScheduledTime string }
	b := scheds[0].Payload(at)
	if err := json.Unmarshal(b, &struct {
		Check         *string `json:"check"`
		ScheduledTime *string `json:"scheduled_time"`
	}{&in.Check, &in.ScheduledTime}); err != nil {
		t.Fatalf("payload %s: %v", b, err)
	}
	if in.Check != "all" || in.ScheduledTime != "2015-11-23T09:00:00Z" {
		t.Errorf("payload = %s", b)
	}

	names.Params["CheckSchedule"] = "cron(0 9 * * ? *)"
	scheds, err = devstack.Schedules(tpl.Functions(), names)
	if err != nil || len(scheds) != 1 || scheds[0].Every != 0 {
		t.Errorf("cron schedule = %+v, %v", scheds, err)
	}
	names.Params["CheckSchedule"] = "rate(0 hours)"
	if _, err := devstack.Schedules(tpl.Functions(), names); err == nil {
		t.Error("rate(0 hours) was accepted")
	}
}
