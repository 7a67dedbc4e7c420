package chaos

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/clouddc-tf/terraform-provider-clouddc/internal/simulator"
)

// Each invariant gets a history that breaks it, and must say so: the
// checker cannot pass vacuously. The clean history passes every one, so
// that a checker that fails everything does not pass these tests either.

const (
	idA   = "aaaaaaaa-0000-4000-8000-000000000001"
	idB   = "aaaaaaaa-0000-4000-8000-000000000002"
	idH   = "aaaaaaaa-0000-4000-8000-0000000000ff"
	tokA  = "11111111111111111111111111111111"
	tokB  = "22222222222222222222222222222222"
	addr0 = "clouddc_instance.b1[0]"
	addr1 = "clouddc_instance.b1[1]"
)

var t0 = time.Date(2026, 3, 14, 15, 0, 0, 0, time.UTC)

// clean is a successful apply of two instances, each in the state, with
// an instance made by hand left alone.
func clean() *observation {
	return &observation{
		Step: 3, Op: "apply", Command: true, Kind: cmdApply, OK: true,
		Config:       []string{addr0, addr1},
		CommandStart: t0,
		State: map[string]StateObject{
			addr0: {Address: addr0, ID: idA, JSON: `{"id":"` + idA + `","password":"Pw-Allowed.1"}`},
			addr1: {Address: addr1, ID: idB, JSON: `{"id":"` + idB + `"}`},
		},
		Instances: []SimInstance{
			{ID: idA, Project: "p", Name: "web", State: "running", Token: tokA, Landed: t0.Add(-time.Hour)},
			{ID: idB, Project: "p", Name: "web", State: "running", Token: tokB, Landed: t0.Add(-time.Hour)},
			{ID: idH, Project: "p", Name: "web", State: "running", Landed: t0.Add(-time.Hour)},
		},
		HandMade: []HandView{{ID: idH, Name: "web", PasswordWas: "Hand-1.pw", PasswordNow: "Hand-1.pw", ServerPower: simulator.PowerOn, Running: true,
			History: []simulator.StateChange{{State: "pending", OperationState: "install-processing"}, {State: "running", OperationState: "install-succeed"}}}},
		Secrets: []secret{{"the token", "tok-secret-value", false}, {"a password", "Pw-Allowed.1", true}, {"a password_wo value", "Wo-Secret.2", false}},
		project: "p",
	}
}

// wantOnly checks that the violations are of one invariant and that one
// of them says want.
func wantOnly(t *testing.T, o *observation, inv int, want string) {
	t.Helper()
	vs, _ := checkInvariants(o)
	if len(vs) == 0 {
		t.Fatalf("no violation; want invariant %d (%s)", inv, want)
	}
	found := false
	for _, v := range vs {
		if v.Invariant != inv {
			t.Errorf("unexpected violation %s", v)
		}
		if strings.Contains(v.String(), want) {
			found = true
		}
		if v.Step != o.Step || v.Op != o.Op {
			t.Errorf("violation %s does not name step %d (%s)", v, o.Step, o.Op)
		}
	}
	if !found {
		t.Errorf("violations %v; none says %q", vs, want)
	}
}

func TestInvariants_cleanHistoryPasses(t *testing.T) {
	if vs, _ := checkInvariants(clean()); len(vs) != 0 {
		t.Fatalf("a clean history broke %v", vs)
	}
}

func TestInvariant1_sharedInstance(t *testing.T) {
	o := clean()
	o.State[addr1] = StateObject{Address: addr1, ID: idA}
	o.OK = false // a failed command: only "no two addresses share one" applies
	o.Instances[1].State = "terminated"
	wantOnly(t, o, 1, "two addresses hold the same instance")
}

func TestInvariant1_applySucceededWithoutInstance(t *testing.T) {
	for name, change := range map[string]func(o *observation){
		"address empty":  func(o *observation) { delete(o.State, addr1) },
		"provisional":    func(o *observation) { o.State[addr1] = StateObject{Address: addr1, ID: ""} },
		"terminated":     func(o *observation) { o.Instances[1].State = "terminated" },
		"shutting-down":  func(o *observation) { o.Instances[1].State = "shutting-down" },
		"unknown ID":     func(o *observation) { o.State[addr1] = StateObject{Address: addr1, ID: "not-a-uuid"} },
		"destroy leaves": func(o *observation) { o.Kind, o.Config = cmdDestroy, nil },
	} {
		t.Run(name, func(t *testing.T) {
			o := clean()
			change(o)
			// A token instance the state no longer holds is also
			// invariant 2's; keep this test to invariant 1.
			if name == "address empty" || name == "provisional" || name == "unknown ID" {
				o.Instances[1].State = "terminated"
			}
			wantOnly(t, o, 1, "clouddc_instance.b1")
		})
	}
}

func TestInvariant2_orphanAfterSuccess(t *testing.T) {
	o := clean()
	delete(o.State, addr1)
	o.Config = []string{addr0}
	wantOnly(t, o, 2, "instance "+idB)
}

func TestInvariant2_orphanAfterFailureUnlessNamed(t *testing.T) {
	o := clean()
	delete(o.State, addr1)
	o.OK = false
	o.Diags = []Diagnostic{{Error: true, Summary: "Unable to Create Instance", Detail: "something else"}}
	wantOnly(t, o, 2, "failed without naming it")

	for _, name := range []string{idB, tokB} {
		o := clean()
		delete(o.State, addr1)
		o.OK = false
		o.Diags = []Diagnostic{{Error: true, Summary: "Unable to Create Instance", Detail: "it may exist: " + name}}
		if vs, _ := checkInvariants(o); len(vs) != 0 {
			t.Errorf("a failed command that names %s broke %v", name, vs)
		}
	}
}

// TestInvariant2_failedImportNamesItsID: the user typed the ID of a failed
// import; it stays named whatever the diagnostics say.
func TestInvariant2_failedImportNamesItsID(t *testing.T) {
	o := clean()
	delete(o.State, addr1)
	o.Kind, o.OK, o.Named = cmdImport, false, []string{idB}
	o.Diags = []Diagnostic{{Error: true, Summary: "Unable to Read Instance"}}
	if vs, _ := checkInvariants(o); len(vs) != 0 {
		t.Errorf("a failed import of %s broke %v", idB, vs)
	}
	o.Named = nil
	wantOnly(t, o, 2, "failed without naming it")
}

func TestInvariant2_lateLandingGetsOneMoreCommand(t *testing.T) {
	o := clean()
	delete(o.State, addr1)
	o.Config = []string{addr0}
	o.Instances[1].Landed = t0.Add(time.Second) // landed during the command
	vs, deferred := checkInvariants(o)
	if len(vs) != 0 || !deferred[idB] {
		t.Fatalf("a late landing: %v, deferred %v; want no verdict yet, deferred", vs, deferred)
	}
	// The next command does not hold it either.
	o.Deferred = deferred
	o.CommandStart = t0.Add(time.Minute)
	wantOnly(t, o, 2, "orphaned")
}

func TestInvariant2_finalCheck(t *testing.T) {
	o := clean()
	o.Command, o.Final, o.State, o.Config = false, true, map[string]StateObject{}, nil
	o.Instances[0].State = "terminated"
	wantOnly(t, o, 2, "after the final destroy")
}

func TestInvariant3_destroyReturnedEarly(t *testing.T) {
	o := clean()
	o.Deletes = []DeleteReturn{{Address: addr1, ID: idB, OK: true, SimState: "shutting-down"}}
	wantOnly(t, o, 3, "while the instance was shutting-down")
	o.Deletes = []DeleteReturn{{Address: addr1, ID: idB, OK: true, SimState: "terminated"}, {Address: addr0, ID: idA, OK: false, SimState: "running"}}
	if vs, _ := checkInvariants(o); len(vs) != 0 {
		t.Errorf("a terminated instance and a failed delete broke %v", vs)
	}
}

func TestInvariant4_handMade(t *testing.T) {
	for name, change := range map[string]func(o *observation){
		"adopted": func(o *observation) {
			o.State[addr1] = StateObject{Address: addr1, ID: idH}
			o.Instances[1].State = "terminated"
		},
		"deleted": func(o *observation) {
			o.HandMade[0].History = append(o.HandMade[0].History, simulator.StateChange{State: "shutting-down", OperationState: "uninstall-processing"})
		},
		"reinstalled": func(o *observation) {
			o.HandMade[0].History = append(o.HandMade[0].History, simulator.StateChange{State: "running", OperationState: "reinstall-processing"})
		},
		"re-passworded": func(o *observation) { o.HandMade[0].PasswordNow = "Other-1.pw" },
		"powered":       func(o *observation) { o.HandMade[0].ServerPower = simulator.PowerOff },
	} {
		t.Run(name, func(t *testing.T) {
			o := clean()
			change(o)
			wantOnly(t, o, 4, "made by hand")
		})
	}
}

func TestInvariant5_secrets(t *testing.T) {
	for name, change := range map[string]func(o *observation){
		"log":        func(o *observation) { o.LogLeaks = map[string]string{"the token": "X-Auth-Token: <the token>"} },
		"diagnostic": func(o *observation) { o.Diags = []Diagnostic{{Summary: "Warning", Detail: "sent tok-secret-value"}} },
		"state": func(o *observation) {
			o.State[addr1] = StateObject{Address: addr1, ID: idB, JSON: `{"id":"` + idB + `","password_wo":"Wo-Secret.2"}`}
		},
		"private": func(o *observation) {
			o.State[addr1] = StateObject{Address: addr1, ID: idB, JSON: `{}`, Private: []byte("tok-secret-value")}
		},
		"plan":         func(o *observation) { o.Planned = []string{`{"password_wo":"Wo-Secret.2"}`} },
		"another host": func(o *observation) { o.Sink = []string{"POST /v1/p/instances"} },
	} {
		t.Run(name, func(t *testing.T) {
			o := clean()
			change(o)
			wantOnly(t, o, 5, "")
		})
	}
	// A password attribute is in the state and the plan by design.
	o := clean()
	o.Planned = []string{`{"password":"Pw-Allowed.1"}`}
	if vs, _ := checkInvariants(o); len(vs) != 0 {
		t.Errorf("a password attribute in the state and the plan broke %v", vs)
	}
}

// TestScanWriter finds a secret split across two writes, and keeps no
// secret in what it reports.
func TestScanWriter(t *testing.T) {
	w := newScanWriter([]secret{{"the token", "tok-0123456789", false}})
	_, _ = w.Write([]byte(`{"@message":"sending","header":"tok-01234`))
	_, _ = w.Write([]byte(`56789"}` + "\n"))
	found := w.take()
	line, ok := found["the token"]
	if !ok || strings.Contains(line, "tok-0123456789") || !strings.Contains(line, "<the token>") {
		t.Fatalf("found %v; want the token, redacted", found)
	}
	if len(w.take()) != 0 {
		t.Error("take does not reset")
	}
}

// TestInvariant2_releasedByTheUser: an instance the user took out of the
// state and could not import again is the user's to import: later
// commands are not blamed for it, until it is back in the state.
func TestInvariant2_releasedByTheUser(t *testing.T) {
	start := time.Now()
	o := &observation{Command: true, Kind: cmdApply, OK: true, State: map[string]StateObject{}, CommandStart: start,
		Instances: []SimInstance{{ID: "i-1", Token: "tok", State: "running", Landed: start.Add(-time.Minute)}}}
	if vs, _ := checkForgotten(o); len(vs) != 1 {
		t.Fatalf("an orphan nobody released: %v; want one violation", vs)
	}
	o.Released = map[string]bool{"i-1": true}
	if vs, _ := checkForgotten(o); len(vs) != 0 {
		t.Fatalf("an instance the user released: %v; want none", vs)
	}
}

// TestInvariant2_deletionAnnouncedEarlier: a duplicate whose deletion the
// provider started and named in an earlier command is not forgotten while
// it shuts down; one that ends in error is.
func TestInvariant2_deletionAnnouncedEarlier(t *testing.T) {
	start := time.Now()
	o := &observation{Command: true, Kind: cmdRefresh, OK: true, State: map[string]StateObject{}, CommandStart: start,
		Instances: []SimInstance{{ID: "dup", Token: "tok", State: "shutting-down", Landed: start.Add(-time.Minute)}},
		Deleting:  map[string]bool{"dup": true}}
	if vs, _ := checkForgotten(o); len(vs) != 0 {
		t.Fatalf("a duplicate being deleted: %v; want none", vs)
	}
	o.Instances[0].State = "error"
	if vs, _ := checkForgotten(o); len(vs) != 1 {
		t.Fatalf("a duplicate whose deletion failed: %v; want one violation", vs)
	}
}

// An instance whose create token the state keeps in private state is not
// forgotten before the final destroy: the provider's next refresh or
// destroy finds it by that token. After the final destroy it is an orphan.
func TestCheckForgotten_tokenKeptInPrivateState(t *testing.T) {
	start := time.Now()
	private, err := json.Marshal(map[string][]byte{"unsettled_create": []byte(`{"token":"tok","until":"2026-01-01T00:00:00Z"}`)})
	if err != nil {
		t.Fatal(err)
	}
	o := &observation{Command: true, Kind: cmdApply, OK: true, CommandStart: start,
		State:     map[string]StateObject{"clouddc_instance.web": {ID: "kept", Private: private}},
		Instances: []SimInstance{{ID: "dup", Token: "tok", State: "error", Landed: start.Add(-time.Minute)}}}
	if vs, _ := checkForgotten(o); len(vs) != 0 {
		t.Fatalf("an instance whose token the state keeps: %v; want none", vs)
	}
	o.State["clouddc_instance.web"] = StateObject{ID: "kept"}
	if vs, _ := checkForgotten(o); len(vs) != 1 {
		t.Fatalf("the same instance once the state forgot the token: %v; want one violation", vs)
	}
	o.State["clouddc_instance.web"] = StateObject{ID: "kept", Private: private}
	o.Final = true
	if vs, _ := checkForgotten(o); len(vs) != 1 {
		t.Fatalf("the same instance after the final destroy: %v; want one violation", vs)
	}
}
