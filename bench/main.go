// Command clouddc-bench measures how quickly and how cheaply the provider
// notices the end of long-running operations, beside the schedules of the
// baselines (terraform-plugin-sdk's StateChangeConf and the HuaweiCloud
// provider), on the local simulator; how that grows to 10,000 instances
// and with several Terraform processes in one project; what a storm of
// failed creates costs; and what a plan costs beside the framework's
// floor. `make bench` runs it from bench/; it prints the tables and writes
// bench/README.md, bench/benchmarks.png and bench/growth.png.
//
// It is a module of its own so that its plotting library and its floor
// providers stay out of the provider's go.mod.
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
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/clouddc-tf/terraform-provider-clouddc/bench/internal/bench"
	"github.com/clouddc-tf/terraform-provider-clouddc/internal/simulator"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == bench.WorkerFlag {
		// A growth run's worker (bench.RunGrowth starts it).
		if err := bench.Worker(context.Background(), os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "clouddc-bench worker:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "clouddc-bench:", err)
		os.Exit(1)
	}
}

// parts are the parts of a run, for -only.
var parts = []string{"destroy", "create", "growth", "storm", "refresh", "concurrent", "plan"}

// spread is how the durations vary: the 95th percentile at twice the
// median, as servers of one model differ.
var spread = simulator.Spread{P95: 2, Seed: 1}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("clouddc-bench", flag.ContinueOnError)
	scale := fs.Float64("scale", 0.1, "factor applied to every duration of the scheduler scenarios (0.1 runs a 60s deletion in 6s)")
	growthScale := fs.Float64("growth-scale", 0.02, "factor applied to every duration of the growth runs")
	quick := fs.Bool("quick", false, "only up to 100 instances (1,000 in the growth runs), and no Terraform runs")
	out := fs.String("out", "README.md", "the page to write (empty: none)")
	plot := fs.String("plot", "benchmarks.png", "the scenarios' plot to write (empty: none)")
	growthPlot := fs.String("growth-plot", "growth.png", "the growth plot to write (empty: none)")
	cli := fs.String("terraform", "", "the Terraform CLI for the Terraform runs (default: terraform on PATH)")
	root := fs.String("root", "..", "the repository's root, to build the provider from")
	only := fs.String("only", "", "run only these parts, comma-separated ("+strings.Join(parts, ", ")+"), and write no page")
	profiles := fs.String("profiles", "", "keep the plan's CPU profiles in this folder (default: discarded)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	for _, p := range strings.Split(*only, ",") {
		if p != "" && !slices.Contains(parts, p) {
			return fmt.Errorf("-only %q: the parts are %s", p, strings.Join(parts, ", "))
		}
	}
	want := func(part string) bool { return *only == "" || slices.Contains(strings.Split(*only, ","), part) }
	if *only != "" {
		*out, *plot, *growthPlot = "", "", ""
	}
	ctx := context.Background()
	started := time.Now()
	cfg := bench.Config{Scale: *scale, Spread: spread}
	rep := &bench.Report{Date: started, Machine: machine(), Scale: *scale, GrowthScale: *growthScale, SpreadP95: spread.P95}

	if err := runScenarios(ctx, cfg, rep, *quick, want); err != nil {
		return err
	}
	if want("growth") {
		if err := runGrowth(ctx, bench.Config{Scale: *growthScale, Spread: spread}, rep, *quick); err != nil {
			return err
		}
	}
	if want("storm") {
		if err := runStorm(ctx, cfg, rep); err != nil {
			return err
		}
	}
	if want("refresh") {
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
	}
	if !*quick && (want("refresh") || want("concurrent") || want("plan")) {
		if err := runTerraform(ctx, rep, *cli, *root, *profiles, want); err != nil {
			return err
		}
	}
	rep.Wall = time.Since(started).Round(time.Second)
	if rep.TerraformCL == "" {
		rep.TerraformCL = "no Terraform CLI (its parts were not run)"
	}

	var summary bytes.Buffer
	if err := rep.WriteSummary(&summary); err != nil {
		return err
	}
	if _, err := fmt.Fprintln(stdout, summary.String()); err != nil {
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
	if err := writePNG(*plot, rep.WritePlot); err != nil {
		return err
	}
	return writePNG(*growthPlot, rep.WriteGrowthPlot)
}

// runScenarios runs the destroy and create scenarios. In each, the
// provider runs alone, so that the baselines' busy polling does not
// disturb its timing, then the two baselines together: they spend most
// of their time waiting.
func runScenarios(ctx context.Context, cfg bench.Config, rep *bench.Report, quick bool, want func(string) bool) error {
	sizes := []int{10, 100, 1000}
	if quick {
		sizes = sizes[:2]
	}
	big := sizes[len(sizes)-1]
	for _, op := range []string{bench.OpDestroy, bench.OpCreate} {
		if !want(op) {
			continue
		}
		var scenarios []bench.Scenario
		for _, median := range []time.Duration{5 * time.Second, time.Minute} {
			for _, n := range sizes {
				if median == time.Minute && n > 100 {
					continue // the growth runs take the minute-long ones to 10,000
				}
				for _, p := range []int{10, 50} {
					scenarios = append(scenarios, bench.Scenario{Op: op, Instances: n, Parallelism: p, Median: median})
				}
			}
		}
		for _, p := range []int{10, 50} {
			scenarios = append(scenarios, bench.Scenario{Op: op, Instances: big, Parallelism: p, Median: 5 * time.Second, RateLimit: 20})
		}
		for _, sc := range scenarios {
			results := make([]bench.Result, len(bench.Schedulers))
			errs := make([]error, len(bench.Schedulers))
			results[0], errs[0] = cfg.Run(ctx, sc, bench.Schedulers[0])
			var wg sync.WaitGroup
			for i := 1; i < len(bench.Schedulers); i++ {
				wg.Go(func() { results[i], errs[i] = cfg.Run(ctx, sc, bench.Schedulers[i]) })
			}
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					return fmt.Errorf("%s, %s: %w", sc, bench.Schedulers[i], err)
				}
			}
			rep.Results = append(rep.Results, results...)
			progress("%s: lag p95 %s, %.2f status calls per instance (baselines %.2f, %.2f; floor %.2f)", sc,
				results[0].LagP95.Round(10*time.Millisecond), results[0].StatusPerInstance, results[1].StatusPerInstance,
				results[2].StatusPerInstance, results[0].Floor)
		}
	}
	return nil
}

// runGrowth destroys and reads from 10 to 10,000 instances.
func runGrowth(ctx context.Context, cfg bench.Config, rep *bench.Report, quick bool) error {
	sizes := []int{10, 100, 1000, 10000}
	if quick {
		sizes = sizes[:3]
	}
	for _, op := range []string{bench.OpDestroy, bench.OpRefresh} {
		for _, n := range sizes {
			row, err := cfg.RunGrowth(ctx, op, n, 50, time.Minute)
			if err != nil {
				return fmt.Errorf("growth, %s %d: %w", op, n, err)
			}
			rep.Growth = append(rep.Growth, row)
			progress("growth, %s %d: wall %s (limit %s), %.2f calls per instance, peak %d MiB", op, n,
				row.Wall.Round(time.Second), row.Limit.Round(time.Second), row.CallsPerInstance, row.PeakRSS>>20)
		}
	}
	return nil
}

// runStorm runs the storm of failed creates with the provider's create
// and with a naive resend, at the same time on separate simulators.
func runStorm(ctx context.Context, cfg bench.Config, rep *bench.Report) error {
	st := bench.Storm{Resources: 50, Parallelism: 10, Refused: 15, Late: 15, LandAfter: 20 * time.Second, Median: time.Minute}
	clients := []string{bench.Provider, bench.Naive}
	results := make([]bench.StormResult, len(clients))
	errs := make([]error, len(clients))
	var wg sync.WaitGroup
	for i, c := range clients {
		wg.Go(func() { results[i], errs[i] = cfg.RunStorm(ctx, st, c) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("storm: %w", err)
	}
	rep.Storms = results
	for _, r := range results {
		progress("storm, %s: settled after %s, %d creates, %d left over", r.Scheduler, r.Settled.Round(time.Second), r.Creates, r.Extra)
	}
	return nil
}

// runTerraform runs the parts that drive the real CLI.
func runTerraform(ctx context.Context, rep *bench.Report, cli, root, profiles string, want func(string) bool) error {
	tf := &bench.Terraform{CLI: cli, Root: root}
	if tf.CLI == "" {
		p, err := exec.LookPath("terraform")
		if err != nil {
			return errors.New("no terraform on PATH; pass -terraform")
		}
		tf.CLI = p
	}
	rep.TerraformCL = version(ctx, tf.CLI)
	progress("building the provider and the plan floors")
	if err := tf.Prepare(ctx); err != nil {
		return err
	}
	defer tf.Cleanup()
	if want("refresh") {
		progress("a Terraform refresh of 1,000 instances")
		ref, err := tf.MeasureRefresh(ctx, 1000)
		if err != nil {
			return err
		}
		rep.TFRefresh = &ref
	}
	if want("concurrent") {
		cc := bench.Concurrent{Processes: 4, Instances: 250, Parallelism: 10, RateLimit: 20, Median: 5 * time.Second}
		progress("%d concurrent terraform destroy runs of %d instances", cc.Processes, cc.Instances)
		res, err := tf.RunConcurrent(ctx, spread, cc)
		if err != nil {
			return err
		}
		rep.Concurrent = &res
	}
	if want("plan") {
		for _, n := range []int{500, 2000} {
			progress("the plan overhead of %d resources", n)
			row, err := tf.MeasurePlans(ctx, n, 5)
			if err != nil {
				return err
			}
			rep.Plans = append(rep.Plans, row)
			progress("plan of %d: %s %s, %s %s, %s %s, %s %s", n, bench.PlanInstance, row.Best[bench.PlanInstance].Round(time.Millisecond),
				bench.PlanSameSchema, row.Best[bench.PlanSameSchema].Round(time.Millisecond), bench.PlanOneAttr,
				row.Best[bench.PlanOneAttr].Round(time.Millisecond), bench.PlanData, row.Best[bench.PlanData].Round(time.Millisecond))
		}
		for _, v := range []string{bench.PlanInstance, bench.PlanSameSchema} {
			progress("profiling a plan of 2,000 resources of %s", v)
			keep := ""
			if profiles != "" {
				keep = filepath.Join(profiles, strings.ReplaceAll(v, " ", "-")+".pprof")
			}
			prof, err := tf.ProfilePlan(ctx, v, 2000, keep)
			if err != nil {
				return err
			}
			rep.Profiles = append(rep.Profiles, prof)
			progress("profile of %s: provider CPU %s, Terraform CPU %s, %.1f%% in the provider's code and validators", v,
				prof.ProviderCPU.Round(10*time.Millisecond), prof.CLICPU.Round(10*time.Millisecond), 100*prof.Ours())
		}
	}
	return nil
}

func writePNG(path string, write func(io.Writer) error) error {
	if path == "" {
		return nil
	}
	f, err := os.Create(path) //nolint:gosec // G304: the path the user chose for the plot
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		return errors.Join(err, f.Close())
	}
	return f.Close()
}

func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
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
