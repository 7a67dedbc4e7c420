package provider

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sync"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/clouddc-tf/terraform-provider-clouddc/internal/simulator"
)

// userAgentRecorder serves a simulator and remembers the User-Agent of
// every request, so that a test sees what reached the wire.
type userAgentRecorder struct {
	sim *simulator.Simulator
	mu  sync.Mutex
	got []string
}

func (u *userAgentRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	u.mu.Lock()
	u.got = append(u.got, r.Header.Get("User-Agent"))
	u.mu.Unlock()
	u.sim.ServeHTTP(w, r)
}

func (u *userAgentRecorder) agents() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]string(nil), u.got...)
}

func startUserAgentRecorder(t *testing.T) (*userAgentRecorder, string) {
	t.Helper()
	skipOnExternal(t, "serves the in-process simulator behind a listener of its own")
	sim, err := simulator.New(fastSimOptions())
	if err != nil {
		t.Fatal(err)
	}
	rec := &userAgentRecorder{sim: sim}
	srv := httptest.NewServer(rec)
	t.Cleanup(func() {
		srv.Close()
		if err := sim.Close(); err != nil {
			t.Errorf("closing the simulator: %v", err)
		}
	})
	return rec, srv.URL
}

// The API's operators identify clients, and their versions, by the
// User-Agent: it names the provider's version and the CLI's.
func TestProviderConfigure_userAgent(t *testing.T) {
	t.Parallel()
	rec, url := startUserAgentRecorder(t)
	ctx := context.Background()
	p := &clouddcProvider{version: "1.2.3"}

	var schemaResp provider.SchemaResponse
	p.Schema(ctx, provider.SchemaRequest{}, &schemaResp)
	// Every optional setting unset, except the three the client needs.
	vals := make(map[string]tftypes.Value, len(schemaResp.Schema.Attributes))
	for name, attr := range schemaResp.Schema.Attributes {
		vals[name] = tftypes.NewValue(attr.GetType().TerraformType(ctx), nil)
	}
	vals["endpoint"] = tftypes.NewValue(tftypes.String, url)
	vals["project_id"] = tftypes.NewValue(tftypes.String, rec.sim.ProjectID())
	vals["token"] = tftypes.NewValue(tftypes.String, rec.sim.Token())
	raw := tftypes.NewValue(schemaResp.Schema.Type().TerraformType(ctx), vals)
	req := provider.ConfigureRequest{
		TerraformVersion: "1.5.7",
		Config:           tfsdk.Config{Schema: schemaResp.Schema, Raw: raw},
	}
	var resp provider.ConfigureResponse
	p.Configure(ctx, req, &resp)
	if resp.Diagnostics.HasError() {
		t.Fatalf("Configure: %v", resp.Diagnostics)
	}
	data, ok := resp.ResourceData.(*providerData)
	if !ok {
		t.Fatalf("ResourceData is %T; want *providerData", resp.ResourceData)
	}
	if _, err := data.client.ListAllServers(ctx, ""); err != nil {
		t.Fatalf("listing servers: %v", err)
	}

	const want = "terraform-provider-clouddc/1.2.3 terraform/1.5.7"
	got := rec.agents()
	if len(got) == 0 {
		t.Fatal("the simulator received no request")
	}
	for i, ua := range got {
		if ua != want {
			t.Errorf("request %d: User-Agent = %q; want %q", i, ua, want)
		}
	}
}

// The same through the real CLI: the version it reports to the provider
// reaches the API. OpenTofu reports the Terraform version whose provider
// features it supports (1.13.0 for OpenTofu 1.12), not its own, so the test
// checks the shape of the version rather than one value.
func TestAccProvider_userAgent(t *testing.T) {
	rec, url := startUserAgentRecorder(t)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories(),
		Steps: []resource.TestStep{{
			Config: fmt.Sprintf(`
provider "clouddc" {
  endpoint   = %q
  project_id = %q
  token      = %q
}

data "clouddc_physical_servers" "all" {}
`, url, rec.sim.ProjectID(), rec.sim.Token()),
			Check: resource.TestCheckResourceAttrSet("data.clouddc_physical_servers.all", "ids.#"),
		}},
	})
	want := regexp.MustCompile(`^terraform-provider-clouddc/test terraform/[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$`)
	got := rec.agents()
	if len(got) == 0 {
		t.Fatal("the simulator received no request")
	}
	for i, ua := range got {
		if !want.MatchString(ua) {
			t.Errorf("request %d: User-Agent = %q; want %s", i, ua, want)
		}
	}
}
