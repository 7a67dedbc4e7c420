package chaos

import (
	"context"
	"fmt"
	"testing"
)

// pinned are schedules that once broke an invariant, as make chaos printed
// them (the pin line of a failure), shrunk to what still failed. Each must
// pass now: a pin that fails again is a regression. Add one with the bug's
// fix, with a comment that says what it broke.
var pinned = []Pin{}

func TestPinned(t *testing.T) {
	if len(pinned) == 0 {
		t.Skip("no schedule is pinned yet")
	}
	clearProviderEnv(t)
	for _, p := range pinned {
		t.Run(fmt.Sprint(p.Seed), func(t *testing.T) {
			s := Generate(p.Seed)
			r := Run(context.Background(), s, p.Mask(), Options{Verbose: true})
			if r.Failed() {
				t.Errorf("pinned schedule fails again:\n%s\nwhat happened:\n%v\n%v", Describe(s, p.Mask()), r.Trace, r.Violations)
			}
		})
	}
}
