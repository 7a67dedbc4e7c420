package soak

import (
	"context"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/clouddc-tf/terraform-provider-clouddc/internal/chaos"
)

// TestSoak_chaosSchedules runs a few of internal/chaos's random schedules
// with the real CLI and the provider binary (the in-process checker runs
// thousands of them against an emulated CLI), and checks the same
// invariants between commands. SOAK_CHAOS_SEEDS (comma-separated) picks
// other seeds.
func TestSoak_chaosSchedules(t *testing.T) {
	if os.Getenv("TF_ACC") == "" {
		t.Skip("set TF_ACC=1 (make test does) to run the soak tests: they need the Terraform CLI")
	}
	tf := os.Getenv("TF_ACC_TERRAFORM_PATH")
	if tf == "" {
		t.Skip("TF_ACC_TERRAFORM_PATH is not set (make testsoak sets it)")
	}
	// Between them: Ctrl-C, pages capped and a filter ignored, a listing
	// that hides an instance, a switch of project (refresh and destroy),
	// a replayed create. They broke invariants on main before issue 16.
	seeds := []uint64{13, 14, 17, 19, 21}
	if v := os.Getenv("SOAK_CHAOS_SEEDS"); v != "" {
		seeds = nil
		for _, f := range strings.Split(v, ",") {
			n, err := strconv.ParseUint(strings.TrimSpace(f), 10, 64)
			if err != nil {
				t.Fatalf("SOAK_CHAOS_SEEDS=%q: %v", v, err)
			}
			seeds = append(seeds, n)
		}
	}
	identity := cliHasIdentity(t, tf)
	rc := buildProvider(t, t.TempDir())
	for _, seed := range seeds {
		t.Run(strconv.FormatUint(seed, 10), func(t *testing.T) {
			t.Parallel()
			s := chaos.GenerateForCLI(seed, identity)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
			defer cancel()
			start := time.Now()
			r := chaos.RunCLI(ctx, s, chaos.Mask{}, chaos.CLIOptions{Terraform: tf, ProviderRC: rc, Dir: t.TempDir()})
			if r.Failed() {
				// The first line is what make testsoak shows; the rest
				// shows with go test -v.
				t.Errorf("seed %d with the real CLI: %s (replay: SOAK_CHAOS_SEEDS=%d go test ./internal/soak -run TestSoak_chaosSchedules -v, "+
					"or make chaos SEED=%d SEEDS=1 in process)\n%s\nwhat happened:\n  %s\nall violations:\n%v", seed, r.Violations[0], seed, seed,
					chaos.Describe(s, chaos.Mask{}), strings.Join(r.Trace, "\n  "), r.Violations)
				return
			}
			if r.Succeeded == 0 {
				t.Fatalf("seed %d: none of its %d commands succeeded, so the schedule proves nothing:\n  %s", seed, r.Commands, strings.Join(r.Trace, "\n  "))
			}
			t.Logf("chaos seed %d with the real CLI: every invariant held, in %s:\n%s  %s", seed, time.Since(start).Round(time.Second),
				chaos.Describe(s, chaos.Mask{}), strings.Join(r.Trace, "\n  "))
		})
	}
}

// cliHasIdentity reports whether the CLI supports resource identity:
// Terraform 1.12 and later; not OpenTofu.
func cliHasIdentity(t *testing.T, tf string) bool {
	out, err := exec.CommandContext(t.Context(), tf, "version").Output() //nolint:gosec // G204: the CLI make test chose
	if err != nil {
		t.Fatalf("%s version: %v", tf, err)
	}
	line, _, _ := strings.Cut(string(out), "\n")
	v, ok := strings.CutPrefix(line, "Terraform v")
	if !ok {
		return false
	}
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return false
	}
	major, _ := strconv.Atoi(parts[0])
	minor, _ := strconv.Atoi(parts[1])
	return major > 1 || (major == 1 && minor >= 12)
}
