package clouddc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clouddc-tf/terraform-provider-clouddc/internal/simulator"
)

const testPassword = "Secret-Pass1"

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// simPoll polls a simulator often enough that waits end within a few
// milliseconds of the simulated transition.
var simPoll = PollSchedule{Delay: 2 * time.Millisecond, Interval: 5 * time.Millisecond, MinInterval: 2 * time.Millisecond, MaxInterval: 20 * time.Millisecond}

// newSimClient starts a simulator for the test and a client for it.
func newSimClient(t *testing.T, opts simulator.Options) (*simulator.TestServer, *Client) {
	t.Helper()
	sim := simulator.StartTest(t, opts)
	c, err := NewClient(WithEndpoint(sim.URL), WithProjectID(sim.ProjectID()), WithToken(sim.Token()), WithPollSchedule(simPoll), noRetry)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return sim, c
}

// validInput is a CreateInstance body that the default catalogue accepts.
func validInput(name string) CreateInstanceInput {
	return CreateInstanceInput{
		Name:              name,
		ImageID:           simulator.DefaultImageID,
		VPCID:             simulator.DefaultVPCID,
		NetworkInterfaces: []NetworkInterface{{SubnetID: simulator.DefaultSubnetID}},
		Password:          testPassword,
	}
}

func mustCreate(t *testing.T, c *Client, in CreateInstanceInput) string {
	t.Helper()
	id, err := c.CreateInstanceByHand(context.Background(), in)
	if err != nil {
		t.Fatalf("CreateInstance(%s): %v", in.Name, err)
	}
	return id
}

// wantAPIError asserts that err is an *APIError with the status and code.
func wantAPIError(t *testing.T, err error, status int, code string) {
	t.Helper()
	_ = apiErrorOf(t, err, status, code) // the assertions are the point
}

// apiErrorOf asserts what wantAPIError does and returns the *APIError, for
// tests that check more of it.
func apiErrorOf(t *testing.T, err error, status int, code string) *APIError {
	t.Helper()
	var apiErr *APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("error = %v (%T); want an *APIError with HTTP %d %s", err, err, status, code)
	}
	if apiErr.StatusCode != status || apiErr.Code != code {
		t.Fatalf("APIError = HTTP %d %q (%s); want HTTP %d %q", apiErr.StatusCode, apiErr.Code, apiErr.Message, status, code)
	}
	return apiErr
}

func TestClient_instanceLifecycle(t *testing.T) {
	t.Parallel()
	sim, c := newSimClient(t, simulator.Options{CreateDuration: 100 * time.Millisecond, DeleteDuration: 100 * time.Millisecond, Retention: time.Hour})
	ctx := testContext(t)

	in := validInput("web-1")
	in.Description = "front end"
	in.Metadata = map[string]string{"team": "core"}
	id := mustCreate(t, c, in)
	if !uuidRE.MatchString(id) {
		t.Fatalf("CreateInstance returned %q; want a lower-case UUID", id)
	}
	if pw, ok := sim.Password(id); !ok || pw != testPassword {
		t.Errorf("the simulator received password %q (known %v); want the one sent", pw, ok)
	}

	got, err := c.GetInstance(ctx, id)
	if err != nil {
		t.Fatalf("GetInstance right after creation: %v", err)
	}
	if got.State != StatePending || got.OperationState != OpInstallProcessing {
		t.Errorf("new instance is %q/%q; want pending/install-processing", got.State, got.OperationState)
	}

	st, err := c.WaitForInstanceRunning(ctx, id)
	if err != nil {
		t.Fatalf("WaitForInstanceRunning: %v", err)
	}
	if st.State != StateRunning || st.OperationState != OpInstallSucceed || st.Error != nil {
		t.Errorf("wait returned %+v; want running/install-succeed without error", st)
	}

	got, err = c.GetInstance(ctx, id)
	if err != nil {
		t.Fatalf("GetInstance: %v", err)
	}
	simInst, ok := sim.Instance(id)
	if !ok {
		t.Fatalf("the simulator does not know %s", id)
	}
	if got.ID != id || got.Name != "web-1" || got.VPCID != simulator.DefaultVPCID || got.Description != "front end" {
		t.Errorf("instance = %s %q %s %q; want %s web-1 %s \"front end\"", got.ID, got.Name, got.VPCID, got.Description, id, simulator.DefaultVPCID)
	}
	wantImage := Image{ID: simulator.DefaultImageID, Name: "Ubuntu 22.04 server 64bit", OSType: "Linux"}
	if got.Image != wantImage {
		t.Errorf("image = %+v; want %+v", got.Image, wantImage)
	}
	if got.State != StateRunning || got.OperationState != OpInstallSucceed {
		t.Errorf("state = %q/%q; want running/install-succeed", got.State, got.OperationState)
	}
	if len(got.NetworkInterfaces) != 1 || got.NetworkInterfaces[0].SubnetID != simulator.DefaultSubnetID {
		t.Fatalf("NICs = %+v; want one in the default subnet", got.NetworkInterfaces)
	}
	addr, err := netip.ParseAddr(got.NetworkInterfaces[0].IPv4Address)
	if err != nil || !netip.MustParsePrefix("192.168.0.0/24").Contains(addr) {
		t.Errorf("assigned IPv4 = %q; want an address of 192.168.0.0/24", got.NetworkInterfaces[0].IPv4Address)
	}
	if got.NetworkInterfaces[0].IPv4Address != simInst.NetworkInterfaces[0].IPv4Address {
		t.Errorf("IPv4 = %q; the simulator says %q", got.NetworkInterfaces[0].IPv4Address, simInst.NetworkInterfaces[0].IPv4Address)
	}
	if got.ServerID == "" || got.ServerID != simInst.ServerID {
		t.Errorf("server_id = %q; the simulator says %q", got.ServerID, simInst.ServerID)
	}
	if len(got.Metadata) != 1 || got.Metadata["team"] != "core" {
		t.Errorf("metadata = %v; want team=core", got.Metadata)
	}
	for name, ts := range map[string]string{"created_at": got.CreatedAt, "updated_at": got.UpdatedAt, "launched_at": got.LaunchedAt} {
		if _, err := time.Parse(time.RFC3339, ts); err != nil {
			t.Errorf("%s = %q; want an RFC 3339 time", name, ts)
		}
	}
	if got.Error != nil {
		t.Errorf("error = %+v; want none", got.Error)
	}

	if err := c.DeleteInstance(ctx, id); err != nil {
		t.Fatalf("DeleteInstance: %v", err)
	}
	status, err := c.ShowInstanceStatus(ctx, id)
	if err != nil {
		t.Fatalf("ShowInstanceStatus after delete: %v", err)
	}
	if status.State != StateShuttingDown || status.OperationState != OpUninstallProcessing {
		t.Errorf("status after delete = %q/%q; want shutting-down/uninstall-processing", status.State, status.OperationState)
	}
	// Deleting again while it shuts down is accepted (DESIGN.md, D3).
	if err := c.DeleteInstance(ctx, id); err != nil {
		t.Errorf("DeleteInstance while shutting down: %v", err)
	}

	st, err = c.WaitForInstanceTerminated(ctx, id)
	if err != nil {
		t.Fatalf("WaitForInstanceTerminated: %v", err)
	}
	if st.State != StateTerminated || st.OperationState != OpUninstallSucceed {
		t.Errorf("wait returned %q/%q; want terminated/uninstall-succeed", st.State, st.OperationState)
	}

	// Retention keeps it visible as terminated; deleting it is a 404.
	err = c.DeleteInstance(ctx, id)
	apiErr := apiErrorOf(t, err, http.StatusNotFound, CodeInstanceNotFound)
	if !errors.Is(err, ErrNotFound) || apiErr.RequestID == "" || !strings.Contains(apiErr.Message, id) {
		t.Errorf("second delete: %v; want ErrNotFound with a request ID and the instance ID", err)
	}
	if n := sim.RequestCount(simulator.OpCreateInstance); n != 1 {
		t.Errorf("the simulator received %d CreateInstance requests; want 1", n)
	}
}

func TestClient_notFound(t *testing.T) {
	t.Parallel()
	const unknown = "99999999-9999-4999-8999-999999999999"

	t.Run("simulator", func(t *testing.T) {
		t.Parallel()
		_, c := newSimClient(t, simulator.Options{})
		ctx := context.Background()

		inst, err := c.GetInstance(ctx, unknown)
		if inst != nil {
			t.Errorf("GetInstance returned %+v for an unknown ID", inst)
		}
		apiErr := apiErrorOf(t, err, http.StatusNotFound, CodeInstanceNotFound)
		if !errors.Is(err, ErrNotFound) || !strings.Contains(apiErr.Message, unknown) || apiErr.Method != http.MethodGet {
			t.Errorf("GetInstance error = %+v; want ErrNotFound naming the ID", apiErr)
		}

		_, err = c.ShowInstanceStatus(ctx, unknown)
		apiErr = apiErrorOf(t, err, http.StatusNotFound, CodeInstanceNotFound)
		if apiErr.RequestID == "" || !strings.Contains(apiErr.Message, unknown) {
			t.Errorf("ShowInstanceStatus error = %+v; want a request ID and the ID in the message", apiErr)
		}

		err = c.DeleteInstance(ctx, unknown)
		wantAPIError(t, err, http.StatusNotFound, CodeInstanceNotFound)
		if !errors.Is(err, ErrNotFound) || errors.Is(err, ErrBadRequest) {
			t.Errorf("DeleteInstance error = %v; want ErrNotFound only", err)
		}
	})

	t.Run("API that ignores the filter", func(t *testing.T) {
		t.Parallel()
		// The API lists the whole project whatever the filter (N9): the
		// instance it lists must not be reported as the one asked for, and
		// the client must not conclude anything from that answer; it lists
		// the project unfiltered, and only the API's 404 for the ID says
		// the instance is gone.
		srv, rec := newRecordingServer(t, func(w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, "/status") {
				w.WriteHeader(http.StatusNotFound)
				_, _ = io.WriteString(w, `{"error_code":"iMetal.0200","error_msg":"Instances not found: [`+unknown+`]"}`)
				return
			}
			_, _ = io.WriteString(w, `{"instances":[{"id":"`+testID+`","name":"someone-else","state":"running"}],"count":1}`)
		})
		c := newTestClient(t, srv.URL)
		inst, err := c.GetInstance(context.Background(), unknown)
		if inst != nil {
			t.Errorf("GetInstance returned %+v; want nil", inst)
		}
		wantAPIError(t, err, http.StatusNotFound, CodeInstanceNotFound)
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("error = %v; want ErrNotFound", err)
		}
		var queries []string
		for _, r := range rec.all() {
			queries = append(queries, r.Path+"?"+url.Values(r.Query).Encode())
		}
		if len(queries) != 3 || !strings.Contains(queries[0], "instance_id="+unknown) || strings.Contains(queries[1], "instance_id") ||
			!strings.HasSuffix(queries[2], unknown+"/status?") {
			t.Errorf("requests = %q; want the filtered listing, the unfiltered one, then ShowInstanceStatus", queries)
		}
	})
}

func TestClient_listInstances(t *testing.T) {
	t.Parallel()
	sim, c := newSimClient(t, simulator.Options{Servers: 15, DeleteDuration: time.Hour})
	ctx := testContext(t)

	var ids []string
	for i := range 12 {
		ids = append(ids, mustCreate(t, c, validInput(fmt.Sprintf("node-%02d", i))))
	}
	shuttingDown := ids[4]
	if err := c.DeleteInstance(ctx, shuttingDown); err != nil {
		t.Fatalf("DeleteInstance: %v", err)
	}
	simInst, _ := sim.Instance(ids[5])

	listIDs := func(out *ListInstancesOutput) []string {
		var got []string
		for _, in := range out.Instances {
			got = append(got, in.ID)
		}
		return got
	}

	t.Run("paging", func(t *testing.T) {
		page1, err := c.ListInstances(ctx, ListInstancesInput{Limit: 10})
		if err != nil {
			t.Fatalf("ListInstances page 1: %v", err)
		}
		if page1.Count != 12 || page1.PageInfo.CurrentCount != 10 || page1.PageInfo.NextMarker == "" {
			t.Fatalf("page 1: count %d, page info %+v; want 12, 10 and a next marker", page1.Count, page1.PageInfo)
		}
		page2, err := c.ListInstances(ctx, ListInstancesInput{Limit: 10, Marker: page1.PageInfo.NextMarker})
		if err != nil {
			t.Fatalf("ListInstances page 2: %v", err)
		}
		if page2.Count != 12 || page2.PageInfo.CurrentCount != 2 || page2.PageInfo.NextMarker != "" {
			t.Errorf("page 2: count %d, page info %+v; want 12, 2 and no next marker", page2.Count, page2.PageInfo)
		}
		got := append(listIDs(page1), listIDs(page2)...)
		if !slices.Equal(got, ids) {
			t.Errorf("the pages list\n%v\nwant every instance once, in creation order\n%v", got, ids)
		}

		all, err := c.ListInstances(ctx, ListInstancesInput{Limit: MaxPageSize})
		if err != nil {
			t.Fatalf("ListInstances limit 1000: %v", err)
		}
		if !slices.Equal(listIDs(all), ids) || all.PageInfo.NextMarker != "" {
			t.Errorf("one large page lists %v (next %q); want all 12 and no next marker", listIDs(all), all.PageInfo.NextMarker)
		}

		def, err := c.ListInstances(ctx, ListInstancesInput{})
		if err != nil {
			t.Fatalf("ListInstances without limit: %v", err)
		}
		if len(def.Instances) != 10 {
			t.Errorf("the default page has %d instances; want 10", len(def.Instances))
		}
	})

	t.Run("filters", func(t *testing.T) {
		tests := []struct {
			name      string
			in        ListInstancesInput
			want      []string
			wantCount int
		}{
			{name: "state shutting-down", in: ListInstancesInput{State: StateShuttingDown}, want: []string{shuttingDown}, wantCount: 1},
			{name: "state running", in: ListInstancesInput{State: StateRunning, Limit: 100}, want: slices.DeleteFunc(slices.Clone(ids), func(s string) bool { return s == shuttingDown }), wantCount: 11},
			{name: "state terminated", in: ListInstancesInput{State: StateTerminated}, want: nil, wantCount: 0},
			{name: "instance IDs", in: ListInstancesInput{InstanceIDs: []string{ids[7], ids[3]}}, want: []string{ids[3], ids[7]}, wantCount: 2},
			{name: "instance IDs and state", in: ListInstancesInput{InstanceIDs: []string{ids[3], shuttingDown}, State: StateRunning}, want: []string{ids[3]}, wantCount: 1},
			{name: "server ID", in: ListInstancesInput{ServerIDs: []string{simInst.ServerID}}, want: []string{ids[5]}, wantCount: 1},
			{name: "exactly 100 IDs", in: ListInstancesInput{InstanceIDs: append(manyIDs(99), ids[0])}, want: []string{ids[0]}, wantCount: 1},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				out, err := c.ListInstances(ctx, tt.in)
				if err != nil {
					t.Fatalf("ListInstances: %v", err)
				}
				if got := listIDs(out); !slices.Equal(got, tt.want) || out.Count != tt.wantCount {
					t.Errorf("listed %v (count %d); want %v (count %d)", got, out.Count, tt.want, tt.wantCount)
				}
			})
		}
	})

	t.Run("validation before any request", func(t *testing.T) {
		tests := []struct {
			name    string
			in      ListInstancesInput
			wantErr string
		}{
			{name: "both filters", in: ListInstancesInput{InstanceIDs: ids[:1], ServerIDs: []string{simInst.ServerID}},
				wantErr: "cannot filter by instance IDs and server IDs at once"},
			{name: "101 instance IDs", in: ListInstancesInput{InstanceIDs: manyIDs(101)}, wantErr: "at most 100 IDs"},
			{name: "101 server IDs", in: ListInstancesInput{ServerIDs: manyIDs(101)}, wantErr: "at most 100 IDs"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				before := sim.RequestCount(simulator.OpListInstances)
				out, err := c.ListInstances(ctx, tt.in)
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v; want one containing %q", err, tt.wantErr)
				}
				if out != nil {
					t.Errorf("output = %+v; want nil", out)
				}
				var apiErr *APIError
				if errors.As(err, &apiErr) {
					t.Errorf("a client-side check gave an *APIError: %v", apiErr)
				}
				if n := sim.RequestCount(simulator.OpListInstances) - before; n != 0 {
					t.Errorf("%d requests were sent; want none", n)
				}
			})
		}
	})

	t.Run("API validation", func(t *testing.T) {
		_, err := c.ListInstances(ctx, ListInstancesInput{Marker: "not-a-marker"})
		apiErr := apiErrorOf(t, err, http.StatusBadRequest, CodeInvalidParameter)
		if !strings.Contains(apiErr.Message, "marker") || !errors.Is(err, ErrBadRequest) {
			t.Errorf("error = %v; want ErrBadRequest naming marker", err)
		}
	})
}

// manyIDs returns n distinct lower-case UUIDs that no instance has.
func manyIDs(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("eeeeeeee-0000-4000-8000-%012d", i)
	}
	return out
}

func TestClient_listInstances_query(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   ListInstancesInput
		want map[string][]string
	}{
		{name: "nothing", in: ListInstancesInput{}, want: map[string][]string{}},
		{name: "zero and negative limit are omitted", in: ListInstancesInput{Limit: -5}, want: map[string][]string{}},
		{
			name: "every parameter",
			in:   ListInstancesInput{Limit: 25, Marker: "m-1", State: StateRunning, InstanceIDs: []string{"a", "b", "c"}},
			want: map[string][]string{"limit": {"25"}, "marker": {"m-1"}, "instance_state": {"running"}, "instance_id": {"a,b,c"}},
		},
		{name: "server IDs", in: ListInstancesInput{ServerIDs: []string{"s1", "s2"}}, want: map[string][]string{"server_id": {"s1,s2"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, rec := newRecordingServer(t, answer(http.StatusOK, `{"instances":[],"page_info":{},"count":0}`))
			c := newTestClient(t, srv.URL)
			out, err := c.ListInstances(context.Background(), tt.in)
			if err != nil {
				t.Fatalf("ListInstances: %v", err)
			}
			if out == nil || len(out.Instances) != 0 || out.Count != 0 {
				t.Errorf("output = %+v; want an empty page", out)
			}
			r := rec.last(t)
			if r.Method != http.MethodGet || r.Path != "/v1/"+testProject+"/instances" {
				t.Errorf("request = %s %s; want GET /v1/%s/instances", r.Method, r.Path, testProject)
			}
			if len(r.Query) != len(tt.want) {
				t.Errorf("query = %v; want %v", r.Query, tt.want)
			}
			for k, v := range tt.want {
				if !slices.Equal(r.Query[k], v) {
					t.Errorf("query %s = %q; want %q", k, r.Query[k], v)
				}
			}
		})
	}
}

func TestClient_createInstance_apiErrors(t *testing.T) {
	t.Parallel()
	sim, c := newSimClient(t, simulator.Options{Servers: 2})
	busy := mustCreate(t, c, validInput("busy"))
	busyInst, _ := sim.Instance(busy)

	withInput := func(change func(*CreateInstanceInput)) CreateInstanceInput {
		in := validInput("web-1")
		change(&in)
		return in
	}
	tests := []struct {
		name       string
		in         CreateInstanceInput
		wantStatus int
		wantCode   string
		wantInMsg  string
		wantIs     []error
		wantNotIs  []error
	}{
		{
			name: "weak password", in: withInput(func(in *CreateInstanceInput) { in.Password = "short" }),
			wantStatus: 400, wantCode: CodeInvalidParameter, wantInMsg: "password",
			wantIs: []error{ErrBadRequest}, wantNotIs: []error{ErrNotFound, ErrInvalidState, ErrServerError},
		},
		{
			name: "invalid name", in: withInput(func(in *CreateInstanceInput) { in.Name = "web 1!" }),
			wantStatus: 400, wantCode: CodeInvalidParameter, wantInMsg: "name",
			wantIs: []error{ErrBadRequest}, wantNotIs: []error{ErrNotFound},
		},
		{
			name: "missing image", in: withInput(func(in *CreateInstanceInput) { in.ImageID = "" }),
			wantStatus: 400, wantCode: CodeMissingParameter, wantInMsg: "image_id",
			wantIs: []error{ErrBadRequest}, wantNotIs: []error{ErrNotFound},
		},
		{
			name: "unknown image", in: withInput(func(in *CreateInstanceInput) { in.ImageID = "b0000000-0000-4000-8000-0000000000ff" }),
			wantStatus: 400, wantCode: CodeInvalidParameter, wantInMsg: "image_id",
			wantIs: []error{ErrBadRequest}, wantNotIs: []error{ErrNotFound},
		},
		{
			name: "subnet of another VPC", in: withInput(func(in *CreateInstanceInput) { in.VPCID = "c0000000-0000-4000-8000-0000000000ff" }),
			wantStatus: 400, wantCode: CodeInvalidParameter, wantInMsg: "network_interfaces[0].subnet_id",
			wantIs: []error{ErrBadRequest},
		},
		{
			name: "address outside the subnet", in: withInput(func(in *CreateInstanceInput) { in.NetworkInterfaces[0].IPv4Address = "10.0.0.5" }),
			wantStatus: 400, wantCode: CodeInvalidParameter, wantInMsg: "network_interfaces[0].ipv4_address",
			wantIs: []error{ErrBadRequest},
		},
		{
			name: "unknown physical server", in: withInput(func(in *CreateInstanceInput) {
				in.Placement = &Placement{ServerID: "a0000000-0000-4000-8000-0000000000ff"}
			}),
			wantStatus: 404, wantCode: CodeServerNotFound, wantInMsg: "a0000000-0000-4000-8000-0000000000ff",
			wantIs: []error{ErrNotFound}, wantNotIs: []error{ErrBadRequest, ErrServerNotReady},
		},
		{
			name: "busy physical server", in: withInput(func(in *CreateInstanceInput) { in.Placement = &Placement{ServerID: busyInst.ServerID} }),
			wantStatus: 400, wantCode: CodeServerNotReady, wantInMsg: busyInst.ServerID,
			wantIs: []error{ErrBadRequest, ErrServerNotReady}, wantNotIs: []error{ErrNotFound, ErrInvalidState},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			id, err := c.CreateInstanceByHand(context.Background(), tt.in)
			if id != "" {
				t.Errorf("CreateInstance returned ID %q with an error answer", id)
			}
			apiErr := apiErrorOf(t, err, tt.wantStatus, tt.wantCode)
			if !strings.Contains(apiErr.Message, tt.wantInMsg) {
				t.Errorf("message %q does not name %q", apiErr.Message, tt.wantInMsg)
			}
			if apiErr.Method != http.MethodPost || apiErr.Path != "/v1/"+sim.ProjectID()+"/instances" || apiErr.RequestID == "" {
				t.Errorf("APIError names %s %s (request ID %q); want POST /v1/%s/instances with a request ID",
					apiErr.Method, apiErr.Path, apiErr.RequestID, sim.ProjectID())
			}
			if !strings.Contains(err.Error(), tt.wantCode) || !strings.Contains(err.Error(), tt.wantInMsg) {
				t.Errorf("Error() = %q; want the code and the field", err)
			}
			if strings.Contains(err.Error(), testPassword) || strings.Contains(err.Error(), sim.Token()) {
				t.Errorf("Error() = %q leaks the password or the token", err)
			}
			for _, target := range tt.wantIs {
				if !errors.Is(err, target) {
					t.Errorf("errors.Is(err, %v) = false; want true", target)
				}
			}
			for _, target := range tt.wantNotIs {
				if errors.Is(err, target) {
					t.Errorf("errors.Is(err, %v) = true; want false", target)
				}
			}
			if IsTransient(err) {
				t.Errorf("IsTransient = true for a validation error")
			}
		})
	}
	t.Cleanup(func() {
		if n := len(sim.Instances()); n != 1 {
			t.Errorf("the simulator has %d instances; want only the busy one", n)
		}
	})
}

func TestClient_authErrors(t *testing.T) {
	t.Parallel()
	sim := simulator.StartTest(t, simulator.Options{})
	tests := []struct {
		name       string
		project    string
		token      string
		wantStatus int
		wantCode   string
		want       error
		wantNot    error
	}{
		{name: "wrong token", project: sim.ProjectID(), token: "expired-token", wantStatus: 401, wantCode: CodeUnauthenticated, want: ErrUnauthorized, wantNot: ErrForbidden},
		{name: "token of another project", project: "ffffffffffffffffffffffffffffffff", token: sim.Token(), wantStatus: 403, wantCode: CodeForbidden, want: ErrForbidden, wantNot: ErrUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := NewClient(WithEndpoint(sim.URL), WithProjectID(tt.project), WithToken(tt.token))
			if err != nil {
				t.Fatalf("NewClient: %v", err)
			}
			_, err = c.ListInstances(context.Background(), ListInstancesInput{})
			wantAPIError(t, err, tt.wantStatus, tt.wantCode)
			if !errors.Is(err, tt.want) || errors.Is(err, tt.wantNot) || IsTransient(err) {
				t.Errorf("error %v: Is(%v) = %v, Is(%v) = %v, transient %v; want true, false, false",
					err, tt.want, errors.Is(err, tt.want), tt.wantNot, errors.Is(err, tt.wantNot), IsTransient(err))
			}
			if strings.Contains(err.Error(), tt.token) {
				t.Errorf("Error() = %q contains the token", err)
			}
		})
	}
}

func TestClient_waitAgainstSimulator(t *testing.T) {
	t.Parallel()
	opts := simulator.Options{CreateDuration: 100 * time.Millisecond, DeleteDuration: 100 * time.Millisecond, Retention: time.Hour}

	t.Run("creation fails", func(t *testing.T) {
		t.Parallel()
		sim, c := newSimClient(t, opts)
		ctx := testContext(t)
		sim.FailNextCreate("CDC.0510", "the server failed its hardware check")
		id := mustCreate(t, c, validInput("doomed"))
		st, err := c.WaitForInstanceRunning(ctx, id)
		var failed *InstanceFailedError
		if !errors.As(err, &failed) {
			t.Fatalf("error = %v (%T); want *InstanceFailedError", err, err)
		}
		wantDetail := InstanceError{Code: "CDC.0510", Message: "the server failed its hardware check", Type: ErrorTypeCreate}
		if failed.InstanceID != id || failed.State != StateError || failed.OperationState != OpInstallFailed ||
			failed.Detail == nil || *failed.Detail != wantDetail {
			t.Errorf("failure = %+v (detail %+v); want %s error/install-failed with %+v", failed, failed.Detail, id, wantDetail)
		}
		if st == nil || st.State != StateError {
			t.Errorf("status = %+v; want the error status", st)
		}

		// The failed instance can be deleted, and the stale create error
		// does not end the deletion's wait.
		if err := c.DeleteInstance(ctx, id); err != nil {
			t.Fatalf("DeleteInstance of a failed instance: %v", err)
		}
		st, err = c.WaitForInstanceTerminated(ctx, id)
		if err != nil || st.State != StateTerminated {
			t.Fatalf("WaitForInstanceTerminated = %+v, %v; want terminated", st, err)
		}
	})

	t.Run("deletion fails then succeeds on retry", func(t *testing.T) {
		t.Parallel()
		sim, c := newSimClient(t, opts)
		ctx := testContext(t)
		id := mustCreate(t, c, validInput("sticky"))
		if _, err := c.WaitForInstanceRunning(ctx, id); err != nil {
			t.Fatalf("WaitForInstanceRunning: %v", err)
		}
		sim.FailNextDelete("CDC.0620", "the disk could not be wiped")
		if err := c.DeleteInstance(ctx, id); err != nil {
			t.Fatalf("DeleteInstance: %v", err)
		}
		_, err := c.WaitForInstanceTerminated(ctx, id)
		var failed *InstanceFailedError
		if !errors.As(err, &failed) {
			t.Fatalf("error = %v (%T); want *InstanceFailedError", err, err)
		}
		if failed.Detail == nil || failed.Detail.Type != ErrorTypeDelete || failed.Detail.Code != "CDC.0620" ||
			failed.OperationState != OpUninstallFailed || failed.Goal != "be terminated" {
			t.Errorf("failure = %+v (detail %+v); want delete_instance_error CDC.0620, uninstall-failed", failed, failed.Detail)
		}
		if err := c.DeleteInstance(ctx, id); err != nil {
			t.Fatalf("retrying DeleteInstance: %v", err)
		}
		if st, err := c.WaitForInstanceTerminated(ctx, id); err != nil || st.State != StateTerminated {
			t.Fatalf("WaitForInstanceTerminated after the retry = %+v, %v; want terminated", st, err)
		}
	})

	t.Run("deleting a pending instance", func(t *testing.T) {
		t.Parallel()
		_, c := newSimClient(t, opts)
		ctx := testContext(t)
		id := mustCreate(t, c, validInput("short-lived"))
		if err := c.DeleteInstance(ctx, id); err != nil {
			t.Fatalf("DeleteInstance while pending: %v", err)
		}
		st, err := c.WaitForInstanceTerminated(ctx, id)
		if err != nil || st.State != StateTerminated {
			t.Fatalf("WaitForInstanceTerminated = %+v, %v; want terminated", st, err)
		}
	})

	t.Run("removed out of band", func(t *testing.T) {
		t.Parallel()
		sim, c := newSimClient(t, opts)
		ctx := testContext(t)
		id := mustCreate(t, c, validInput("vanishing"))
		if err := sim.RemoveInstance(id); err != nil {
			t.Fatalf("RemoveInstance: %v", err)
		}
		st, err := c.WaitForInstanceTerminated(ctx, id)
		if err != nil || st == nil || st.State != StateTerminated {
			t.Fatalf("WaitForInstanceTerminated = %+v, %v; want terminated from the 404", st, err)
		}
		err = c.DeleteInstance(ctx, id)
		wantAPIError(t, err, http.StatusNotFound, CodeInstanceNotFound)
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("DeleteInstance of a gone instance = %v; want ErrNotFound", err)
		}
		// A create wait that never saw the instance takes its absence for
		// "not listed yet" (for a minute), not for "gone": it keeps polling,
		// and its timeout names the absence.
		shortCtx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		defer cancel()
		_, err = c.WaitForInstanceRunning(shortCtx, id)
		var waitErr *WaitError
		if !errors.As(err, &waitErr) || !errors.Is(waitErr.LastPollError, ErrNotFound) || !strings.Contains(err.Error(), "not listed yet") {
			t.Errorf("WaitForInstanceRunning of a gone instance = %v; want a timeout whose last poll says it is not listed yet", err)
		}
	})

	t.Run("terminated instance vanishes after retention", func(t *testing.T) {
		t.Parallel()
		sim, c := newSimClient(t, simulator.Options{DeleteDuration: 20 * time.Millisecond})
		ctx := testContext(t)
		id := mustCreate(t, c, validInput("no-retention"))
		if err := c.DeleteInstance(ctx, id); err != nil {
			t.Fatalf("DeleteInstance: %v", err)
		}
		st, err := c.WaitForInstanceTerminated(ctx, id)
		if err != nil || st.State != StateTerminated {
			t.Fatalf("WaitForInstanceTerminated = %+v, %v; want terminated", st, err)
		}
		if _, ok := sim.Instance(id); ok {
			t.Errorf("the simulator still knows %s", id)
		}
	})
}
