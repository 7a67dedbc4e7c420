// Command clouddc-bench measures how quickly and how cheaply the provider
// notices the end of long-running operations, beside the schedules of the
// anchors (terraform-plugin-sdk's StateChangeConf and the HuaweiCloud
// provider), on the local simulator. `make bench` runs it from bench/; it
// prints one table and writes bench/README.md and bench/benchmarks.png.
//
// It is a module of its own so that its plotting library stays out of the
// provider's go.mod.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/clouddc-tf/terraform-provider-clouddc/bench/internal/bench"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "clouddc-bench:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("clouddc-bench", flag.ContinueOnError)
	scale := fs.Float64("scale", 0.02, "factor applied to every duration (0.02 runs a 60s deletion in 1.2s)")
	quick := fs.Bool("quick", false, "only the 10- and 100-instance scenarios, and no Terraform runs")
	out := fs.String("out", "README.md", "the page to write (empty: none)")
	plot := fs.String("plot", "benchmarks.png", "the plot to write (empty: none)")
	cli := fs.String("terraform", "", "the Terraform CLI for the refresh and plan measurements (default: terraform on PATH)")
	root := fs.String("root", "..", "the repository's root, to build the provider from")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx := context.Background()
	cfg := bench.Config{Scale: *scale}

	var scenarios []bench.Scenario
	sizes := []int{10, 100, 1000}
	if *quick {
		sizes = sizes[:2]
	}
	for _, d := range []time.Duration{5 * time.Second, 60 * time.Second} {
		for _, n := range sizes {
			for _, p := range []int{10, 50} {
				scenarios = append(scenarios, bench.Scenario{Instances: n, Parallelism: p, Delete: d})
			}
		}
	}
	big := sizes[len(sizes)-1]
	for _, p := range []int{10, 50} {
		scenarios = append(scenarios, bench.Scenario{Instances: big, Parallelism: p, Delete: 5 * time.Second, RateLimit: 20})
	}

	rep := &bench.Report{Date: time.Now(), Machine: machine(), Scale: *scale}
	for _, sc := range scenarios {
		// The three schedulers run at the same time, each on its own
		// simulator: they spend most of their time waiting.
		results := make([]bench.Result, len(bench.Schedulers))
		errs := make([]error, len(bench.Schedulers))
		var wg sync.WaitGroup
		for i, s := range bench.Schedulers {
			wg.Go(func() { results[i], errs[i] = cfg.RunDestroy(ctx, sc, s) })
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				return fmt.Errorf("%s, %s: %w", sc, bench.Schedulers[i], err)
			}
		}
		rep.Destroys = append(rep.Destroys, results...)
		fmt.Fprintf(os.Stderr, "measured %s\n", sc)
	}
	for _, s := range []string{bench.Provider, bench.SCC} {
		rr, err := cfg.RunRefresh(ctx, 1000, s)
		if err != nil {
			return fmt.Errorf("refresh, %s: %w", s, err)
		}
		if s == bench.SCC {
			rr.Scheduler = "one read per instance (any per-instance provider)"
		}
		rep.Refreshes = append(rep.Refreshes, rr)
	}
	if !*quick {
		tf := &bench.Terraform{CLI: *cli, Root: *root}
		if tf.CLI == "" {
			p, err := exec.LookPath("terraform")
			if err != nil {
				return fmt.Errorf("no terraform on PATH; pass -terraform")
			}
			tf.CLI = p
		}
		rep.TerraformCL = version(ctx, tf.CLI)
		if err := tf.Prepare(ctx); err != nil {
			return err
		}
		defer tf.Cleanup()
		fmt.Fprintln(os.Stderr, "measuring a Terraform refresh of 1,000 instances")
		ref, err := tf.MeasureRefresh(ctx, 1000)
		if err != nil {
			return err
		}
		rep.TFRefresh = &ref
		fmt.Fprintln(os.Stderr, "measuring the plan overhead of 500 resources")
		plan, err := tf.MeasurePlan(ctx, 500, 3)
		if err != nil {
			return err
		}
		rep.Plan = &plan
	}

	var table bytes.Buffer
	if err := rep.WriteTable(&table); err != nil {
		return err
	}
	for _, t := range rep.Targets() {
		table.WriteString("- " + t + "\n")
	}
	if _, err := fmt.Fprintln(stdout, table.String()); err != nil {
		return err
	}
	if *out != "" {
		var page bytes.Buffer
		if err := rep.WriteMarkdown(&page); err != nil {
			return err
		}
		if err := os.WriteFile(*out, page.Bytes(), 0o644); err != nil { //nolint:gosec // G306: a documentation page, committed to the repository
			return err
		}
	}
	if *plot != "" {
		f, err := os.Create(*plot)
		if err != nil {
			return err
		}
		if err := rep.WritePlot(f); err != nil {
			return errors.Join(err, f.Close())
		}
		if err := f.Close(); err != nil {
			return err
		}
	}
	return nil
}

// machine describes where the run happened.
func machine() string {
	cpu := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, "model name") {
				cpu = strings.TrimSpace(strings.SplitN(line, ":", 2)[1])
				break
			}
		}
	}
	return fmt.Sprintf("%s/%s, %d CPUs (%s), %s", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), cpu, runtime.Version())
}

func version(ctx context.Context, cli string) string {
	out, err := exec.CommandContext(ctx, cli, "version").Output()
	if err != nil {
		return filepath.Base(cli)
	}
	return strings.SplitN(strings.TrimSpace(string(out)), "\n", 2)[0]
}
