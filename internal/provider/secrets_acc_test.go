package provider

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/clouddc-tf/terraform-provider-clouddc/internal/simulator"
)

// TestAccSecrets_neverLogged runs apply, a failed create, an update of the
// password and destroy at TF_LOG=TRACE, and proves that neither the token
// nor any password appears in the logs of Terraform and of the provider,
// nor in any error message.
func TestAccSecrets_neverLogged(t *testing.T) {
	const (
		token     = "tok-Sup3rSecretToken-4f1c9b"
		password1 = "First-S3cret-Pw"
		password2 = "Second-S3cret-Pw"
	)
	sim := startSimulator(t, fastSimOptions())
	if err := sim.AddToken(token, sim.ProjectID(), simulator.TokenScope{}); err != nil {
		t.Fatal(err)
	}
	logDir := t.TempDir()
	t.Setenv("TF_LOG", "TRACE")
	t.Setenv("TF_ACC_LOG", "TRACE")
	t.Setenv("TF_LOG_PATH_MASK", filepath.Join(logDir, "%s.log"))

	// The secrets reach Terraform as users should pass them, through the
	// environment, so that the configuration text (which the test harness
	// itself logs) holds none of them.
	t.Setenv(EnvToken, token)
	t.Setenv("TF_VAR_root_password", password1)
	config := fmt.Sprintf(`
provider "clouddc" {
  endpoint   = %q
  project_id = %q
}

variable "root_password" {
  type      = string
  sensitive = true
}
`, sim.URL, sim.ProjectID()) + strings.Replace(instanceConfig("acc-secrets"), fmt.Sprintf("%q", testPassword), "var.root_password", 1)
	rec := &diagRecorder{}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: rec.factories(),
		CheckDestroy:             checkAllTerminated(sim),
		Steps: []resource.TestStep{
			{
				PreConfig:   func() { sim.FailNextCreate("iMetal.0099", "install failed") },
				Config:      config,
				ExpectError: regexp.MustCompile(`create_instance_error`),
			},
			{
				Config: config,
				Check: func(st *terraform.State) error {
					for name, r := range st.RootModule().Resources {
						for k, v := range r.Primary.Attributes {
							if strings.Contains(v, token) {
								return fmt.Errorf("the token is in the state, in %s.%s", name, k)
							}
						}
					}
					return nil
				},
			},
			{PreConfig: func() { t.Setenv("TF_VAR_root_password", password2) }, Config: config},
		},
	})

	checkNoSecrets(t, logDir, rec, []string{"CloudDC request", "/instances"}, token, password1, password2)
}

// checkNoSecrets reads the TRACE logs written to logDir, checks that they
// are the real thing (they hold each of mustHave) and that neither they
// nor any recorded diagnostic holds a secret.
func checkNoSecrets(t *testing.T, logDir string, rec *diagRecorder, mustHave []string, secrets ...string) {
	t.Helper()
	logs, err := os.ReadDir(logDir)
	if err != nil || len(logs) == 0 {
		t.Fatalf("no log was written (%v): the test would prove nothing", err)
	}
	var all strings.Builder
	for _, l := range logs {
		b, err := os.ReadFile(filepath.Join(logDir, l.Name()))
		if err != nil {
			t.Fatal(err)
		}
		all.Write(b)
	}
	text := all.String()
	// The logs must be the real thing: TRACE output of Terraform and of
	// this provider's requests.
	for _, want := range append([]string{"[TRACE]"}, mustHave...) {
		if !strings.Contains(text, want) {
			t.Fatalf("the logs lack %q; they are not the TRACE logs this test needs (%d bytes)", want, len(text))
		}
	}
	errs := rec.all()
	if len(errs) == 0 {
		t.Fatal("no diagnostic was recorded; the error path was not exercised")
	}
	for _, secret := range secrets {
		if strings.Contains(text, secret) {
			i := strings.Index(text, secret)
			t.Errorf("a secret appears in the TRACE logs: ...%s...", text[max(0, i-200):min(len(text), i+50)])
		}

		for _, e := range errs {
			if strings.Contains(e, secret) {
				t.Errorf("a secret appears in an error: %s", e)
			}
		}
	}
}

// TestAccSecrets_accessKeyNeverLogged: the same for a temporary access key
// pair: neither the secret key nor the security token reaches the TRACE
// logs or an error, through a refused signature, an apply, a password
// change and a destroy.
func TestAccSecrets_accessKeyNeverLogged(t *testing.T) {
	sim := startSimulator(t, akskSimOptions())
	logDir := t.TempDir()
	t.Setenv("TF_LOG", "TRACE")
	t.Setenv("TF_ACC_LOG", "TRACE")
	t.Setenv("TF_LOG_PATH_MASK", filepath.Join(logDir, "%s.log"))
	t.Setenv(EnvAccessKey, accTemporaryAK)
	t.Setenv(EnvSecurityToken, accSecToken)
	t.Setenv("TF_VAR_root_password", "First-S3cret-Pw")
	config := fmt.Sprintf(`
provider "clouddc" {
  endpoint   = %q
  project_id = %q
}

variable "root_password" {
  type      = string
  sensitive = true
}
`, sim.URL, sim.ProjectID()) + strings.Replace(instanceConfig("acc-secrets-aksk"), fmt.Sprintf("%q", testPassword), "var.root_password", 1)
	const wrongSK = "wrong-Secr3t-Key-7c1d"
	// Set through t.Setenv first, so that the test's end restores it
	// whatever the steps set.
	t.Setenv(EnvSecretKey, wrongSK)
	rec := &diagRecorder{}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: rec.factories(),
		CheckDestroy:             checkAllTerminated(sim),
		Steps: []resource.TestStep{
			{
				Config:      config,
				ExpectError: regexp.MustCompile(`verify\s+aksk\s+signature\s+fail`),
			},
			{PreConfig: func() { setenv(t, EnvSecretKey, accTemporarySK) }, Config: config},
			{PreConfig: func() { setenv(t, "TF_VAR_root_password", "Second-S3cret-Pw") }, Config: config},
		},
	})
	checkNoSecrets(t, logDir, rec, []string{"CloudDC request", "access key signature"},
		accTemporarySK, wrongSK, accSecToken, "First-S3cret-Pw", "Second-S3cret-Pw")
}

// diagRecorder serves the provider and records the text of every
// diagnostic it returns to Terraform.
type diagRecorder struct {
	mu    sync.Mutex
	diags []string
}

func (r *diagRecorder) factories() map[string]func() (tfprotov6.ProviderServer, error) {
	inner := testProviderFactories()["clouddc"]
	return map[string]func() (tfprotov6.ProviderServer, error){
		"clouddc": func() (tfprotov6.ProviderServer, error) {
			s, err := inner()
			return &recordingServer{ProviderServer: s, rec: r}, err
		},
	}
}

func (r *diagRecorder) add(ds []*tfprotov6.Diagnostic) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, d := range ds {
		r.diags = append(r.diags, d.Summary+": "+d.Detail)
	}
}

func (r *diagRecorder) all() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.diags)
}

type recordingServer struct {
	tfprotov6.ProviderServer
	rec *diagRecorder
}

func (s *recordingServer) ConfigureProvider(ctx context.Context, req *tfprotov6.ConfigureProviderRequest) (*tfprotov6.ConfigureProviderResponse, error) {
	resp, err := s.ProviderServer.ConfigureProvider(ctx, req)
	if resp != nil {
		s.rec.add(resp.Diagnostics)
	}
	return resp, err
}

func (s *recordingServer) PlanResourceChange(ctx context.Context, req *tfprotov6.PlanResourceChangeRequest) (*tfprotov6.PlanResourceChangeResponse, error) {
	resp, err := s.ProviderServer.PlanResourceChange(ctx, req)
	if resp != nil {
		s.rec.add(resp.Diagnostics)
	}
	return resp, err
}

func (s *recordingServer) ApplyResourceChange(ctx context.Context, req *tfprotov6.ApplyResourceChangeRequest) (*tfprotov6.ApplyResourceChangeResponse, error) {
	resp, err := s.ProviderServer.ApplyResourceChange(ctx, req)
	if resp != nil {
		s.rec.add(resp.Diagnostics)
	}
	return resp, err
}

func (s *recordingServer) ReadResource(ctx context.Context, req *tfprotov6.ReadResourceRequest) (*tfprotov6.ReadResourceResponse, error) {
	resp, err := s.ProviderServer.ReadResource(ctx, req)
	if resp != nil {
		s.rec.add(resp.Diagnostics)
	}
	return resp, err
}
