package bench

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/clouddc-tf/terraform-provider-clouddc/bench/internal/floors"
	"github.com/clouddc-tf/terraform-provider-clouddc/internal/clitest"
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

// providerAddress is the address under which the provider's binary serves.
const providerAddress = "registry.terraform.io/clouddc-tf/clouddc"

// Prepare builds the provider and the plan benchmark's two floors into a
// temporary folder, with a CLI configuration that points Terraform at them.
func (tf *Terraform) Prepare(ctx context.Context) error {
	dir, err := os.MkdirTemp("", "clouddc-bench")
	if err != nil {
		return err
	}
	tf.dir, tf.pluginDir = dir, filepath.Join(dir, "plugins")
	rc := filepath.Join(dir, "cli.tfrc")
	if err := clitest.BuildProvider(ctx, tf.Root, tf.pluginDir, "", rc); err != nil {
		return err
	}
	for _, name := range []string{"floorone", "floorschema"} {
		build := exec.CommandContext(ctx, "go", "build", "-o", filepath.Join(tf.pluginDir, "terraform-provider-"+name), "./cmd/terraform-provider-"+name) //nolint:gosec // G204: our own build into a folder of ours
		build.Dir = filepath.Join(tf.Root, "bench")
		if out, err := build.CombinedOutput(); err != nil {
			return fmt.Errorf("building the %s floor: %w\n%s", name, err, out)
		}
	}
	return os.WriteFile(rc, []byte(clitest.DevOverrides(tf.pluginDir, "", floors.OneAttributeAddress, floors.SameSchemaAddress)), 0o600)
}

// Cleanup removes the temporary folder.
func (tf *Terraform) Cleanup() { _ = os.RemoveAll(tf.dir) }

// measured is one run of the CLI: its wall time and its own CPU time (not
// that of a provider served from this process).
type measured struct {
	wall, cpu time.Duration
}

func (tf *Terraform) run(ctx context.Context, work string, env []string, args ...string) (time.Duration, error) {
	m, err := tf.runMeasured(ctx, work, env, args...)
	return m.wall, err
}

func (tf *Terraform) runMeasured(ctx context.Context, work string, env []string, args ...string) (measured, error) {
	cmd := tf.command(ctx, work, env, args...)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	if err != nil {
		return measured{}, fmt.Errorf("terraform %s: %w\n%s", strings.Join(args, " "), err, tail(string(out)))
	}
	m := measured{wall: time.Since(start)}
	if st := cmd.ProcessState; st != nil {
		m.cpu = st.UserTime() + st.SystemTime()
	}
	return m, nil
}

// command is the CLI run in work with the harness's CLI configuration.
func (tf *Terraform) command(ctx context.Context, work string, env []string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, tf.CLI, append([]string{"-chdir=" + work}, args...)...) //nolint:gosec // G204: the CLI the user chose, on our own files
	cmd.Env = append(os.Environ(), append(env,
		"TF_CLI_CONFIG_FILE="+filepath.Join(tf.dir, "cli.tfrc"), "TF_IN_AUTOMATION=1", "CHECKPOINT_DISABLE=1",
		"TF_LOG=", "TF_VAR_root_password=Bench-Passw0rd",
		// The provider's main turns the SDKs' own logs off unless TF_LOG
		// asks for them (main.go, alignSDKLogLevels); the floors are
		// plain framework providers, so they get the same from here and
		// every variant pays the same for logging.
		"TF_LOG_SDK=OFF", "TF_LOG_SDK_PROTO=OFF", "TF_LOG_SDK_FRAMEWORK=OFF")...)
	return cmd
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

// TerraformRefresh is a refresh of n instances by the real Terraform CLI.
type TerraformRefresh struct {
	Instances int
	Wall      time.Duration
	Calls     int
	// PeakRSS is the provider process's peak resident memory during the
	// refresh, in bytes (0 where /proc does not say).
	PeakRSS int64
}

// MeasureRefresh applies n instances, then counts the API calls of
// `terraform plan -refresh-only`.
func (tf *Terraform) MeasureRefresh(ctx context.Context, n int) (TerraformRefresh, error) {
	rg, err := Config{Scale: 1}.start(ctx, n, 0, 0)
	if err != nil {
		return TerraformRefresh{}, err
	}
	defer rg.stop()
	sim, env := rg.sim, rg.env()
	w, err := tf.workdir("refresh", clitest.FleetHCL("fleet", n))
	if err != nil {
		return TerraformRefresh{}, err
	}
	if _, err := tf.run(ctx, w, env, "apply", "-auto-approve", "-input=false", "-no-color", "-parallelism=50"); err != nil {
		return TerraformRefresh{}, err
	}
	sim.ResetStats()
	cmd := tf.command(ctx, w, env, "plan", "-refresh-only", "-input=false", "-no-color", "-lock=false")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return TerraformRefresh{}, err
	}
	watch := watchChildren(cmd.Process.Pid)
	err = cmd.Wait()
	res := TerraformRefresh{Instances: n, Wall: time.Since(start), PeakRSS: watch()}
	if err != nil {
		return res, fmt.Errorf("terraform plan -refresh-only: %w\n%s", err, tail(out.String()))
	}
	for _, v := range sim.Stats().Requests {
		res.Calls += v
	}
	return res, nil
}
