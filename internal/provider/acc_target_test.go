package provider

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/helper/acctest"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/clouddc-tf/terraform-provider-clouddc/internal/clouddc"
	"github.com/clouddc-tf/terraform-provider-clouddc/internal/simulator"
)

// Acceptance tests run against one of two targets. By default, each test
// starts its own simulator in the process. When CLOUDDC_ACC_ENDPOINT names
// an external CloudDC endpoint (a real account, or the simulator binary
// started as a separate process, as make test does), the tests written
// against accTarget run there, and those that need the in-process
// simulator (its faults, its admin controls, its internal state) skip
// themselves, saying why. The variables are CLOUDDC_ACC_* rather than the
// provider's own, so that a shell set up to use the provider never points
// the tests at an account by accident.
const (
	EnvAccEndpoint    = "CLOUDDC_ACC_ENDPOINT"
	EnvAccProjectID   = "CLOUDDC_ACC_PROJECT_ID"
	EnvAccToken       = "CLOUDDC_ACC_TOKEN"      //nolint:gosec // G101: the name of a variable
	EnvAccAccessKey   = "CLOUDDC_ACC_ACCESS_KEY" //nolint:gosec // G101: the name of a variable
	EnvAccSecretKey   = "CLOUDDC_ACC_SECRET_KEY" //nolint:gosec // G101: the name of a variable
	EnvAccImageID     = "CLOUDDC_ACC_IMAGE_ID"
	EnvAccVPCID       = "CLOUDDC_ACC_VPC_ID"
	EnvAccSubnetID    = "CLOUDDC_ACC_SUBNET_ID"
	EnvAccServerIDs   = "CLOUDDC_ACC_SERVER_IDS"   // optional, comma-separated: the only servers tests may install on
	EnvAccRegion      = "CLOUDDC_ACC_REGION"       // optional: the project's region, for the project lookup test
	EnvAccIAMEndpoint = "CLOUDDC_ACC_IAM_ENDPOINT" // optional: IAM's URL, when it does not follow from the region
	EnvAccPoll        = "CLOUDDC_ACC_POLL_INTERVAL"
)

// accNamePrefix begins the name of everything the acceptance tests create
// on an external endpoint. The sweeper deletes leftovers by it, and never
// touches an instance whose name does not begin with it.
const accNamePrefix = "tf-acc-test-"

// accTarget is where an acceptance test creates its instances.
type accTarget struct {
	sim                         *simulator.TestServer // nil on an external endpoint
	endpoint, projectID         string
	token, accessKey, secretKey string
	region, iamEndpoint         string
	imageID, vpcID, subnetID    string
	serverIDs                   []string
	poll                        clouddc.PollSchedule
	// lookup is the create window to use, nil for the provider's own.
	lookup *clouddc.CreateLookup
}

// externalMode reports whether the acceptance tests target an external
// endpoint.
func externalMode() bool { return os.Getenv(EnvAccEndpoint) != "" }

// skipOnExternal skips a test that needs the in-process simulator, saying
// why, when the tests target an external endpoint.
func skipOnExternal(t *testing.T, why string) {
	t.Helper()
	if externalMode() {
		t.Skipf("skipped on an external endpoint (%s is set): this test %s", EnvAccEndpoint, why)
	}
}

// startSimulator starts an in-process simulator for a test that needs one:
// on an external endpoint, the test skips itself.
func startSimulator(t *testing.T, opts simulator.Options) *simulator.TestServer {
	t.Helper()
	skipOnExternal(t, "drives the in-process simulator (its faults, its admin controls or its internal state), "+
		"which an external endpoint does not offer")
	return simulator.StartTest(t, opts)
}

// newAccTarget returns the target of a test: the external endpoint when one
// is named, else a simulator of its own that accepts both a token and an
// access key pair.
func newAccTarget(t *testing.T) *accTarget {
	t.Helper()
	if externalMode() {
		a, err := accTargetFromEnv()
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	sim := simulator.StartTest(t, akskSimOptions())
	return &accTarget{sim: sim, endpoint: sim.URL, projectID: sim.ProjectID(), accessKey: accPermanentAK, secretKey: accPermanentSK,
		region: sim.Region(), iamEndpoint: sim.URL, imageID: simulator.DefaultImageID, vpcID: simulator.DefaultVPCID,
		subnetID: simulator.DefaultSubnetID, poll: testPollSchedule, lookup: &testCreateLookup}
}

// accTargetFromEnv reads the external endpoint from the CLOUDDC_ACC_*
// variables. A missing one is an error, never a silent fallback to the
// simulator: whoever named an endpoint meant to test it.
func accTargetFromEnv() (*accTarget, error) {
	a := &accTarget{
		endpoint: os.Getenv(EnvAccEndpoint), projectID: os.Getenv(EnvAccProjectID),
		token: os.Getenv(EnvAccToken), accessKey: os.Getenv(EnvAccAccessKey), secretKey: os.Getenv(EnvAccSecretKey),
		region: os.Getenv(EnvAccRegion), iamEndpoint: os.Getenv(EnvAccIAMEndpoint),
		imageID: os.Getenv(EnvAccImageID), vpcID: os.Getenv(EnvAccVPCID), subnetID: os.Getenv(EnvAccSubnetID),
		poll: clouddc.DefaultPollSchedule(),
	}
	for _, id := range strings.Split(os.Getenv(EnvAccServerIDs), ",") {
		if id = strings.TrimSpace(id); id != "" {
			a.serverIDs = append(a.serverIDs, id)
		}
	}
	var missing []string
	for env, v := range map[string]string{EnvAccProjectID: a.projectID, EnvAccImageID: a.imageID, EnvAccVPCID: a.vpcID, EnvAccSubnetID: a.subnetID} {
		if v == "" {
			missing = append(missing, env)
		}
	}
	if a.token == "" && (a.accessKey == "" || a.secretKey == "") {
		missing = append(missing, EnvAccToken+" (or "+EnvAccAccessKey+" and "+EnvAccSecretKey+")")
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%s is set, so the acceptance tests target that endpoint, but %s %s not set; see CONTRIBUTING.md",
			EnvAccEndpoint, strings.Join(missing, ", "), map[bool]string{true: "is", false: "are"}[len(missing) == 1])
	}
	if a.token != "" && a.accessKey != "" {
		// The tests that need a key pair use it; the others use the token.
		a.token = ""
	}
	if v := os.Getenv(EnvAccPoll); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("%s: %q is not a positive duration such as 500ms", EnvAccPoll, v)
		}
		a.poll = clouddc.PollSchedule{Delay: d, Interval: d, MinInterval: d, MaxInterval: 10 * d}
	}
	return a, nil
}

// name gives a test's instance a name that the sweeper recognises, and
// that no other run shares.
func (a *accTarget) name(base string) string {
	return accNamePrefix + base + "-" + acctest.RandString(6)
}

// credentialLines are the provider arguments that sign in.
func (a *accTarget) credentialLines() string {
	if a.accessKey != "" {
		return fmt.Sprintf("  access_key = %q\n  secret_key = %q\n", a.accessKey, a.secretKey)
	}
	return fmt.Sprintf("  token = %q\n", a.token)
}

// providerConfig is the provider block for the target; extra lines go into
// the block.
func (a *accTarget) providerConfig(extra ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "provider \"clouddc\" {\n  endpoint   = %q\n  project_id = %q\n", a.endpoint, a.projectID)
	b.WriteString(a.credentialLines())
	for _, e := range extra {
		b.WriteString("  " + e + "\n")
	}
	b.WriteString("}\n")
	return b.String()
}

// instanceConfig is a clouddc_instance named test, on the target's image,
// VPC and subnet, and on its first server when the target names servers;
// extra lines go into the resource body.
func (a *accTarget) instanceConfig(name string, extra ...string) string {
	if len(a.serverIDs) > 0 {
		extra = append([]string{fmt.Sprintf("server_id = %q", a.serverIDs[0])}, extra...)
	}
	return instanceHCL{name: name, image: a.imageID, vpc: a.vpcID, subnet: a.subnetID, extra: strings.Join(extra, "\n  ")}.String()
}

// factories serves the provider in-process, polling as the target needs:
// every few milliseconds for the in-process simulator, at the provider's
// own pace on an account.
func (a *accTarget) factories() map[string]func() (tfprotov6.ProviderServer, error) {
	return map[string]func() (tfprotov6.ProviderServer, error){
		"clouddc": NewProtocol6ServerWithError(&clouddcProvider{
			version:       "test",
			clientOptions: a.clientOptions(),
		}),
	}
}

// clientOptions are the provider's client options for the target: on the
// in-process simulator, the tests' short create window too (its installs
// are shorter than a minute, so a refresh after a create would wait out a
// minute-long window).
func (a *accTarget) clientOptions() []clouddc.Option {
	opts := []clouddc.Option{clouddc.WithPollSchedule(a.poll)}
	if a.lookup != nil {
		opts = append(opts, clouddc.WithCreateLookup(*a.lookup))
	}
	return opts
}

// client is an API client of the target, for checks and set-up.
func (a *accTarget) client() (*clouddc.Client, error) {
	opts := []clouddc.Option{clouddc.WithEndpoint(a.endpoint), clouddc.WithProjectID(a.projectID), clouddc.WithPollSchedule(a.poll)}
	if a.accessKey != "" {
		opts = append(opts, clouddc.WithAKSK(a.accessKey, a.secretKey, ""))
	} else {
		opts = append(opts, clouddc.WithToken(a.token))
	}
	return clouddc.NewClient(opts...)
}

// checkDestroyed is a CheckDestroy: every instance the state held is gone
// or terminated, as the API says.
func (a *accTarget) checkDestroyed(s *terraform.State) error {
	c, err := a.client()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for name, rs := range s.RootModule().Resources {
		if rs.Type != "clouddc_instance" {
			continue
		}
		in, err := c.GetInstance(ctx, rs.Primary.ID)
		switch {
		case errors.Is(err, clouddc.ErrNotFound):
		case err != nil:
			return fmt.Errorf("%s (%s): %w", name, rs.Primary.ID, err)
		case in.State != clouddc.StateTerminated:
			return fmt.Errorf("%s (%s) is %s after destroy", name, rs.Primary.ID, in.State)
		}
	}
	return nil
}

// checkRunning asserts that the API reports the instance *id as running.
func (a *accTarget) checkRunning(id *string) func(*terraform.State) error {
	return func(*terraform.State) error {
		c, err := a.client()
		if err != nil {
			return err
		}
		st, err := c.ShowInstanceStatus(context.Background(), *id)
		if err != nil {
			return err
		}
		if st.State != clouddc.StateRunning {
			return fmt.Errorf("instance %s is %s, want running", *id, st.State)
		}
		return nil
	}
}
