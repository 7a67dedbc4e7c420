package clouddc

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
)

func TestNormalizeState(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in        string
		want      State
		wantKnown bool
	}{
		{in: "pending", want: StatePending, wantKnown: true},
		{in: "running", want: StateRunning, wantKnown: true},
		{in: "stopped", want: StateStopped, wantKnown: true},
		{in: "shutting-down", want: StateShuttingDown, wantKnown: true},
		{in: "terminated", want: StateTerminated, wantKnown: true},
		{in: "error", want: StateError, wantKnown: true},
		{in: "teminated", want: StateTerminated, wantKnown: true},
		{in: "failed", want: StateError, wantKnown: true},
		{in: "stopping", want: StateStopping, wantKnown: true},
		{in: "reinstalling", want: StateReinstalling, wantKnown: true},
		{in: "modifyIping", want: StateModifyingIP, wantKnown: true},
		{in: "switch-installing", want: StateSwitchInstalling, wantKnown: true},
		{in: "hibernating", want: State("hibernating"), wantKnown: false},
		{in: "RUNNING", want: State("RUNNING"), wantKnown: false},
		{in: "", want: State(""), wantKnown: false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got := NormalizeState(tt.in)
			if got != tt.want {
				t.Errorf("NormalizeState(%q) = %q; want %q", tt.in, got, tt.want)
			}
			if got.Known() != tt.wantKnown {
				t.Errorf("State(%q).Known() = %v; want %v", got, got.Known(), tt.wantKnown)
			}
		})
	}
}

func TestState_UnmarshalJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		json    string
		want    State
		wantErr bool
	}{
		{name: "current", json: `"running"`, want: StateRunning},
		{name: "misspelt legacy", json: `"teminated"`, want: StateTerminated},
		{name: "legacy failed", json: `"failed"`, want: StateError},
		{name: "unknown kept", json: `"hibernating"`, want: "hibernating"},
		{name: "escaped", json: `"shutting\u002ddown"`, want: StateShuttingDown},
		{name: "number", json: `3`, wantErr: true},
		{name: "object", json: `{"state":"running"}`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var s State
			err := json.Unmarshal([]byte(tt.json), &s)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("Unmarshal(%s) = %q; want an error", tt.json, s)
				}
				return
			}
			if err != nil {
				t.Fatalf("Unmarshal(%s): %v", tt.json, err)
			}
			if s != tt.want {
				t.Errorf("Unmarshal(%s) = %q; want %q", tt.json, s, tt.want)
			}
		})
	}
}

func TestClient_showInstanceStatus_states(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		body      string
		want      State
		wantKnown bool
		wantOp    string
		wantErr   *InstanceError
	}{
		{name: "current", body: `{"state":"running","operation_state":"install-succeed"}`, want: StateRunning, wantKnown: true, wantOp: OpInstallSucceed},
		{name: "teminated", body: `{"state":"teminated","operation_state":"uninstall-succeed"}`, want: StateTerminated, wantKnown: true, wantOp: OpUninstallSucceed},
		{
			name: "failed with error", body: `{"state":"failed","operation_state":"install-failed","error":{"error_code":"CDC.1","error_msg":"no disk","error_type":"create_instance_error"}}`,
			want: StateError, wantKnown: true, wantOp: OpInstallFailed,
			wantErr: &InstanceError{Code: "CDC.1", Message: "no disk", Type: ErrorTypeCreate},
		},
		{name: "unknown", body: `{"state":"hibernating","operation_state":"hibernate-processing"}`, want: "hibernating", wantKnown: false, wantOp: "hibernate-processing"},
		{name: "missing operation state", body: `{"state":"stopped"}`, want: StateStopped, wantKnown: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, _ := newRecordingServer(t, answer(http.StatusOK, tt.body))
			c := newTestClient(t, srv.URL)
			st, err := c.ShowInstanceStatus(context.Background(), testID)
			if err != nil {
				t.Fatalf("ShowInstanceStatus: %v", err)
			}
			if st.State != tt.want || st.State.Known() != tt.wantKnown || st.OperationState != tt.wantOp {
				t.Errorf("status = %q (known %v) %q; want %q (known %v) %q",
					st.State, st.State.Known(), st.OperationState, tt.want, tt.wantKnown, tt.wantOp)
			}
			switch {
			case tt.wantErr == nil && st.Error != nil:
				t.Errorf("error object = %+v; want none", st.Error)
			case tt.wantErr != nil && (st.Error == nil || *st.Error != *tt.wantErr):
				t.Errorf("error object = %+v; want %+v", st.Error, tt.wantErr)
			}
		})
	}
}

func TestClient_listInstances_states(t *testing.T) {
	t.Parallel()
	const (
		id1 = "aaaaaaaa-0000-4000-8000-000000000001"
		id2 = "aaaaaaaa-0000-4000-8000-000000000002"
		id3 = "aaaaaaaa-0000-4000-8000-000000000003"
		id4 = "aaaaaaaa-0000-4000-8000-000000000004"
	)
	body := `{"instances":[
		{"id":"` + id1 + `","state":"teminated","operation_state":"uninstall-succeed"},
		{"id":"` + id2 + `","state":"failed","error":{"error_code":"E","error_msg":"m","error_type":"create_instance_error"}},
		{"id":"` + id3 + `","state":"hibernating"},
		{"id":"` + id4 + `","state":"running"}
	],"page_info":{"next_marker":"","previous_marker":"","current_count":4},"count":4}`
	srv, _ := newRecordingServer(t, answer(http.StatusOK, body))
	c := newTestClient(t, srv.URL)
	out, err := c.ListInstances(context.Background(), ListInstancesInput{})
	if err != nil {
		t.Fatalf("ListInstances: %v", err)
	}
	want := []struct {
		id    string
		state State
		known bool
	}{
		{id1, StateTerminated, true},
		{id2, StateError, true},
		{id3, "hibernating", false},
		{id4, StateRunning, true},
	}
	if len(out.Instances) != len(want) {
		t.Fatalf("got %d instances; want %d", len(out.Instances), len(want))
	}
	for i, w := range want {
		got := out.Instances[i]
		if got.ID != w.id || got.State != w.state || got.State.Known() != w.known {
			t.Errorf("instance %d = %s %q (known %v); want %s %q (known %v)", i, got.ID, got.State, got.State.Known(), w.id, w.state, w.known)
		}
	}
	if e := out.Instances[1].Error; e == nil || e.Type != ErrorTypeCreate || e.Code != "E" || e.Message != "m" {
		t.Errorf("error object of the failed instance = %+v; want E/m/create_instance_error", e)
	}
	if out.Count != 4 || out.PageInfo.CurrentCount != 4 || out.PageInfo.NextMarker != "" {
		t.Errorf("count %d, page info %+v; want 4 and a last page", out.Count, out.PageInfo)
	}

	// GetInstance goes through the same decoding.
	srv2, _ := newRecordingServer(t, answer(http.StatusOK, `{"instances":[{"id":"`+testID+`","state":"teminated"}],"count":1}`))
	inst, err := newTestClient(t, srv2.URL).GetInstance(context.Background(), testID)
	if err != nil {
		t.Fatalf("GetInstance: %v", err)
	}
	if inst.State != StateTerminated {
		t.Errorf("GetInstance state = %q; want %q", inst.State, StateTerminated)
	}
}
