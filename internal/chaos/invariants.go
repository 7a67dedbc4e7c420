package chaos

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/clouddc-tf/terraform-provider-clouddc/internal/clouddc"
	"github.com/clouddc-tf/terraform-provider-clouddc/internal/simulator"
)

// The invariants, checked after every step by checkInvariants, which reads
// nothing but an observation: the tests hand it histories that break each
// one and see it fail (invariants_test.go).
//
//  1. Every resource address holds at most one live instance, no two
//     addresses share one, and after an apply that succeeded each address
//     of the configuration holds exactly one (after a destroy that
//     succeeded, none).
//  2. Nothing made is forgotten: after a command that succeeded, every
//     live instance that carries a create token is in the state; after one
//     that failed, each is in the state or named (by ID or token) in the
//     command's diagnostics. An instance that landed after the command
//     started (a late create, a replay) is given one more command to be
//     found. Not forgotten either, before the final destroy: an instance
//     whose token a state object keeps in private state (the provider's
//     record of a create it has not seen through, which its next refresh
//     or destroy settles), one the user took out of the state, and a
//     duplicate whose deletion the provider announced while it is
//     shutting-down (also after the final destroy: its deletion is under
//     way). After the final destroy, once every late request has landed,
//     no other may be left.
//  3. A destroy (or a replacement's delete) that succeeded means the
//     instance was terminated, or gone, when it returned.
//  4. Instances made by hand are never adopted, deleted, reinstalled,
//     re-passworded, moved or powered.
//  5. No token, key, password or password_wo value reaches a log, a
//     diagnostic, the state or the plan (password attributes excepted, which
//     the state holds by design), and nothing reaches another host (the
//     redirect sink).
//
// Invariant 0 is liveness: a command that hangs, or a destroy that fails on
// a well-behaved API.

// invariantNames names the invariants in reports.
var invariantNames = map[int]string{
	0: "liveness",
	1: "one instance per address",
	2: "nothing made is forgotten",
	3: "a destroy that succeeded left nothing running",
	4: "instances made by hand are left alone",
	5: "secrets stay secret",
}

// Violation is one broken invariant.
type Violation struct {
	Invariant int
	// Class is a short label of what broke, the same for every seed that
	// breaks the invariant the same way (for grouping findings).
	Class      string
	Step       int
	Op         string
	Address    string
	InstanceID string
	Message    string
}

func (v Violation) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "invariant %d (%s) broken at step %d (%s) [%s]", v.Invariant, invariantNames[v.Invariant], v.Step, v.Op, v.Class)
	if v.Address != "" {
		fmt.Fprintf(&b, ", %s", v.Address)
	}
	if v.InstanceID != "" {
		fmt.Fprintf(&b, ", instance %s", v.InstanceID)
	}
	return b.String() + ": " + v.Message
}

// SimInstance is the simulator's view of one instance, in any project.
type SimInstance struct {
	ID, Project, Name string
	State             string // current name; "gone" once purged
	Token             string // the create token in its metadata, "" when made by hand
	Landed            time.Time
}

// HandView is what became of an instance made by hand.
type HandView struct {
	ID, Name                 string
	History                  []simulator.StateChange
	PasswordWas, PasswordNow string
	// ServerPower is its server's power; it counts once the instance runs
	// (an install powers the server on, whatever it was before).
	ServerPower string
	Running     bool
}

// observation is everything the invariants look at after one step.
type observation struct {
	Step    int
	Op      string
	Command bool // a command ran in this step
	Kind    commandKind
	OK      bool
	Diags   []Diagnostic
	Deletes []DeleteReturn
	Planned []string // planned values, as JSON
	// Config is the configuration's addresses (none after a successful
	// destroy).
	Config       []string
	CommandStart time.Time
	// Final marks the check after the final destroy.
	Final          bool
	StateDestroyed bool

	State     map[string]StateObject
	Instances []SimInstance
	HandMade  []HandView
	Secrets   []secret
	LogLeaks  map[string]string // secret kind -> log line (redacted)
	Sink      []string          // requests the redirect sink received
	// Deferred are the instances invariant 2 gave one more command.
	Deferred map[string]bool
	// project is the project the provider pointed at (for the class of a
	// finding: an orphan in another project than that).
	project string
	// Named are instance IDs the command line itself names (terraform
	// import's ID): the user knows them whatever the diagnostics say.
	Named []string
	// Released are instances the user took out of the state (state rm)
	// and could not import again: the user holds their IDs, and the
	// provider cannot know of them until they are imported.
	Released map[string]bool
	// Deleting are instances whose deletion the provider started and named
	// in an earlier command's diagnostics (a duplicate it found): while
	// they are shutting-down, nothing is forgotten.
	Deleting map[string]bool
}

// checkInvariants returns the violations of one observation, and the
// instances invariant 2 defers to the next command.
func checkInvariants(o *observation) ([]Violation, map[string]bool) {
	var vs []Violation
	vs = append(vs, checkOnePerAddress(o)...)
	forgotten, deferred := checkForgotten(o)
	vs = append(vs, forgotten...)
	vs = append(vs, checkDestroyed(o)...)
	vs = append(vs, checkHandMade(o)...)
	vs = append(vs, checkSecrets(o)...)
	for i := range vs {
		vs[i].Step, vs[i].Op = o.Step, o.Op
	}
	return vs, deferred
}

func (o *observation) instance(id string) (SimInstance, bool) {
	for _, in := range o.Instances {
		if in.ID == id {
			return in, true
		}
	}
	return SimInstance{}, false
}

// live: the instance exists and is not terminated.
func live(in SimInstance) bool { return in.State != "terminated" && in.State != "gone" }

func checkOnePerAddress(o *observation) []Violation {
	var vs []Violation
	byID := map[string][]string{}
	for _, addr := range sortedKeys(o.State) {
		if id := o.State[addr].ID; id != "" {
			if in, ok := o.instance(id); ok && live(in) {
				byID[id] = append(byID[id], addr)
			}
		}
	}
	for _, id := range sortedKeys(byID) {
		if addrs := byID[id]; len(addrs) > 1 {
			vs = append(vs, Violation{Invariant: 1, Class: "shared-instance", Address: strings.Join(addrs, ", "), InstanceID: id,
				Message: "two addresses hold the same instance: destroying one would delete the other's"})
		}
	}
	if !o.Command || !o.OK {
		return vs
	}
	switch o.Kind {
	case cmdApply:
		for _, addr := range o.Config {
			obj, ok := o.State[addr]
			if !ok {
				vs = append(vs, Violation{Invariant: 1, Class: "apply-ok-address-empty", Address: addr, Message: "the apply succeeded, but the state holds nothing at this address"})
				continue
			}
			in, ok := o.instance(obj.ID)
			switch {
			case !ok:
				vs = append(vs, Violation{Invariant: 1, Class: "apply-ok-id-unknown", Address: addr, InstanceID: obj.ID,
					Message: fmt.Sprintf("the apply succeeded, but the state's id %q is no instance the API knows", obj.ID)})
			case !live(in) || in.State == "shutting-down":
				vs = append(vs, Violation{Invariant: 1, Class: "apply-ok-instance-" + in.State, Address: addr, InstanceID: obj.ID,
					Message: "the apply succeeded, but the state's instance is " + in.State})
			}
		}
	case cmdDestroy:
		for _, addr := range sortedKeys(o.State) {
			vs = append(vs, Violation{Invariant: 1, Class: "destroy-ok-state-kept", Address: addr, InstanceID: o.State[addr].ID,
				Message: "the destroy succeeded, but the state still holds this address"})
		}
	}
	return vs
}

// named reports whether the diagnostics name an instance, by ID or token.
func named(ds []Diagnostic, in SimInstance) bool {
	for _, d := range ds {
		text := d.Summary + "\n" + d.Detail
		if strings.Contains(text, in.ID) || (in.Token != "" && strings.Contains(text, in.Token)) {
			return true
		}
	}
	return false
}

// remembered reports whether an object of the state keeps token in its
// private state, where the provider records the creates it has not seen
// through (the framework stores each key's value base64-encoded in a JSON
// object).
func remembered(state map[string]StateObject, token string) bool {
	if token == "" {
		return false
	}
	for _, obj := range state {
		var keys map[string][]byte
		if len(obj.Private) == 0 || json.Unmarshal(obj.Private, &keys) != nil {
			continue
		}
		for _, v := range keys {
			if strings.Contains(string(v), token) {
				return true
			}
		}
	}
	return false
}

func checkForgotten(o *observation) ([]Violation, map[string]bool) {
	if !o.Final && (!o.Command || o.Kind == cmdPlan) {
		// Nothing could have been written: the verdicts wait.
		return nil, o.Deferred
	}
	inState := map[string]bool{}
	for _, obj := range o.State {
		if obj.ID != "" {
			inState[obj.ID] = true
		}
	}
	var vs []Violation
	deferred := map[string]bool{}
	for _, in := range o.Instances {
		if in.Token == "" || !live(in) || inState[in.ID] || o.Released[in.ID] {
			continue
		}
		if in.State == "shutting-down" && (named(o.Diags, in) || o.Deleting[in.ID]) {
			continue // a deletion the provider started and told the user about
		}
		if !o.Final && remembered(o.State, in.Token) {
			// The state keeps the create's token (a create not seen
			// through, or one whose duplicates are not yet gone): the
			// next refresh or destroy finds this instance by it. The
			// final destroy's check holds it to that.
			continue
		}
		if o.Final {
			vs = append(vs, Violation{Invariant: 2, Class: "orphan-after-final-destroy", InstanceID: in.ID, Message: fmt.Sprintf("instance %q (project %s, create token %s) is %s "+
				"after the final destroy, with every late request landed: nothing manages it", in.Name, in.Project, in.Token, in.State)})
			continue
		}
		if o.Command && !o.OK && (named(o.Diags, in) || slices.Contains(o.Named, in.ID)) {
			continue
		}
		if !in.Landed.Before(o.CommandStart) && !o.Deferred[in.ID] {
			deferred[in.ID] = true
			continue
		}
		verdict, class := "succeeded", "orphan-after-"+o.Kind.short()+"-ok"
		if !o.OK {
			verdict, class = "failed without naming it", "orphan-after-"+o.Kind.short()+"-failed-unnamed"
		}
		if in.Project != o.project {
			class += "-other-project"
		}
		vs = append(vs, Violation{Invariant: 2, Class: class, InstanceID: in.ID, Message: fmt.Sprintf("instance %q (project %s, create token %s) is %s "+
			"and carries a create token, but the %s %s and the state does not hold it: it is orphaned", in.Name, in.Project, in.Token,
			in.State, o.Kind, verdict)})
	}
	return vs, deferred
}

func checkDestroyed(o *observation) []Violation {
	var vs []Violation
	for _, d := range o.Deletes {
		if d.OK && d.ID != "" && d.SimState != "terminated" && d.SimState != "gone" {
			vs = append(vs, Violation{Invariant: 3, Class: "delete-ok-while-" + d.SimState, Address: d.Address, InstanceID: d.ID,
				Message: "the delete returned success while the instance was " + d.SimState})
		}
	}
	return vs
}

func checkHandMade(o *observation) []Violation {
	var vs []Violation
	inState := map[string]string{}
	for addr, obj := range o.State {
		inState[obj.ID] = addr
	}
	for _, h := range o.HandMade {
		if addr, ok := inState[h.ID]; ok {
			vs = append(vs, Violation{Invariant: 4, Class: "hand-made-adopted", Address: addr, InstanceID: h.ID,
				Message: fmt.Sprintf("instance %q was made by hand (no create token), and the state holds it: adopted", h.Name)})
		}
		for _, c := range h.History {
			if (c.State == "pending" && c.OperationState == "install-processing") || (c.State == "running" && c.OperationState == "install-succeed") {
				continue
			}
			vs = append(vs, Violation{Invariant: 4, Class: "hand-made-" + c.OperationState, InstanceID: h.ID,
				Message: fmt.Sprintf("instance %q was made by hand, and went %s/%s at %s", h.Name, c.State, c.OperationState, c.At.Format(time.RFC3339Nano))})
			break
		}
		if h.PasswordNow != h.PasswordWas {
			vs = append(vs, Violation{Invariant: 4, Class: "hand-made-password", InstanceID: h.ID, Message: fmt.Sprintf("instance %q was made by hand, and its password was changed", h.Name)})
		}
		if h.Running && h.ServerPower != simulator.PowerOn {
			vs = append(vs, Violation{Invariant: 4, Class: "hand-made-power", InstanceID: h.ID,
				Message: fmt.Sprintf("instance %q was made by hand, and its server's power is %s", h.Name, h.ServerPower)})
		}
	}
	return vs
}

func checkSecrets(o *observation) []Violation {
	var vs []Violation
	for _, kind := range sortedKeys(o.LogLeaks) {
		vs = append(vs, Violation{Invariant: 5, Class: "secret-in-log", Message: fmt.Sprintf("%s reached the provider's log: %s", kind, o.LogLeaks[kind])})
	}
	for _, s := range o.Secrets {
		for _, d := range o.Diags {
			if strings.Contains(d.Summary+d.Detail, s.value) {
				vs = append(vs, Violation{Invariant: 5, Class: "secret-in-diagnostic", Address: d.Address, Message: fmt.Sprintf("%s reached a diagnostic: %q", s.kind, d.Summary)})
			}
		}
		if s.stateOK {
			continue
		}
		for _, addr := range sortedKeys(o.State) {
			if strings.Contains(o.State[addr].JSON, s.value) || strings.Contains(string(o.State[addr].Private), s.value) {
				vs = append(vs, Violation{Invariant: 5, Class: "secret-in-state", Address: addr, Message: s.kind + " reached the state"})
			}
		}
		for _, p := range o.Planned {
			if strings.Contains(p, s.value) {
				vs = append(vs, Violation{Invariant: 5, Class: "secret-in-plan", Message: s.kind + " reached a plan"})
				break
			}
		}
	}
	for _, r := range o.Sink {
		vs = append(vs, Violation{Invariant: 5, Class: "request-to-another-host", Message: "a request reached another host (the redirect sink): " + r})
	}
	return vs
}

// releaseRemembered releases to the user the other holders of every
// create token that obj, about to be removed from the state, keeps in its
// private state: its own instance's token (whose duplicates may still
// land), and any other that instances carry now.
func (w *world) releaseRemembered(obj StateObject) {
	one := map[string]StateObject{obj.Address: obj}
	for _, tl := range w.sim.Timelines() {
		cur, ok := w.sim.Instance(tl.ID)
		if !ok {
			continue
		}
		if tok := cur.Metadata[clouddc.CreateTokenKey]; remembered(one, tok) {
			w.releasedTokens[tok] = true
		}
	}
}

func inState(state map[string]StateObject, id string) bool {
	for _, obj := range state {
		if obj.ID == id {
			return true
		}
	}
	return false
}

// check observes the world after a step and records what broke.
func (w *world) check(o *observation) {
	o.State = w.drv.snapshot()
	o.Deferred = w.deferred
	if o.Kind == cmdImport && o.Command && !o.OK {
		for _, id := range o.Named {
			w.released[id] = true
		}
	}
	for _, obj := range o.State {
		delete(w.released, obj.ID) // imported again after all
	}
	o.Released = w.released
	o.Deleting = w.deleting
	o.Secrets = w.secrets()
	o.LogLeaks = w.logs.take()
	for _, tl := range w.sim.Timelines() {
		in := SimInstance{ID: tl.ID, Project: tl.ProjectID, Name: tl.Name, State: tl.State}
		if tl.Purged {
			in.State = "gone"
		}
		if len(tl.History) > 0 {
			in.Landed = tl.History[0].At
		}
		if cur, ok := w.sim.Instance(tl.ID); ok {
			in.Token = cur.Metadata[clouddc.CreateTokenKey]
		} else if tok, ok := w.tokens[tl.ID]; ok {
			in.Token = tok
		}
		if in.Token != "" {
			w.tokens[tl.ID] = in.Token
		}
		if w.releasedTokens[in.Token] && !inState(o.State, in.ID) {
			w.released[in.ID] = true
		}
		o.Instances = append(o.Instances, in)
	}
	servers := map[string]string{}
	for _, s := range w.sim.Servers() {
		servers[s.ID] = s.PowerState
	}
	for _, id := range sortedKeys(w.handMade) {
		h := w.handMade[id]
		v := HandView{ID: id, Name: h.Name, PasswordWas: h.Password, ServerPower: servers[h.ServerID]}
		if tl, ok := w.sim.Timeline(id); ok {
			v.History = tl.History
			v.Running = tl.State == "running"
		}
		var exists bool
		if v.PasswordNow, exists = w.sim.Password(id); !exists {
			v.PasswordNow = h.Password // gone: its history says how
		}
		o.HandMade = append(o.HandMade, v)
	}
	if !w.usedSink {
		// No redirect was injected: nothing could have reached the sink.
	} else if k, err := w.sim.RedirectSink(); err == nil {
		for _, r := range k.Requests()[w.sinkSeen:] {
			o.Sink = append(o.Sink, r.Method+" "+r.URI)
		}
		w.sinkSeen = len(k.Requests())
	}
	vs, deferred := checkInvariants(o)
	w.deferred = deferred
	for _, in := range o.Instances {
		if in.State == "shutting-down" && named(o.Diags, in) {
			w.deleting[in.ID] = true
		}
	}
	for _, v := range vs {
		w.violate(v)
	}
	if len(vs) > 0 {
		sort.Slice(w.res.Violations, func(i, j int) bool { return w.res.Violations[i].Step < w.res.Violations[j].Step })
	}
}
