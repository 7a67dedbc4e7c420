package provider

import (
	"context"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// An endpoint with "user:password@" is refused, and the refusal must not
// quote the password: diagnostics end up in CI logs.
func TestEndpointErrors_doNotQuoteUserInformation(t *testing.T) {
	t.Parallel()
	for _, ep := range []string{"https://admin:hunter2@clouddc.example.com", "http://admin:hunter2@10.0.0.5", "ftp://admin:hunter2@clouddc.example.com"} {
		var resp validator.StringResponse
		endpointValidator{}.ValidateString(context.Background(), validator.StringRequest{Path: path.Root("endpoint"), ConfigValue: types.StringValue(ep)}, &resp)
		var diags diag.Diagnostics
		var s settings
		resolveEndpoint(&s, setting{value: ep, attr: "endpoint", source: "CLOUDDC_ENDPOINT", level: fromOurEnv}, setting{}, &diags)
		for _, ds := range []diag.Diagnostics{resp.Diagnostics, diags} {
			if !ds.HasError() {
				t.Fatalf("%s was accepted", ep)
			}
			for _, d := range ds {
				if strings.Contains(d.Detail(), "hunter2") || strings.Contains(d.Detail(), "admin") {
					t.Errorf("the error for %s quotes its user information: %s", ep, d.Detail())
				}
				if !strings.Contains(d.Detail(), "REDACTED@") {
					t.Errorf("the error for %s does not show where the user information was: %s", ep, d.Detail())
				}
			}
		}
	}
}
