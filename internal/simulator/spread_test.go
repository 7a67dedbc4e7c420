package simulator

import (
	"fmt"
	"math"
	"slices"
	"testing"
	"time"
)

// TestSpread_distribution: the factors of many instances have a median of
// 1 and a 95th percentile of P95, and the same seed, kind and name always
// draw the same factor.
func TestSpread_distribution(t *testing.T) {
	t.Parallel()
	for _, p95 := range []float64{1.5, 2, 3} {
		sp := Spread{P95: p95, Seed: 7}
		fs := make([]float64, 20000)
		for i := range fs {
			fs[i] = sp.Factor(kindDelete, fmt.Sprintf("bench-%d", i))
			if fs[i] <= 0 {
				t.Fatalf("P95 %g: factor %g for bench-%d", p95, fs[i], i)
			}
		}
		slices.Sort(fs)
		median, q95 := fs[len(fs)/2], fs[len(fs)*95/100]
		if math.Abs(median-1) > 0.03 {
			t.Errorf("P95 %g: median factor %.3f, want 1", p95, median)
		}
		if math.Abs(q95/p95-1) > 0.05 {
			t.Errorf("P95 %g: 95th percentile %.3f", p95, q95)
		}
		if fs[0] == fs[len(fs)-1] {
			t.Errorf("P95 %g: every factor is %g", p95, fs[0])
		}
	}
	sp := Spread{P95: 2, Seed: 7}
	if a, b := sp.Factor(kindCreate, "web-1"), sp.Factor(kindCreate, "web-1"); a != b {
		t.Errorf("the same draw gave %g, then %g", a, b)
	}
	if sp.Factor(kindCreate, "web-1") == sp.Factor(kindDelete, "web-1") {
		t.Error("a creation and a deletion of one instance drew the same factor")
	}
	if sp.Factor(kindCreate, "web-1") == (Spread{P95: 2, Seed: 8}).Factor(kindCreate, "web-1") {
		t.Error("another seed drew the same factor")
	}
	for _, exact := range []Spread{{}, {P95: 1, Seed: 3}} {
		if f := exact.Factor(kindDelete, "web-1"); f != 1 {
			t.Errorf("%+v: factor %g, want 1", exact, f)
		}
	}
}

func TestSpread_refusesP95BelowOne(t *testing.T) {
	t.Parallel()
	for _, p95 := range []float64{0.5, -1, math.NaN(), math.Inf(1)} {
		if _, err := New(Options{Spread: Spread{P95: p95}}); err == nil {
			t.Errorf("P95 %g was accepted", p95)
		}
	}
}

// TestSpread_simulator: two simulators with the same seed give each named
// instance the same creation and deletion times, whatever order the
// instances were created and deleted in; the times differ from instance to
// instance.
func TestSpread_simulator(t *testing.T) {
	t.Parallel()
	names := []string{"web-1", "web-2", "web-3", "web-4"}
	durations := func(order []string) map[string][2]time.Duration {
		clk := newFakeClock()
		sim, c := startSim(t, Options{Now: clk.Now, CreateDuration: createDur, DeleteDuration: deleteDur, Retention: time.Hour,
			Spread: Spread{P95: 2, Seed: 42}})
		ids := map[string]string{}
		for _, n := range order {
			ids[n] = c.createWith(func(b map[string]any) { b["name"] = n })
		}
		clk.Advance(10 * createDur)
		for _, n := range slices.Backward(order) {
			c.status(ids[n]) // applies what is due
			c.delete(ids[n])
		}
		clk.Advance(10 * deleteDur)
		out := map[string][2]time.Duration{}
		for n, id := range ids {
			c.status(id)
			tl, _ := sim.Timeline(id)
			pending, _ := tl.EnteredAt("pending")
			running, ok1 := tl.EnteredAt("running")
			deleting, _ := tl.EnteredAt("shutting-down")
			terminated, ok2 := tl.EnteredAt("terminated")
			if !ok1 || !ok2 {
				t.Fatalf("%s: history %v", n, stateHistory(tl.History))
			}
			out[n] = [2]time.Duration{running.Sub(pending), terminated.Sub(deleting)}
		}
		return out
	}
	a := durations(names)
	b := durations([]string{"web-3", "web-1", "web-4", "web-2"})
	sp := Spread{P95: 2, Seed: 42}
	for _, n := range names {
		if a[n] != b[n] {
			t.Errorf("%s: durations %v in one simulator, %v in the other", n, a[n], b[n])
		}
		want := [2]time.Duration{
			time.Duration(float64(createDur) * sp.Factor(kindCreate, n)),
			time.Duration(float64(deleteDur) * sp.Factor(kindDelete, n)),
		}
		// Timestamps in the history have the clock's precision.
		for i := range want {
			if d := a[n][i] - want[i]; d < -time.Millisecond || d > time.Millisecond {
				t.Errorf("%s: took %v, want %v", n, a[n][i], want[i])
			}
		}
	}
	if a["web-1"] == a["web-2"] {
		t.Errorf("web-1 and web-2 took the same times, %v", a["web-1"])
	}
}
