package provider

import (
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/clouddc-tf/terraform-provider-clouddc/internal/clouddc"
	"github.com/clouddc-tf/terraform-provider-clouddc/internal/simulator"
)

// TestMain gives the Terraform CLI that acceptance tests run an empty CLI
// configuration of its own: some machines point TF_CLI_CONFIG_FILE at a file
// that does not exist, and a developer's ~/.terraformrc must not leak in.
//
// With -sweep, it runs the sweepers instead of the tests (acc_sweeper_test.go).
func TestMain(m *testing.M) {
	flag.Parse()
	if f := flag.Lookup("sweep"); f != nil && f.Value.String() != "" {
		resource.TestMain(m) // runs the sweepers and exits
		return
	}
	dir, err := os.MkdirTemp("", "clouddc-provider-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	rc := filepath.Join(dir, "terraform.rc")
	if err := os.WriteFile(rc, nil, 0o600); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for k, v := range map[string]string{"TF_CLI_CONFIG_FILE": rc, "CHECKPOINT_DISABLE": "1"} {
		if err := os.Setenv(k, v); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	// Nor may a developer's credentials: a shell set up for the huaweicloud
	// provider (HW_ACCESS_KEY, ...) would change which credentials the
	// tests that configure the provider through the environment use.
	for _, v := range providerEnvVars {
		if err := os.Unsetenv(v); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	code := m.Run()
	if err := os.RemoveAll(dir); err != nil {
		fmt.Fprintln(os.Stderr, "removing the test's CLI configuration:", err)
	}
	os.Exit(code)
}

// providerEnvVars are every variable the provider reads.
var providerEnvVars = []string{EnvEndpoint, EnvRegion, EnvProjectID, EnvToken, EnvAccessKey, EnvSecretKey, EnvSecurityToken,
	EnvIAMEndpoint, EnvMaxRetries, EnvInsecure, EnvSkipCredentialsValidation,
	EnvHWRegion, EnvHWProjectID, EnvHWAuthToken, EnvHWAccessKey, EnvHWSecretKey, EnvHWSecurityToken, EnvHWMaxRetries, EnvHWInsecure}

// testPollSchedule makes waits poll every few milliseconds, so that a test
// notices a state change made by a simulator with sub-second durations.
var testPollSchedule = clouddc.PollSchedule{
	Delay: 10 * time.Millisecond, Interval: 20 * time.Millisecond, MinInterval: 10 * time.Millisecond, MaxInterval: 100 * time.Millisecond,
}

// testCreateLookup looks for the instance of a create with an unknown
// outcome for three seconds instead of a minute: the simulator's late
// creates land within a second.
var testCreateLookup = clouddc.CreateLookup{Window: 3 * time.Second, FirstDelay: 50 * time.Millisecond, MaxDelay: 500 * time.Millisecond,
	Interrupted: 2 * time.Second}

// testProviderFactories serves the provider in-process to the Terraform CLI.
func testProviderFactories() map[string]func() (tfprotov6.ProviderServer, error) {
	return testProviderFactoriesWith(testCreateLookup)
}

// testProviderFactoriesWith is testProviderFactories with another create
// window, for tests whose creates land late or are replayed.
func testProviderFactoriesWith(lookup clouddc.CreateLookup) map[string]func() (tfprotov6.ProviderServer, error) {
	return map[string]func() (tfprotov6.ProviderServer, error){
		"clouddc": NewProtocol6ServerWithError(&clouddcProvider{
			version:       "test",
			clientOptions: []clouddc.Option{clouddc.WithPollSchedule(testPollSchedule), clouddc.WithCreateLookup(lookup)},
		}),
	}
}

// fastSimOptions are simulator settings for tests: operations take a
// fraction of a second, terminated instances stay visible for the test.
func fastSimOptions() simulator.Options {
	return simulator.Options{
		CreateDuration: 300 * time.Millisecond,
		DeleteDuration: 300 * time.Millisecond,
		Retention:      10 * time.Minute,
	}
}

// providerConfig is the provider block for a simulator.
func providerConfig(sim *simulator.TestServer) string {
	return fmt.Sprintf(`
provider "clouddc" {
  endpoint   = %q
  project_id = %q
  token      = %q
}
`, sim.URL, sim.ProjectID(), sim.Token())
}

const testPassword = "Acc-Passw0rd"

// instanceHCL is clouddc_instance.test, the one resource block the
// acceptance tests build: every argument has a default that applies
// against the simulator, and extra lines go into the body.
type instanceHCL struct {
	name, image, vpc, subnet, password string
	// nics replaces the network_interfaces list (one NIC on subnet).
	nics string
	// passwordWO, with woVersion, sets password_wo instead of password.
	passwordWO string
	woVersion  int
	// count, when set, makes it that many resources.
	count int
	// extra goes into the body as it is (several lines may follow "\n  ").
	extra string
}

func (h instanceHCL) String() string {
	def := func(v, d string) string {
		if v == "" {
			return d
		}
		return v
	}
	var b strings.Builder
	b.WriteString("\nresource \"clouddc_instance\" \"test\" {\n")
	if h.count > 0 {
		fmt.Fprintf(&b, "  count    = %d\n", h.count)
	}
	fmt.Fprintf(&b, "  name     = %q\n  image_id = %q\n  vpc_id   = %q\n",
		def(h.name, "acc-update"), def(h.image, simulator.DefaultImageID), def(h.vpc, simulator.DefaultVPCID))
	if h.passwordWO != "" {
		fmt.Fprintf(&b, "  password_wo         = %q\n  password_wo_version = %d\n", h.passwordWO, h.woVersion)
	} else {
		fmt.Fprintf(&b, "  password = %q\n", def(h.password, testPassword))
	}
	fmt.Fprintf(&b, "  network_interfaces = %s\n", def(h.nics, fmt.Sprintf("[{ subnet_id = %q }]", def(h.subnet, simulator.DefaultSubnetID))))
	if h.extra != "" {
		b.WriteString("  " + h.extra + "\n")
	}
	b.WriteString("}\n")
	return b.String()
}

// instanceConfig is clouddc_instance.test named name; extra lines go into
// the resource body.
func instanceConfig(name string, extra ...string) string {
	return instanceHCL{name: name, extra: strings.Join(extra, "\n  ")}.String()
}

// instanceLister is a simulator, served by StartTest or by hand.
type instanceLister interface {
	Instances() []simulator.Instance
}

// liveInstances returns the instances the simulator knows that are not
// terminated: the ones a test must account for.
func liveInstances(sim instanceLister) []simulator.Instance {
	var live []simulator.Instance
	for _, in := range sim.Instances() {
		if in.State != "terminated" {
			live = append(live, in)
		}
	}
	return live
}

// checkAllTerminated is a CheckDestroy: every instance the simulator still
// knows must be terminated.
func checkAllTerminated(sim instanceLister) func(*terraform.State) error {
	return func(*terraform.State) error {
		if live := liveInstances(sim); len(live) != 0 {
			in := live[0]
			return fmt.Errorf("%d instances are not terminated after destroy, such as %s (%s), which is %s", len(live), in.ID, in.Name, in.State)
		}
		return nil
	}
}

// checkLive asserts how many instances the simulator knows in total, and
// how many of them are not terminated.
func checkLive(sim instanceLister, wantTotal, wantLive int) resource.TestCheckFunc {
	return func(*terraform.State) error {
		total, live := len(sim.Instances()), len(liveInstances(sim))
		if total != wantTotal || live != wantLive {
			return fmt.Errorf("the simulator has %d instances, %d not terminated; want %d and %d", total, live, wantTotal, wantLive)
		}
		return nil
	}
}

// testAppliesAndRuns applies one instance with the given provider block
// (the rest of the configuration coming from the environment the test set)
// and checks that it runs and that destroy leaves nothing behind. It is
// not parallel: tests that use it set environment variables.
func testAppliesAndRuns(t *testing.T, sim *simulator.TestServer, providerBlock, name string, checks ...resource.TestCheckFunc) {
	t.Helper()
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories(),
		CheckDestroy:             checkAllTerminated(sim),
		Steps: []resource.TestStep{{
			Config: providerBlock + instanceConfig(name),
			Check:  resource.ComposeAggregateTestCheckFunc(append(checks, resource.TestCheckResourceAttr(res, "state", "running"))...),
		}},
	})
}

// captureID stores the ID of the instance under test (res) in state, for
// later steps.
func captureID(id *string) func(*terraform.State) error {
	return func(s *terraform.State) error {
		rs, ok := s.RootModule().Resources[res]
		if !ok {
			return fmt.Errorf("%s is not in the state", res)
		}
		*id = rs.Primary.ID
		return nil
	}
}

// checkSimState asserts the simulator's state of an instance.
func checkSimState(sim *simulator.TestServer, id *string, want string) func(*terraform.State) error {
	return func(*terraform.State) error {
		in, ok := sim.Instance(*id)
		if !ok {
			return fmt.Errorf("instance %s is unknown to the simulator", *id)
		}
		if in.State != want {
			return fmt.Errorf("instance %s is %s, want %s", *id, in.State, want)
		}
		return nil
	}
}

func mustPrefix(s string) netip.Prefix { return netip.MustParsePrefix(s) }

func tfjsonpathNew(name string) tfjsonpath.Path { return tfjsonpath.New(name) }

func knownString(s string) knownvalue.Check { return knownvalue.StringExact(s) }

// setenv changes a variable between the steps of a test that already set
// it with t.Setenv (which restores it at the end).
func setenv(t *testing.T, k, v string) {
	t.Helper()
	if err := os.Setenv(k, v); err != nil {
		t.Fatal(err)
	}
}

// checkSimPassword asserts the password the simulator holds for the
// instance in state.
func checkSimPassword(sim *simulator.TestServer, want string) resource.TestCheckFunc {
	return func(st *terraform.State) error {
		rs, ok := st.RootModule().Resources[res]
		if !ok {
			return fmt.Errorf("%s is not in the state", res)
		}
		if pw, _ := sim.Password(rs.Primary.ID); pw != want {
			return fmt.Errorf("the simulator has password %q for %s, want %q", pw, rs.Primary.ID, want)
		}
		return nil
	}
}
