package chaos

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/clouddc-tf/terraform-provider-clouddc/internal/simulator"
)

// Pin is a schedule a regression test can hold on to: a seed, and the
// steps and faults of its schedule that a shrink kept (nil keeps all).
type Pin struct {
	Seed   uint64
	Steps  []int
	Faults []int
	// Invariant is the invariant the schedule broke when it was pinned.
	Invariant int
}

// Mask is the pin's mask over its seed's schedule.
func (p Pin) Mask() Mask {
	return Mask{Steps: setOf(p.Steps), Faults: setOf(p.Faults)}
}

func setOf(xs []int) map[int]bool {
	if xs == nil {
		return nil
	}
	m := make(map[int]bool, len(xs))
	for _, x := range xs {
		m[x] = true
	}
	return m
}

// GoString prints the pin as a Go literal for pinned_test.go.
func (p Pin) GoString() string {
	list := func(xs []int) string {
		if xs == nil {
			return "nil"
		}
		parts := make([]string, len(xs))
		for i, x := range xs {
			parts[i] = fmt.Sprint(x)
		}
		return "[]int{" + strings.Join(parts, ", ") + "}"
	}
	return fmt.Sprintf("{Seed: %d, Steps: %s, Faults: %s, Invariant: %d}", p.Seed, list(p.Steps), list(p.Faults), p.Invariant)
}

func describeOp(st Step) string {
	switch st.Op {
	case OpImport:
		return fmt.Sprintf("%s %s", st.Op, st.Address)
	case OpSwitch:
		how := "project_id"
		if st.Lookup {
			how = "region lookup"
		}
		return fmt.Sprintf("%s: %s in project B (%s)", st.Op, st.Then, how)
	case OpByHand:
		return fmt.Sprintf("%s %s", st.Op, strings.Join(st.Names, ", "))
	}
	if st.Interrupt > 0 {
		return fmt.Sprintf("%s, Ctrl-C after %s", st.Op, st.Interrupt.Round(time.Millisecond))
	}
	return string(st.Op)
}

func describeFault(f Fault) string {
	var s string
	switch f.Kind {
	case FaultQueue:
		s = describeSimFault(f.Sim)
	case FaultFailNext:
		s = "the next " + f.Op + " ends in error"
	case FaultPageCap:
		s = fmt.Sprintf("pages capped at %d items whatever limit asks", f.N)
	case FaultIgnoreFilter:
		s = "ListInstances ignores instance_id (lists the whole project)"
	case FaultOpLag:
		s = fmt.Sprintf("reinstalls and IP changes show %s late", f.D)
	case FaultVanish:
		s = "terminated instances vanish at once"
	case FaultLegacy:
		s = "2025 state names"
	case FaultLatency:
		s = fmt.Sprintf("%s answers %s late", opOrAll(f.Op), f.D)
	case FaultFailureRate:
		s = fmt.Sprintf("%.0f%% of %s fail with %d", 100*f.Rate, opOrAll(f.Op), f.N)
	case FaultRateLimit:
		s = fmt.Sprintf("rate limit %.0f/s, burst %d", f.Rate, f.N)
		if f.D > 0 {
			s += ", Retry-After " + f.D.String()
		}
	case FaultHoldDeletes:
		s = "deletions hang in shutting-down for " + f.D.String()
	case FaultNarrowToken:
		s = "the provider's token holds the instance permissions only"
	default:
		s = string(f.Kind)
	}
	if f.At > 0 {
		s += fmt.Sprintf(" (from %s into the command)", f.At.Round(time.Millisecond))
	}
	return fmt.Sprintf("#%d %s", f.ID, s)
}

func opOrAll(op string) string {
	if op == "" {
		return "every operation"
	}
	return op
}

func describeSimFault(f simulator.Fault) string {
	op := opOrAll(f.Op)
	n := ""
	if f.Count > 1 {
		n = fmt.Sprintf(" ×%d", f.Count)
	}
	switch {
	case f.Replay > 0:
		return fmt.Sprintf("%s answered, and replayed by the gateway %s later%s", op, f.Replay.Round(time.Millisecond), n)
	case f.Late > 0 && f.Hold > 0:
		return fmt.Sprintf("%s held with no answer until the client gives up, carried out %s after it arrived%s", op, f.Late.Round(time.Millisecond), n)
	case f.Late > 0:
		return fmt.Sprintf("%s answered %d at once, carried out %s later%s", op, f.Status, f.Late.Round(time.Millisecond), n)
	case f.Hold > 0:
		return fmt.Sprintf("%s carried out, answer held until the client gives up%s", op, n)
	case f.RawBody != nil:
		return fmt.Sprintf("%s carried out, answered %d with the body %q%s", op, f.Status, *f.RawBody, n)
	case f.IgnoreFilter || f.HideItems > 0 || f.LoseItems > 0:
		var parts []string
		if f.IgnoreFilter {
			parts = append(parts, "ignores instance_id")
		}
		if f.HideItems > 0 {
			parts = append(parts, fmt.Sprintf("hides %d instances and lowers count (a consistent, wrong listing)", f.HideItems))
		}
		if f.LoseItems > 0 {
			parts = append(parts, fmt.Sprintf("loses %d items and its marker, count stays", f.LoseItems))
		}
		return fmt.Sprintf("%s %s%s", op, strings.Join(parts, ", "), n)
	case f.Body != "":
		return fmt.Sprintf("%s answered %s%s", op, f.Body, n)
	case f.Gateway:
		return fmt.Sprintf("%s answered the gateway's %d%s", op, f.Status, n)
	case f.RedirectTo != "":
		return fmt.Sprintf("%s redirected to another host%s", op, n)
	case f.RetryAfterHeader != "":
		return fmt.Sprintf("%s answered 429 with Retry-After %s%s", op, f.RetryAfterHeader, n)
	case f.Drop && f.After:
		return fmt.Sprintf("%s carried out, connection dropped mid-answer%s", op, n)
	case f.Drop:
		return fmt.Sprintf("%s connection dropped before acting%s", op, n)
	case f.After:
		return fmt.Sprintf("%s carried out, then answered %d%s", op, f.Status, n)
	}
	extra := ""
	if f.RetryAfter > 0 {
		extra = ", Retry-After " + f.RetryAfter.String()
	}
	if f.PlainText {
		extra += ", plain text"
	}
	return fmt.Sprintf("%s answered %d before acting%s%s", op, f.Status, extra, n)
}

func describeBlocks(bs []Block) string {
	if len(bs) == 0 {
		return "(no resources)"
	}
	parts := make([]string, len(bs))
	for i, b := range bs {
		var attrs []string
		attrs = append(attrs, fmt.Sprintf("count=%d", b.Count), fmt.Sprintf("name=%q", b.InstanceName), "image=…"+b.Image[len(b.Image)-1:],
			fmt.Sprintf("nics=%d", len(b.Subnets)))
		if b.FixedIP > 0 {
			attrs = append(attrs, fmt.Sprintf("fixed_ip=.%d+i", b.FixedIP))
		}
		if b.WriteOnly {
			attrs = append(attrs, fmt.Sprintf("password_wo_version=%d", b.PasswordWOVersion))
		}
		if b.Power != "" {
			attrs = append(attrs, "power_state="+b.Power)
		}
		if b.Protect != nil {
			attrs = append(attrs, fmt.Sprintf("deletion_protection=%v", *b.Protect))
		}
		parts[i] = b.Name + "{" + strings.Join(attrs, " ") + "}"
	}
	return strings.Join(parts, " ")
}

// Describe prints the part of a schedule a mask keeps, one step a line.
func Describe(s Schedule, m Mask) string {
	var b strings.Builder
	cliName := "Terraform 1.5.7 (no identity)"
	if s.Identity {
		cliName = "Terraform 1.14.9 (identity)"
	}
	auth := "token"
	if s.AKSK {
		auth = "access key pair"
	}
	retries := "default"
	if s.MaxRetries >= 0 {
		retries = fmt.Sprint(s.MaxRetries)
	}
	fmt.Fprintf(&b, "seed %d: %s, %s, max_retries %s, retention %s\n", s.Seed, cliName, auth, retries, s.Retention)
	for i, st := range s.Steps {
		if !m.step(i) {
			continue
		}
		fmt.Fprintf(&b, "  step %d: %s", i, describeOp(st))
		if st.Op == OpApply || i == 0 {
			fmt.Fprintf(&b, " with %s", describeBlocks(st.Blocks))
		}
		b.WriteString("\n")
		for _, f := range st.Faults {
			if m.fault(f.ID) {
				fmt.Fprintf(&b, "      fault %s\n", describeFault(f))
			}
		}
	}
	return b.String()
}

// faultKey names a fault's kind, without its numbers, for grouping
// findings.
func faultKey(f Fault) string {
	if f.Kind != FaultQueue {
		if f.Op != "" && f.Kind != FaultFailNext {
			return string(f.Kind) + ":" + f.Op
		}
		if f.Kind == FaultFailNext {
			return "fail-next:" + f.Op
		}
		return string(f.Kind)
	}
	sf := f.Sim
	var k string
	switch {
	case sf.Replay > 0:
		k = "replay"
	case sf.Late > 0 && sf.Hold > 0:
		k = "late+hold"
	case sf.Late > 0:
		k = "late"
	case sf.Hold > 0:
		k = "hold"
	case sf.RawBody != nil:
		k = "raw-body"
	case sf.IgnoreFilter:
		k = "ignore-filter"
	case sf.HideItems > 0:
		k = "hide-items"
	case sf.LoseItems > 0:
		k = "lose-items"
	case sf.Body != "":
		k = "body"
	case sf.Gateway:
		k = "gateway-404"
	case sf.RedirectTo != "":
		k = "redirect"
	case sf.RetryAfterHeader != "":
		k = "retry-after-absurd"
	case sf.Drop && sf.After:
		k = "drop-after"
	case sf.Drop:
		k = "drop"
	case sf.After:
		k = fmt.Sprintf("%d-after", sf.Status)
	default:
		k = fmt.Sprint(sf.Status)
	}
	return opOrAll(sf.Op) + ":" + k
}

// Signature sums a shrunk finding up: its class, and the operations and
// faults it kept.
func (f Finding) Signature(s Schedule) string {
	m := f.Pin.Mask()
	var parts []string
	for i, st := range s.Steps {
		if !m.step(i) {
			continue
		}
		op := string(st.Op)
		if st.Op == OpSwitch {
			op += "(" + string(st.Then) + ")"
		}
		if st.Interrupt > 0 {
			op += "+ctrl-c"
		}
		var fs []string
		for _, fl := range st.Faults {
			if m.fault(fl.ID) {
				fs = append(fs, faultKey(fl))
			}
		}
		if len(fs) > 0 {
			op += "[" + strings.Join(fs, ",") + "]"
		}
		parts = append(parts, op)
	}
	cliName := "1.5"
	if s.Identity {
		cliName = "1.14"
	}
	return f.Violation.Class + " <- " + cliName + ": " + strings.Join(parts, " > ")
}

// Finding is a failing schedule, shrunk.
type Finding struct {
	Pin       Pin
	Violation Violation
	Schedule  string
	Trace     []string
}

func (f Finding) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "FAIL seed %d: %s\n", f.Pin.Seed, f.Violation)
	b.WriteString(f.Schedule)
	b.WriteString("  what happened:\n")
	for _, t := range f.Trace {
		b.WriteString("    " + t + "\n")
	}
	fmt.Fprintf(&b, "  pin: chaos.Pin%#v\n", f.Pin)
	return b.String()
}

// Shrink makes a failing schedule as small as it stays failing: first its
// steps, then its faults, by delta debugging. A candidate fails when one
// of tries runs breaks the invariant the same way (the same Class: a
// failure is real evidence); it passes only when all of them pass, since a
// run has timing noise.
func Shrink(ctx context.Context, s Schedule, first Violation, opts Options, tries int) Finding {
	inv, class := first.Invariant, first.Class
	fails := func(m Mask) (*Result, bool) {
		var (
			mu    sync.Mutex
			found *Result
			wg    sync.WaitGroup
		)
		for range tries {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := Run(ctx, s, m, opts)
				for _, v := range r.Violations {
					if v.Class == class {
						mu.Lock()
						if found == nil {
							found = r
						}
						mu.Unlock()
						return
					}
				}
			}()
		}
		wg.Wait()
		return found, found != nil
	}
	// Steps after the failing one cannot matter.
	var steps []int
	for i := range s.Steps {
		if i <= first.Step {
			steps = append(steps, i)
		}
	}
	var faults []int
	for _, st := range s.Steps {
		for _, f := range st.Faults {
			faults = append(faults, f.ID)
		}
	}
	mask := Mask{Steps: setOf(steps), Faults: setOf(faults)}
	last, ok := fails(mask)
	if !ok {
		// Cut short, it no longer fails: keep every step.
		steps = steps[:0]
		for i := range s.Steps {
			steps = append(steps, i)
		}
		mask.Steps = setOf(steps)
		last, ok = fails(mask)
		if !ok {
			return Finding{Pin: Pin{Seed: s.Seed, Invariant: inv}, Violation: first, Schedule: Describe(s, Mask{})}
		}
	}
	steps = ddmin(steps, func(keep []int) bool {
		r, ok := fails(Mask{Steps: setOf(keep), Faults: setOf(faults)})
		if ok {
			last = r
		}
		return ok
	})
	var kept []int
	for _, id := range faults {
		for _, i := range steps {
			if faultIn(s.Steps[i].Faults, id) {
				kept = append(kept, id)
			}
		}
	}
	faults = ddmin(kept, func(keep []int) bool {
		r, ok := fails(Mask{Steps: setOf(steps), Faults: setOf(keep)})
		if ok {
			last = r
		}
		return ok
	})
	pin := Pin{Seed: s.Seed, Steps: steps, Faults: faults, Invariant: inv}
	v := first
	for _, x := range last.Violations {
		if x.Class == class {
			v = x
			break
		}
	}
	return Finding{Pin: pin, Violation: v, Schedule: Describe(s, pin.Mask()), Trace: last.Trace}
}

func faultIn(fs []Fault, id int) bool {
	for _, f := range fs {
		if f.ID == id {
			return true
		}
	}
	return false
}

// ddmin is Zeller's delta debugging: the smallest subset of xs (1-minimal)
// for which fails holds, given that it holds for xs.
func ddmin(xs []int, fails func([]int) bool) []int {
	n := 2
	for len(xs) >= 2 {
		chunks := split(xs, n)
		reduced := false
		for _, c := range chunks {
			if fails(c) {
				xs, n, reduced = c, 2, true
				break
			}
		}
		if !reduced {
			for i := range chunks {
				comp := complement(xs, chunks[i])
				if fails(comp) {
					xs, n, reduced = comp, max(n-1, 2), true
					break
				}
			}
		}
		if !reduced {
			if n >= len(xs) {
				break
			}
			n = min(2*n, len(xs))
		}
	}
	if len(xs) == 1 && fails([]int{}) {
		return []int{}
	}
	return xs
}

func split(xs []int, n int) [][]int {
	var out [][]int
	size := (len(xs) + n - 1) / n
	for i := 0; i < len(xs); i += size {
		out = append(out, xs[i:min(i+size, len(xs))])
	}
	return out
}

func complement(xs, drop []int) []int {
	d := map[int]bool{}
	for _, x := range drop {
		d[x] = true
	}
	out := []int{}
	for _, x := range xs {
		if !d[x] {
			out = append(out, x)
		}
	}
	sort.Ints(out)
	return out
}
