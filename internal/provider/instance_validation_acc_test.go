package provider

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/clouddc-tf/terraform-provider-clouddc/internal/simulator"
)

// validInstance is a valid instance body; each case replaces one line.
func validInstance(replace map[string]string) string {
	lines := map[string]string{
		"name":               `name = "acc-valid"`,
		"image_id":           fmt.Sprintf(`image_id = %q`, simulator.DefaultImageID),
		"vpc_id":             fmt.Sprintf(`vpc_id = %q`, simulator.DefaultVPCID),
		"password":           fmt.Sprintf(`password = %q`, testPassword),
		"network_interfaces": fmt.Sprintf(`network_interfaces = [{ subnet_id = %q }]`, simulator.DefaultSubnetID),
	}
	for k, v := range replace {
		lines[k] = v
	}
	var b strings.Builder
	b.WriteString("resource \"clouddc_instance\" \"test\" {\n")
	for _, k := range []string{"name", "image_id", "vpc_id", "password", "network_interfaces", "metadata", "description", "server_id", "power_state"} {
		if v, ok := lines[k]; ok {
			b.WriteString("  " + v + "\n")
		}
	}
	b.WriteString("}\n")
	return b.String()
}

func TestAccInstanceResource_validation(t *testing.T) {
	long := strings.Repeat("a", 256)
	pairs := func(n int) string {
		kv := make([]string, n)
		for i := range kv {
			kv[i] = fmt.Sprintf("k%d = \"v\"", i)
		}
		return "metadata = {" + strings.Join(kv, ", ") + "}"
	}
	nic := func(s string) string { return "network_interfaces = [" + s + "]" }
	sub := fmt.Sprintf("subnet_id = %q", simulator.DefaultSubnetID)
	tests := []struct {
		name    string
		replace map[string]string
		want    string // a regexp; its spaces match any white space, as Terraform wraps lines
	}{
		{"name too long", map[string]string{"name": `name = "` + strings.Repeat("n", 64) + `"`}, `(?s)name: The name must be 1 to 63 characters long; "n+" has 64`},
		{"name empty", map[string]string{"name": `name = ""`}, `(?s)name: The name must be 1 to 63 characters long; "" has 0`},
		{"name with a space", map[string]string{"name": `name = "web 1"`}, `(?s)name.*contains ' '.*only letters, digits`},
		{"name with a slash", map[string]string{"name": `name = "web/1"`}, `(?s)name.*contains '/'`},
		{"password too short", map[string]string{"password": `password = "Ab1-xyz"`}, `(?s)password.*8 to 26 characters long; it has 7`},
		{"password too long", map[string]string{"password": `password = "` + strings.Repeat("Ab1-", 7) + `"`}, `(?s)password.*8 to 26 characters long; it has 28`},
		{"password with two classes", map[string]string{"password": `password = "abcdefgh123"`}, `(?s)password.*at least three of`},
		{"password with a character not allowed", map[string]string{"password": `password = "Abc-12345#"`}, `(?s)password.*character that is not allowed`},
		{"password containing root", map[string]string{"password": `password = "MyRoot-123"`}, `(?s)password.*user name "root"`},
		{"password containing toor", map[string]string{"password": `password = "Xtoor-1234"`}, `(?s)password: The password must not contain the administrator's user name "root" or its reverse`},
		{"password containing Administrator", map[string]string{"password": `password = "Administrator-1"`}, `(?s)password.*"administrator"`},
		{"more metadata pairs than the API takes", map[string]string{"metadata": pairs(11)},
			`(?s)metadata: at most 10 pairs are allowed; it has 11.*create token`},
		{"ten metadata pairs for a new instance", map[string]string{"metadata": pairs(10)},
			`(?s)Too Many Metadata Pairs for a New Instance.*metadata: this plan creates the instance.*at most 9 metadata pairs; it has 10.*create token`},
		{"the reserved metadata key", map[string]string{"metadata": `metadata = { "terraform-provider-clouddc:create-token" = "mine" }`},
			`(?s)Reserved Metadata Key.*the key "terraform-provider-clouddc:create-token" is reserved`},
		{"metadata key with a bad character", map[string]string{"metadata": `metadata = { "team/x" = "a" }`}, `(?s)metadata: the key "team/x" must be 1 to 255`},
		{"metadata key too long", map[string]string{"metadata": `metadata = { "` + long + `" = "a" }`}, `(?s)Invalid Metadata Key`},
		{"metadata value too long", map[string]string{"metadata": `metadata = { team = "` + long + `" }`}, `(?s)metadata: the value of key "team" has 256 characters; at most 255`},
		{"description too long", map[string]string{"description": `description = "` + long + `"`}, `(?s)description.*At most 255 characters`},
		{"no network interface", map[string]string{"network_interfaces": nic("")}, `(?s)network_interfaces list must contain at least 1 elements.*got: 0`},
		{"three network interfaces", map[string]string{"network_interfaces": nic("{" + sub + "}, {" + sub + "}, {" + sub + "}")}, `(?s)network_interfaces list must contain at least 1 elements and at\s+most 2 elements, got: 3`},
		{"image ID not a UUID", map[string]string{"image_id": `image_id = "ubuntu-22.04"`}, `(?s)image_id.*"ubuntu-22.04" is not an ID.*lower-case UUID`},
		{"image ID in upper case", map[string]string{"image_id": `image_id = "B0000000-0000-4000-8000-000000000001"`}, `(?s)image_id.*lower-case UUID`},
		{"VPC ID not a UUID", map[string]string{"vpc_id": `vpc_id = "vpc-1"`}, `(?s)vpc_id.*"vpc-1" is not an ID`},
		{"subnet ID not a UUID", map[string]string{"network_interfaces": nic(`{ subnet_id = "subnet-1" }`)}, `(?s)network_interfaces\[0\]\.subnet_id.*"subnet-1" is not an ID`},
		{"server ID not a UUID", map[string]string{"server_id": `server_id = "server-7"`}, `(?s)server_id.*"server-7" is not an ID`},
		{"address not IPv4", map[string]string{"network_interfaces": nic("{" + sub + `, ipv4_address = "192.168.0.300" }`)},
			`(?s)network_interfaces\[0\]\.ipv4_address.*"192.168.0.300" is not an IPv4 address`},
		{"IPv6 address", map[string]string{"network_interfaces": nic("{" + sub + `, ipv4_address = "fd00::1" }`)}, `(?s)ipv4_address.*not an IPv4 address`},
		{"power state neither on nor off", map[string]string{"power_state": `power_state = "suspended"`}, `(?s)power_state.*value must be one of.*"on".*"off"`},
	}
	sim := startSimulator(t, fastSimOptions())
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resource.ParallelTest(t, resource.TestCase{
				ProtoV6ProviderFactories: testProviderFactories(),
				Steps: []resource.TestStep{{
					Config:      providerConfig(sim) + validInstance(tc.replace),
					PlanOnly:    true,
					ExpectError: regexp.MustCompile(strings.ReplaceAll(tc.want, " ", `\s+`)),
				}},
			})
		})
	}
	// Plan-time validation means nothing reached the API.
	if n := sim.RequestCount(simulator.OpCreateInstance); n != 0 {
		t.Errorf("%d creates reached the API", n)
	}
}
