package provider

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/clouddc-tf/terraform-provider-clouddc/internal/simulator"
)

// actionSimOptions are fastSimOptions with power changes and reinstalls
// that take a moment, so that the actions have something to wait for, and
// with power changes that show only after a lag, as a real service may:
// a reboot reads on, rebooting, on.
func actionSimOptions() simulator.Options {
	o := updateSimOptions()
	o.PowerStateLag = 100 * time.Millisecond
	return o
}

// invokeOnCreate is an action block, and a terraform_data resource named
// trigger that invokes it when it is created: a change of trigger replaces
// it and so invokes the action again.
func invokeOnCreate(actionType, instanceID, trigger, extra string) string {
	return fmt.Sprintf(`
action %[1]q "this" {
  config {
    instance_id = %[2]q
%[4]s
  }
}

resource "terraform_data" "trigger" {
  triggers_replace = %[3]q
  lifecycle {
    action_trigger {
      events  = [after_create]
      actions = [action.%[1]s.this]
    }
  }
}
`, actionType, instanceID, trigger, extra)
}

func serverOf(sim *simulator.TestServer, instanceID string) (simulator.Server, error) {
	in, _ := sim.Instance(instanceID)
	for _, s := range sim.Servers() {
		if s.ID == in.ServerID {
			return s, nil
		}
	}
	return simulator.Server{}, fmt.Errorf("no server for instance %s", instanceID)
}

// TestAccInstanceActions_lifecycle: each action reaches its end state:
// power off, power on, reboot, reinstall; and an action asked for the
// state the instance is already in does nothing.
func TestAccInstanceActions_lifecycle(t *testing.T) {
	skipUnless(t, actionsTerraform)
	sim := startSimulator(t, actionSimOptions())
	id := createOutOfBand(t, sim, "acc-actions", "Console-Passw0rd")
	powerRequests := func(want int) resource.TestCheckFunc {
		return func(*terraform.State) error {
			if n := sim.RequestCount(simulator.OpChangePowerState); n != want {
				return fmt.Errorf("%d power requests reached the API, want %d", n, want)
			}
			return nil
		}
	}
	cfg := func(actionType, trigger, extra string) string {
		return providerConfig(sim) + invokeOnCreate(actionType, id, trigger, extra)
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories(),
		TerraformVersionChecks:   actionsTerraform,
		Steps: []resource.TestStep{
			{
				Config: cfg("clouddc_instance_power_off", "off", ""),
				Check:  resource.ComposeAggregateTestCheckFunc(checkInstance(sim, id, wantState("stopped")), powerRequests(1)),
			},
			{
				// Already stopped: nothing is sent.
				Config: cfg("clouddc_instance_power_off", "off again", ""),
				Check:  resource.ComposeAggregateTestCheckFunc(checkInstance(sim, id, wantState("stopped")), powerRequests(1)),
			},
			{
				Config: cfg("clouddc_instance_power_on", "on", ""),
				Check:  resource.ComposeAggregateTestCheckFunc(checkInstance(sim, id, wantState("running")), powerRequests(2)),
			},
			{
				Config: cfg("clouddc_instance_reboot", "reboot", ""),
				Check: resource.ComposeAggregateTestCheckFunc(
					checkInstance(sim, id, wantState("running")),
					powerRequests(3),
					func(*terraform.State) error {
						srv, err := serverOf(sim, id)
						if err != nil {
							return err
						}
						if srv.PowerState != "on" {
							return fmt.Errorf("server %s is %s after the reboot action, want on", srv.ID, srv.PowerState)
						}
						return nil
					},
				),
			},
			{
				Config: cfg("clouddc_instance_reinstall", "reinstall", fmt.Sprintf("    password = %q\n    deletion_protection = false", testPassword)),
				Check: resource.ComposeAggregateTestCheckFunc(
					checkInstance(sim, id, func(in simulator.Instance) error {
						if in.State != "running" || in.OperationState != "reinstall-succeed" {
							return fmt.Errorf("instance is %s (%s) after the reinstall action", in.State, in.OperationState)
						}
						if n := reinstallsStarted(sim, id); n != 1 {
							return fmt.Errorf("%d reinstalls started, want 1", n)
						}
						return nil
					}),
					// No resource holds the instance: check it by ID.
					func(*terraform.State) error {
						if pw, _ := sim.Password(id); pw != testPassword {
							return fmt.Errorf("the reinstalled instance has password %q, want %q", pw, testPassword)
						}
						return nil
					},
				),
			},
			{
				// A second reinstall starts from reinstall-succeed: the
				// action waits for this one, not the first.
				Config: cfg("clouddc_instance_reinstall", "reinstall again", fmt.Sprintf("    password = %q\n    deletion_protection = false", testPassword)),
				Check: checkInstance(sim, id, func(in simulator.Instance) error {
					// Ended, not just started: the action waited for it.
					if in.OperationState != "reinstall-succeed" {
						return fmt.Errorf("instance is %s (%s) after the second reinstall", in.State, in.OperationState)
					}
					started := reinstallsStarted(sim, id)
					if n := sim.RequestCount(simulator.OpReinstallOS); n != 2 || started != 2 {
						return fmt.Errorf("%d reinstall requests and %d reinstalls started; want 2 and 2", n, started)
					}
					return nil
				}),
			},
		},
	})
}

// TestAccInstanceActions_reinstallEphemeralPassword: the reinstall
// action's password takes an ephemeral value, as the password_wo example
// keeps the password in an ephemeral variable, and never stores it.
func TestAccInstanceActions_reinstallEphemeralPassword(t *testing.T) {
	skipUnless(t, actionsTerraform)
	sim := startSimulator(t, actionSimOptions())
	id := createOutOfBand(t, sim, "acc-actions-ephemeral", "Console-Passw0rd")
	const newPassword = "Ephemeral-Passw0rd"
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories(),
		TerraformVersionChecks:   actionsTerraform,
		Steps: []resource.TestStep{{
			Config: providerConfig(sim) + fmt.Sprintf(`
variable "root_password" {
  type      = string
  sensitive = true
  ephemeral = true
  default   = %q
}
`, newPassword) + invokeOnCreate("clouddc_instance_reinstall", id, "ephemeral", "    password = var.root_password\n    deletion_protection = false"),
			Check: resource.ComposeAggregateTestCheckFunc(
				checkInstance(sim, id, func(in simulator.Instance) error {
					if n := reinstallsStarted(sim, id); n != 1 || in.OperationState != "reinstall-succeed" {
						return fmt.Errorf("%d reinstalls started, instance %s (%s); want 1, reinstall-succeed", n, in.State, in.OperationState)
					}
					if pw, _ := sim.Password(id); pw != newPassword {
						return fmt.Errorf("the reinstalled instance has password %q, not the ephemeral one", pw)
					}
					return nil
				}),
				func(s *terraform.State) error {
					for addr, rs := range s.RootModule().Resources {
						for k, v := range rs.Primary.Attributes {
							if strings.Contains(v, newPassword) {
								return fmt.Errorf("the state holds the ephemeral password in %s.%s", addr, k)
							}
						}
					}
					return nil
				},
			),
		}},
	})
}

// TestAccInstanceActions_reinstallProtected: given deletion_protection =
// true, the reinstall action is refused at plan time, naming the argument,
// and nothing reaches the API; given the resource's value, it follows it.
func TestAccInstanceActions_reinstallProtected(t *testing.T) {
	skipUnless(t, actionsTerraform)
	sim := startSimulator(t, actionSimOptions())
	resourceAndAction := func(protected string) string {
		return providerConfig(sim) + instanceConfig("acc-reinstall-protected", "deletion_protection = "+protected) + fmt.Sprintf(`
action "clouddc_instance_reinstall" "this" {
  config {
    instance_id         = clouddc_instance.test.id
    password            = %q
    deletion_protection = clouddc_instance.test.deletion_protection
  }
}
`, testPassword)
	}
	var id string
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories(),
		TerraformVersionChecks:   actionsTerraform,
		CheckDestroy:             checkAllTerminated(sim),
		Steps: []resource.TestStep{
			{
				Config: resourceAndAction("true"),
				Check:  captureID(&id),
			},
			{
				// The resource's deletion_protection, handed to the action.
				Config: resourceAndAction("true") + `
resource "terraform_data" "trigger" {
  triggers_replace = "protected"
  lifecycle {
    action_trigger {
      events  = [after_create]
      actions = [action.clouddc_instance_reinstall.this]
    }
  }
}
`,
				ExpectError: wrapped(`Instance Is Protected From Reinstalling.*reinstalls the operating system of instance.*` +
					`deletion_protection = true.*was not run.*set deletion_protection = false on the instance's clouddc_instance resource`),
			},
			{
				PreConfig: func() {
					if n := sim.RequestCount(simulator.OpReinstallOS); n != 0 {
						t.Errorf("a protected instance's reinstall sent ReinstallOs %d times", n)
					}
				},
				// Unprotected, as the error says; the destroy can then go.
				Config: resourceAndAction("false"),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttrPtr(res, "id", &id),
					checkSimState(sim, &id, "running"),
				),
			},
		},
	})
}

// TestAccInstanceActions_failures: an action fails clearly when its wait
// times out, when the API refuses, when the operation fails, and when the
// instance is in no state for it; and survives blips.
func TestAccInstanceActions_failures(t *testing.T) {
	skipUnless(t, actionsTerraform)
	opts := actionSimOptions()
	opts.PowerDuration = 10 * time.Minute
	sim := startSimulator(t, opts)
	id := createOutOfBand(t, sim, "acc-actions-fail", "Console-Passw0rd")
	cfg := func(actionType, trigger, extra string) string {
		return providerConfig(sim) + invokeOnCreate(actionType, id, trigger, extra)
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories(),
		TerraformVersionChecks:   actionsTerraform,
		Steps: []resource.TestStep{
			{
				// The API refuses the power change.
				PreConfig: func() {
					sim.InjectFault(simulator.Fault{Op: simulator.OpChangePowerState, Status: 403, Code: "iMetal.0004", Message: "no power for you"})
				},
				Config: cfg("clouddc_instance_reboot", "refused", ""),
				ExpectError: wrapped(`Unable to Reboot the Instance's Physical Server.*HTTP 403.*error_code: iMetal.0004.*` +
					`error_msg:\s+no power for you.*request ID`),
			},
			{
				// The server takes ten minutes; the action gives it a second.
				Config: cfg("clouddc_instance_power_off", "slow", "    timeouts {\n      invoke = \"1s\"\n    }"),
				ExpectError: wrapped(`Instance Did Not Become Stopped.*waiting for instance ` + id +
					` to stop timed out; it was last seen in state "running".*invoke = "60m"`),
			},
		},
	})
}

// TestAccInstanceActions_reinstallFailures: a failed reinstall reports the
// API's error, a blip on the way is retried, and a stopped instance cannot
// be rebooted.
func TestAccInstanceActions_reinstallFailures(t *testing.T) {
	skipUnless(t, actionsTerraform)
	sim := startSimulator(t, actionSimOptions())
	id := createOutOfBand(t, sim, "acc-actions-reinstall", "Console-Passw0rd")
	cfg := func(actionType, trigger, extra string) string {
		return providerConfig(sim) + invokeOnCreate(actionType, id, trigger, extra)
	}
	pw := fmt.Sprintf("    password = %q\n    deletion_protection = false", testPassword)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories(),
		TerraformVersionChecks:   actionsTerraform,
		Steps: []resource.TestStep{
			{
				// Gateway blips on the status polls and on the power
				// request: the action rides them out.
				PreConfig: func() {
					sim.InjectFault(simulator.Fault{Op: simulator.OpChangePowerState, Status: 503, Count: 2})
					sim.InjectFault(simulator.Fault{Op: simulator.OpListInstances, Status: 502, Count: 2})
				},
				Config: cfg("clouddc_instance_power_off", "blips", ""),
				Check:  checkInstance(sim, id, wantState("stopped")),
			},
			{
				Config:      cfg("clouddc_instance_reboot", "stopped", ""),
				ExpectError: wrapped(`Cannot Reboot the Instance.*is stopped.*Power it on instead`),
			},
			{
				PreConfig: func() { sim.FailNextReinstall("iMetal.0099", "image download failed") },
				Config:    cfg("clouddc_instance_reinstall", "fails", pw),
				ExpectError: wrapped(`Reinstalling the Instance Failed.*failed to finish reinstalling its OS.*` +
					`image download failed`),
			},
		},
	})
}

// wrapped compiles a pattern for an error as Terraform prints it: the
// lines are wrapped, so every space of the pattern matches any whitespace,
// and . matches newlines.
func wrapped(pattern string) *regexp.Regexp {
	return regexp.MustCompile("(?s)" + strings.ReplaceAll(pattern, " ", `\s+`))
}

// TestAccInstanceActions_progress: terraform apply -invoke runs an action
// on its own, and prints the action's progress: each state the instance
// passes through, with the time elapsed, and the end.
func TestAccInstanceActions_progress(t *testing.T) {
	skipUnless(t, actionsTerraform)
	t.Parallel()
	opts := actionSimOptions()
	opts.PowerDuration = 1500 * time.Millisecond
	sim := startSimulator(t, opts)
	id := createOutOfBand(t, sim, "acc-actions-progress", "Console-Passw0rd")
	dir := t.TempDir()
	env := cliProvider(t)
	writeFiles(t, dir, map[string]string{"main.tf": providerConfig(sim) + fmt.Sprintf(`
action "clouddc_instance_power_off" "this" {
  config {
    instance_id = %q
  }
}
`, id)})
	runReattached(t, dir, env, "init", "-input=false", "-no-color")
	out := runReattached(t, dir, env, "apply", "-auto-approve", "-no-color", "-invoke=action.clouddc_instance_power_off.this")
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`instance ` + id + `: powering off physical server a0000000-\S+ \(0s elapsed\)`),
		regexp.MustCompile(`instance ` + id + `: powered off; the instance is stopped \(\d+s elapsed\)`),
	} {
		if !want.MatchString(out) {
			t.Errorf("the output lacks %s:\n%s", want, out)
		}
	}
	if in, _ := sim.Instance(id); in.State != "stopped" {
		t.Errorf("instance is %s after the action, want stopped", in.State)
	}
}

// TestAccInstanceActions_rebootNotSeen: a reboot that never shows (it came
// and went between two polls) ends the action with a warning that says so,
// rather than a silent success or a hang.
func TestAccInstanceActions_rebootNotSeen(t *testing.T) {
	skipUnless(t, actionsTerraform)
	t.Parallel()
	opts := fastSimOptions()
	opts.PowerDuration = 0 // over before the first poll
	sim := startSimulator(t, opts)
	id := createOutOfBand(t, sim, "acc-actions-unseen", "Console-Passw0rd")
	dir := t.TempDir()
	env := cliProvider(t)
	writeFiles(t, dir, map[string]string{"main.tf": providerConfig(sim) + fmt.Sprintf(`
action "clouddc_instance_reboot" "this" {
  config {
    instance_id = %q
  }
}
`, id)})
	runReattached(t, dir, env, "init", "-input=false", "-no-color")
	out := runReattached(t, dir, env, "apply", "-auto-approve", "-no-color", "-invoke=action.clouddc_instance_reboot.this")
	// Terraform 1.14 prints "Warning when invoking action ...: Reboot Not
	// Seen: The API ...", 1.16 the usual "Warning: Reboot Not Seen" box.
	if !wrapped(`Warning(:| when invoking action.*) Reboot Not Seen.*The API accepted the reboot of physical server a0000000-\S+, but reported it on at every poll`).MatchString(out) {
		t.Errorf("the output lacks the warning:\n%s", out)
	}
	if n := sim.RequestCount(simulator.OpChangePowerState); n != 1 {
		t.Errorf("%d power requests, want 1", n)
	}
}

// reinstallsStarted counts the reinstalls of an instance in the
// simulator's history.
func reinstallsStarted(sim *simulator.TestServer, id string) int {
	n := 0
	for _, h := range sim.History(id) {
		if h.OperationState == "reinstall-processing" {
			n++
		}
	}
	return n
}

// TestAccInstanceActions_reinstallInvokeEphemeral: terraform apply -invoke
// with an ephemeral password. Terraform 1.14 passes the value to the
// action, which reinstalls with it; Terraform 1.16 (1.16.4 tested) drops
// it, and the action then stops before any request with an error that
// says why and what works instead, rather than send an empty password.
func TestAccInstanceActions_reinstallInvokeEphemeral(t *testing.T) {
	skipUnless(t, actionsTerraform)
	sim := startSimulator(t, actionSimOptions())
	id := createOutOfBand(t, sim, "acc-invoke-ephemeral", "Console-Passw0rd")
	const newPassword = "Invoked-Passw0rd"
	dir := t.TempDir()
	env := append(cliProvider(t), "TF_VAR_root_password="+newPassword)
	writeFiles(t, dir, map[string]string{"main.tf": providerConfig(sim) + fmt.Sprintf(`
variable "root_password" {
  type      = string
  sensitive = true
  ephemeral = true
}

action "clouddc_instance_reinstall" "this" {
  config {
    instance_id         = %q
    password            = var.root_password
    deletion_protection = false
  }
}
`, id)})
	runReattached(t, dir, env, "init", "-input=false", "-no-color")
	args := []string{"apply", "-auto-approve", "-input=false", "-no-color", "-invoke=action.clouddc_instance_reinstall.this"}
	if !terraformDropsEphemeralOnInvoke(t) {
		runReattached(t, dir, env, args...)
		if pw, _ := sim.Password(id); pw != newPassword || reinstallsStarted(sim, id) != 1 {
			t.Errorf("after the invoke: password %q and %d reinstalls; want %q and 1", pw, reinstallsStarted(sim, id), newPassword)
		}
		return
	}
	out := runReattachedFailing(t, dir, env, args...)
	if !wrapped(`No Password Reached the Reinstall Action.*nothing was sent to the API.*Terraform 1.16.*-invoke.*not ephemeral`).MatchString(out) {
		t.Errorf("the invoke without a password does not say why:\n%s", out)
	}
	if n := sim.RequestCount(simulator.OpReinstallOS); n != 0 {
		t.Errorf("%d reinstall requests without a password", n)
	}
}

// terraformDropsEphemeralOnInvoke reports whether the CLI under test is one
// that invokes an action run with -invoke without the ephemeral values of
// its write-only arguments: Terraform 1.16 (known issue, CHANGELOG).
func terraformDropsEphemeralOnInvoke(t *testing.T) bool {
	t.Helper()
	v := cliVersion(t, os.Getenv("TF_ACC_TERRAFORM_PATH"))
	return strings.HasPrefix(v, "1.16.")
}
