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
	// Redelivered (transactional and team) are ids answered 2xx more than
	// once; SenderDied those every earlier 2xx of which went to a process a
	// fault then killed (or timed out) before it recorded the delivery. At
	// least once allows them: the receiver drops them by X-Aftercare-Message-Id,
	// so they are not duplicates as it sees them. Any other redelivery is.
	Redelivered, SenderDied int
	// RedactedFirst are the lost messages the faulty run's ledger records as
	// suppressed by the customer's redaction. They still count as lost: the
	// redactions come in a phase of their own, after every other webhook has
	// drained, so a message suppressed by one was held too long.
	RedactedFirst   int
	LostIDs, DupIDs []string
}

// redactedDecision is the faulty run's ledger decision for a message whose
// customer's keyed tombstone dispatch found.
const redactedDecision = "suppressed: customer redacted"

type report struct {
	// CountersBad are report counters the faulty run has other than the
	// clean run; CountersAllowed the differences a lost marketing attempt
	// explains.
	CountersBad, CountersAllowed []string
	N                            int
	Opts                         options
	Clean                        *outcome
	Faulty                       *outcome
	By                           map[string]*line
	Total                        line
	CleanDup                     int
	Elapsed                      time.Duration
}

func category(r received) string {
	if r.Audience == "team" {
		return "team"
	}
	return r.Category
}

// compare: expected are the ids the clean run delivered; lost those the
// faulty run never delivered. Duplicated counts what a receiver acts on
// twice. For transactional and team (at least once, the receiver dedupes on
// X-Aftercare-Message-Id) that is an id answered 2xx again without its
// earlier sender having died before it could record it, or a message the
// clean run never sent (the same cause under another id). For marketing (at
// most once) it is an id that reached the receiver more than once, counting
// attempts whose outcome the sender could not know.
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
	atMostOnce := func(rc received) bool { return rc.Category == "marketing" && rc.Audience != "team" }
	for id, rc := range c.Sink {
		if rc.OK == 0 {
			continue
		}
		if rc.OK > 1 || atMostOnce(rc) && rc.Unknown > 0 {
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
				why = " (held past its customer's redaction)"
			}
			l.LostIDs = append(l.LostIDs, fmt.Sprintf("%s %s (order %s); the faulty run's ledger: %s%s; faults on it: %v", id, rc.Kind, orderOf(rc), d, why, f.ItemFaults[id]))
		}
	}
	for id, rc := range f.Sink {
		l := get(rc)
		detail := func() string {
			return fmt.Sprintf("%s %s (order %s; 2xx %d from %s, unknown outcome %d, attempts %d)", id, rc.Kind, orderOf(rc), rc.OK, senders(rc.From, f.Died), rc.Unknown, rc.Attempts)
		}
		extra := false
		if rc.OK > 0 {
			l.Delivered++
			if cr, ok := c.Sink[id]; !ok || cr.OK == 0 {
				l.Extra++
				extra = true
			}
		}
		if atMostOnce(rc) {
			if rc.OK+rc.Unknown > 1 {
				l.Duplicated++
				l.DupIDs = append(l.DupIDs, fmt.Sprintf("%s; faults on it: %v", detail(), f.ItemFaults[id]))
			}
			continue
		}
		switch {
		case rc.OK > 1:
			l.Redelivered++
			if senderDied(rc, f.Died) {
				l.SenderDied++
				break
			}
			l.Duplicated++
			l.DupIDs = append(l.DupIDs, fmt.Sprintf("%s, a sender alive after its 2xx sent it again; faults on it: %v", detail(), f.ItemFaults[id]))
		case extra:
			l.Duplicated++
			l.DupIDs = append(l.DupIDs, fmt.Sprintf("%s, never sent by the clean run; faults on it: %v", detail(), f.ItemFaults[id]))
		}
	}
	lostMarketing := map[string]bool{}
	for id, rc := range c.Sink {
		if fr, ok := f.Sink[id]; rc.OK > 0 && rc.Category == "marketing" && (!ok || fr.OK == 0) {
			lostMarketing[rc.Kind] = true
		}
	}
	r.CountersBad, r.CountersAllowed = counterDiff(c.Counters, f.Counters, lostMarketing)
	for _, l := range r.By {
		sort.Strings(l.LostIDs)
		sort.Strings(l.DupIDs)
		r.Total.Expected += l.Expected
		r.Total.Delivered += l.Delivered
		r.Total.Lost += l.Lost
		r.Total.Duplicated += l.Duplicated
		r.Total.Redelivered += l.Redelivered
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

// ok: nothing lost, nothing a receiver acts on twice, and every phase
// drained (else the comparison with the clean run proves nothing).
func (r *report) ok() bool {
	for k, l := range r.By {
		// Marketing may lose an attempt of unknown outcome: at most once.
		if l.Duplicated > 0 || l.Lost > 0 && k != "marketing" {
			return false
		}
	}
	return len(r.Faulty.Undrained)+len(r.Clean.Undrained) == 0 && len(r.CountersBad) == 0
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
	fmt.Fprintf(w, "\n%-14s %9s %10s %6s %11s %6s %12s %12s\n", "category", "expected", "delivered", "lost", "duplicated", "extra", "same id 2xx", "sender died")
	for _, k := range append(append([]string(nil), categories...), otherCats(r.By)...) {
		l := r.By[k]
		fmt.Fprintf(w, "%-14s %9d %10d %6d %11d %6d %12d %12d\n", k, l.Expected, l.Delivered, l.Lost, l.Duplicated, l.Extra, l.Redelivered, l.SenderDied)
	}
	fmt.Fprintln(w, "(duplicated: what the receiver acts on twice. Transactional and team are at least once and the receiver\n drops a copy by X-Aftercare-Message-Id: \"same id 2xx\" are ids answered 2xx more than once, \"sender died\" those\n whose every earlier 2xx went to a sender killed before it could record it, the window only the receiver's\n dedupe closes; any other same-id copy, and any message the clean run never sent, is duplicated.\n Marketing is at most once: any second attempt reaching the receiver is duplicated.)")
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
	n := 0
	for _, cs := range r.Clean.Counters {
		n += len(cs)
	}
	fmt.Fprintf(w, "report counters: %d in %d day items; the faulty run's differ in %d, %d of them explained by a lost marketing attempt\n",
		n, len(r.Clean.Counters), len(r.CountersBad)+len(r.CountersAllowed), len(r.CountersAllowed))
	for _, d := range r.CountersBad {
		fmt.Fprintf(w, "  counter differs: %s\n", d)
	}
	for _, d := range r.CountersAllowed {
		fmt.Fprintf(w, "  counter differs (a marketing attempt of unknown outcome): %s\n", d)
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
	if !r.ok() {
		fmt.Fprintln(w, "soak: FAILED: a message lost or duplicated as listed above, or a phase did not drain")
	}
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

// orderOf names a message's order, for following its events in a -v log.
func orderOf(rc received) string {
	if rc.Order == "" {
		return "none"
	}
	return rc.Order
}
