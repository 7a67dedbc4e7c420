package bench

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/clouddc-tf/terraform-provider-clouddc/internal/clitest"
	"github.com/clouddc-tf/terraform-provider-clouddc/internal/simulator"
)

// Terraform runs the real Terraform CLI with the provider binary built
// from this repository, against a simulator.
type Terraform struct {
	// CLI is the terraform binary.
	CLI string
	// Root is the repository's root, where the provider's main package is.
	Root string

	dir       string
	pluginDir string
}

// Prepare builds the provider into a temporary folder.
func (tf *Terraform) Prepare(ctx context.Context) error {
	dir, err := os.MkdirTemp("", "clouddc-bench")
	if err != nil {
		return err
	}
	tf.dir, tf.pluginDir = dir, filepath.Join(dir, "plugins")
	return clitest.BuildProvider(ctx, tf.Root, tf.pluginDir, "", filepath.Join(dir, "cli.tfrc"))
}

// Cleanup removes the temporary folder.
func (tf *Terraform) Cleanup() { _ = os.RemoveAll(tf.dir) }

func (tf *Terraform) run(ctx context.Context, work string, env []string, args ...string) (time.Duration, error) {
	cmd := exec.CommandContext(ctx, tf.CLI, append([]string{"-chdir=" + work}, args...)...) //nolint:gosec // G204: the CLI the user chose, on our own files
	cmd.Env = append(os.Environ(), append(env,
		"TF_CLI_CONFIG_FILE="+filepath.Join(tf.dir, "cli.tfrc"), "TF_IN_AUTOMATION=1", "CHECKPOINT_DISABLE=1",
		"TF_LOG=", "TF_VAR_root_password=Bench-Passw0rd")...)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("terraform %s: %w\n%s", strings.Join(args, " "), err, tail(string(out)))
	}
	return time.Since(start), nil
}

func tail(s string) string {
	if len(s) > 3000 {
		return "…" + s[len(s)-3000:]
	}
	return s
}

func (tf *Terraform) workdir(name, config string) (string, error) {
	w := filepath.Join(tf.dir, name)
	if err := os.MkdirAll(w, 0o750); err != nil {
		return "", err
	}
	return w, os.WriteFile(filepath.Join(w, "main.tf"), []byte(config), 0o600)
}

func dataHCL(n int) string {
	return fmt.Sprintf(`
resource "terraform_data" "fleet" {
  count = %d
  input = "fleet-${count.index}"
}
`, n)
}

// PlanOverhead is the time Terraform takes to plan n clouddc_instance
// resources, next to n terraform_data resources, best of runs.
type PlanOverhead struct {
	Resources     int
	Instance      time.Duration
	TerraformData time.Duration
}

// Ratio is the plan time of the provider's resources over terraform_data's.
func (p PlanOverhead) Ratio() float64 { return float64(p.Instance) / float64(p.TerraformData) }

// MeasurePlan plans n resources of each kind, runs times each, keeping the
// fastest run of each (the least disturbed by the rest of the machine).
func (tf *Terraform) MeasurePlan(ctx context.Context, n, runs int) (PlanOverhead, error) {
	sim, err := simulator.New(simulator.Options{Servers: 1})
	if err != nil {
		return PlanOverhead{}, err
	}
	defer func() { _ = sim.Close() }() // a failed flush of a state file we do not use
	url, stop, err := serve(ctx, sim)
	if err != nil {
		return PlanOverhead{}, err
	}
	defer stop()
	env := []string{"CLOUDDC_ENDPOINT=" + url, "CLOUDDC_PROJECT_ID=" + sim.ProjectID(), "CLOUDDC_TOKEN=" + sim.Token()}
	inst, err := tf.workdir("plan-instances", clitest.FleetHCL("fleet", n))
	if err != nil {
		return PlanOverhead{}, err
	}
	data, err := tf.workdir("plan-data", dataHCL(n))
	if err != nil {
		return PlanOverhead{}, err
	}
	if _, err := tf.run(ctx, data, env, "init", "-input=false", "-no-color"); err != nil {
		return PlanOverhead{}, err
	}
	res := PlanOverhead{Resources: n}
	for range runs {
		d, err := tf.run(ctx, inst, env, "plan", "-input=false", "-no-color", "-lock=false")
		if err != nil {
			return res, err
		}
		if res.Instance == 0 || d < res.Instance {
			res.Instance = d
		}
		d, err = tf.run(ctx, data, env, "plan", "-input=false", "-no-color", "-lock=false")
		if err != nil {
			return res, err
		}
		if res.TerraformData == 0 || d < res.TerraformData {
			res.TerraformData = d
		}
	}
	return res, nil
}

// TerraformRefresh is a refresh of n instances by the real Terraform CLI.
type TerraformRefresh struct {
	Instances int
	Wall      time.Duration
	Calls     int
}

// MeasureRefresh applies n instances, then counts the API calls of
// `terraform plan -refresh-only`.
func (tf *Terraform) MeasureRefresh(ctx context.Context, n int) (TerraformRefresh, error) {
	sim, err := simulator.New(simulator.Options{Servers: n, Retention: time.Hour,
		Subnets: []simulator.SubnetSpec{{ID: simulator.DefaultSubnetID, VPCID: simulator.DefaultVPCID, CIDR: netip.MustParsePrefix("10.0.0.0/16")}}})
	if err != nil {
		return TerraformRefresh{}, err
	}
	defer func() { _ = sim.Close() }() // a failed flush of a state file we do not use
	url, stop, err := serve(ctx, sim)
	if err != nil {
		return TerraformRefresh{}, err
	}
	defer stop()
	env := []string{"CLOUDDC_ENDPOINT=" + url, "CLOUDDC_PROJECT_ID=" + sim.ProjectID(), "CLOUDDC_TOKEN=" + sim.Token()}
	w, err := tf.workdir("refresh", clitest.FleetHCL("fleet", n))
	if err != nil {
		return TerraformRefresh{}, err
	}
	if _, err := tf.run(ctx, w, env, "apply", "-auto-approve", "-input=false", "-no-color", "-parallelism=50"); err != nil {
		return TerraformRefresh{}, err
	}
	sim.ResetStats()
	d, err := tf.run(ctx, w, env, "plan", "-refresh-only", "-input=false", "-no-color", "-lock=false")
	if err != nil {
		return TerraformRefresh{}, err
	}
	res := TerraformRefresh{Instances: n, Wall: d}
	for _, v := range sim.Stats().Requests {
		res.Calls += v
	}
	return res, nil
}
