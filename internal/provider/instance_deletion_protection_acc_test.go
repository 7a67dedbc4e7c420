package provider

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/clouddc-tf/terraform-provider-clouddc/internal/simulator"
)

// TestAccInstanceResource_deletionProtection: under deletion_protection =
// true, a destroy, a replacement and a change of image_id (a reinstall) are
// refused at plan time, and the instance keeps running; turning it off is
// an in-place change without an API call, and then the destroy goes
// through. It runs on an external endpoint too: nothing refused reaches it.
func TestAccInstanceResource_deletionProtection(t *testing.T) {
	a := newAccTarget(t)
	name, renamed := a.name("protected"), a.name("protected-renamed")
	protected := func(name, on string) string {
		return a.providerConfig() + a.instanceConfig(name, "deletion_protection = "+on)
	}
	refused := func(what string) *regexp.Regexp {
		return regexp.MustCompile(strings.ReplaceAll(`(?s)Instance Is Protected From Deletion.*deletion_protection = true.*may not `+what+
			`.*set deletion_protection = false.*makes no API call`, " ", `\s+`))
	}
	otherImageID := simulator.DefaultImageID2
	if a.imageID == otherImageID {
		otherImageID = simulator.DefaultImageID
	}
	var id string
	var before map[string]int
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: a.factories(),
		CheckDestroy:             a.checkDestroyed,
		Steps: []resource.TestStep{
			{
				Config: protected(name, "true"),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(res, "deletion_protection", "true"),
					resource.TestCheckResourceAttr(res, "state", "running"),
					captureID(&id),
				),
			},
			{
				Config:      protected(name, "true"),
				Destroy:     true,
				ExpectError: refused("destroy it"),
			},
			{
				Config:      protected(renamed, "true"),
				ExpectError: refused(`replace it \(a change of name needs a new instance\)`),
			},
			{
				// Another image: an in-place reinstall, which wipes the
				// system disk as surely as a replacement. The image need
				// not exist: the plan is refused before anything is sent.
				Config: strings.Replace(protected(name, "true"), fmt.Sprintf("image_id = %q", a.imageID), fmt.Sprintf("image_id = %q", otherImageID), 1),
				ExpectError: wrapped(`Instance Is Protected From Reinstalling.*on terraform_plugin_test.tf line \d+, in resource.*` +
					`image_id = "` + otherImageID + `".*reinstalls the operating system.*deletion_protection = true.*was not changed.*` +
					`keep image_id = "` + a.imageID + `", set deletion_protection = false`),
			},
			{
				PreConfig: func() {
					if a.sim != nil {
						before = a.sim.RequestCounts()
					}
				},
				Config: protected(name, "false"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(res, plancheck.ResourceActionUpdate),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(res, "deletion_protection", "false"),
					resource.TestCheckResourceAttr(res, "image_id", a.imageID),
					// Still the same instance, running: nothing above touched it.
					resource.TestCheckResourceAttrPtr(res, "id", &id),
					a.checkRunning(&id),
					func(*terraform.State) error {
						if a.sim == nil {
							return nil // an account does not count its requests for us
						}
						// The refresh before the plan reads; the update itself calls nothing.
						for op, n := range a.sim.RequestCounts() {
							if op != simulator.OpListInstances && op != simulator.OpShowInstanceStatus && n != before[op] {
								// ReinstallOs above all: the refused image change sent nothing.
								return fmt.Errorf("turning deletion_protection off made %d %s requests", n-before[op], op)
							}
						}
						return nil
					},
				),
			},
		},
	})
}

// TestAccInstanceResource_protectionAdvice runs, with the real CLI, what a
// user does after the two messages of deletion_protection that a plan step
// cannot show: a protected instance that is tainted is refused at the
// replacement, and terraform untaint, as the error says, keeps it with an
// empty plan; an unprotected instance whose image_id changes plans with a
// warning that the operating system is reinstalled, and is reinstalled.
func TestAccInstanceResource_protectionAdvice(t *testing.T) {
	if os.Getenv("TF_ACC") == "" {
		t.Skip("acceptance test: set TF_ACC=1")
	}
	sim := startSimulator(t, fastSimOptions())
	dir := t.TempDir()
	env := cliProvider(t)
	write := func(image, protected string) {
		writeFiles(t, dir, map[string]string{"main.tf": providerConfig(sim) +
			instanceHCL{name: "acc-guard", image: image, extra: "deletion_protection = " + protected}.String()})
	}
	run := func(args ...string) string { return runReattached(t, dir, env, append(args, "-no-color")...) }
	live := func() simulator.Instance {
		t.Helper()
		l := liveInstances(sim)
		if len(l) != 1 {
			t.Fatalf("%d live instances, want 1: %+v", len(l), l)
		}
		return l[0]
	}

	write(simulator.DefaultImageID, "true")
	run("init", "-input=false")
	run("apply", "-auto-approve", "-input=false")
	first := live()

	run("taint", res)
	out := runReattachedFailing(t, dir, env, "apply", "-auto-approve", "-input=false", "-no-color")
	if !wrapped(`Instance Is Protected From Deletion.*deletion_protection = true.*tainted.*terraform untaint clouddc_instance\.web`).MatchString(out) {
		t.Errorf("replacing a tainted protected instance does not point to terraform untaint:\n%s", out)
	}
	if in := live(); in.ID != first.ID || in.State != "running" {
		t.Fatalf("after the refused replacement the live instance is %s (%s); want %s, running", in.ID, in.State, first.ID)
	}
	// The advice, followed: the instance stays, and nothing is left to do.
	run("untaint", res)
	run("plan", "-detailed-exitcode", "-input=false")

	write(simulator.DefaultImageID, "false")
	run("apply", "-auto-approve", "-input=false")
	write(simulator.DefaultImageID2, "false")
	out = run("plan", "-input=false")
	if !wrapped(`Warning: Changing image_id Reinstalls the Operating System.*image_id = "` + simulator.DefaultImageID2 +
		`".*reinstalls the operating system of instance ` + first.ID + ` in place.*everything stored on it is lost`).MatchString(out) {
		t.Errorf("the plan of an image change does not warn that it reinstalls the operating system:\n%s", out)
	}
	run("apply", "-auto-approve", "-input=false")
	if n := reinstallsStarted(sim, first.ID); n != 1 {
		t.Errorf("%d reinstalls started, want 1", n)
	}
	run("destroy", "-auto-approve", "-input=false")
	if l := liveInstances(sim); len(l) != 0 {
		t.Errorf("instances left after destroy: %+v", l)
	}
}
