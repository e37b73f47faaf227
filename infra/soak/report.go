package main

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"
)

var categories = []string{"transactional", "marketing", "team"}

// line is one category's comparison.
type line struct {
	Expected, Delivered, Lost, Duplicated, Extra int
	// SenderDied are the duplicates every earlier 2xx of which went to a
	// process a fault then killed (or timed out) before it recorded the
	// delivery: at least once allows them, the receiver dedupes on the id.
	SenderDied int
	// RedactedFirst are the lost messages the faulty run suppressed because
	// their customer's redaction (a later phase) was applied before the
	// faults' retries let them go: a redaction stops every message, so
	// suppressing is right, and the clean run only sent them because it
	// got there before the redaction.
	RedactedFirst   int
	LostIDs, DupIDs []string
}

// redactedDecision is the faulty run's ledger decision for a message whose
// customer's keyed tombstone dispatch found.
const redactedDecision = "suppressed: customer redacted"

type report struct {
	N        int
	Opts     options
	Clean    *outcome
	Faulty   *outcome
	By       map[string]*line
	Total    line
	CleanDup int
	Elapsed  time.Duration
}

func category(r received) string {
	if r.Audience == "team" {
		return "team"
	}
	return r.Category
}

// compare: expected are the ids the clean run delivered; lost those the
// faulty run never delivered; duplicated, for transactional and team, ids
// answered 2xx more than once, and for marketing (at most once) ids that
// reached the receiver more than once, counting attempts whose outcome the
// sender could not know.
func compare(n int, c, f *outcome, o options, elapsed time.Duration) *report {
	r := &report{N: n, Opts: o, Clean: c, Faulty: f, By: map[string]*line{}, Elapsed: elapsed}
	for _, k := range categories {
		r.By[k] = &line{}
	}
	get := func(rc received) *line {
		l := r.By[category(rc)]
		if l == nil {
			l = &line{}
			r.By[category(rc)] = l
		}
		return l
	}
	dup := func(rc received) bool {
		if rc.Category == "marketing" && rc.Audience != "team" {
			return rc.OK+rc.Unknown > 1
		}
		return rc.OK > 1
	}
	for id, rc := range c.Sink {
		if rc.OK == 0 {
			continue
		}
		if dup(rc) {
			r.CleanDup++
		}
		l := get(rc)
		l.Expected++
		if fr, ok := f.Sink[id]; !ok || fr.OK == 0 {
			l.Lost++
			d := f.Ledger[id]
			if d == "" {
				d = "none"
			}
			why := ""
			if d == redactedDecision {
				l.RedactedFirst++
				why = " (the customer's redaction came first)"
			}
			l.LostIDs = append(l.LostIDs, fmt.Sprintf("%s %s; the faulty run's ledger: %s%s; faults on it: %v", id, rc.Kind, d, why, f.ItemFaults[id]))
		}
	}
	for id, rc := range f.Sink {
		l := get(rc)
		if rc.OK > 0 {
			l.Delivered++
			if cr, ok := c.Sink[id]; !ok || cr.OK == 0 {
				l.Extra++
			}
		}
		if dup(rc) {
			l.Duplicated++
			why := ""
			if rc.Category != "marketing" || rc.Audience == "team" {
				if senderDied(rc, f.Died) {
					l.SenderDied++
					why = "; the sender died after the 2xx, before its record"
				}
			}
			l.DupIDs = append(l.DupIDs, fmt.Sprintf("%s %s (2xx %d from %s, unknown outcome %d, attempts %d)%s; faults on it: %v", id, rc.Kind, rc.OK, senders(rc.From, f.Died), rc.Unknown, rc.Attempts, why, f.ItemFaults[id]))
		}
	}
	for _, l := range r.By {
		sort.Strings(l.LostIDs)
		sort.Strings(l.DupIDs)
		r.Total.Expected += l.Expected
		r.Total.Delivered += l.Delivered
		r.Total.Lost += l.Lost
		r.Total.Duplicated += l.Duplicated
		r.Total.SenderDied += l.SenderDied
		r.Total.RedactedFirst += l.RedactedFirst
		r.Total.Extra += l.Extra
	}
	return r
}

// senderDied: every 2xx but the last went to a process that died before it
// could record the delivery, the one window at least once leaves open. A
// sender the sink could not find among the stack's running bootstraps
// while it answered (pid 0) was already gone: it never read the answer.
func senderDied(rc received, died map[int]bool) bool {
	if len(rc.From) < 2 {
		return false
	}
	for _, pid := range rc.From[:len(rc.From)-1] {
		if pid != 0 && !died[pid] {
			return false
		}
	}
	return true
}

// senders names the processes that answered 2xx, the dead ones marked.
func senders(from []int, died map[int]bool) string {
	var out []string
	for _, pid := range from {
		s := "pid " + strconv.Itoa(pid)
		if pid == 0 {
			s = "a process gone as it was answered"
		} else if died[pid] {
			s += " (died)"
		}
		out = append(out, s)
	}
	return strings.Join(out, ", ")
}

// ok: transactional and team lose nothing but what a redaction stops, and
// duplicate nothing but what their at-least-once delivery allows (a sender
// killed between the 2xx and its record); marketing never duplicates.
func (r *report) ok() bool {
	for _, k := range []string{"transactional", "team"} {
		if r.By[k].Lost > r.By[k].RedactedFirst || r.By[k].Duplicated > r.By[k].SenderDied {
			return false
		}
	}
	return r.By["marketing"].Duplicated == 0
}

func (r *report) print(w io.Writer) {
	mode := "random faults"
	if r.Opts.Outage != "" {
		mode = fmt.Sprintf("%s down for %s", r.Opts.Outage, r.Opts.Window)
	}
	fmt.Fprintf(w, "soak: N=%d seed=%d, %s; clean run %s, faulty run %s, total %s\n", r.N, r.Opts.Seed, mode,
		r.Clean.Elapsed.Round(time.Second), r.Faulty.Elapsed.Round(time.Second), r.Elapsed.Round(time.Second))
	if r.Opts.Receives["InboxQueue"]+r.Opts.Receives["OutboundQueue"] > 0 {
		fmt.Fprintf(w, "maxReceiveCount tried instead of the template's: %v\n", r.Opts.Receives)
	}
	fmt.Fprintf(w, "\n%-14s %9s %10s %6s %14s %11s %13s %6s\n", "category", "expected", "delivered", "lost", "redacted first", "duplicated", "sender died", "extra")
	for _, k := range append(append([]string(nil), categories...), otherCats(r.By)...) {
		l := r.By[k]
		fmt.Fprintf(w, "%-14s %9d %10d %6d %14d %11d %13d %6d\n", k, l.Expected, l.Delivered, l.Lost, l.RedactedFirst, l.Duplicated, l.SenderDied, l.Extra)
	}
	fmt.Fprintln(w, "(redacted first: lost because the faulty run applied the customer's redaction before the message's retries\n let it go, and a redaction stops every message; sender died: duplicates whose earlier copy was answered 2xx\n and its sender killed before recording it; at least once allows them and the receiver drops them by X-Aftercare-Message-Id)")
	kinds := map[string]int{}
	for _, rc := range r.Clean.Sink {
		if rc.OK > 0 {
			kinds[rc.Kind]++
		}
	}
	var names []string
	for k := range kinds {
		names = append(names, k)
	}
	sort.Strings(names)
	fmt.Fprint(w, "expected by kind:")
	for _, k := range names {
		fmt.Fprintf(w, " %s %d", k, kinds[k])
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "\n%-22s %7s\n", "fault injected", "count")
	for _, k := range append(append([]string(nil), faultKinds...), FaultOutage) {
		if r.Opts.Outage != "" && k != FaultOutage {
			continue
		}
		fmt.Fprintf(w, "%-22s %7d\n", k, r.Faulty.FaultCount[k])
	}
	if m := r.Faulty.FaultCount["kill_missed"]; m > 0 {
		fmt.Fprintf(w, "%-22s %7d\n", "kill_missed (exited)", m)
	}
	fmt.Fprintf(w, "%-22s %7d\n", "webhook posts retried", r.Faulty.Retried)
	if r.Opts.Outage != "" {
		fmt.Fprintf(w, "\nneeded a manual redrive: %d dead letters\n", len(r.Faulty.Redriven))
	}
	fmt.Fprintf(w, "\ndead-lettered: inbox %d, outbound %d (clean run: %d, %d)\n", r.Faulty.DeadInbox, len(r.Faulty.DeadOut), r.Clean.DeadInbox, len(r.Clean.DeadOut))
	if r.CleanDup > 0 || r.Clean.BadSigs+r.Faulty.BadSigs > 0 {
		fmt.Fprintf(w, "clean run duplicates %d; bad signatures %d\n", r.CleanDup, r.Clean.BadSigs+r.Faulty.BadSigs)
	}
	for _, o := range []*outcome{r.Clean, r.Faulty} {
		if len(o.Rejected) > 0 {
			fmt.Fprintf(w, "webhooks refused: %v\n", o.Rejected)
		}
		if len(o.Undrained) > 0 {
			fmt.Fprintf(w, "did not drain in time: %s\n", strings.Join(o.Undrained, ", "))
		}
	}
	show := func(what string, ids []string) {
		for i, id := range ids {
			if i == 20 {
				fmt.Fprintf(w, "  ... %d more\n", len(ids)-20)
				break
			}
			fmt.Fprintf(w, "  %s %s\n", what, id)
		}
	}
	for _, k := range categories {
		show(k+" lost", r.By[k].LostIDs)
		show(k+" duplicated", r.By[k].DupIDs)
	}
	show("dead letter", r.Faulty.DeadOut)
	show("dead letter", r.Faulty.DeadIn)
	show("redriven", r.Faulty.Redriven)
	fmt.Fprintf(w, "soak: %d webhooks, %d messages expected, lost %d, duplicated %d\n", r.N, r.Total.Expected, r.Total.Lost, r.Total.Duplicated)
}

func otherCats(by map[string]*line) []string {
	var out []string
	for k := range by {
		if k != "transactional" && k != "marketing" && k != "team" {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}
