package bench

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/provider"

	"github.com/clouddc-tf/terraform-provider-clouddc/bench/internal/floors"
	"github.com/clouddc-tf/terraform-provider-clouddc/internal/clitest"
	clouddcprovider "github.com/clouddc-tf/terraform-provider-clouddc/internal/provider"
)

// Plan variants, in the order the page shows them.
const (
	PlanInstance   = "clouddc_instance"
	PlanSameSchema = "same-schema floor"
	PlanOneAttr    = "one-attribute floor"
	PlanData       = "terraform_data"
)

// PlanVariants lists the plan variants in the page's order.
var PlanVariants = []string{PlanInstance, PlanSameSchema, PlanOneAttr, PlanData}

// PlanRow is the plan of n resources of each variant: the fastest wall
// time of several runs each.
type PlanRow struct {
	Resources int
	Runs      int
	Best      map[string]time.Duration
}

// Ratio is the plan time of variant a over variant b's.
func (p PlanRow) Ratio(a, b string) float64 {
	return float64(p.Best[a]) / float64(p.Best[b])
}

// planSource is the configuration of n resources of one variant. The two
// instance variants get the very same resource body; clouddc_instance's
// provider block is settings (from planSimulator), written into the
// configuration because a provider served from this process does not see
// the CLI's environment.
func planSource(variant string, n int, settings string) string {
	instance := func(typ string) string {
		return `
variable "root_password" {
  type      = string
  sensitive = true
}
` + clitest.FleetResource(typ, "fleet", n)
	}
	switch variant {
	case PlanInstance:
		return `
terraform {
  required_providers {
    clouddc = { source = "clouddc-tf/clouddc" }
  }
}

provider "clouddc" {
` + settings + `}
` + instance("clouddc_instance")
	case PlanSameSchema:
		return `
terraform {
  required_providers {
    floorschema = { source = "clouddc-tf/floorschema" }
  }
}
` + instance("floorschema_instance")
	case PlanOneAttr:
		return fmt.Sprintf(`
terraform {
  required_providers {
    floorone = { source = "clouddc-tf/floorone" }
  }
}

resource "floorone_thing" "fleet" {
  count = %d
  name  = "fleet-${count.index}"
}
`, n)
	default:
		return fmt.Sprintf(`
resource "terraform_data" "fleet" {
  count = %d
  input = "fleet-${count.index}"
}
`, n)
	}
}

// planDirs writes one working directory per variant for n resources.
// Only terraform_data's is initialised: the CLI configuration's
// dev_overrides give the others their providers, and init would look
// them up in the registry.
func (tf *Terraform) planDirs(ctx context.Context, n int, settings string) (map[string]string, error) {
	dirs := map[string]string{}
	for i, v := range PlanVariants {
		w, err := tf.workdir(fmt.Sprintf("plan-%d-%d", n, i), planSource(v, n, settings))
		if err != nil {
			return nil, err
		}
		if v == PlanData {
			if _, err := tf.run(ctx, w, nil, "init", "-input=false", "-no-color"); err != nil {
				return nil, err
			}
		}
		dirs[v] = w
	}
	return dirs, nil
}

// planArgs plan without a lock and without colour, as the measurements
// do; a plan of resources to create has nothing to refresh.
var planArgs = []string{"plan", "-input=false", "-no-color", "-lock=false"}

// MeasurePlans plans n resources of every variant, runs times each, in
// turn, keeping each variant's fastest run (the least disturbed by the
// rest of the machine).
func (tf *Terraform) MeasurePlans(ctx context.Context, n, runs int) (PlanRow, error) {
	settings, stop, err := tf.planSimulator(ctx)
	if err != nil {
		return PlanRow{}, err
	}
	defer stop()
	dirs, err := tf.planDirs(ctx, n, settings)
	if err != nil {
		return PlanRow{}, err
	}
	row := PlanRow{Resources: n, Runs: runs, Best: map[string]time.Duration{}}
	for range runs {
		for _, v := range PlanVariants {
			d, err := tf.run(ctx, dirs[v], nil, planArgs...)
			if err != nil {
				return row, err
			}
			if b, ok := row.Best[v]; !ok || d < b {
				row.Best[v] = d
			}
		}
	}
	return row, nil
}

// planSimulator serves a simulator for the plans of clouddc_instance (its
// provider checks the credentials once per plan) and returns the
// provider block's settings for it.
func (tf *Terraform) planSimulator(ctx context.Context) (string, func(), error) {
	rg, err := Config{Scale: 1}.start(ctx, 1, 0, 0)
	if err != nil {
		return "", nil, err
	}
	settings := fmt.Sprintf("  endpoint   = %q\n  project_id = %q\n  token      = %q\n", rg.url, rg.sim.ProjectID(), rg.sim.Token())
	return settings, rg.stop, nil
}

// PlanProfile is where the time of one plan went: the CPU time of the
// CLI and of the provider, and the provider's hottest functions.
type PlanProfile struct {
	Variant     string
	Resources   int
	Wall        time.Duration
	CLICPU      time.Duration
	ProviderCPU time.Duration
	// Top are the functions of the provider's process with the largest
	// cumulative share of its CPU samples, hottest first.
	Top []ProfileLine
}

// ProfileLine is one function of a CPU profile.
type ProfileLine struct {
	Function string
	// Flat and Cum are shares (0 to 1) of the process's CPU samples: in
	// the function itself, and in it and what it calls.
	Flat, Cum float64
}

// ProfilePlan plans n resources of variant (clouddc_instance or the
// same-schema floor) with the provider served from this process, and
// records a CPU profile of the process while the CLI plans. The provider
// is the same code as the binary the timings run; only its process
// differs, so the per-resource costs are the same. The raw profile is
// written to profileOut when that is set.
func (tf *Terraform) ProfilePlan(ctx context.Context, variant string, n int, profileOut string) (PlanProfile, error) {
	settings, stop, err := tf.planSimulator(ctx)
	if err != nil {
		return PlanProfile{}, err
	}
	defer stop()
	address, p := providerAddress, clouddcprovider.New("bench")
	if variant == PlanSameSchema {
		address, p = floors.SameSchemaAddress, func() provider.Provider { return floors.SameSchema() }
	}
	// What runMeasured gives the binaries: the SDKs' own logs off. (The
	// provider's own log lines are formatted as in a binary, and written
	// to this process's stderr instead of Terraform's.)
	for _, v := range []string{"TF_LOG_SDK", "TF_LOG_SDK_PROTO", "TF_LOG_SDK_FRAMEWORK"} {
		if err := os.Setenv(v, "OFF"); err != nil {
			return PlanProfile{}, err
		}
	}
	reattach, stopProvider, err := serveInProcess(ctx, address, p)
	if err != nil {
		return PlanProfile{}, err
	}
	defer stopProvider()
	w, err := tf.workdir(fmt.Sprintf("profile-%d-%s", n, strings.ReplaceAll(variant, " ", "-")), planSource(variant, n, settings))
	if err != nil {
		return PlanProfile{}, err
	}
	env := []string{"TF_REATTACH_PROVIDERS=" + reattach}
	// A warm-up plan, so that the profile sees the steady state.
	if _, err := tf.run(ctx, w, env, planArgs...); err != nil {
		return PlanProfile{}, err
	}

	path := profileOut
	if path == "" {
		path = filepath.Join(tf.dir, "plan.pprof")
	}
	f, err := os.Create(path) //nolint:gosec // G304: a path the user chose for the profile
	if err != nil {
		return PlanProfile{}, err
	}
	defer func() { _ = f.Close() }()
	before := selfCPU()
	if err := pprof.StartCPUProfile(f); err != nil {
		return PlanProfile{}, err
	}
	res, runErr := tf.runMeasured(ctx, w, env, planArgs...)
	pprof.StopCPUProfile()
	if runErr != nil {
		return PlanProfile{}, runErr
	}
	prof := PlanProfile{Variant: variant, Resources: n, Wall: res.wall, CLICPU: res.cpu, ProviderCPU: selfCPU() - before}
	if err := f.Close(); err != nil {
		return prof, err
	}
	prof.Top, err = topFunctions(ctx, path)
	return prof, err
}

// topFunctions reads a CPU profile with go tool pprof and returns every
// function in it, by largest cumulative share.
func topFunctions(ctx context.Context, profile string) ([]ProfileLine, error) {
	cmd := exec.CommandContext(ctx, "go", "tool", "pprof", "-top", "-cum", "-nodecount=100000", profile) //nolint:gosec // G204: our own profile
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go tool pprof: %w", err)
	}
	var lines []ProfileLine
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		// flat flat% sum% cum cum% name
		f := strings.Fields(sc.Text())
		if len(f) < 6 || !strings.HasSuffix(f[1], "%") || !strings.HasSuffix(f[4], "%") {
			continue
		}
		flat, err1 := strconv.ParseFloat(strings.TrimSuffix(f[1], "%"), 64)
		cum, err2 := strconv.ParseFloat(strings.TrimSuffix(f[4], "%"), 64)
		if err1 != nil || err2 != nil {
			continue
		}
		lines = append(lines, ProfileLine{Function: strings.Join(f[5:], " "), Flat: flat / 100, Cum: cum / 100})
	}
	return lines, sc.Err()
}
