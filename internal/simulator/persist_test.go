package simulator

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// restart closes a simulator and starts another on the same state file,
// served on a new server, as stopping and starting the binary would.
func restart(t *testing.T, old *TestServer, opts Options) (*TestServer, *apiClient) {
	t.Helper()
	if err := old.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	sim, err := New(opts)
	if err != nil {
		t.Fatalf("New after a restart: %v", err)
	}
	srv := httptest.NewServer(sim)
	t.Cleanup(func() {
		srv.Close()
		_ = sim.Close()
	})
	ts := &TestServer{Simulator: sim, URL: srv.URL}
	return ts, &apiClient{t: t, base: srv.URL, project: sim.ProjectID(), token: sim.Token()}
}

func TestPersist_restart(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	opts := Options{StateFile: filepath.Join(t.TempDir(), "state.json"), Now: clk.Now,
		CreateDuration: createDur, DeleteDuration: deleteDur, PowerDuration: powerDur, Retention: time.Hour}
	sim, c := startSim(t, opts)
	if err := sim.AddToken("ci-token", DefaultProjectID, TokenScope{}); err != nil {
		t.Fatal(err)
	}

	// terraform apply: three instances, one stopped.
	web := c.createWith(func(b map[string]any) {
		b["name"] = "web"
		b["network_interfaces"] = nics(DefaultSubnetID, "192.168.0.10")
		b["metadata"] = map[string]any{"env": "prod"}
	})
	db := c.createWith(func(b map[string]any) { b["name"] = "db" })
	gone := c.createWith(func(b map[string]any) { b["name"] = "gone" })
	clk.Advance(createDur)
	c.power(ActionPowerOff, serverOf(sim, db))
	clk.Advance(powerDur)
	beforeWeb, beforeDB := c.get(web), c.get(db)
	// terraform destroy starts, then the simulator is stopped.
	deleteAt := clk.Now()
	c.delete(web)
	c.delete(gone)
	clk.Advance(deleteDur / 2)
	history := sim.History(web)

	sim2, c2 := restart(t, sim, opts)
	// Everything is back: instances, states, passwords, servers, tokens.
	for _, want := range []wireInstance{beforeDB} {
		if got := c2.get(want.ID); jsonBody(got) != jsonBody(want) {
			t.Errorf("after the restart:\n%+v\nwant\n%+v", got, want)
		}
	}
	if in := c2.get(web); in.Name != "web" || in.Metadata["env"] != "prod" || in.NetworkInterfaces[0].IPv4Address != "192.168.0.10" ||
		in.State != "shutting-down" || in.CreatedAt != beforeWeb.CreatedAt {
		t.Errorf("web after the restart: %+v", in)
	}
	if pw, _ := sim2.Password(db); pw != testPassword {
		t.Errorf("password = %q after the restart", pw)
	}
	if got := sim2.History(web); !slices.Equal(stateHistory(got), stateHistory(history)) || !got[2].At.Equal(history[2].At) {
		t.Errorf("history = %v, want %v", got, history)
	}
	if s := c2.server(serverOf(sim2, db)); s.PowerState != "off" || s.ManageState != "in-use" {
		t.Errorf("server of db = %+v", s)
	}
	(&apiClient{t: t, base: sim2.URL, project: DefaultProjectID, token: "ci-token"}).list("")
	// The in-flight deletions complete at their due time.
	clk.Advance(deleteDur/2 - time.Nanosecond)
	c2.wantState(web, "shutting-down", "uninstall-processing")
	clk.Advance(time.Nanosecond)
	c2.wantState(web, "terminated", "uninstall-succeed")
	if tl, _ := sim2.Timeline(gone); !slices.Contains(stateHistory(tl.History), "terminated/uninstall-succeed") {
		t.Errorf("gone: %v", stateHistory(tl.History))
	}
	if at, _ := must(sim2.Timeline(web)).EnteredAt("terminated"); !at.Equal(deleteAt.Add(deleteDur)) {
		t.Errorf("terminated at %v, want %v", at, deleteAt.Add(deleteDur))
	}
	// Markers, addresses and servers carry on where they were.
	l := c2.list("marker=" + db)
	if !slices.Equal(l.ids(), []string{gone}) {
		t.Errorf("page after db: %v, want [%s]", l.ids(), gone)
	}
	wantError(t, c2.do(http.MethodPost, "/instances", bodyWith(func(b map[string]any) {
		b["placement"] = map[string]any{"server_id": serverOf(sim2, db)}
	})), http.StatusBadRequest, "iMetal.0101")
	next := c2.create(bodyWith(nil))
	if all := sim2.Instances(); all[len(all)-1].ID != next {
		t.Errorf("the new instance is not last in creation order")
	}
}

// TestPersist_dueWhileStopped: transitions that fell due while the
// simulator was down are applied at load, in order, at their due times.
func TestPersist_dueWhileStopped(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	opts := Options{StateFile: filepath.Join(t.TempDir(), "state.json"), Now: clk.Now,
		CreateDuration: createDur, DeleteDuration: deleteDur, Retention: time.Minute}
	sim, c := startSim(t, opts)
	id := c.create(bodyWith(nil))
	purged := c.create(bodyWith(nil))
	c.delete(purged)
	if err := sim.Close(); err != nil {
		t.Fatal(err)
	}
	clk.Advance(24 * time.Hour) // the simulator was off over night
	sim2, c2 := restart(t, sim, opts)
	in := c2.get(id)
	if in.State != "running" || in.LaunchedAt != rfc3339(t0.Add(createDur)) {
		t.Errorf("after the night: %s launched %s, want running at %s", in.State, in.LaunchedAt, rfc3339(t0.Add(createDur)))
	}
	wantError(t, c2.do(http.MethodGet, "/instances/"+purged+"/status", ""), http.StatusNotFound, "iMetal.0200")
	tl, _ := sim2.Timeline(purged)
	if !tl.Purged || !tl.PurgedAt.Equal(t0.Add(deleteDur+time.Minute)) {
		t.Errorf("purged timeline = %+v, want purged at %v", tl, t0.Add(deleteDur+time.Minute))
	}
}

// TestPersist_timersResume: with a real clock, a transition in flight at
// the restart happens on time with nobody polling.
func TestPersist_timersResume(t *testing.T) {
	t.Parallel()
	opts := Options{StateFile: filepath.Join(t.TempDir(), "state.json"), CreateDuration: 300 * time.Millisecond}
	sim, c := startSim(t, opts)
	id := c.create(bodyWith(nil))
	events := make(chan string, 10)
	opts.Logger = slog.New(eventHandler{ch: events})
	restart(t, sim, opts)
	deadline := time.After(10 * time.Second)
	for {
		select {
		case ev := <-events:
			if ev == id+" running" {
				return
			}
		case <-deadline:
			t.Fatalf("the creation did not end after the restart")
		}
	}
}

func TestPersist_damagedFile(t *testing.T) {
	t.Parallel()
	// A sound file to damage.
	dir := t.TempDir()
	good := filepath.Join(dir, "good.json")
	sim, c := startSim(t, Options{StateFile: good})
	id := c.create(bodyWith(nil))
	if err := sim.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	edit := func(f func(m map[string]any)) string {
		var m map[string]any
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatal(err)
		}
		f(m)
		return jsonBody(m)
	}
	// obj and arr read a decoded JSON value as an object or an array; a
	// state file of another shape fails the test rather than panicking.
	obj := func(v any) map[string]any {
		t.Helper()
		m, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("state file: %T where an object was expected", v)
		}
		return m
	}
	arr := func(v any) []any {
		t.Helper()
		a, ok := v.([]any)
		if !ok || len(a) == 0 {
			t.Fatalf("state file: %T where a non-empty array was expected", v)
		}
		return a
	}
	instances := func(m map[string]any) map[string]any { return obj(arr(m["instances"])[0]) }
	tests := []struct {
		name, content, want string
	}{
		{"empty", "", "empty"},
		{"not JSON", "state: ok", "not valid JSON"},
		{"truncated", string(data[:len(data)/2]), "not valid JSON"},
		{"two states", string(data) + string(data), "more data"},
		{"unknown field", edit(func(m map[string]any) { m["extra"] = 1 }), "extra"},
		{"newer version", edit(func(m map[string]any) { m["version"] = 2 }), "version is 2"},
		{"no version", edit(func(m map[string]any) { delete(m, "version") }), "version is 0"},
		{"instance ID", edit(func(m map[string]any) { obj(instances(m)["instance"])["id"] = "web-1" }), `"web-1"`},
		{"instance twice", edit(func(m map[string]any) { m["instances"] = append(arr(m["instances"]), arr(m["instances"])[0]) }), "appears twice"},
		{"server gone", edit(func(m map[string]any) { m["servers"] = arr(m["servers"])[1:] }), "does not host it"},
		{"unknown transition", edit(func(m map[string]any) {
			instances(m)["next"] = map[string]any{"kind": "explode", "at": "2026-01-01T00:00:00Z"}
		}), "explode"},
		{"bad address", edit(func(m map[string]any) { m["used_ips"] = map[string]any{"999.1.1.1": id} }), "999.1.1.1"},
		{"power state", edit(func(m map[string]any) { obj(arr(m["servers"])[0])["power_state"] = "melting" }), "melting"},
		{"sequence", edit(func(m map[string]any) { m["next_seq"] = 0 }), "next_seq"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "state.json")
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			sim, err := New(Options{StateFile: path})
			if err == nil {
				_ = sim.Close()
				t.Fatalf("New started on a damaged file")
			}
			for _, w := range []string{path, "damaged", tt.want} {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			// The damaged file is left for the user to look at.
			if got, _ := os.ReadFile(path); string(got) != tt.content {
				t.Errorf("the damaged file was changed")
			}
		})
	}
	t.Run("the sound file loads", func(t *testing.T) {
		sim, err := New(Options{StateFile: good})
		if err != nil {
			t.Fatal(err)
		}
		defer func() {
			if err := sim.Close(); err != nil {
				t.Error(err)
			}
		}()
		if _, ok := sim.Instance(id); !ok {
			t.Errorf("instance %s not loaded", id)
		}
	})
	t.Run("missing folder", func(t *testing.T) {
		_, err := New(Options{StateFile: filepath.Join(dir, "no", "such", "state.json")})
		if err == nil || !strings.Contains(err.Error(), "folder") {
			t.Errorf("New with a missing folder: %v", err)
		}
	})
}

// TestPersist_atomicAndDebounced: changes reach the file without Close,
// gathered, and through renamed temporary files that never stay behind.
func TestPersist_atomicAndDebounced(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	sim, c := startSim(t, Options{StateFile: path, Retention: time.Hour, Servers: 30})
	read := func() stateFile {
		t.Helper()
		var f stateFile
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &f); err != nil {
			t.Fatalf("the state file is not valid at any moment: %v", err)
		}
		return f
	}
	if f := read(); f.Version != 1 || len(f.Servers) != 30 || len(f.Instances) != 0 {
		t.Fatalf("a new simulator wrote version %d with %d servers, %d instances", f.Version, len(f.Servers), len(f.Instances))
	}
	ids := c.runN(30)
	deadline := time.Now().Add(5 * time.Second)
	for len(read().Instances) != 30 {
		if time.Now().After(deadline) {
			t.Fatalf("the changes did not reach the file without Close")
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, id := range ids[:10] {
		c.delete(id)
	}
	if err := sim.Close(); err != nil {
		t.Fatal(err)
	}
	f := read()
	terminated := 0
	for _, r := range f.Instances {
		if r.Instance.State == "terminated" {
			terminated++
		}
	}
	if terminated != 10 {
		t.Errorf("%d terminated instances in the file after Close, want 10", terminated)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "state.json" {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("files left in the folder: %v, want only state.json", names)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("state file mode %v, want 0600 (it holds passwords)", st.Mode().Perm())
	}
	// A closed simulator writes no more: the file is another's now.
	before, _ := os.ReadFile(path)
	c.create(bodyWith(nil))
	time.Sleep(3 * saveDelay)
	if after, _ := os.ReadFile(path); string(after) != string(before) {
		t.Errorf("a closed simulator changed the state file")
	}
}
