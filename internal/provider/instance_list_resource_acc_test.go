package provider

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/querycheck"
	"github.com/hashicorp/terraform-plugin-testing/querycheck/queryfilter"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/clouddc-tf/terraform-provider-clouddc/internal/simulator"
)

func listBlock(name, config string) string {
	return fmt.Sprintf("\nlist \"clouddc_instance\" %q {\n  provider = clouddc\n  config {\n%s\n  }\n}\n", name, config)
}

func identityOf(sim *simulator.TestServer, id string) map[string]knownvalue.Check {
	return map[string]knownvalue.Check{"id": knownvalue.StringExact(id), "project_id": knownvalue.StringExact(sim.ProjectID())}
}

// TestAccInstanceListResource_query: terraform query lists the instances
// made outside Terraform, with each filter, each shown as "name (id)". It
// leaves out the instances that are being deleted or are deleted unless
// the state filter asks for them, and those that carry a create token
// (made by Terraform, so held by some state) unless instance_ids names them.
func TestAccInstanceListResource_query(t *testing.T) {
	skipUnless(t, queryTerraform)
	sim := startSimulator(t, fastSimOptions())
	web1 := createOutOfBand(t, sim, "web-1", "Console-Passw0rd")
	web2 := createOutOfBand(t, sim, "web-2", "Console-Passw0rd")
	db := createOutOfBand(t, sim, "db-1", "Console-Passw0rd")
	gone := createOutOfBand(t, sim, "web-old", "Console-Passw0rd")
	leaving := createOutOfBand(t, sim, "web-leaving", "Console-Passw0rd")
	managed := createByTerraform(t, sim, "web-managed")
	powerOffOutOfBand(t, sim, web2)
	if err := sim.DeleteInstance(gone); err != nil {
		t.Fatal(err)
	}
	// Caught in the middle of its deletion.
	if err := sim.UpdateInstance(leaving, func(in *simulator.Instance) { in.State = "shutting-down" }); err != nil {
		t.Fatal(err)
	}
	dbInst, _ := sim.Instance(db)

	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories(),
		TerraformVersionChecks:   queryTerraform,
		Steps: []resource.TestStep{
			{
				// A plain config step first: query mode needs an initialised
				// working directory with the provider configured.
				Config: providerConfig(sim),
				PreConfig: func() {
					// Let the deletion finish: the simulator keeps the
					// terminated instance visible (retention).
					waitTerminated(t, sim, gone)
				},
			},
			{
				Query: true,
				Config: listBlock("all", "") +
					listBlock("web", `    name_regex = "^web-\\d$"`) +
					listBlock("stopped", `    state = "stopped"`) +
					listBlock("by_id", fmt.Sprintf(`    instance_ids = [%q, %q, %q]`, web1, db, managed)) +
					listBlock("by_server", fmt.Sprintf(`    server_ids = [%q]`, dbInst.ServerID)) +
					listBlock("terminated", `    state = "terminated"`) +
					listBlock("leaving", `    state = "shutting-down"`) +
					"\nlist \"clouddc_instance\" \"first\" {\n  provider = clouddc\n  limit    = 1\n}\n",
				QueryResultChecks: []querycheck.QueryResultCheck{
					querycheck.ExpectLength("clouddc_instance.all", 3),
					querycheck.ExpectIdentity("clouddc_instance.all", identityOf(sim, web1)),
					querycheck.ExpectIdentity("clouddc_instance.all", identityOf(sim, web2)),
					querycheck.ExpectIdentity("clouddc_instance.all", identityOf(sim, db)),
					querycheck.ExpectResourceDisplayName("clouddc_instance.all", queryfilter.ByResourceIdentity(identityOf(sim, web1)),
						knownvalue.StringExact("web-1 ("+web1+")")),

					querycheck.ExpectLength("clouddc_instance.web", 2),
					querycheck.ExpectIdentity("clouddc_instance.web", identityOf(sim, web1)),
					querycheck.ExpectIdentity("clouddc_instance.web", identityOf(sim, web2)),

					querycheck.ExpectLength("clouddc_instance.stopped", 1),
					querycheck.ExpectIdentity("clouddc_instance.stopped", identityOf(sim, web2)),

					// Named by ID, the instance Terraform made is listed too.
					querycheck.ExpectLength("clouddc_instance.by_id", 3),
					querycheck.ExpectIdentity("clouddc_instance.by_id", identityOf(sim, web1)),
					querycheck.ExpectIdentity("clouddc_instance.by_id", identityOf(sim, db)),
					querycheck.ExpectIdentity("clouddc_instance.by_id", identityOf(sim, managed)),

					querycheck.ExpectLength("clouddc_instance.by_server", 1),
					querycheck.ExpectIdentity("clouddc_instance.by_server", identityOf(sim, db)),

					querycheck.ExpectLength("clouddc_instance.first", 1),

					querycheck.ExpectLength("clouddc_instance.terminated", 1),
					querycheck.ExpectIdentity("clouddc_instance.terminated", identityOf(sim, gone)),

					querycheck.ExpectLength("clouddc_instance.leaving", 1),
					querycheck.ExpectIdentity("clouddc_instance.leaving", identityOf(sim, leaving)),
				},
			},
			{
				Query:       true,
				Config:      listBlock("bad", `    name_regex = "web-("`),
				ExpectError: regexp.MustCompile(`Invalid Regular Expression`),
			},
		},
	})
}

// TestAccInstanceListResource_findsNothing: a query whose only match is an
// instance Terraform made lists nothing and says why in a warning that
// names the instance; -generate-config-out then writes no configuration.
func TestAccInstanceListResource_findsNothing(t *testing.T) {
	skipUnless(t, queryTerraform)
	sim := startSimulator(t, fastSimOptions())
	createOutOfBand(t, sim, "db-1", "Console-Passw0rd")
	managed := createByTerraform(t, sim, "web-managed") // left out: Terraform made it
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories(),
		TerraformVersionChecks:   queryTerraform,
		Steps: []resource.TestStep{
			{Config: providerConfig(sim)},
			{
				Query:             true,
				Config:            listBlock("web", `    name_regex = "^web-"`),
				QueryResultChecks: []querycheck.QueryResultCheck{querycheck.ExpectLength("clouddc_instance.web", 0)},
			},
		},
	})

	dir := t.TempDir()
	env := cliProvider(t)
	writeFiles(t, dir, map[string]string{"main.tf": providerConfig(sim), "search.tfquery.hcl": listBlock("web", `    name_regex = "^web-"`)})
	runReattached(t, dir, env, "init", "-input=false", "-no-color")
	out := runReattached(t, dir, env, "query", "-no-color", "-generate-config-out=generated.tf")
	if want := wrapped(`Warning: Instances Made by Terraform Left Out.*An instance that matches is left out: web-managed \(` + managed +
		`\).*create token.*name it in instance_ids`); !want.MatchString(out) {
		t.Errorf("terraform query does not say why it left out %s:\n%s", managed, out)
	}
	if strings.Contains(out, "list.clouddc_instance.web ") {
		t.Errorf("terraform query listed an instance:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(dir, "generated.tf")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a query that found nothing generated configuration (%v)", err)
	}
}

// TestAccInstanceListResource_generateConfig: terraform query
// -generate-config-out writes a resource and an import block by identity
// for each instance made outside Terraform. Once the password is filled
// in, the plan imports them all, replaces nothing and only sets the
// password; after the apply, the plan is empty.
func TestAccInstanceListResource_generateConfig(t *testing.T) {
	skipUnless(t, queryTerraform)
	sim := startSimulator(t, fastSimOptions())
	web1 := createOutOfBand(t, sim, "web-1", "Console-Passw0rd")
	web2 := createOutOfBand(t, sim, "web-2", "Console-Passw0rd")
	powerOffOutOfBand(t, sim, web2)
	createOutOfBand(t, sim, "db-1", "Console-Passw0rd") // filtered out

	dir, env, generated := generateConfig(t, sim, listBlock("web", `    name_regex = "^web-"`))
	// The first thing a user does with it: plan. Every error must be the
	// one that says what to do, once for each resource.
	plan := runReattachedFailing(t, dir, env, "plan", "-input=false", "-no-color")
	errs := regexp.MustCompile(`(?m)^Error: .*$`).FindAllString(plan, -1)
	if len(errs) != 2 || errs[0] != "Error: Missing Instance Password" || errs[1] != errs[0] {
		t.Errorf("planning the generated configuration gives the errors %q; want Missing Instance Password for each of the 2 resources:\n%s", errs, plan)
	}
	for _, want := range []string{
		"import {", "identity = {", web1, web2, sim.ProjectID(), `resource "clouddc_instance"`, `"web-1"`, `"off"`,
	} {
		if !strings.Contains(generated, want) {
			t.Errorf("the generated configuration lacks %q:\n%s", want, generated)
		}
	}
	if strings.Contains(generated, "db-1") {
		t.Errorf("the generated configuration holds the filtered-out instance db-1:\n%s", generated)
	}
	// The list result has timeouts null: nothing of it may reach the
	// configuration (a null nested value there crashed Terraform, issue
	// 38569), which the plans below read as it is.
	if strings.Contains(generated, "timeouts") {
		t.Errorf("the generated configuration has timeouts:\n%s", generated)
	}
	withPassword := setGeneratedPassword(t, generated, testPassword)

	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories(),
		TerraformVersionChecks:   queryTerraform,
		CheckDestroy: func(*terraform.State) error {
			for _, id := range []string{web1, web2} {
				if in, _ := sim.Instance(id); in.State != "terminated" {
					return fmt.Errorf("adopted instance %s is %s after destroy", id, in.State)
				}
			}
			return nil
		},
		Steps: []resource.TestStep{{
			// As generated, without a password: refused before any change,
			// with an error that says why the password is missing and
			// where to read on (planGenerated checks that it is the only one).
			Config:      providerConfig(sim) + generated,
			PlanOnly:    true,
			ExpectError: wrapped(`Missing Instance Password.*API never returns an instance's password.*-generate-config-out.*Taking over instances installed by hand`),
		}, {
			Config: providerConfig(sim) + withPassword,
			ConfigPlanChecks: resource.ConfigPlanChecks{
				PreApply: []plancheck.PlanCheck{importsOnlySettingPassword{want: 2}},
			},
			Check: func(*terraform.State) error {
				for _, id := range []string{web1, web2} {
					if pw, _ := sim.Password(id); pw != testPassword {
						return fmt.Errorf("instance %s has password %q after the first apply, want the configured one", id, pw)
					}
				}
				return nil
			},
		}},
	})
}

// generateConfig runs terraform query -generate-config-out with the list
// blocks given, in a folder of its own, and returns the folder, the
// environment that reaches the provider, and the file it wrote.
func generateConfig(t *testing.T, sim *simulator.TestServer, lists string) (dir string, env []string, generated string) {
	t.Helper()
	dir = t.TempDir()
	env = cliProvider(t)
	writeFiles(t, dir, map[string]string{"main.tf": providerConfig(sim), "search.tfquery.hcl": lists})
	runReattached(t, dir, env, "init", "-input=false", "-no-color")
	runReattached(t, dir, env, "query", "-no-color", "-generate-config-out=generated.tf")
	b, err := os.ReadFile(filepath.Join(dir, "generated.tf"))
	if err != nil {
		t.Fatal(err)
	}
	return dir, env, string(b)
}

// setGeneratedPassword fills in the password that the generated
// configuration leaves null (the API never returns it), as the
// documentation tells users to.
func setGeneratedPassword(t *testing.T, generated, password string) string {
	t.Helper()
	re := regexp.MustCompile(`(?m)^(\s*)password\s*=\s*null.*$`)
	if n := len(re.FindAllString(generated, -1)); n == 0 {
		t.Fatalf("the generated configuration has no password = null line:\n%s", generated)
	}
	return re.ReplaceAllString(generated, fmt.Sprintf("${1}password = %q", password))
}

// importsOnlySettingPassword checks a plan: want resources imported, each
// updated in place, and nothing changed but the password.
type importsOnlySettingPassword struct{ want int }

func (c importsOnlySettingPassword) CheckPlan(_ context.Context, req plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
	imported := 0
	for _, rc := range req.Plan.ResourceChanges {
		if rc.Change == nil {
			continue
		}
		if rc.Change.Importing == nil {
			resp.Error = fmt.Errorf("%s is planned to %v without an import", rc.Address, rc.Change.Actions)
			return
		}
		imported++
		if !rc.Change.Actions.Update() {
			resp.Error = fmt.Errorf("%s is planned to %v; want an in-place update of the password", rc.Address, rc.Change.Actions)
			return
		}
		before, _ := rc.Change.Before.(map[string]any)
		after, _ := rc.Change.After.(map[string]any)
		for k, v := range after {
			if k == "password" || k == "timeouts" {
				continue
			}
			if fmt.Sprint(before[k]) != fmt.Sprint(v) {
				resp.Error = fmt.Errorf("%s: the plan changes %s from %v to %v; only the password should change", rc.Address, k, before[k], v)
				return
			}
		}
	}
	if imported != c.want {
		resp.Error = fmt.Errorf("the plan imports %d resources, want %d", imported, c.want)
	}
}

// TestAccInstanceListResource_everyPage: an API that pages by two,
// whatever limit asks for, still has every instance listed.
func TestAccInstanceListResource_everyPage(t *testing.T) {
	skipUnless(t, queryTerraform)
	opts := fastSimOptions()
	opts.PageSizeCap = 2
	sim := startSimulator(t, opts)
	var ids []string
	for i := range 5 {
		ids = append(ids, createOutOfBand(t, sim, fmt.Sprintf("paged-%d", i), "Console-Passw0rd"))
	}
	checks := []querycheck.QueryResultCheck{
		querycheck.ExpectLength("clouddc_instance.all", 5),
		querycheck.ExpectLength("clouddc_instance.odd", 2),
		querycheck.ExpectIdentity("clouddc_instance.odd", identityOf(sim, ids[1])),
		querycheck.ExpectIdentity("clouddc_instance.odd", identityOf(sim, ids[3])),
	}
	for _, id := range ids {
		checks = append(checks, querycheck.ExpectIdentity("clouddc_instance.all", identityOf(sim, id)))
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories(),
		TerraformVersionChecks:   queryTerraform,
		Steps: []resource.TestStep{
			{Config: providerConfig(sim)},
			{
				Query:             true,
				Config:            listBlock("all", "") + listBlock("odd", `    name_regex = "^paged-[13]$"`),
				QueryResultChecks: checks,
			},
		},
	})
}

// TestAccInstanceListResource_cutShort: a listing page cut short by a
// gateway (no next_marker, fewer instances than count) is read again
// rather than passed off as the whole; when it stays short, terraform query
// fails and says why, instead of leaving instances out.
func TestAccInstanceListResource_cutShort(t *testing.T) {
	skipUnless(t, queryTerraform)
	sim := startSimulator(t, fastSimOptions())
	var ids []string
	for i := range 3 {
		ids = append(ids, createOutOfBand(t, sim, fmt.Sprintf("short-%d", i), "Console-Passw0rd"))
	}
	checks := []querycheck.QueryResultCheck{querycheck.ExpectLength("clouddc_instance.all", 3)}
	for _, id := range ids {
		checks = append(checks, querycheck.ExpectIdentity("clouddc_instance.all", identityOf(sim, id)))
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories(),
		TerraformVersionChecks:   queryTerraform,
		Steps: []resource.TestStep{
			{
				// One retry: a page cut short once is read again; one that
				// stays short fails after that retry, not after ten.
				Config: strings.Replace(providerConfig(sim), "provider \"clouddc\" {", "provider \"clouddc\" {\n  max_retries = 1", 1),
			},
			{
				PreConfig:         func() { sim.InjectFault(simulator.Fault{Op: simulator.OpListInstances, LoseItems: 1}) },
				Query:             true,
				Config:            listBlock("all", ""),
				QueryResultChecks: checks,
			},
			{
				PreConfig:   func() { sim.InjectFault(simulator.Fault{Op: simulator.OpListInstances, LoseItems: 1, Count: 10}) },
				Query:       true,
				Config:      listBlock("all", ""),
				ExpectError: wrapped(`Unable to List Instances.*listing that is not complete`),
			},
		},
	})
}
