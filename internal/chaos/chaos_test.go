package chaos

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestChaos runs CHAOS_SEEDS schedules from the seed CHAOS_SEED (default:
// one drawn from the clock, printed, so that a failure can be replayed),
// CHAOS_PARALLEL at a time, shrinks up to CHAOS_SHRINK of the failures,
// and ends with the line "N passed, M failed". make chaos and make test run
// it; without CHAOS_SEEDS it is skipped.
func TestChaos(t *testing.T) {
	seeds := envInt(t, "CHAOS_SEEDS", 0)
	if seeds <= 0 {
		t.Skip("CHAOS_SEEDS is not set: run make chaos SEED=<n> SEEDS=<k>")
	}
	clearProviderEnv(t)
	first := uint64(time.Now().UnixNano() % 1_000_000_000) //nolint:gosec // G115: positive by construction
	if v := os.Getenv("CHAOS_SEED"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("CHAOS_SEED=%q is not a number", v)
		}
		first = n
	}
	parallel := envInt(t, "CHAOS_PARALLEL", 32)
	shrink := envInt(t, "CHAOS_SHRINK", 3)
	opts := Options{SDKLogs: os.Getenv("CHAOS_SDK_LOGS") != ""}
	fmt.Printf("chaos: seeds %d to %d, %d at a time (replay one with make chaos SEED=<n> SEEDS=1)\n", first, first+uint64(seeds)-1, parallel) //nolint:gosec // G115: seeds > 0

	start := time.Now()
	ctx := t.Context()
	var (
		mu      sync.Mutex
		failed  []*Result
		passed  atomic.Int64
		cmds    atomic.Int64
		oks     atomic.Int64
		next    atomic.Uint64
		wg      sync.WaitGroup
		lastLog = time.Now()
	)
	next.Store(first)
	for range parallel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				seed := next.Add(1) - 1
				if seed >= first+uint64(seeds) || ctx.Err() != nil { //nolint:gosec // G115: seeds > 0
					return
				}
				mask := Mask{}
				if os.Getenv("CHAOS_NO_FAULTS") != "" {
					mask.Faults = map[int]bool{} // the operations alone
				}
				r := Run(ctx, Generate(seed), mask, opts)
				cmds.Add(int64(r.Commands))
				oks.Add(int64(r.Succeeded))
				mu.Lock()
				if r.Failed() {
					failed = append(failed, r)
					fmt.Printf("chaos: seed %d failed: %s\n", seed, r.Violations[0])
				} else {
					passed.Add(1)
				}
				if time.Since(lastLog) > 30*time.Second {
					lastLog = time.Now()
					fmt.Printf("chaos: %d passed, %d failed so far, %s\n", passed.Load(), len(failed), time.Since(start).Round(time.Second))
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	byClass := map[string][]uint64{}
	for _, r := range failed {
		v := r.Violations[0]
		byClass[fmt.Sprintf("invariant %d [%s]", v.Invariant, v.Class)] = append(byClass[fmt.Sprintf("invariant %d [%s]", v.Invariant, v.Class)], r.Seed)
	}
	// Shrink the first failure of each class, up to CHAOS_SHRINK of them
	// (-1 shrinks every failure, CHAOS_SHRINK_PARALLEL at a time, and
	// groups them by what the shrunk schedules kept).
	var todo []*Result
	shrunk := map[string]bool{}
	for _, r := range failed {
		v := r.Violations[0]
		if shrink >= 0 && (len(shrunk) >= shrink || shrunk[v.Class]) {
			fmt.Printf("FAIL seed %d: %s\n", r.Seed, v)
			continue
		}
		shrunk[v.Class] = true
		todo = append(todo, r)
	}
	signatures := map[string][]uint64{}
	sem := make(chan struct{}, envInt(t, "CHAOS_SHRINK_PARALLEL", 2))
	var swg sync.WaitGroup
	for _, r := range todo {
		sem <- struct{}{}
		swg.Add(1)
		go func() {
			defer swg.Done()
			defer func() { <-sem }()
			s := Generate(r.Seed)
			f := Shrink(ctx, s, r.Violations[0], opts, 3)
			mu.Lock()
			fmt.Print(f.String())
			sig := f.Signature(s)
			fmt.Printf("  signature: %s\n", sig)
			signatures[sig] = append(signatures[sig], r.Seed)
			mu.Unlock()
		}()
	}
	swg.Wait()
	if len(signatures) > 0 {
		fmt.Println("chaos: shrunk findings by what they kept:")
		for _, sig := range sortedKeys(signatures) {
			fmt.Printf("  %d× %s (seeds %v)\n", len(signatures[sig]), sig, signatures[sig][:min(6, len(signatures[sig]))])
		}
	}
	for _, k := range sortedKeys(byClass) {
		fmt.Printf("chaos: %s: %d seeds, such as %v\n", k, len(byClass[k]), byClass[k][:min(5, len(byClass[k]))])
	}
	fmt.Printf("chaos: %d seeds in %s; %d of their %d commands succeeded\n", seeds, time.Since(start).Round(time.Second), oks.Load(), cmds.Load())
	fmt.Printf("%d passed, %d failed\n", passed.Load(), len(failed))
	if len(failed) > 0 {
		t.Fail()
	}
}

func envInt(t *testing.T, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		t.Fatalf("%s=%q is not a number", name, v)
	}
	return n
}

// clearProviderEnv keeps the environment out of the provider's settings:
// every setting of a schedule is in its provider block.
func clearProviderEnv(t *testing.T) {
	for _, v := range []string{"CLOUDDC_ENDPOINT", "CLOUDDC_REGION", "CLOUDDC_PROJECT_ID", "CLOUDDC_TOKEN", "CLOUDDC_ACCESS_KEY",
		"CLOUDDC_SECRET_KEY", "CLOUDDC_SECURITY_TOKEN", "CLOUDDC_IAM_ENDPOINT", "CLOUDDC_MAX_RETRIES", "CLOUDDC_INSECURE",
		"CLOUDDC_SKIP_CREDENTIALS_VALIDATION", "HW_REGION_NAME", "HW_PROJECT_ID", "HW_AUTH_TOKEN", "HW_ACCESS_KEY", "HW_SECRET_KEY",
		"HW_SECURITY_TOKEN", "HW_MAX_RETRIES", "HW_INSECURE"} {
		t.Setenv(v, "")
	}
}

// TestChaos_oneSeed runs one schedule and prints everything about it:
// CHAOS_SEED, with CHAOS_STEPS and CHAOS_FAULTS (comma-separated) to
// replay a pin.
func TestChaos_oneSeed(t *testing.T) {
	v := os.Getenv("CHAOS_ONE")
	if v == "" {
		t.Skip("CHAOS_ONE is not set")
	}
	clearProviderEnv(t)
	seed, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	s := Generate(seed)
	fmt.Print(Describe(s, Mask{}))
	r := Run(context.Background(), s, Mask{}, Options{Verbose: true})
	for _, l := range r.Trace {
		fmt.Println("  " + l)
	}
	for _, v := range r.Violations {
		fmt.Println(v)
	}
	if r.Failed() && os.Getenv("CHAOS_SHRINK_ONE") != "" {
		start := time.Now()
		f := Shrink(context.Background(), s, r.Violations[0], Options{Verbose: true}, 3)
		fmt.Print(f.String())
		fmt.Printf("shrunk in %s\n", time.Since(start).Round(time.Second))
	}
}
