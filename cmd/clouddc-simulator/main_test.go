package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clouddc-tf/terraform-provider-clouddc/internal/testutil"

	"github.com/clouddc-tf/terraform-provider-clouddc/internal/clouddc"
	"github.com/clouddc-tf/terraform-provider-clouddc/internal/simulator"
)

// started is a run of the command in the background.
type started struct {
	endpoint string
	stdout   *testutil.SyncBuffer
	stop     context.CancelFunc
	done     chan error
}

// start runs the command with args until stop is called, and waits until
// it listens.
func start(t *testing.T, args ...string) *started {
	t.Helper()
	endpointFile := filepath.Join(t.TempDir(), "endpoint")
	ctx, cancel := context.WithCancel(context.Background())
	s := &started{stdout: &testutil.SyncBuffer{}, stop: cancel, done: make(chan error, 1)}
	stderr := &testutil.SyncBuffer{}
	go func() {
		s.done <- run(ctx, append([]string{"-listen", "127.0.0.1:0", "-endpoint-file", endpointFile}, args...), s.stdout, stderr)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, err := os.ReadFile(endpointFile)
		if err == nil && len(b) > 0 {
			s.endpoint = strings.TrimSpace(string(b))
			break
		}
		select {
		case err := <-s.done:
			t.Fatalf("the simulator stopped before listening: %v; stderr: %s", err, stderr)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the simulator did not write its endpoint file")
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Cleanup(func() {
		cancel()
		if err := <-s.done; err != nil {
			t.Errorf("the simulator stopped with an error: %v", err)
		}
	})
	return s
}

// shutdown stops the command as SIGINT would, and returns run's error.
func (s *started) shutdown(t *testing.T) error {
	t.Helper()
	s.stop()
	select {
	case err := <-s.done:
		s.done <- err // for the cleanup
		return err
	case <-time.After(10 * time.Second):
		t.Fatalf("the simulator did not stop")
		return nil
	}
}

func (s *started) call(t *testing.T, method, rel, body string) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, s.endpoint+"/v1/"+simulator.DefaultProjectID+rel, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Auth-Token", simulator.DefaultToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, rel, err)
	}
	b, err := io.ReadAll(resp.Body)
	if cerr := resp.Body.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatalf("%s %s: reading the answer: %v", method, rel, err)
	}
	return resp.StatusCode, b
}

func (s *started) state(t *testing.T, id string) string {
	t.Helper()
	code, b := s.call(t, http.MethodGet, "/instances/"+id+"/status", "")
	if code != http.StatusOK {
		return http.StatusText(code)
	}
	var st struct {
		State string `json:"state"`
	}
	_ = json.Unmarshal(b, &st)
	return st.State
}

func (s *started) waitState(t *testing.T, id, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for s.state(t, id) != want {
		if time.Now().After(deadline) {
			t.Fatalf("instance %s is %s, want %s", id, s.state(t, id), want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

const createBody = `{"name": "web-1", "image_id": "` + simulator.DefaultImageID + `", "vpc_id": "` + simulator.DefaultVPCID +
	`", "network_interfaces": [{"subnet_id": "` + simulator.DefaultSubnetID + `"}], "password": "Cl0ud-Dc.2026"}`

// TestRun_stateFileAcrossRestarts is terraform apply, a stopped simulator,
// and terraform destroy: the instance survives, and a deletion in flight
// when the simulator stopped completes after it starts again.
func TestRun_stateFileAcrossRestarts(t *testing.T) {
	t.Parallel()
	stateFile := filepath.Join(t.TempDir(), "sim-state.json")
	args := []string{"-state-file", stateFile, "-create-duration", "0s", "-delete-duration", "500ms", "-retention", "1h",
		"-admin-token", "adm", "-quiet"}

	first := start(t, args...)
	for _, want := range []string{"export CLOUDDC_ENDPOINT=" + first.endpoint, "State:    " + stateFile + " (0 instances)",
		"Admin API: " + first.endpoint + "/_simulator/", simulator.AdminTokenHeader} {
		if !strings.Contains(first.stdout.String(), want) {
			t.Errorf("banner does not contain %q:\n%s", want, first.stdout)
		}
	}
	code, b := first.call(t, http.MethodPost, "/instances", createBody)
	var out struct {
		ID string `json:"instance_id"`
	}
	if code != http.StatusOK || json.Unmarshal(b, &out) != nil {
		t.Fatalf("create: %d %s", code, b)
	}
	keep := out.ID
	code, b = first.call(t, http.MethodPost, "/instances", createBody)
	if code != http.StatusOK || json.Unmarshal(b, &out) != nil {
		t.Fatalf("create: %d %s", code, b)
	}
	deleting := out.ID
	first.waitState(t, keep, "running")
	first.waitState(t, deleting, "running")
	if code, b := first.call(t, http.MethodDelete, "/instances/"+deleting, ""); code != http.StatusNoContent {
		t.Fatalf("delete: %d %s", code, b)
	}
	if err := first.shutdown(t); err != nil {
		t.Fatalf("run returned %v after SIGINT", err)
	}
	if !strings.Contains(first.stdout.String(), "State written to "+stateFile) {
		t.Errorf("no word of the state file at shutdown:\n%s", first.stdout)
	}

	second := start(t, args...)
	if !strings.Contains(second.stdout.String(), "(2 instances)") {
		t.Errorf("banner of the restart:\n%s", second.stdout)
	}
	if got := second.state(t, keep); got != "running" {
		t.Errorf("after the restart %s is %s, want running", keep, got)
	}
	second.waitState(t, deleting, "terminated")
	if err := second.shutdown(t); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(filepath.Dir(stateFile))
	if len(entries) != 1 {
		t.Errorf("%d files next to the state file, want only it", len(entries))
	}
}

func TestRun_legacyFlag(t *testing.T) {
	t.Parallel()
	s := start(t, "-legacy", "-create-duration", "0s", "-delete-duration", "0s", "-quiet")
	if !strings.Contains(s.stdout.String(), "Legacy:") {
		t.Errorf("the banner does not say legacy mode:\n%s", s.stdout)
	}
	_, b := s.call(t, http.MethodPost, "/instances", createBody)
	var out struct {
		ID string `json:"instance_id"`
	}
	_ = json.Unmarshal(b, &out)
	s.call(t, http.MethodDelete, "/instances/"+out.ID, "")
	s.waitState(t, out.ID, "teminated")
}

func TestRun_errors(t *testing.T) {
	t.Parallel()
	damaged := filepath.Join(t.TempDir(), "state.json")
	if err := os.WriteFile(damaged, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"damaged state file", []string{"-state-file", damaged}, damaged},
		{"unknown flag", []string{"-colour"}, "colour"},
		{"stray argument", []string{"serve"}, "serve"},
		{"negative duration", []string{"-power-duration", "-1s"}, "negative"},
		{"spread below one", []string{"-spread", "0.5"}, "-spread 0.5: it is the 95th percentile"},
		{"access key without secret key", []string{"-access-key", "AK"}, "-access-key and -secret-key go together"},
		{"secret key without access key", []string{"-secret-key", "SK"}, "-access-key and -secret-key go together"},
		{"access key with a comma", []string{"-access-key", "A,K", "-secret-key", "SK"}, "access key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr testutil.SyncBuffer
			err := run(context.Background(), append([]string{"-listen", "127.0.0.1:0"}, tt.args...), &stdout, &stderr)
			if err == nil || !strings.Contains(err.Error()+stderr.String(), tt.want) {
				t.Errorf("run = %v (stderr %s), want an error about %q", err, stderr.String(), tt.want)
			}
		})
	}
}

// TestRun_accessKeyFlags: the key pair is printed, and requests signed
// with it are accepted, through the client the provider uses.
func TestRun_accessKeyFlags(t *testing.T) {
	t.Parallel()
	const ak, sk = "SIMCLIAK01", "sim-cli-secret"
	s := start(t, "-access-key", ak, "-secret-key", sk, "-create-duration", "0s", "-quiet")
	for _, want := range []string{"export CLOUDDC_ACCESS_KEY=" + ak, "export CLOUDDC_SECRET_KEY=" + sk, "unset CLOUDDC_TOKEN"} {
		if !strings.Contains(s.stdout.String(), want) {
			t.Errorf("banner does not contain %q:\n%s", want, s.stdout)
		}
	}
	c, err := clouddc.NewClient(clouddc.WithEndpoint(s.endpoint), clouddc.WithProjectID(simulator.DefaultProjectID),
		clouddc.WithAKSK(ak, sk, ""))
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.ListInstances(context.Background(), clouddc.ListInstancesInput{})
	if err != nil || out.Count != 0 {
		t.Fatalf("a signed list: %+v, %v; want an empty list", out, err)
	}
	bad, err := clouddc.NewClient(clouddc.WithEndpoint(s.endpoint), clouddc.WithProjectID(simulator.DefaultProjectID),
		clouddc.WithAKSK(ak, "wrong-secret", ""), clouddc.WithMaxRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	var apiErr *clouddc.APIError
	if _, err := bad.ListInstances(context.Background(), clouddc.ListInstancesInput{}); !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusUnauthorized {
		t.Errorf("a wrong secret key: %v; want 401", err)
	}
	// Without the flags, no key pair is mentioned.
	plain := start(t, "-quiet")
	if strings.Contains(plain.stdout.String(), "CLOUDDC_ACCESS_KEY") {
		t.Errorf("the banner mentions an access key without -access-key:\n%s", plain.stdout)
	}
}
