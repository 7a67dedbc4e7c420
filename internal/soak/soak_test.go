// Package soak drives the real Terraform CLI and the real provider binary
// against a misbehaving simulator: many instances at Terraform's default
// parallelism, while the API fails, rate-limits, drops connections and
// lags, answers creates late or not at all, and some resources share one
// name. It checks the provider's promises: no instance that exists is
// missing from state, no instance that is gone stays in state, and each
// resource has exactly one instance of its own.
//
// `make test` runs a short version; `make soak` runs 50 instances.
package soak

import (
	"bytes"
	"context"
	"encoding/json"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/clouddc-tf/terraform-provider-clouddc/internal/clitest"
	"github.com/clouddc-tf/terraform-provider-clouddc/internal/simulator"
)

// workspace is one Terraform working directory wired to a simulator and to
// a provider binary built from this repository.
type workspace struct {
	t         *testing.T
	dir       string
	terraform string
	env       []string
	logPath   string
}

func newWorkspace(t *testing.T, sim *simulator.TestServer, config string) *workspace {
	t.Helper()
	if os.Getenv("TF_ACC") == "" {
		t.Skip("set TF_ACC=1 (make test does) to run the soak tests: they need the Terraform CLI")
	}
	tf := os.Getenv("TF_ACC_TERRAFORM_PATH")
	if tf == "" {
		var err error
		if tf, err = exec.LookPath("terraform"); err != nil {
			t.Fatal("no Terraform CLI: set TF_ACC_TERRAFORM_PATH (make test does)")
		}
	}
	dir := t.TempDir()
	rc := buildProvider(t, dir)
	work := filepath.Join(dir, "config")
	if err := os.MkdirAll(work, 0o750); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(work, "main.tf"), config)
	ws := &workspace{t: t, dir: work, terraform: tf, logPath: filepath.Join(dir, "provider.log")}
	ws.env = append(os.Environ(),
		"TF_CLI_CONFIG_FILE="+rc,
		"TF_IN_AUTOMATION=1", "CHECKPOINT_DISABLE=1",
		"CLOUDDC_ENDPOINT="+sim.URL, "CLOUDDC_PROJECT_ID="+sim.ProjectID(), "CLOUDDC_TOKEN="+sim.Token(),
		"TF_VAR_root_password=Soak-Passw0rd",
		// The provider's own logs (retries, adoptions) go to a file.
		"TF_LOG_PROVIDER=INFO", "TF_LOG_CORE=OFF", "TF_LOG_PATH="+ws.logPath,
	)
	return ws
}

// buildProvider builds the provider into dir and returns a CLI
// configuration that points the CLI at it.
func buildProvider(t *testing.T, dir string) string {
	t.Helper()
	host := os.Getenv("TF_ACC_PROVIDER_HOST")
	if host == "" {
		host = "registry.terraform.io"
	}
	rc := filepath.Join(dir, "cli.tfrc")
	if err := clitest.BuildProvider(t.Context(), "../..", filepath.Join(dir, "plugins"), host, rc); err != nil {
		t.Fatal(err)
	}
	return rc
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil { //nolint:gosec // G703: the test writes under its own t.TempDir()
		t.Fatal(err)
	}
}

func (w *workspace) command(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, w.terraform, append([]string{"-chdir=" + w.dir}, args...)...) //nolint:gosec // G204: the CLI make test chose, on our own files
	cmd.Env = w.env
	return cmd
}

// run runs a terraform command and returns its combined output.
func (w *workspace) run(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	out, err := w.command(ctx, args...).CombinedOutput()
	return string(out), err
}

// clearError is what a failed apply or destroy must say: one of the
// provider's error summaries, with the API's answer or the instance's error.
var clearError = regexp.MustCompile(`(?s)Error: (Unable to (Create|Read|Delete) Instance|Instance (Did Not Become Running|Was Not Deleted)).*` +
	`(HTTP \d{3}|error_type|timed out|outcome of)`)

// converge runs a command until it succeeds, at most attempts times. Every
// failure must be a clear error; the attempts used are returned.
func (w *workspace) converge(attempts int, args ...string) int {
	w.t.Helper()
	for i := 1; i <= attempts; i++ {
		out, err := w.run(args...)
		if err == nil {
			return i
		}
		if !clearError.MatchString(out) {
			w.t.Fatalf("terraform %s failed without a clear error (attempt %d):\n%s", args[0], i, tail(out, 4000))
		}
		w.t.Logf("terraform %s attempt %d failed with a clear error; running it again:\n%s", args[0], i, firstError(out))
	}
	w.t.Fatalf("terraform %s did not succeed in %d attempts", args[0], attempts)
	return attempts
}

func (w *workspace) stateList() []string {
	w.t.Helper()
	out, err := w.run("state", "list")
	if err != nil {
		if strings.Contains(out, "No state file was found") {
			return nil
		}
		w.t.Fatalf("terraform state list: %v\n%s", err, out)
	}
	return strings.Fields(out)
}

// stateIDs returns the instance IDs recorded in the state.
func (w *workspace) stateIDs() map[string]bool {
	w.t.Helper()
	ids, _ := w.stateResources()
	return ids
}

// stateResources returns the instance IDs recorded in the state and the
// number of resources that record one: two resources with one ID count
// twice there and once in the IDs.
func (w *workspace) stateResources() (map[string]bool, int) {
	w.t.Helper()
	out, err := w.run("show", "-json")
	if err != nil {
		w.t.Fatalf("terraform show: %v\n%s", err, out)
	}
	var doc struct {
		Values struct {
			RootModule struct {
				Resources []struct {
					Values map[string]any `json:"values"`
				} `json:"resources"`
			} `json:"root_module"`
		} `json:"values"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		w.t.Fatalf("decoding terraform show -json: %v", err)
	}
	ids := map[string]bool{}
	n := 0
	for _, r := range doc.Values.RootModule.Resources {
		if id, ok := r.Values["id"].(string); ok {
			ids[id] = true
			n++
		}
	}
	return ids, n
}

func (w *workspace) logCount(substr string) int {
	b, _ := os.ReadFile(w.logPath)
	return bytes.Count(b, []byte(substr))
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

func firstError(out string) string {
	if i := strings.Index(out, "Error:"); i >= 0 {
		return tail(out[i:], 600)
	}
	return tail(out, 600)
}

func soakSize() int {
	if n, err := strconv.Atoi(os.Getenv("SOAK_INSTANCES")); err == nil && n > 0 {
		return n
	}
	return 12 // the short version that make test runs
}

// live returns the simulator's instances that are not terminated.
func live(sim *simulator.TestServer) []simulator.Instance {
	var out []simulator.Instance
	for _, in := range sim.Instances() {
		if in.State != "terminated" {
			out = append(out, in)
		}
	}
	return out
}

func TestSoak_applyAndDestroyUnderFaults(t *testing.T) {
	n := soakSize()
	sim := simulator.StartTest(t, simulator.Options{
		Servers:        n + 10,
		CreateDuration: 2 * time.Second,
		DeleteDuration: 2 * time.Second,
		Retention:      time.Hour,
		Subnets:        []simulator.SubnetSpec{{ID: simulator.DefaultSubnetID, VPCID: simulator.DefaultVPCID, CIDR: mustPrefix("10.8.0.0/22")}},
	})
	// 10% of all calls fail with a 5xx before the API acts; a rate limit
	// with a small burst answers 429s when Terraform's ten workers start
	// at once; connections drop, some of them after a create was carried
	// out; every call lags.
	sim.SetFailureRate("", 0.10, 503, 20261125)
	sim.SetRateLimit(simulator.RateLimit{PerSecond: 15, Burst: 5, RetryAfter: time.Second})
	sim.SetLatency("", 30*time.Millisecond)
	sim.InjectFault(simulator.Fault{Op: simulator.OpCreateInstance, After: true, Status: 502, Count: 2})
	sim.InjectFault(simulator.Fault{Op: simulator.OpCreateInstance, After: true, Drop: true, Count: 1})
	// Creates the gateway gives up on at once while the API carries them
	// out seconds later (well within the minute the contract allows).
	sim.InjectFault(simulator.Fault{Op: simulator.OpCreateInstance, Status: 504, Late: 3 * time.Second, Count: 2})
	sim.InjectFault(simulator.Fault{Op: simulator.OpListInstances, Drop: true, Count: 3})
	sim.InjectFault(simulator.Fault{Op: simulator.OpDeleteInstance, Drop: true, Count: 2})
	// Answers that come from something on the path instead of the API:
	// listings that list nothing, a page that lost items, the gateway's own
	// 404, and a redirect to a host that must receive nothing. None of them
	// may make the provider forget, double or orphan an instance.
	sim.InjectFault(simulator.Fault{Op: simulator.OpListInstances, Body: `{}`, Count: 2})
	sim.InjectFault(simulator.Fault{Op: simulator.OpListInstances, Body: `{"instances":null}`, Count: 1})
	sim.InjectFault(simulator.Fault{Op: simulator.OpListInstances, LoseItems: 1, Count: 2})
	sim.InjectFault(simulator.Fault{Op: simulator.OpListInstances, Gateway: true, Count: 2})
	sink, err := sim.RedirectSink()
	if err != nil {
		t.Fatal(err)
	}
	sim.InjectFault(simulator.Fault{Op: simulator.OpDeleteInstance, RedirectTo: simulator.SinkTarget, Count: 1})

	// A third of the resources share one name: a create that looks for
	// what it made must not take a sibling's instance.
	const shared = "soak-shared"
	config := strings.Replace(clitest.FleetHCL("soak", n), `name     = "soak-${count.index}"`,
		`name     = count.index % 3 == 0 ? "`+shared+`" : "soak-${count.index}"`, 1)
	if !strings.Contains(config, shared) {
		t.Fatal("the fleet configuration changed: no resource shares a name")
	}
	ws := newWorkspace(t, sim, config)
	start := time.Now()
	applyAttempts := ws.converge(3, "apply", "-auto-approve", "-input=false", "-no-color", "-parallelism=10")
	applied := time.Since(start)

	// Nothing missing, nothing doubled: exactly n instances exist, all of
	// them running, each resource holds its own, and the state holds
	// exactly those.
	running := live(sim)
	ids, resources := ws.stateResources()
	if len(running) != n || len(ids) != n || resources != n {
		t.Fatalf("after apply: %d live instances, %d resources holding %d distinct IDs; want %d of each",
			len(running), resources, len(ids), n)
	}
	sharing := 0
	for _, in := range running {
		if in.State != "running" || !ids[in.ID] {
			t.Fatalf("instance %s (%s) is %s; in state: %v", in.ID, in.Name, in.State, ids[in.ID])
		}
		if in.Name == shared {
			sharing++
		}
	}
	if sharing < 2 {
		t.Fatalf("%d instances share the name %s: the soak proves nothing about same-named creates", sharing, shared)
	}

	start = time.Now()
	destroyAttempts := ws.converge(3, "destroy", "-auto-approve", "-input=false", "-no-color", "-parallelism=10")
	destroyed := time.Since(start)

	leaks := live(sim)
	if len(leaks) != 0 {
		t.Errorf("%d instances leaked after destroy: %+v", len(leaks), leaks)
	}
	for _, r := range sink.Requests() {
		t.Errorf("the redirect's target received %s %s with %d credential headers and a body of %d bytes",
			r.Method, r.URI, len(r.Credentials()), len(r.Body))
	}
	if left := sim.QueuedFaults(); len(left) != 0 {
		t.Errorf("faults never reached, so the soak did not test them: %+v", left)
	}
	if left := ws.stateList(); len(left) != 0 {
		t.Errorf("the state still holds %v", left)
	}
	// Every instance ever made was one resource's: none was made twice
	// and deleted as a duplicate, none was orphaned.
	// (A failed apply attempt may replace a tainted instance, so this holds
	// only when the apply succeeded at once.)
	if all := sim.Instances(); applyAttempts == 1 && len(all) != n {
		t.Errorf("the simulator made %d instances for %d resources", len(all), n)
	}
	stats := sim.Stats()
	if stats.FaultsInjected == 0 || stats.RateLimited == 0 {
		t.Fatalf("the soak injected %d faults and %d rate limits: it proves nothing", stats.FaultsInjected, stats.RateLimited)
	}
	total := 0
	for _, c := range stats.Requests {
		total += c
	}
	t.Logf("soak: %d instances; apply %s in %d attempt(s), destroy %s in %d attempt(s); %d requests, %d faults injected, "+
		"%d rate-limited; provider retries %d, creates adopted %d, creates resent %d, duplicates deleted %d; leaks %d",
		n, applied.Round(time.Second), applyAttempts, destroyed.Round(time.Second), destroyAttempts, total,
		stats.FaultsInjected, stats.RateLimited, ws.logCount("CloudDC request failed; retrying"),
		ws.logCount("adopted the instance"), ws.logCount("sending it again"), ws.logCount("made a duplicate instance"), len(leaks))
}

func TestSoak_interruptedDestroy(t *testing.T) {
	const n = 6
	sim := simulator.StartTest(t, simulator.Options{
		Servers:        n,
		CreateDuration: 500 * time.Millisecond,
		DeleteDuration: 4 * time.Second,
		Retention:      time.Hour,
	})
	ws := newWorkspace(t, sim, clitest.FleetHCL("soak", n))
	ws.converge(1, "apply", "-auto-approve", "-input=false", "-no-color")

	// Start a destroy and press Ctrl-C while the instances shut down.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := ws.command(ctx, "destroy", "-auto-approve", "-input=false", "-no-color")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		shutting := 0
		for _, in := range sim.Instances() {
			if in.State == "shutting-down" {
				shutting++
			}
		}
		if shutting > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no instance started shutting down:\n%s", out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	interrupted := time.Now()
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	stopped := time.Since(interrupted)
	if err == nil {
		t.Fatalf("the interrupted destroy reported success:\n%s", out.String())
	}
	// Deletions take 4s; an interrupted wait must not sit them out.
	if stopped > 3*time.Second {
		t.Errorf("terraform took %s to stop after SIGINT", stopped)
	}
	kept := ws.stateIDs()
	if len(kept) == 0 {
		t.Fatalf("the interrupted destroy forgot every instance although they were still shutting down:\n%s", out.String())
	}
	for _, in := range live(sim) {
		if !kept[in.ID] {
			t.Errorf("instance %s (%s) still exists but is no longer in state", in.ID, in.State)
		}
	}

	// Running destroy again finishes the job and leaves nothing behind.
	ws.converge(1, "destroy", "-auto-approve", "-input=false", "-no-color")
	if leaks := live(sim); len(leaks) != 0 {
		t.Errorf("%d instances leaked after the re-run: %+v", len(leaks), leaks)
	}
	if left := ws.stateList(); len(left) != 0 {
		t.Errorf("the state still holds %v", left)
	}
	t.Logf("interrupted destroy: terraform stopped %s after SIGINT with %d instances kept in state; the re-run left 0 behind",
		stopped.Round(10*time.Millisecond), len(kept))
}

// Ctrl-C while creates are on the wire: the API has made every instance
// but has not answered. Each interrupted create looks for its instance
// on a fresh context, so the state keeps all of them (tainted); the next
// apply replaces them and destroy leaves nothing.
func TestSoak_interruptedCreate(t *testing.T) {
	const n = 6
	sim := simulator.StartTest(t, simulator.Options{
		Servers:        2 * n,
		CreateDuration: 500 * time.Millisecond,
		DeleteDuration: 500 * time.Millisecond,
		Retention:      time.Hour,
	})
	sim.InjectFault(simulator.Fault{Op: simulator.OpCreateInstance, After: true, Status: 200, Hold: 10 * time.Minute, Count: n})
	ws := newWorkspace(t, sim, clitest.FleetHCL("soak", n))

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := ws.command(ctx, "apply", "-auto-approve", "-input=false", "-no-color")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	for len(sim.Instances()) < n {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d creates reached the API:\n%s", len(sim.Instances()), n, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err == nil {
		t.Fatalf("the interrupted apply reported success:\n%s", out.String())
	}
	kept := ws.stateIDs()
	for _, in := range live(sim) {
		if !kept[in.ID] {
			t.Errorf("instance %s (%s) was made by an interrupted create but is not in the state:\n%s", in.ID, in.State, tail(out.String(), 3000))
		}
	}

	ws.converge(1, "apply", "-auto-approve", "-input=false", "-no-color")
	if running, ids := live(sim), ws.stateIDs(); len(running) != n || len(ids) != n {
		t.Errorf("after the re-run: %d live instances, %d in state; want %d", len(running), len(ids), n)
	}
	ws.converge(1, "destroy", "-auto-approve", "-input=false", "-no-color")
	if leaks := live(sim); len(leaks) != 0 {
		t.Errorf("%d instances leaked: %+v", len(leaks), leaks)
	}
	t.Logf("interrupted create: %d instances made while their answers were held, %d kept in state after SIGINT; 0 left after destroy",
		n, len(kept))
}

func mustPrefix(s string) netip.Prefix { return netip.MustParsePrefix(s) }
