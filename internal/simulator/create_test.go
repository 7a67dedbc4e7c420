package simulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// validationOptions is a catalogue with a second VPC, so that a subnet can
// be in the wrong VPC.
func validationOptions() Options {
	return Options{
		Subnets: append(DefaultSubnets(),
			SubnetSpec{ID: otherSubnetID, VPCID: otherVPCID, CIDR: netip.MustParsePrefix("10.9.0.0/24")}),
	}
}

func metadataPairs(n int) map[string]any {
	md := map[string]any{}
	for i := range n {
		md[fmt.Sprintf("key%02d", i)] = "value"
	}
	return md
}

func TestSimulator_createValidation(t *testing.T) {
	t.Parallel()
	sim, c := startSim(t, validationOptions())
	// An instance that holds 192.168.0.200, for the address-in-use case.
	existing := c.createWith(func(b map[string]any) {
		b["network_interfaces"] = nics(DefaultSubnetID, "192.168.0.200")
	})

	set := func(field string, v any) string {
		return bodyWith(func(b map[string]any) { b[field] = v })
	}
	del := func(field string) string {
		return bodyWith(func(b map[string]any) { delete(b, field) })
	}
	nicsBody := func(n []any) string { return set("network_interfaces", n) }
	windows := func(password string) string {
		return bodyWith(func(b map[string]any) {
			b["image_id"] = DefaultWindowsImage
			b["password"] = password
		})
	}
	long := strings.Repeat("k", 256)

	const (
		invalid = "iMetal.0001"
		missing = "iMetal.0002"
	)
	tests := []struct {
		name string
		body string
		code string
		// want are substrings of error_msg; the first names the field.
		want []string
	}{
		// Required fields.
		{"missing name", del("name"), missing, []string{"name"}},
		{"missing image_id", del("image_id"), missing, []string{"image_id"}},
		{"empty image_id", set("image_id", ""), missing, []string{"image_id"}},
		{"missing vpc_id", del("vpc_id"), missing, []string{"vpc_id"}},
		{"empty vpc_id", set("vpc_id", ""), missing, []string{"vpc_id"}},
		{"missing network_interfaces", del("network_interfaces"), missing, []string{"network_interfaces"}},
		{"null network_interfaces", set("network_interfaces", nil), missing, []string{"network_interfaces"}},
		{"missing password", del("password"), missing, []string{"password"}},
		{"empty password", set("password", ""), missing, []string{"password"}},
		{"missing subnet_id", nicsBody([]any{map[string]any{"ipv4_address": "192.168.0.10"}}), missing, []string{"network_interfaces[0].subnet_id"}},
		{"missing subnet_id of the second NIC", nicsBody([]any{map[string]any{"subnet_id": DefaultSubnetID}, map[string]any{}}), missing, []string{"network_interfaces[1].subnet_id"}},
		{"empty body", "", missing, []string{"body"}},
		{"blank body", " \n\t", missing, []string{"body"}},
		{"JSON null body", "null", missing, []string{"name"}},
		{"empty object", "{}", missing, []string{"name"}},

		// name.
		{"empty name", set("name", ""), invalid, []string{"name", "1 to 63"}},
		{"name of 64 characters", set("name", strings.Repeat("a", 64)), invalid, []string{"name", "64"}},
		{"name of 64 Chinese characters", set("name", strings.Repeat("服", 64)), invalid, []string{"name", "64"}},
		{"name with a space", set("name", "web 01"), invalid, []string{"name"}},
		{"name with a slash", set("name", "web/01"), invalid, []string{"name", "/"}},
		{"name with an at sign", set("name", "web@01"), invalid, []string{"name", "@"}},
		{"name with an accented letter", set("name", "café"), invalid, []string{"name", "é"}},
		{"name with an emoji", set("name", "web-🚀"), invalid, []string{"name"}},

		// IDs.
		{"image_id not a UUID", set("image_id", "ubuntu-22.04"), invalid, []string{"image_id", "UUID"}},
		{"image_id upper case", set("image_id", strings.ToUpper(DefaultImageID)), invalid, []string{"image_id", "UUID"}},
		{"unknown image", set("image_id", unknownID), invalid, []string{"image_id", unknownID}},
		{"vpc_id not a UUID", set("vpc_id", "vpc-1"), invalid, []string{"vpc_id", "UUID"}},
		{"subnet_id not a UUID", nicsBody(nics("subnet-1", "")), invalid, []string{"network_interfaces[0].subnet_id", "UUID"}},
		{"unknown subnet", nicsBody(nics(unknownID, "")), invalid, []string{"network_interfaces[0].subnet_id", unknownID}},
		{"subnet not in the VPC", set("vpc_id", otherVPCID), invalid, []string{"network_interfaces[0].subnet_id", "not in VPC"}},
		{"second NIC in another VPC", nicsBody(nics(DefaultSubnetID, "", otherSubnetID, "")), invalid, []string{"network_interfaces[1].subnet_id", "not in VPC"}},
		{"subnet of an unknown VPC", set("vpc_id", unknownID), invalid, []string{"network_interfaces[0].subnet_id", "not in VPC"}},
		{"placement.server_id not a UUID", set("placement", map[string]any{"server_id": "server-1"}), invalid, []string{"placement.server_id", "UUID"}},

		// network_interfaces.
		{"no NIC", nicsBody([]any{}), invalid, []string{"network_interfaces", "got 0"}},
		{"three NICs", nicsBody(nics(DefaultSubnetID, "", DefaultSubnetID2, "", DefaultSubnetID, "")), invalid, []string{"network_interfaces", "got 3"}},
		{"IPv4 not an address", nicsBody(nics(DefaultSubnetID, "abc")), invalid, []string{"network_interfaces[0].ipv4_address", "abc"}},
		{"IPv4 octet out of range", nicsBody(nics(DefaultSubnetID, "192.168.0.256")), invalid, []string{"network_interfaces[0].ipv4_address"}},
		{"IPv4 with a prefix length", nicsBody(nics(DefaultSubnetID, "192.168.0.10/24")), invalid, []string{"network_interfaces[0].ipv4_address"}},
		{"IPv6 address", nicsBody(nics(DefaultSubnetID, "fd00::10")), invalid, []string{"network_interfaces[0].ipv4_address", "IPv4"}},
		{"IPv4-mapped IPv6 address", nicsBody(nics(DefaultSubnetID, "::ffff:192.168.0.10")), invalid, []string{"network_interfaces[0].ipv4_address"}},
		{"IPv4 outside the subnet", nicsBody(nics(DefaultSubnetID, "192.168.5.10")), invalid, []string{"network_interfaces[0].ipv4_address", "192.168.0.0/24"}},
		{"IPv4 of the other subnet", nicsBody(nics(DefaultSubnetID, "", DefaultSubnetID2, "192.168.0.10")), invalid, []string{"network_interfaces[1].ipv4_address", "192.168.1.0/24"}},
		{"IPv4 network address", nicsBody(nics(DefaultSubnetID, "192.168.0.0")), invalid, []string{"network_interfaces[0].ipv4_address", "192.168.0.0"}},
		{"IPv4 gateway", nicsBody(nics(DefaultSubnetID, "192.168.0.1")), invalid, []string{"network_interfaces[0].ipv4_address", "192.168.0.1"}},
		{"IPv4 broadcast", nicsBody(nics(DefaultSubnetID, "192.168.0.255")), invalid, []string{"network_interfaces[0].ipv4_address", "192.168.0.255"}},
		{"IPv4 already in use", nicsBody(nics(DefaultSubnetID, "192.168.0.200")), invalid, []string{"network_interfaces[0].ipv4_address", "192.168.0.200", "in use"}},
		{"IPv4 in use by the other NIC", nicsBody(nics(DefaultSubnetID, "192.168.0.20", DefaultSubnetID, "192.168.0.20")), invalid, []string{"network_interfaces[1].ipv4_address", "in use"}},

		// password.
		{"password of 7 characters", set("password", "Ab1-xyz"), invalid, []string{"password", "8 to 26"}},
		{"password of 27 characters", set("password", "Ab1-"+strings.Repeat("x", 23)), invalid, []string{"password", "8 to 26"}},
		{"password with lower case and digits only", set("password", "abcdefgh12"), invalid, []string{"password", "three"}},
		{"password with upper case and specials only", set("password", "ABCDEFGH!-"), invalid, []string{"password", "three"}},
		{"password with one class", set("password", "abcdefghij"), invalid, []string{"password", "three"}},
		{"password with a hash", set("password", "Abc123#xyz"), invalid, []string{"password", "not allowed"}},
		{"password with a space", set("password", "Abc123 xyz"), invalid, []string{"password", "not allowed"}},
		{"password with an asterisk", set("password", "Abc123*xyz"), invalid, []string{"password", "not allowed"}},
		{"password with a Chinese character", set("password", "Abc123-密码x"), invalid, []string{"password", "not allowed"}},
		{"password contains root", set("password", "Xroot-12345"), invalid, []string{"password", "root"}},
		{"password contains ROOT", set("password", "MyROOT-pw1"), invalid, []string{"password", "root"}},
		{"password contains toor", set("password", "Abc-tOOr12"), invalid, []string{"password", "root"}},
		{"Windows password contains Administrator", windows("Administrator1!"), invalid, []string{"password", "Administrator"}},
		{"Windows password contains administrator", windows("x-aDMINISTRATOR9"), invalid, []string{"password", "Administrator"}},
		{"Windows password contains its reverse", windows("Rotartsinimda1!"), invalid, []string{"password", "Administrator"}},

		// metadata and description.
		{"11 metadata pairs", set("metadata", metadataPairs(11)), invalid, []string{"metadata", "11"}},
		{"metadata key with a slash", set("metadata", map[string]any{"a/b": "v"}), invalid, []string{"metadata key", "a/b"}},
		{"metadata key with a Cyrillic letter", set("metadata", map[string]any{"ключ": "v"}), invalid, []string{"metadata key"}},
		{"empty metadata key", set("metadata", map[string]any{"": "v"}), invalid, []string{"metadata key"}},
		{"metadata key of 256 characters", set("metadata", map[string]any{long: "v"}), invalid, []string{"metadata key"}},
		{"metadata value of 256 characters", set("metadata", map[string]any{"k": long}), invalid, []string{"metadata value", `"k"`}},
		{"description of 256 characters", set("description", long), invalid, []string{"description", "255"}},
		{"description of 256 Chinese characters", set("description", strings.Repeat("说", 256)), invalid, []string{"description", "255"}},

		// JSON.
		{"malformed JSON", `{"name": "web-01",`, invalid, []string{"JSON"}},
		{"not JSON", "name=web-01", invalid, []string{"JSON"}},
		{"JSON array", "[]", invalid, []string{"JSON"}},
		{"body over 1 MiB", `{"name": "` + strings.Repeat("a", 1<<20) + `"}`, invalid, []string{"body", "too large"}},
		{"name is a number", set("name", 5), invalid, []string{"name", "string"}},
		{"password is a boolean", set("password", true), invalid, []string{"password", "string"}},
		{"network_interfaces is an object", set("network_interfaces", map[string]any{"subnet_id": DefaultSubnetID}), invalid, []string{"network_interfaces"}},
		{"subnet_id is a number", nicsBody([]any{map[string]any{"subnet_id": 7}}), invalid, []string{"subnet_id", "string"}},
		{"metadata value is a number", set("metadata", map[string]any{"k": 1}), invalid, []string{"metadata", "string"}},
		{"metadata is a list", set("metadata", []any{"k"}), invalid, []string{"metadata"}},
		{"description is a number", set("description", 1), invalid, []string{"description", "string"}},
		{"placement is a string", set("placement", "server-1"), invalid, []string{"placement"}},
	}
	t.Run("cases", func(t *testing.T) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				e := wantError(t, c.with(t).do(http.MethodPost, "/instances", tt.body), http.StatusBadRequest, tt.code)
				for _, w := range tt.want {
					if !strings.Contains(e.Msg, w) {
						t.Errorf("error_msg %q does not contain %q", e.Msg, w)
					}
				}
			})
		}
	})

	// A refused creation reserves nothing: no instance, no server, no address.
	if got := sim.Instances(); len(got) != 1 || got[0].ID != existing {
		t.Errorf("after refused creations there are %d instances, want only %s", len(got), existing)
	}
	busy := 0
	for _, s := range sim.Servers() {
		if !s.Ready() {
			busy++
		}
	}
	if busy != 1 {
		t.Errorf("%d servers are busy, want 1", busy)
	}
	// 192.168.0.20 was offered twice in one refused request; it must be free.
	id := c.createWith(func(b map[string]any) { b["network_interfaces"] = nics(DefaultSubnetID, "192.168.0.20") })
	if got := c.get(id).NetworkInterfaces[0].IPv4Address; got != "192.168.0.20" {
		t.Errorf("address = %s, want 192.168.0.20", got)
	}
	// And the first free address is still the first of the subnet.
	id = c.createWith(nil)
	if got := c.get(id).NetworkInterfaces[0].IPv4Address; got != "192.168.0.2" {
		t.Errorf("auto-assigned address = %s, want 192.168.0.2", got)
	}
}

func TestSimulator_createAccepts(t *testing.T) {
	t.Parallel()
	s255 := strings.Repeat("v", 255)
	windows := func(password string) func(b map[string]any) {
		return func(b map[string]any) {
			b["image_id"] = DefaultWindowsImage
			b["password"] = password
		}
	}
	tests := []struct {
		name   string
		mutate func(b map[string]any)
		check  func(t *testing.T, in wireInstance)
	}{
		{"minimal body", nil, func(t *testing.T, in wireInstance) {
			if in.Name != "web-01" || in.Description != "" || len(in.Metadata) != 0 {
				t.Errorf("name/description/metadata = %q/%q/%v", in.Name, in.Description, in.Metadata)
			}
		}},
		{"name of one character", func(b map[string]any) { b["name"] = "a" }, nil},
		{"name of 63 characters", func(b map[string]any) { b["name"] = strings.Repeat("n", 63) }, nil},
		{"name of 63 Chinese characters", func(b map[string]any) { b["name"] = strings.Repeat("服", 63) }, nil},
		{"Chinese name", func(b map[string]any) { b["name"] = "生产服务器-01" }, nil},
		{"name with underscore, dash and dot", func(b map[string]any) { b["name"] = "Web_01-a.b" }, nil},
		{"password of 8 characters", func(b map[string]any) { b["password"] = "Abcdef1!" }, nil},
		{"password of 26 characters", func(b map[string]any) { b["password"] = "Ab1-" + strings.Repeat("x", 22) }, nil},
		{"password with three classes, no special", func(b map[string]any) { b["password"] = "Abcdefgh12" }, nil},
		{"password with three classes, no digit", func(b map[string]any) { b["password"] = "Abcdefgh!?" }, nil},
		{"password with every special", func(b map[string]any) { b["password"] = "Ab1!@$%^-_=+[{}]:,./?" }, nil},
		{"Linux password may contain Administrator", func(b map[string]any) { b["password"] = "Administrator1!" }, nil},
		{"Windows password may contain root", windows("Root-Pass1x"), func(t *testing.T, in wireInstance) {
			if in.Image["os_type"] != "Windows" {
				t.Errorf("image = %v, want the Windows image", in.Image)
			}
		}},
		{"10 metadata pairs", func(b map[string]any) { b["metadata"] = metadataPairs(10) }, func(t *testing.T, in wireInstance) {
			if len(in.Metadata) != 10 || in.Metadata["key09"] != "value" {
				t.Errorf("metadata = %v", in.Metadata)
			}
		}},
		{"metadata key with every allowed character", func(b map[string]any) {
			b["metadata"] = map[string]any{"Az09-_:. x": ""}
		}, func(t *testing.T, in wireInstance) {
			if v, ok := in.Metadata["Az09-_:. x"]; !ok || v != "" {
				t.Errorf("metadata = %v", in.Metadata)
			}
		}},
		{"metadata key and value of 255 characters", func(b map[string]any) {
			b["metadata"] = map[string]any{strings.Repeat("k", 255): s255}
		}, func(t *testing.T, in wireInstance) {
			if in.Metadata[strings.Repeat("k", 255)] != s255 {
				t.Errorf("metadata not stored")
			}
		}},
		{"description of 255 characters", func(b map[string]any) { b["description"] = s255 }, func(t *testing.T, in wireInstance) {
			if in.Description != s255 {
				t.Errorf("description = %q", in.Description)
			}
		}},
		{"description of 255 Chinese characters", func(b map[string]any) { b["description"] = strings.Repeat("说", 255) }, nil},
		{"first and last usable address", func(b map[string]any) {
			b["network_interfaces"] = nics(DefaultSubnetID, "192.168.0.2", DefaultSubnetID2, "192.168.1.254")
		}, func(t *testing.T, in wireInstance) {
			want := []wireNIC{{DefaultSubnetID, "192.168.0.2"}, {DefaultSubnetID2, "192.168.1.254"}}
			if fmt.Sprint(in.NetworkInterfaces) != fmt.Sprint(want) {
				t.Errorf("NICs = %v, want %v", in.NetworkInterfaces, want)
			}
		}},
		{"two NICs in one subnet get two addresses", func(b map[string]any) {
			b["network_interfaces"] = nics(DefaultSubnetID, "", DefaultSubnetID, "")
		}, func(t *testing.T, in wireInstance) {
			want := []wireNIC{{DefaultSubnetID, "192.168.0.2"}, {DefaultSubnetID, "192.168.0.3"}}
			if fmt.Sprint(in.NetworkInterfaces) != fmt.Sprint(want) {
				t.Errorf("NICs = %v, want %v", in.NetworkInterfaces, want)
			}
		}},
		{"auto address skips a fixed one of the same request", func(b map[string]any) {
			b["network_interfaces"] = nics(DefaultSubnetID, "", DefaultSubnetID, "192.168.0.2")
		}, func(t *testing.T, in wireInstance) {
			want := []wireNIC{{DefaultSubnetID, "192.168.0.3"}, {DefaultSubnetID, "192.168.0.2"}}
			if fmt.Sprint(in.NetworkInterfaces) != fmt.Sprint(want) {
				t.Errorf("NICs = %v, want %v", in.NetworkInterfaces, want)
			}
		}},
		{"empty ipv4_address means auto", func(b map[string]any) {
			b["network_interfaces"] = []any{map[string]any{"subnet_id": DefaultSubnetID, "ipv4_address": ""}}
		}, func(t *testing.T, in wireInstance) {
			if in.NetworkInterfaces[0].IPv4Address != "192.168.0.2" {
				t.Errorf("NICs = %v", in.NetworkInterfaces)
			}
		}},
		{"placement on a given server", func(b map[string]any) {
			b["placement"] = map[string]any{"server_id": "a0000000-0000-4000-8000-000000000007"}
		}, func(t *testing.T, in wireInstance) {
			if in.ServerID != "a0000000-0000-4000-8000-000000000007" {
				t.Errorf("server_id = %q", in.ServerID)
			}
		}},
		{"empty placement means any server", func(b map[string]any) { b["placement"] = map[string]any{} }, func(t *testing.T, in wireInstance) {
			if !contractUUID.MatchString(in.ServerID) {
				t.Errorf("server_id = %q", in.ServerID)
			}
		}},
		{"empty placement.server_id means any server", func(b map[string]any) {
			b["placement"] = map[string]any{"server_id": ""}
		}, func(t *testing.T, in wireInstance) {
			if !contractUUID.MatchString(in.ServerID) {
				t.Errorf("server_id = %q", in.ServerID)
			}
		}},
		{"unknown fields are ignored", func(b map[string]any) { b["flavor"] = "big" }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sim, c := startSim(t, Options{})
			body := bodyWith(tt.mutate)
			id := c.create(body)
			in := c.get(id)
			var sent map[string]any
			_ = json.Unmarshal([]byte(body), &sent)
			if in.Name != sent["name"] {
				t.Errorf("name = %q, want %q", in.Name, sent["name"])
			}
			if pw, _ := sim.Password(id); pw != sent["password"] {
				t.Errorf("stored password = %q, want %q", pw, sent["password"])
			}
			if tt.check != nil {
				tt.check(t, in)
			}
		})
	}
}

func TestSimulator_createdInstance(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	sim, c := startSim(t, Options{Now: clk.Now, CreateDuration: time.Minute})
	const server = "a0000000-0000-4000-8000-000000000003"
	body := bodyWith(func(b map[string]any) {
		b["name"] = "db-01"
		b["image_id"] = DefaultImageID2
		b["network_interfaces"] = nics(DefaultSubnetID, "", DefaultSubnetID2, "192.168.1.50")
		b["metadata"] = map[string]any{"env": "prod", "team": "dba"}
		b["description"] = "primary database"
		b["placement"] = map[string]any{"server_id": server}
	})
	id := c.create(body)

	r := c.do(http.MethodGet, "/instances?instance_id="+id, "")
	if strings.Contains(string(r.Body), testPassword) || strings.Contains(string(r.Body), `"password"`) {
		t.Errorf("ListInstances returns the password: %s", r.Body)
	}
	var fields struct {
		Instances []map[string]json.RawMessage `json:"instances"`
	}
	if err := json.Unmarshal(r.Body, &fields); err != nil || len(fields.Instances) != 1 {
		t.Fatalf("decoding %s: %v", r.Body, err)
	}
	for _, f := range []string{"id", "name", "vpc_id", "description", "network_interfaces", "tags", "image",
		"state", "operation_state", "metadata", "user_data", "server_id", "created_at", "updated_at", "launched_at"} {
		if _, ok := fields.Instances[0][f]; !ok {
			t.Errorf("the instance object has no %q field", f)
		}
	}
	if _, ok := fields.Instances[0]["error"]; ok {
		t.Errorf("an instance without a failure has an error field: %s", fields.Instances[0]["error"])
	}
	if string(fields.Instances[0]["tags"]) != "[]" {
		t.Errorf("tags = %s, want []", fields.Instances[0]["tags"])
	}

	in := c.get(id)
	checks := []struct {
		field     string
		got, want any
	}{
		{"name", in.Name, "db-01"},
		{"vpc_id", in.VPCID, DefaultVPCID},
		{"description", in.Description, "primary database"},
		{"network_interfaces", fmt.Sprint(in.NetworkInterfaces), fmt.Sprint([]wireNIC{{DefaultSubnetID, "192.168.0.2"}, {DefaultSubnetID2, "192.168.1.50"}})},
		{"image", fmt.Sprint(in.Image), fmt.Sprint(map[string]string{"id": DefaultImageID2, "name": "CentOS 7.9 64bit", "os_type": "Linux"})},
		{"state", in.State, "pending"},
		{"operation_state", in.OperationState, "install-processing"},
		{"metadata", fmt.Sprint(in.Metadata), fmt.Sprint(map[string]string{"env": "prod", "team": "dba"})},
		{"user_data", in.UserData, ""},
		{"server_id", in.ServerID, server},
		{"created_at", in.CreatedAt, rfc3339(t0)},
		{"updated_at", in.UpdatedAt, rfc3339(t0)},
		{"launched_at", in.LaunchedAt, ""},
	}
	for _, ck := range checks {
		if ck.got != ck.want {
			t.Errorf("%s = %v, want %v", ck.field, ck.got, ck.want)
		}
	}
	if !strings.HasSuffix(in.CreatedAt, "Z") {
		t.Errorf("created_at %q is not UTC", in.CreatedAt)
	}
	st := c.status(id)
	if st.State != "pending" || st.OperationState != "install-processing" || st.Error != nil {
		t.Errorf("status = %+v, want pending/install-processing without error", st)
	}

	// The Go API sees the same instance and the server it took.
	got, ok := sim.Instance(id)
	if !ok || got.Name != "db-01" || got.ServerID != server {
		t.Errorf("Instance(%s) = %+v, %v", id, got, ok)
	}
	for _, s := range sim.Servers() {
		if (s.ID == server) != (s.InstanceID == id) {
			t.Errorf("server %s hosts %q; only %s should host %s", s.ID, s.InstanceID, server, id)
		}
	}
	if _, ok := sim.Instance(unknownID); ok {
		t.Errorf("Instance(unknown) found something")
	}
}
