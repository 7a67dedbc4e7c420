package provider

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/go-version"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"

	"github.com/clouddc-tf/terraform-provider-clouddc/internal/simulator"
)

// The Terraform 1.16 features that touch this provider, as Terraform
// 1.16.4's source and CHANGELOG define them (none of them is in 1.15):
//
//   - action_trigger events before_destroy and after_destroy, and the
//     caller symbol in an action's configuration (the object of the
//     resource that triggered it; before a destroy, its prior state);
//   - action_trigger on_failure: halt (the default: the error stops the
//     apply), taint (the error, and an after_create action's resource is
//     tainted; on any other event it is halt), continue (the error becomes
//     a warning). A terraform destroy (or apply -destroy) is never
//     blocked: a destroy-time action's errors are warnings there, whatever
//     on_failure says;
//   - -invoke with -target: for an action that uses caller, -target picks
//     the calling resource instances to invoke it for (without it, every
//     instance that triggers the action);
//   - lifecycle { destroy = false }: where Terraform would destroy the
//     resource (terraform destroy, a replacement, a smaller count), it
//     forgets it instead and never calls the provider (OpenTofu has had
//     the same since 1.12.0);
//   - import blocks inside modules, their to address relative to the
//     module.
var (
	destroyActionsTerraform = []tfversion.TerraformVersionCheck{terraformAtLeast{version1_16, "action triggers on before_destroy, and caller", false}}
	onFailureTerraform      = []tfversion.TerraformVersionCheck{terraformAtLeast{version1_16, "on_failure in action_trigger", false}}
	invokeTargetTerraform   = []tfversion.TerraformVersionCheck{terraformAtLeast{version1_16, "-invoke with -target", false}}
	forgetTerraform         = []tfversion.TerraformVersionCheck{forgetSupported{}}
	moduleImportTerraform   = []tfversion.TerraformVersionCheck{terraformAtLeast{version1_16, "import blocks inside modules", false}}
)

var version1_16 = version.Must(version.NewVersion("1.16.0"))

// forgetSupported skips a test on the CLIs without lifecycle { destroy =
// false }: Terraform before 1.16.0, OpenTofu before 1.12.0.
type forgetSupported struct{}

func (forgetSupported) CheckTerraformVersion(ctx context.Context, req tfversion.CheckTerraformVersionRequest, resp *tfversion.CheckTerraformVersionResponse) {
	if isOpenTofu() {
		if req.TerraformVersion.Core().LessThan(version.Must(version.NewVersion("1.12.0"))) {
			resp.Skip = fmt.Sprintf("OpenTofu %s does not support lifecycle { destroy = false } (needs 1.12.0)", req.TerraformVersion)
		}
		return
	}
	terraformAtLeast{version1_16, "lifecycle { destroy = false }", false}.CheckTerraformVersion(ctx, req, resp)
}

// powerOffCaller is the power-off action, with the instance of whichever
// resource triggers it.
const powerOffCaller = `
action "clouddc_instance_power_off" "stop" {
  config {
    instance_id = caller.id
  }
}
`

// triggeredBy is a lifecycle block that triggers the power-off action on
// event, with onFailure unless it is empty.
func triggeredBy(event, onFailure string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "lifecycle {\n    action_trigger {\n      events  = [%s]\n      actions = [action.clouddc_instance_power_off.stop]\n", event)
	if onFailure != "" {
		fmt.Fprintf(&b, "      on_failure = %s\n", onFailure)
	}
	b.WriteString("    }\n  }")
	return b.String()
}

// powerRefused makes the API refuse the next power change.
func powerRefused(sim *simulator.TestServer) {
	sim.InjectFault(simulator.Fault{Op: simulator.OpChangePowerState, Status: 403, Code: "iMetal.0004", Message: "no power for you"})
}

// stoppedBeforeDeleted reports whether the instance's history shows it
// stopped, and later shutting down.
func stoppedBeforeDeleted(sim *simulator.TestServer, id string) bool {
	var states []string
	for _, h := range sim.History(id) {
		states = append(states, h.State)
	}
	stopped, deleted := slices.Index(states, "stopped"), slices.Index(states, "shutting-down")
	return stopped >= 0 && deleted > stopped
}

// TestAccInstanceActions_beforeDestroyWithCaller: a power-off triggered on
// before_destroy, configured with caller.id, powers the server off before
// terraform destroy deletes the instance. When it fails, terraform destroy
// goes on regardless: Terraform never lets an action block a destroy.
func TestAccInstanceActions_beforeDestroyWithCaller(t *testing.T) {
	skipUnless(t, destroyActionsTerraform)
	for _, refused := range []bool{false, true} {
		t.Run(fmt.Sprintf("power-off refused %v", refused), func(t *testing.T) {
			sim := startSimulator(t, actionSimOptions())
			var id string
			resource.ParallelTest(t, resource.TestCase{
				ProtoV6ProviderFactories: testProviderFactories(),
				TerraformVersionChecks:   destroyActionsTerraform,
				Steps: []resource.TestStep{{
					Config: providerConfig(sim) + powerOffCaller + instanceConfig("acc-before-destroy", triggeredBy("before_destroy", "")),
					Check: resource.ComposeAggregateTestCheckFunc(
						captureID(&id),
						checkSimState(sim, &id, "running"),
						func(*terraform.State) error {
							if n := sim.RequestCount(simulator.OpChangePowerState); n != 0 {
								return fmt.Errorf("%d power requests on create, want none: the action is for before_destroy", n)
							}
							if refused {
								powerRefused(sim) // for the destroy that follows
							}
							return nil
						},
					),
				}},
				CheckDestroy: resource.ComposeAggregateTestCheckFunc(
					checkAllTerminated(sim),
					func(*terraform.State) error {
						if n := sim.RequestCount(simulator.OpChangePowerState); n != 1 {
							return fmt.Errorf("%d power requests, want 1 (the before_destroy action's)", n)
						}
						if stopped := stoppedBeforeDeleted(sim, id); stopped == refused {
							return fmt.Errorf("instance %s stopped before its deletion: %v, want %v (history %v)", id, stopped, !refused, sim.History(id))
						}
						return nil
					},
				),
			})
		})
	}
}

// TestAccInstanceActions_onFailure: what each on_failure mode does when
// the power-off action fails, after a create and before the destroy of a
// replacement (an apply, where a destroy-time action may halt).
func TestAccInstanceActions_onFailure(t *testing.T) {
	skipUnless(t, onFailureTerraform)
	refused := regexp.MustCompile(`Unable to Power Off the Instance's Physical Server`)
	t.Run("after_create", func(t *testing.T) {
		for _, mode := range []string{"halt", "taint", "continue"} {
			t.Run(mode, func(t *testing.T) {
				sim := startSimulator(t, actionSimOptions())
				cfg := providerConfig(sim) + powerOffCaller + instanceConfig("acc-on-failure", triggeredBy("after_create", mode))
				steps := []resource.TestStep{{PreConfig: func() { powerRefused(sim) }, Config: cfg}}
				switch mode {
				case "continue":
					// A warning: the apply succeeds, the instance runs on.
					steps[0].Check = resource.ComposeAggregateTestCheckFunc(checkLive(sim, 1, 1), checkOnlyInstance(sim, "running", false))
				case "halt":
					// The apply fails, the instance stays as it is.
					steps[0].ExpectError = refused
					steps = append(steps, resource.TestStep{
						RefreshState: true,
						Check:        resource.ComposeAggregateTestCheckFunc(checkLive(sim, 1, 1), checkOnlyInstance(sim, "running", false)),
					})
				case "taint":
					// The apply fails and the new instance is tainted: the
					// next apply replaces it and runs the action again.
					steps[0].ExpectError = refused
					steps = append(steps,
						resource.TestStep{
							RefreshState:       true,
							ExpectNonEmptyPlan: true,
							Check:              checkOnlyInstance(sim, "running", true),
						},
						resource.TestStep{
							Config: cfg,
							ConfigPlanChecks: resource.ConfigPlanChecks{
								PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(res, plancheck.ResourceActionDestroyBeforeCreate)},
							},
							Check: resource.ComposeAggregateTestCheckFunc(checkLive(sim, 2, 1), checkOnlyInstance(sim, "stopped", false)),
						})
				}
				resource.ParallelTest(t, resource.TestCase{
					ProtoV6ProviderFactories: testProviderFactories(),
					TerraformVersionChecks:   onFailureTerraform,
					CheckDestroy:             checkAllTerminated(sim),
					Steps:                    steps,
				})
			})
		}
	})
	t.Run("before_destroy of a replacement", func(t *testing.T) {
		for _, mode := range []string{"halt", "taint", "continue"} {
			t.Run(mode, func(t *testing.T) {
				sim := startSimulator(t, actionSimOptions())
				cfg := func(name string) string {
					return providerConfig(sim) + powerOffCaller + instanceConfig(name, triggeredBy("before_destroy", mode))
				}
				var first string
				steps := []resource.TestStep{
					{Config: cfg("acc-on-failure-a"), Check: captureID(&first)},
					// A new name replaces the instance: delete, then create.
					{PreConfig: func() { powerRefused(sim) }, Config: cfg("acc-on-failure-b")},
				}
				if mode == "continue" {
					// A warning: the replacement goes ahead.
					steps[1].Check = resource.ComposeAggregateTestCheckFunc(checkLive(sim, 2, 1), checkSimState(sim, &first, "terminated"))
				} else {
					// taint only taints after a create; on a destroy it
					// halts: nothing is deleted, nothing created.
					steps[1].ExpectError = refused
					steps = append(steps, resource.TestStep{
						RefreshState:       true,
						ExpectNonEmptyPlan: true,
						Check: resource.ComposeAggregateTestCheckFunc(checkLive(sim, 1, 1), checkSimState(sim, &first, "running"),
							func(*terraform.State) error {
								if n := sim.RequestCount(simulator.OpDeleteInstance); n != 0 {
									return fmt.Errorf("%d delete requests, want none", n)
								}
								return nil
							}),
					})
				}
				resource.ParallelTest(t, resource.TestCase{
					ProtoV6ProviderFactories: testProviderFactories(),
					TerraformVersionChecks:   onFailureTerraform,
					CheckDestroy:             checkAllTerminated(sim),
					Steps:                    steps,
				})
			})
		}
	})
}

// checkOnlyInstance asserts the state of the live instance of the test's
// one resource, and whether the state marks it tainted.
func checkOnlyInstance(sim *simulator.TestServer, want string, tainted bool) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		rs, ok := s.RootModule().Resources[res]
		if !ok || rs.Primary == nil {
			return fmt.Errorf("%s is not in the state", res)
		}
		if rs.Primary.Tainted != tainted {
			return fmt.Errorf("%s tainted: %v, want %v", res, rs.Primary.Tainted, tainted)
		}
		in, ok := sim.Instance(rs.Primary.ID)
		if !ok || in.State != want {
			return fmt.Errorf("instance %s is %q in the simulator, want %s", rs.Primary.ID, in.State, want)
		}
		return nil
	}
}

// TestAccInstanceActions_invokeWithTarget: an action that uses caller, run
// with terraform apply -invoke, runs for the instances -target names, and
// for every instance that triggers it without -target.
// terraform-plugin-testing cannot pass -invoke, so the CLI runs by hand.
func TestAccInstanceActions_invokeWithTarget(t *testing.T) {
	skipUnless(t, invokeTargetTerraform)
	t.Parallel()
	sim := startSimulator(t, actionSimOptions())
	dir := t.TempDir()
	env := cliProvider(t)
	writeFiles(t, dir, map[string]string{"main.tf": providerConfig(sim) + powerOffCaller +
		instanceHCL{name: "acc-invoke-${count.index}", count: 2, extra: triggeredBy("after_update", "")}.String()})
	runReattached(t, dir, env, "init", "-input=false", "-no-color")
	runReattached(t, dir, env, "apply", "-auto-approve", "-input=false", "-no-color")
	ids := stateIDs(t, dir, env, res+"[0]", res+"[1]")
	states := func() string {
		var got []string
		for _, id := range ids {
			in, _ := sim.Instance(id)
			got = append(got, in.State)
		}
		return strings.Join(got, " ")
	}
	if got := states(); got != "running running" {
		t.Fatalf("after the apply the instances are %s, want running running", got)
	}

	out := runReattached(t, dir, env, "apply", "-auto-approve", "-input=false", "-no-color",
		"-invoke=action.clouddc_instance_power_off.stop", "-target="+res+"[1]")
	if got := states(); got != "running stopped" {
		t.Fatalf("after -invoke with -target=%s[1] the instances are %s, want running stopped:\n%s", res, got, out)
	}
	if n := sim.RequestCount(simulator.OpChangePowerState); n != 1 {
		t.Fatalf("%d power requests, want 1", n)
	}

	out = runReattached(t, dir, env, "apply", "-auto-approve", "-input=false", "-no-color", "-invoke=action.clouddc_instance_power_off.stop")
	if got := states(); got != "stopped stopped" {
		t.Fatalf("after -invoke without -target the instances are %s, want stopped stopped:\n%s", got, out)
	}
	if n := sim.RequestCount(simulator.OpChangePowerState); n != 2 {
		t.Fatalf("%d power requests, want 2 (the second instance was stopped already)", n)
	}

	runReattached(t, dir, env, "destroy", "-auto-approve", "-input=false", "-no-color")
	if err := checkAllTerminated(sim)(nil); err != nil {
		t.Error(err)
	}
}

// stateIDs reads the IDs of the given resource instances from the state in dir.
func stateIDs(t *testing.T, dir string, env []string, addrs ...string) []string {
	t.Helper()
	var ids []string
	for _, addr := range addrs {
		out := runReattached(t, dir, env, "state", "show", "-no-color", addr)
		m := regexp.MustCompile(`(?m)^\s+id\s+=\s+"([0-9a-f-]{36})"`).FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("no id in terraform state show %s:\n%s", addr, out)
		}
		ids = append(ids, m[1])
	}
	return ids
}

// mutatingOps are the API calls that change an instance.
var mutatingOps = []string{
	simulator.OpCreateInstance, simulator.OpRunInstances, simulator.OpDeleteInstance, simulator.OpDeleteInstances,
	simulator.OpReinstallOS, simulator.OpChangePassword, simulator.OpModifyIP, simulator.OpChangePowerState,
}

// checkUntouched asserts that the simulator received no request that
// changes an instance besides wantCreates creates, and that every instance
// it knows is running, as it was when its installation finished.
func checkUntouched(sim *simulator.TestServer, wantCreates int) resource.TestCheckFunc {
	return func(*terraform.State) error {
		for _, op := range mutatingOps {
			want := 0
			if op == simulator.OpCreateInstance {
				want = wantCreates
			}
			if n := sim.RequestCount(op); n != want {
				return fmt.Errorf("%d %s requests, want %d", n, op, want)
			}
		}
		for _, in := range sim.Instances() {
			h := sim.History(in.ID)
			if last := h[len(h)-1]; in.State != "running" || last.State != "running" || last.OperationState != "install-succeed" {
				return fmt.Errorf("instance %s is %s (%s), history %v: it was changed after it was installed", in.ID, in.State, in.OperationState, h)
			}
		}
		return nil
	}
}

// TestAccInstanceResource_lifecycleDestroyFalse: with lifecycle { destroy = false }, a
// replacement and terraform destroy forget the instance instead of
// deleting it: the API is not called, and the instance runs on as it was.
func TestAccInstanceResource_lifecycleDestroyFalse(t *testing.T) {
	skipUnless(t, forgetTerraform)
	sim := startSimulator(t, fastSimOptions())
	cfg := func(name string) string {
		return providerConfig(sim) + instanceConfig(name, "lifecycle {\n    destroy = false\n  }")
	}
	var first, second string
	var forgetError *regexp.Regexp
	if isOpenTofu() {
		forgetError = regexp.MustCompile(`Destroy was successful but left behind forgotten instances`)
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories(),
		TerraformVersionChecks:   forgetTerraform,
		Steps: []resource.TestStep{
			{
				Config: cfg("acc-forget-a"),
				Check:  resource.ComposeAggregateTestCheckFunc(captureID(&first), checkUntouched(sim, 1)),
			},
			{
				// A new name would replace the instance: the old one is
				// forgotten, not deleted, and a new one is made.
				Config: cfg("acc-forget-b"),
				Check: resource.ComposeAggregateTestCheckFunc(captureID(&second), checkUntouched(sim, 2),
					func(*terraform.State) error {
						if first == second {
							return fmt.Errorf("the instance was not replaced: ID %s in both steps", first)
						}
						return nil
					}),
			},
			{
				// terraform destroy (apply -destroy) forgets it too. OpenTofu
				// then exits with an error that says so (unless given
				// -suppress-forget-errors); Terraform does not.
				Config:      cfg("acc-forget-b"),
				Destroy:     true,
				ExpectError: forgetError,
			},
			{
				// Gone from the state: without the resource block, nothing
				// is left to delete (had destroy deleted it, or kept it in
				// the state, this would show).
				Config: providerConfig(sim),
				Check: resource.ComposeAggregateTestCheckFunc(checkLive(sim, 2, 2), checkUntouched(sim, 2),
					func(s *terraform.State) error {
						if len(s.RootModule().Resources) != 0 {
							return fmt.Errorf("the state still holds %v", s.RootModule().Resources)
						}
						return nil
					}),
			},
		},
		CheckDestroy: resource.ComposeAggregateTestCheckFunc(checkLive(sim, 2, 2), checkUntouched(sim, 2)),
	})
}

// TestAccInstanceResource_importInModule: an import block inside a module, one
// module instance per instance made out of band, adopts each instance into
// that module instance's resource; nothing is created, and the first apply
// sets the configured password. terraform-plugin-testing reads neither a
// state with modules nor the files of a module, so the CLI runs by hand.
func TestAccInstanceResource_importInModule(t *testing.T) {
	skipUnless(t, moduleImportTerraform)
	t.Parallel()
	sim := startSimulator(t, fastSimOptions())
	a := createOutOfBand(t, sim, "acc-module-a", "Console-Passw0rd")
	b := createOutOfBand(t, sim, "acc-module-b", "Console-Passw0rd")
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "adopted"), 0o700); err != nil {
		t.Fatal(err)
	}
	writeFiles(t, dir, map[string]string{
		"main.tf": providerConfig(sim) + fmt.Sprintf(`
module "adopted" {
  source   = "./adopted"
  for_each = { a = %q, b = %q }

  instance_id = each.value
  name        = "acc-module-${each.key}"
}
`, a, b),
		filepath.Join("adopted", "main.tf"): fmt.Sprintf(`
variable "instance_id" {
  type = string
}

variable "name" {
  type = string
}

import {
  to = clouddc_instance.this
  id = var.instance_id
}

resource "clouddc_instance" "this" {
  name               = var.name
  image_id           = %q
  vpc_id             = %q
  password           = %q
  network_interfaces = [{ subnet_id = %q }]
}
`, simulator.DefaultImageID, simulator.DefaultVPCID, testPassword, simulator.DefaultSubnetID),
	})
	env := cliProvider(t)
	runReattached(t, dir, env, "init", "-input=false", "-no-color")
	out := runReattached(t, dir, env, "apply", "-auto-approve", "-input=false", "-no-color")
	// Imported, and updated in place: the password.
	if !strings.Contains(out, "Apply complete! Resources: 2 imported, 0 added, 2 changed, 0 destroyed.") {
		t.Fatalf("the apply did not import both instances and change them in place:\n%s", out)
	}
	got := stateIDs(t, dir, env, `module.adopted["a"].clouddc_instance.this`, `module.adopted["b"].clouddc_instance.this`)
	if got[0] != a || got[1] != b {
		t.Fatalf("the module instances hold %v, want [%s %s]", got, a, b)
	}
	if err := checkLive(sim, 2, 2)(nil); err != nil {
		t.Fatal(err)
	}
	if n := sim.RequestCount(simulator.OpCreateInstance); n != 2 {
		t.Fatalf("%d create requests, want the 2 made out of band", n)
	}
	for _, id := range []string{a, b} {
		if pw, _ := sim.Password(id); pw != testPassword {
			t.Fatalf("instance %s has password %q, want the configured one", id, pw)
		}
	}
	// The plan is empty now: the import is done.
	if out := runReattached(t, dir, env, "plan", "-detailed-exitcode", "-input=false", "-no-color"); !strings.Contains(out, "No changes.") {
		t.Fatalf("the plan after the import is not empty:\n%s", out)
	}
	runReattached(t, dir, env, "destroy", "-auto-approve", "-input=false", "-no-color")
	if err := checkAllTerminated(sim)(nil); err != nil {
		t.Error(err)
	}
}
