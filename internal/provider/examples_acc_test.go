package provider

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/clouddc-tf/terraform-provider-clouddc/internal/clitest"
	"github.com/clouddc-tf/terraform-provider-clouddc/internal/simulator"
)

// The instance ID that the import examples name; the test gives it to an
// instance it made, since the simulator picks IDs itself.
const exampleImportID = "2f6a3c52-7a7e-4b8a-9d4e-0c1f2a3b4c5d"

// exampleCase is how one file under examples/ is tried: what the simulator
// holds before, and what must be true after the apply.
type exampleCase struct {
	// minVersion is the oldest CLI the example is for; on an older one the
	// example must fail at once with the CLI's version error.
	minVersion string
	// terraformOnly: OpenTofu lacks what the example needs (actions,
	// import by identity), so there too it must fail at once, not halfway.
	terraformOnly bool
	// then runs after the apply and its check, with a runner that adds
	// environment variables: what the example's comment says to do next.
	then func(t *testing.T, sim *simulator.TestServer, run func(env []string, args ...string) string)
	// seed prepares the simulator and returns the instance IDs it made.
	seed func(t *testing.T, sim *simulator.TestServer) []string
	// check runs after the apply, with the outputs and the seeded IDs.
	check func(t *testing.T, sim *simulator.TestServer, outputs map[string]json.RawMessage, seeded []string)
	// keepsSeeded: the example does not manage the seeded instances, so
	// they outlive its destroy.
	keepsSeeded bool
	// passwordOutOfState: the example keeps the password out of the state
	// (write-only arguments and an ephemeral variable).
	passwordOutOfState bool
}

// unsupportedByCLI is what a CLI says, at init or validate, of an example
// that needs a newer CLI or Terraform rather than OpenTofu.
var unsupportedByCLI = regexp.MustCompile(`Unsupported (Terraform|OpenTofu) Core version|Unsupported block type|Unsupported argument|Invalid import id argument`)

// examplePassword is what TF_VAR_root_password holds for the examples.
const examplePassword = "Example-Passw0rd"

// exampleCases has a case for every .tf file under examples/; the test
// fails when a file has none, so a new example cannot go untested.
var exampleCases = map[string]exampleCase{
	"demo/main.tf": {
		check: func(t *testing.T, sim *simulator.TestServer, _ map[string]json.RawMessage, _ []string) {
			wantLive(t, sim, "demo-web-1")
		},
	},
	"provider/provider.tf": {},
	"resources/clouddc_instance/resource.tf": {
		check: func(t *testing.T, sim *simulator.TestServer, _ map[string]json.RawMessage, _ []string) {
			live := wantLive(t, sim, "db-1", "web-1")
			if live["db-1"].ServerID != "a0000000-0000-4000-8000-000000000003" {
				t.Errorf("db-1 is on server %s, not on the one the example chose", live["db-1"].ServerID)
			}
		},
	},
	"resources/clouddc_instance/resource_password_wo.tf": {
		minVersion:         "1.11.0",
		passwordOutOfState: true,
		check: func(t *testing.T, sim *simulator.TestServer, _ map[string]json.RawMessage, _ []string) {
			live := wantLive(t, sim, "app-1")
			if pw, _ := sim.Password(live["app-1"].ID); pw != examplePassword {
				t.Errorf("the instance's password is %q, not the write-only one", pw)
			}
		},
	},
	"resources/clouddc_instance/import-by-string-id.tf": {
		seed: seedImported,
		check: func(t *testing.T, sim *simulator.TestServer, _ map[string]json.RawMessage, seeded []string) {
			live := wantLive(t, sim, "web-1")
			if live["web-1"].ID != seeded[0] {
				t.Errorf("the apply replaced the imported instance %s with %s", seeded[0], live["web-1"].ID)
			}
			// What the example's comment and the import section promise.
			if n := sim.RequestCount(simulator.OpChangePassword); n != 1 {
				t.Errorf("the first apply after the import sent ChangeInstancePassword %d times, want 1", n)
			}
			if pw, _ := sim.Password(seeded[0]); pw != examplePassword {
				t.Errorf("the imported instance's password is %q, not the configured one", pw)
			}
		},
		// The import adopts the instance: destroy deletes it.
	},
	"resources/clouddc_instance/import-by-identity.tf": {
		minVersion: "1.12.0",
		seed:       seedImported,
		check: func(t *testing.T, sim *simulator.TestServer, _ map[string]json.RawMessage, seeded []string) {
			live := wantLive(t, sim, "web-1")
			if live["web-1"].ID != seeded[0] {
				t.Errorf("the apply replaced the instance imported by identity %s with %s", seeded[0], live["web-1"].ID)
			}
			if n := sim.RequestCount(simulator.OpChangePassword); n != 1 {
				t.Errorf("the first apply after the import sent ChangeInstancePassword %d times, want 1", n)
			}
		},
	},
	"actions/clouddc_instance_power_off/action.tf": {
		minVersion:    "1.14.0",
		terraformOnly: true,
		then: func(t *testing.T, sim *simulator.TestServer, run func(env []string, args ...string) string) {
			run(nil, "apply", "-auto-approve", "-input=false", "-no-color", "-invoke=action.clouddc_instance_power_off.web")
			live := liveInstances(sim)
			if len(live) != 1 || live[0].Name != "web-1" || live[0].State != "stopped" {
				t.Errorf("after the power_off action: %+v; want web-1, stopped", live)
			}
		},
	},
	"actions/clouddc_instance_power_on/action.tf": {
		minVersion:    "1.14.0",
		terraformOnly: true,
		then: func(t *testing.T, sim *simulator.TestServer, run func(env []string, args ...string) string) {
			// Off first, as the example's comment has it ("back on"), so
			// that only the action can make it running again.
			live := liveInstances(sim)
			if len(live) != 1 {
				t.Fatalf("live instances before the action: %+v", live)
			}
			powerOffOutOfBand(t, sim, live[0].ID)
			run(nil, "apply", "-auto-approve", "-input=false", "-no-color", "-invoke=action.clouddc_instance_power_on.web")
			wantLive(t, sim, "web-1") // running again
		},
	},
	"actions/clouddc_instance_reboot/action.tf": {
		minVersion:    "1.14.0",
		terraformOnly: true,
		then: func(t *testing.T, sim *simulator.TestServer, run func(env []string, args ...string) string) {
			if n := sim.RequestCount(simulator.OpChangePowerState); n != 0 {
				t.Errorf("creating the instance rebooted it %d times; the trigger is for password changes only", n)
			}
			// What the example is for: a new password reboots the server.
			run([]string{"TF_VAR_root_password=" + examplePassword + "-2"}, "apply", "-auto-approve", "-input=false", "-no-color")
			if n := sim.RequestCount(simulator.OpChangePowerState); n != 1 {
				t.Errorf("the password change rebooted the server %d times, want 1", n)
			}
			wantLive(t, sim, "web-1")
		},
	},
	"actions/clouddc_instance_reinstall/action.tf": {
		minVersion:         "1.14.0",
		terraformOnly:      true,
		passwordOutOfState: true,
		then: func(t *testing.T, sim *simulator.TestServer, run func(env []string, args ...string) string) {
			run(nil, "apply", "-auto-approve", "-input=false", "-no-color", "-invoke=action.clouddc_instance_reinstall.web")
			if n := sim.RequestCount(simulator.OpReinstallOS); n != 1 {
				t.Errorf("the reinstall action sent ReinstallOs %d times, want 1", n)
			}
			live := wantLive(t, sim, "web-1")
			// The action was given the instance's password, as the example says.
			if pw, _ := sim.Password(live["web-1"].ID); pw != examplePassword {
				t.Errorf("the reinstalled instance's password is %q, not the one the action was given", pw)
			}
		},
	},
	"data-sources/clouddc_instance/data-source.tf": {
		seed:        seedWeb1,
		keepsSeeded: true,
		check: func(t *testing.T, _ *simulator.TestServer, out map[string]json.RawMessage, _ []string) {
			var addr string
			if err := json.Unmarshal(out["web_address"], &addr); err != nil || !strings.HasPrefix(addr, "192.168.0.") {
				t.Errorf("web_address = %s (%v), want an address of web-1's subnet", out["web_address"], err)
			}
		},
	},
	"data-sources/clouddc_instances/data-source.tf": {
		seed:        seedWeb1,
		keepsSeeded: true,
		check: func(t *testing.T, _ *simulator.TestServer, out map[string]json.RawMessage, seeded []string) {
			var ids []string
			if err := json.Unmarshal(out["web_ids"], &ids); err != nil || !slices.Equal(ids, seeded) {
				t.Errorf("web_ids = %s (%v), want %v", out["web_ids"], err, seeded)
			}
		},
	},
	"data-sources/clouddc_physical_servers/data-source.tf": {
		seed:        seedWeb1,
		keepsSeeded: true,
		check: func(t *testing.T, _ *simulator.TestServer, out map[string]json.RawMessage, _ []string) {
			var ids []string
			if err := json.Unmarshal(out["ready_servers"], &ids); err != nil || len(ids) != 9 {
				t.Errorf("ready_servers = %s (%v), want the 9 servers that web-1 left free", out["ready_servers"], err)
			}
		},
	},
}

// TestAccExamples applies every example under examples/ the way a user
// would: the file alone, pasted into an empty folder, then terraform init,
// apply and destroy, with the real CLI and a provider binary built from this
// repository. The only thing changed for the test is where the CLI finds the
// provider (dev_overrides for both registries' clouddc-tf/clouddc); the
// settings come from the CLOUDDC_* variables, as the examples say.
func TestAccExamples(t *testing.T) {
	if os.Getenv("TF_ACC") == "" {
		t.Skip("set TF_ACC=1 (make test does) to run the examples with the Terraform CLI")
	}
	cli := os.Getenv("TF_ACC_TERRAFORM_PATH")
	if cli == "" {
		var err error
		if cli, err = exec.LookPath("terraform"); err != nil {
			t.Fatal("no Terraform CLI: set TF_ACC_TERRAFORM_PATH (make test does)")
		}
	}
	cliVersion := cliVersion(t, cli)
	openTofu := os.Getenv("TF_ACC_PROVIDER_HOST") == "registry.opentofu.org"

	root := filepath.Join("..", "..")
	files := exampleFiles(t, filepath.Join(root, "examples"))
	for _, f := range files {
		if _, ok := exampleCases[f]; !ok {
			t.Errorf("examples/%s has no case in exampleCases: add one that says what applying it must do", f)
		}
	}
	for f := range exampleCases {
		if !slices.Contains(files, f) {
			t.Errorf("exampleCases names examples/%s, which does not exist", f)
		}
	}
	if t.Failed() {
		return
	}

	dir := t.TempDir()
	rc := filepath.Join(dir, "cli.tfrc")
	if err := clitest.BuildProvider(t.Context(), root, filepath.Join(dir, "plugins"), os.Getenv("TF_ACC_PROVIDER_HOST"), rc); err != nil {
		t.Fatal(err)
	}

	for _, f := range files {
		tc := exampleCases[f]
		t.Run(f, func(t *testing.T) {
			t.Parallel()
			sim := startSimulator(t, actionSimOptions())
			var seeded []string
			if tc.seed != nil {
				seeded = tc.seed(t, sim)
			}
			work := t.TempDir()
			src, err := os.ReadFile(filepath.Join(root, "examples", f)) //nolint:gosec // G304: our own examples
			if err != nil {
				t.Fatal(err)
			}
			config := string(src)
			if strings.Contains(config, exampleImportID) {
				if len(seeded) == 0 {
					t.Fatalf("examples/%s imports %s, but its case seeds no instance to stand for it", f, exampleImportID)
				}
				config = strings.ReplaceAll(config, exampleImportID, seeded[0])
			}
			if err := os.WriteFile(filepath.Join(work, filepath.Base(f)), []byte(config), 0o600); err != nil { //nolint:gosec // G703: under t.TempDir()
				t.Fatal(err)
			}
			runWith := exampleRunner(t, cli, work, rc, sim)
			run := func(args ...string) string { return runWith(nil, args...) }

			run("fmt", "-check", "-diff")
			if tc.minVersion != "" && olderThan(t, cliVersion, tc.minVersion) || tc.terraformOnly && openTofu {
				// terraform init, the first command in an empty folder,
				// checks required_version before anything else; OpenTofu
				// refuses the blocks it does not know at init or validate.
				out, err := runCLI(t.Context(), cli, work, rc, sim, nil, "init", "-backend=false", "-input=false", "-no-color")
				if err == nil || !unsupportedByCLI.MatchString(out) {
					// init may also fail on its own (OpenTofu asks its
					// registry, which dev_overrides make needless);
					// validate says what the CLI makes of the example.
					out, err = runCLI(t.Context(), cli, work, rc, sim, nil, "validate", "-no-color")
				}
				if err == nil || !unsupportedByCLI.MatchString(out) {
					t.Fatalf("on %s %s, which lacks what the example needs (%s or later%s), init or validate should fail at once "+
						"with the CLI's own error; it said (%v):\n%s", filepath.Base(cli), cliVersion, tc.minVersion,
						map[bool]string{true: ", Terraform only"}[tc.terraformOnly], err, out)
				}
				return
			}
			// No terraform init: with dev_overrides there is nothing to
			// install, and Terraform 1.5 would still ask the registry.
			run("validate", "-no-color")
			run("apply", "-auto-approve", "-input=false", "-no-color")
			if tc.check != nil {
				out := run("output", "-json", "-no-color")
				outputs := map[string]struct {
					Value json.RawMessage `json:"value"`
				}{}
				if err := json.Unmarshal([]byte(out), &outputs); err != nil {
					t.Fatalf("terraform output -json: %v\n%s", err, out)
				}
				values := map[string]json.RawMessage{}
				for k, v := range outputs {
					values[k] = v.Value
				}
				tc.check(t, sim, values, seeded)
			}
			if tc.then != nil {
				tc.then(t, sim, runWith)
			}
			if show := run("show", "-json", "-no-color"); strings.Contains(show, examplePassword) && tc.passwordOutOfState {
				t.Error("the write-only password is in the state")
			}
			// What the resource example's comment says to do before a
			// destroy: turn deletion_protection off, in place.
			const protect = "deletion_protection = true"
			if strings.Contains(config, protect) {
				unprotected := strings.ReplaceAll(config, protect, "deletion_protection = false")
				if err := os.WriteFile(filepath.Join(work, filepath.Base(f)), []byte(unprotected), 0o600); err != nil { //nolint:gosec // G703: under t.TempDir()
					t.Fatal(err)
				}
				run("apply", "-auto-approve", "-input=false", "-no-color")
			}
			run("destroy", "-auto-approve", "-input=false", "-no-color")
			live := liveInstances(sim)
			if tc.keepsSeeded {
				live = slices.DeleteFunc(live, func(in simulator.Instance) bool { return slices.Contains(seeded, in.ID) })
			}
			for _, in := range live {
				t.Errorf("instance %s (%s) is %s after terraform destroy", in.ID, in.Name, in.State)
			}
		})
	}
}

// exampleFiles lists the .tf files under dir, relative to it.
func exampleFiles(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(p) != ".tf" {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		files = append(files, filepath.ToSlash(rel))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// exampleRunner returns a function that runs the CLI in work and fails the
// test when it fails.
func exampleRunner(t *testing.T, cli, work, rc string, sim *simulator.TestServer) func(env []string, args ...string) string {
	return func(env []string, args ...string) string {
		t.Helper()
		out, err := runCLI(t.Context(), cli, work, rc, sim, env, args...)
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", filepath.Base(cli), strings.Join(args, " "), err, out)
		}
		return out
	}
}

// runCLI runs the CLI in work with the settings a user of the simulator
// would export, then env, and nothing else from this repository.
func runCLI(ctx context.Context, cli, work, rc string, sim *simulator.TestServer, env []string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, cli, args...) //nolint:gosec // G204: the CLI make test chose, on our own examples
	cmd.Dir = work
	cmd.Env = append(os.Environ(),
		"TF_CLI_CONFIG_FILE="+rc, "TF_IN_AUTOMATION=1", "CHECKPOINT_DISABLE=1", "TF_LOG=",
		"CLOUDDC_ENDPOINT="+sim.URL, "CLOUDDC_PROJECT_ID="+sim.ProjectID(), "CLOUDDC_TOKEN="+sim.Token(),
		"TF_VAR_root_password="+examplePassword)
	cmd.Env = append(cmd.Env, env...)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// cliVersion is the CLI's version, such as 1.5.7 (OpenTofu reports its own
// under the same key).
func cliVersion(t *testing.T, cli string) string {
	t.Helper()
	out, err := exec.CommandContext(t.Context(), cli, "version", "-json").Output() //nolint:gosec // G204: the CLI make test chose
	if err != nil {
		t.Fatalf("%s version -json: %v", cli, err)
	}
	var v struct {
		Version string `json:"terraform_version"`
	}
	if err := json.Unmarshal(out, &v); err != nil || v.Version == "" {
		t.Fatalf("%s version -json: %v\n%s", cli, err, out)
	}
	return v.Version
}

// olderThan compares two versions of the form major.minor.patch.
func olderThan(t *testing.T, v, than string) bool {
	t.Helper()
	parse := func(s string) [3]int {
		var out [3]int
		for i, part := range strings.SplitN(strings.SplitN(s, "-", 2)[0], ".", 3) {
			n, err := strconv.Atoi(part)
			if err != nil {
				t.Fatalf("version %q: %v", s, err)
			}
			out[i] = n
		}
		return out
	}
	a, b := parse(v), parse(than)
	return slices.Compare(a[:], b[:]) < 0
}

// seedWeb1 makes the running instance web-1 that the data source examples
// look up.
func seedWeb1(t *testing.T, sim *simulator.TestServer) []string {
	ids := seedInstances(t, sim, "web-1")
	waitRunning(t, sim, ids...)
	return ids
}

// seedImported makes a running web-1 as the import example configures it,
// installed outside Terraform.
func seedImported(t *testing.T, sim *simulator.TestServer) []string {
	ids := seedWeb1(t, sim)
	sim.ResetStats()
	return ids
}

func waitRunning(t *testing.T, sim *simulator.TestServer, ids ...string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for _, id := range ids {
		for {
			in, ok := sim.Instance(id)
			if ok && in.State == "running" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("seeded instance %s is still %q after a minute", id, in.State)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// wantLive fails unless the simulator's live instances have exactly these
// names, and returns them by name.
func wantLive(t *testing.T, sim *simulator.TestServer, names ...string) map[string]simulator.Instance {
	t.Helper()
	byName := map[string]simulator.Instance{}
	var got []string
	for _, in := range liveInstances(sim) {
		byName[in.Name] = in
		got = append(got, in.Name)
		if in.State != "running" {
			t.Errorf("instance %s (%s) is %s after the apply, not running", in.ID, in.Name, in.State)
		}
	}
	slices.Sort(got)
	if !slices.Equal(got, names) {
		t.Errorf("live instances after the apply: %v, want %v", got, names)
	}
	return byName
}
