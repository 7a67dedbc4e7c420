package chaos

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/hashicorp/terraform-plugin-log/tflogtest"
	"github.com/hashicorp/terraform-plugin-log/tfsdklogtest"
)

// This file emulates Terraform core over the plugin protocol, for one
// working directory: its state, and the calls each command makes to a
// fresh provider server (every command of a real CLI starts a new provider
// process). It follows Terraform 1.14's node_resource_abstract_instance.go
// where the order and meaning of the calls matter to a provider:
//
//   - every command upgrades the stored objects (UpgradeResourceState) and
//     configures the provider (ValidateProviderConfig, ConfigureProvider);
//   - refresh reads every object (ReadResource, ten at a time), with its
//     private state and, on a CLI with identity support, its identity; a
//     null new state removes it; any error fails the command and nothing
//     is written;
//   - plan proposes the configuration over the prior state (proposedNew),
//     calls PlanResourceChange, and turns RequiresReplace into a replace,
//     planned again from a null prior; a tainted object is replaced; a
//     destroy plans a null; any error fails the command and nothing is
//     written;
//   - apply runs the changes, ten at a time, each planned once more first;
//     a create that fails with a non-null state is stored tainted, an
//     update that fails keeps what it returned (or the prior object when it
//     returned nothing), a delete that fails keeps the prior object;
//   - Ctrl-C calls StopProvider and cancels the calls in flight (as the
//     protocol server does), waits for them, stores what they returned, and
//     starts nothing new.

// Diagnostic is one diagnostic of a command, as a CLI would print it.
type Diagnostic struct {
	Error   bool
	Address string
	Summary string
	Detail  string
}

func (d Diagnostic) String() string {
	sev := "Warning"
	if d.Error {
		sev = "Error"
	}
	s := sev + ": " + d.Summary
	if d.Address != "" {
		s += " (" + d.Address + ")"
	}
	if d.Detail != "" {
		s += ": " + d.Detail
	}
	return s
}

// storedObject is a resource instance object as the state file holds it.
type storedObject struct {
	json     []byte
	private  []byte
	identity *tftypes.Value
	tainted  bool
}

// liveObject is a stored object decoded for one command.
type liveObject struct {
	value    tftypes.Value
	private  []byte
	identity *tftypes.Value
	tainted  bool
}

// DeleteReturn is a delete that returned: which object, the instance ID it
// held, and whether it succeeded, with the simulator's view of the
// instance at that moment (invariant 3).
type DeleteReturn struct {
	Address  string
	ID       string
	OK       bool
	SimState string // the instance's state in the simulator when it returned; "gone" when it was not found
}

// commandKind is a CLI command.
type commandKind int

const (
	cmdApply   commandKind = iota // terraform apply
	cmdDestroy                    // terraform destroy
	cmdRefresh                    // terraform apply -refresh-only
	cmdPlan                       // terraform plan (writes nothing)
	cmdImport                     // terraform import ADDRESS ID
)

// short names the command in a finding's class.
func (k commandKind) short() string {
	return [...]string{"apply", "destroy", "refresh", "plan", "import"}[k]
}

func (k commandKind) String() string {
	return [...]string{"apply", "destroy", "apply -refresh-only", "plan", "import"}[k]
}

// driver runs a schedule's commands: cli in process, or the real CLI.
type driver interface {
	run(ctx context.Context, cmd command) *outcome
	snapshot() map[string]StateObject
	stateRm(addr string)
}

// command is one CLI command.
type command struct {
	kind commandKind
	// blocks and creds are the configuration and the provider's
	// credentials; provider and config are them as values, for cli.
	blocks   []Block
	creds    creds
	provider tftypes.Value            // the provider block
	config   map[string]tftypes.Value // the resources of the configuration, by address
	// importAddr and importID are terraform import's arguments.
	importAddr, importID string
	// interruptAfter, when positive, presses Ctrl-C this long after the
	// command started; interrupt, when not nil, presses it when it closes.
	interruptAfter time.Duration
	interrupt      <-chan struct{}
}

// outcome is what a command did.
type outcome struct {
	OK          bool
	Interrupted bool
	Diags       []Diagnostic
	// Planned are the planned values (for the secrets check).
	Planned []tftypes.Value
	// Actions are the planned actions, by address.
	Actions map[string]action
	Deletes []DeleteReturn
}

func (o *outcome) hasError() bool {
	for _, d := range o.Diags {
		if d.Error {
			return true
		}
	}
	return false
}

// cli is the emulated CLI of one working directory.
type cli struct {
	newProvider func() (tfprotov6.ProviderServer, error)
	// identity emulates a CLI that supports resource identity (Terraform
	// 1.12 and later): identities are sent and stored. Without it
	// (Terraform 1.5, OpenTofu) none is.
	identity    bool
	version     string
	parallelism int
	// logs receives the provider's logs at TRACE; sdkLogs adds the
	// framework's.
	logs    io.Writer
	sdkLogs bool
	// simState reports an instance's state in the simulator, for
	// DeleteReturn.
	simState func(id string) string

	typeName     string
	schema       *tfprotov6.Schema
	objType      tftypes.Type
	providerType tftypes.Type
	identityType tftypes.Type

	mu    sync.Mutex
	state map[string]*storedObject
}

// newCLI reads the schemas from a provider server.
func newCLI(newProvider func() (tfprotov6.ProviderServer, error), typeName string) (*cli, error) {
	srv, err := newProvider()
	if err != nil {
		return nil, err
	}
	ctx := context.Background()
	resp, err := srv.GetProviderSchema(ctx, &tfprotov6.GetProviderSchemaRequest{})
	if err != nil {
		return nil, err
	}
	if err := diagsErr(resp.Diagnostics); err != nil {
		return nil, err
	}
	rs := resp.ResourceSchemas[typeName]
	if rs == nil {
		return nil, fmt.Errorf("chaos: the provider has no resource %s", typeName)
	}
	c := &cli{newProvider: newProvider, typeName: typeName, schema: rs, objType: rs.ValueType(),
		providerType: resp.Provider.ValueType(), parallelism: 10, logs: io.Discard, state: map[string]*storedObject{}}
	ids, err := srv.GetResourceIdentitySchemas(ctx, &tfprotov6.GetResourceIdentitySchemasRequest{})
	if err == nil && ids.IdentitySchemas[typeName] != nil {
		c.identityType = ids.IdentitySchemas[typeName].ValueType()
	}
	return c, nil
}

func diagsErr(ds []*tfprotov6.Diagnostic) error {
	var msgs []string
	for _, d := range ds {
		if d.Severity == tfprotov6.DiagnosticSeverityError {
			msgs = append(msgs, d.Summary+": "+d.Detail)
		}
	}
	if len(msgs) == 0 {
		return nil
	}
	return errors.New(strings.Join(msgs, "; "))
}

// run runs one command against a fresh provider server.
func (c *cli) run(ctx context.Context, cmd command) *outcome {
	out := &outcome{Actions: map[string]action{}}
	r := &runner{cli: c, out: out}
	ctx = tflogtest.RootLogger(ctx, c.logs)
	if c.sdkLogs {
		ctx = tfsdklogtest.RootLogger(ctx, c.logs)
	}
	callCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	r.ctx = callCtx

	srv, err := c.newProvider()
	if err != nil {
		r.fail("", "Failed to Start the Provider", err.Error())
		return out
	}
	r.srv = srv
	ctrlC := func() {
		r.stopped.Store(true)
		// The protocol server cancels the calls in flight on
		// StopProvider; this one is called directly, so do it here.
		_, _ = srv.StopProvider(context.WithoutCancel(ctx), &tfprotov6.StopProviderRequest{})
		cancel()
	}
	if cmd.interruptAfter > 0 {
		t := time.AfterFunc(cmd.interruptAfter, ctrlC)
		defer t.Stop()
	}
	if cmd.interrupt != nil {
		done := make(chan struct{})
		defer close(done)
		go func() {
			select {
			case <-cmd.interrupt:
				ctrlC()
			case <-done:
			}
		}()
	}
	if _, err := srv.GetProviderSchema(callCtx, &tfprotov6.GetProviderSchemaRequest{}); err != nil {
		r.fail("", "Failed to Read the Provider Schema", err.Error())
		return out
	}
	objs, ok := r.upgradeAll()
	if ok {
		ok = r.configure(cmd.provider)
	}
	if ok {
		switch cmd.kind {
		case cmdImport:
			r.importOne(objs, cmd)
		case cmdRefresh:
			if refreshed, ok := r.refresh(objs); ok {
				r.persist(refreshed)
			}
		case cmdPlan:
			if refreshed, ok := r.refresh(objs); ok {
				r.plan(refreshed, cmd.config, false)
			}
		case cmdApply, cmdDestroy:
			if refreshed, ok := r.refresh(objs); ok {
				config := cmd.config
				if cmd.kind == cmdDestroy {
					config = nil
				}
				if changes, ok := r.plan(refreshed, config, cmd.kind == cmdDestroy); ok {
					r.persist(refreshed)
					r.apply(refreshed, changes)
				}
			}
		}
	}
	if r.stopped.Load() {
		out.Interrupted = true
		r.fail("", "Execution Halted", "the operation was interrupted (Ctrl-C)")
	}
	out.OK = !out.hasError()
	return out
}

// runner is one command in progress.
type runner struct {
	cli     *cli
	srv     tfprotov6.ProviderServer
	ctx     context.Context
	stopped atomic.Bool

	mu  sync.Mutex
	out *outcome
}

func (r *runner) fail(addr, summary, detail string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.out.Diags = append(r.out.Diags, Diagnostic{Error: true, Address: addr, Summary: summary, Detail: detail})
}

// diags records a provider's diagnostics and reports whether any is an
// error.
func (r *runner) diags(addr string, ds []*tfprotov6.Diagnostic) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	failed := false
	for _, d := range ds {
		e := d.Severity == tfprotov6.DiagnosticSeverityError
		failed = failed || e
		r.out.Diags = append(r.out.Diags, Diagnostic{Error: e, Address: addr, Summary: d.Summary, Detail: d.Detail})
	}
	return failed
}

// rpcErr records an error of the protocol itself.
func (r *runner) rpcErr(addr, call string, err error) bool {
	if err == nil {
		return false
	}
	r.fail(addr, "Plugin Did Not Respond", fmt.Sprintf("The plugin encountered an error while calling %s: %v", call, err))
	return true
}

func (r *runner) upgradeAll() (map[string]*liveObject, bool) {
	c := r.cli
	c.mu.Lock()
	stored := make(map[string]*storedObject, len(c.state))
	for k, v := range c.state {
		stored[k] = v
	}
	c.mu.Unlock()
	objs := map[string]*liveObject{}
	for _, addr := range sortedKeys(stored) {
		so := stored[addr]
		resp, err := r.srv.UpgradeResourceState(r.ctx, &tfprotov6.UpgradeResourceStateRequest{TypeName: c.typeName,
			Version: c.schema.Version, RawState: &tfprotov6.RawState{JSON: so.json}})
		if r.rpcErr(addr, "UpgradeResourceState", err) || r.diags(addr, resp.Diagnostics) {
			return nil, false
		}
		v, err := fromDynamic(c.objType, resp.UpgradedState)
		if err != nil {
			r.fail(addr, "Invalid Upgraded State", err.Error())
			return nil, false
		}
		objs[addr] = &liveObject{value: v, private: so.private, identity: so.identity, tainted: so.tainted}
	}
	return objs, true
}

func (r *runner) configure(provider tftypes.Value) bool {
	c := r.cli
	cfg := dynamic(c.providerType, provider)
	vresp, err := r.srv.ValidateProviderConfig(r.ctx, &tfprotov6.ValidateProviderConfigRequest{Config: cfg})
	if r.rpcErr("", "ValidateProviderConfig", err) || r.diags("", vresp.Diagnostics) {
		return false
	}
	resp, err := r.srv.ConfigureProvider(r.ctx, &tfprotov6.ConfigureProviderRequest{TerraformVersion: c.version, Config: cfg,
		ClientCapabilities: &tfprotov6.ConfigureProviderClientCapabilities{}})
	return !r.rpcErr("", "ConfigureProvider", err) && !r.diags("", resp.Diagnostics)
}

func (r *runner) identityOf(o *liveObject) *tfprotov6.ResourceIdentityData {
	if !r.cli.identity || r.cli.identityType == nil || o == nil || o.identity == nil {
		return nil
	}
	return &tfprotov6.ResourceIdentityData{IdentityData: dynamic(r.cli.identityType, *o.identity)}
}

// keepIdentity decodes an identity the provider returned, on a CLI that
// stores identities.
func (r *runner) keepIdentity(d *tfprotov6.ResourceIdentityData) *tftypes.Value {
	if !r.cli.identity || r.cli.identityType == nil || d == nil || d.IdentityData == nil {
		return nil
	}
	v, err := fromDynamic(r.cli.identityType, d.IdentityData)
	if err != nil || v.IsNull() {
		return nil
	}
	return &v
}

// read is one ReadResource; a nil object means the provider removed it.
func (r *runner) read(addr string, o *liveObject) (*liveObject, bool) {
	c := r.cli
	resp, err := r.srv.ReadResource(r.ctx, &tfprotov6.ReadResourceRequest{TypeName: c.typeName,
		CurrentState: dynamic(c.objType, o.value), Private: o.private,
		ClientCapabilities: &tfprotov6.ReadResourceClientCapabilities{}, CurrentIdentity: r.identityOf(o)})
	if r.rpcErr(addr, "ReadResource", err) || r.diags(addr, resp.Diagnostics) {
		return nil, false
	}
	v, err := fromDynamic(c.objType, resp.NewState)
	if err != nil {
		r.fail(addr, "Invalid Object After Refresh", err.Error())
		return nil, false
	}
	if v.IsNull() {
		return nil, true
	}
	id := r.keepIdentity(resp.NewIdentity)
	if id == nil {
		id = o.identity
	}
	return &liveObject{value: v, private: resp.Private, identity: id, tainted: o.tainted}, true
}

// refresh reads every object; on any error it reports false and the
// command writes nothing.
func (r *runner) refresh(objs map[string]*liveObject) (map[string]*liveObject, bool) {
	out := map[string]*liveObject{}
	var mu sync.Mutex
	ok := r.parallel(sortedKeys(objs), func(addr string) bool {
		n, ok := r.read(addr, objs[addr])
		if ok && n != nil {
			mu.Lock()
			out[addr] = n
			mu.Unlock()
		}
		return ok
	})
	return out, ok && !r.stopped.Load()
}

// parallel runs f on each address, parallelism at a time, starting none
// after Ctrl-C; it reports whether every call that ran succeeded.
func (r *runner) parallel(addrs []string, f func(addr string) bool) bool {
	sem := make(chan struct{}, r.cli.parallelism)
	var wg sync.WaitGroup
	var failed atomic.Bool
	for _, addr := range addrs {
		sem <- struct{}{}
		if r.stopped.Load() {
			<-sem
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if !f(addr) {
				failed.Store(true)
			}
		}()
	}
	wg.Wait()
	return !failed.Load()
}

// change is the plan of one address.
type change struct {
	addr   string
	act    action
	prior  *liveObject // nil for a create
	config tftypes.Value
	// planned, private and identity are what the plan returned: for a
	// replace, those of its create.
	planned  tftypes.Value
	private  []byte
	identity *tfprotov6.ResourceIdentityData
}

// planOne plans one address: config null means delete.
func (r *runner) planOne(addr string, prior *liveObject, config tftypes.Value) (*change, bool) {
	c := r.cli
	null := tftypes.NewValue(c.objType, nil)
	ch := &change{addr: addr, prior: prior, config: config}
	if config.IsNull() {
		if prior == nil {
			return nil, true
		}
		resp, err := r.srv.PlanResourceChange(r.ctx, &tfprotov6.PlanResourceChangeRequest{TypeName: c.typeName,
			PriorState: dynamic(c.objType, prior.value), ProposedNewState: dynamic(c.objType, null), Config: dynamic(c.objType, null),
			PriorPrivate: prior.private, ClientCapabilities: &tfprotov6.PlanResourceChangeClientCapabilities{}, PriorIdentity: r.identityOf(prior)})
		if r.rpcErr(addr, "PlanResourceChange", err) || r.diags(addr, resp.Diagnostics) {
			return nil, false
		}
		ch.act, ch.planned, ch.private = actDelete, null, resp.PlannedPrivate
		return ch, true
	}
	vresp, err := r.srv.ValidateResourceConfig(r.ctx, &tfprotov6.ValidateResourceConfigRequest{TypeName: c.typeName,
		Config: dynamic(c.objType, config), ClientCapabilities: &tfprotov6.ValidateResourceConfigClientCapabilities{WriteOnlyAttributesAllowed: c.identity}})
	if r.rpcErr(addr, "ValidateResourceConfig", err) || r.diags(addr, vresp.Diagnostics) {
		return nil, false
	}
	priorVal, priorPrivate := null, []byte(nil)
	var priorIdentity *tfprotov6.ResourceIdentityData
	if prior != nil && !prior.tainted {
		priorVal, priorPrivate, priorIdentity = prior.value, prior.private, r.identityOf(prior)
	}
	planned, private, identity, reqRep, ok := r.planCall(addr, priorVal, config, priorPrivate, priorIdentity)
	if !ok {
		return nil, false
	}
	ch.act = planAction(priorVal, planned, reqRep)
	if ch.act == actReplace {
		planned, private, identity, _, ok = r.planCall(addr, null, config, private, identity)
		if !ok {
			return nil, false
		}
	}
	if ch.act == actCreate && prior != nil && prior.tainted {
		ch.act = actReplace
	}
	ch.planned, ch.private, ch.identity = planned, private, identity
	return ch, true
}

func (r *runner) planCall(addr string, prior, config tftypes.Value, private []byte, identity *tfprotov6.ResourceIdentityData) (
	tftypes.Value, []byte, *tfprotov6.ResourceIdentityData, []*tftypes.AttributePath, bool) {
	c := r.cli
	resp, err := r.srv.PlanResourceChange(r.ctx, &tfprotov6.PlanResourceChangeRequest{TypeName: c.typeName,
		PriorState: dynamic(c.objType, prior), ProposedNewState: dynamic(c.objType, proposedNew(c.schema.Block, prior, config)),
		Config: dynamic(c.objType, config), PriorPrivate: private, ClientCapabilities: &tfprotov6.PlanResourceChangeClientCapabilities{},
		PriorIdentity: identity})
	if r.rpcErr(addr, "PlanResourceChange", err) || r.diags(addr, resp.Diagnostics) {
		return tftypes.Value{}, nil, nil, nil, false
	}
	planned, err := fromDynamic(c.objType, resp.PlannedState)
	if err != nil {
		r.fail(addr, "Provider Produced Invalid Plan", err.Error())
		return tftypes.Value{}, nil, nil, nil, false
	}
	r.mu.Lock()
	r.out.Planned = append(r.out.Planned, planned)
	r.mu.Unlock()
	if !c.identity {
		resp.PlannedIdentity = nil
	}
	return planned, resp.PlannedPrivate, resp.PlannedIdentity, resp.RequiresReplace, true
}

// plan plans every address of the configuration and of the state; any
// error fails the command.
func (r *runner) plan(objs map[string]*liveObject, config map[string]tftypes.Value, destroy bool) ([]*change, bool) {
	addrs := map[string]bool{}
	for a := range objs {
		addrs[a] = true
	}
	if !destroy {
		for a := range config {
			addrs[a] = true
		}
	}
	var changes []*change
	var mu sync.Mutex
	ok := r.parallel(sortedKeys(addrs), func(addr string) bool {
		cfg, inConfig := config[addr]
		if destroy || !inConfig {
			cfg = tftypes.NewValue(r.cli.objType, nil)
		}
		ch, ok := r.planOne(addr, objs[addr], cfg)
		if ok && ch != nil {
			mu.Lock()
			changes = append(changes, ch)
			r.out.Actions[addr] = ch.act
			mu.Unlock()
		}
		return ok
	})
	sort.Slice(changes, func(i, j int) bool { return changes[i].addr < changes[j].addr })
	return changes, ok && !r.stopped.Load()
}

func (r *runner) persist(objs map[string]*liveObject) {
	c := r.cli
	c.mu.Lock()
	defer c.mu.Unlock()
	c.state = map[string]*storedObject{}
	for addr, o := range objs {
		r.storeLocked(addr, o)
	}
}

// storeLocked writes one object to the state (nil removes it).
func (r *runner) storeLocked(addr string, o *liveObject) {
	c := r.cli
	if o == nil || o.value.IsNull() {
		delete(c.state, addr)
		return
	}
	// An object Terraform stores has no unknown values left.
	b, err := stateJSON(unknownAsNull(o.value))
	if err != nil {
		r.out.Diags = append(r.out.Diags, Diagnostic{Error: true, Address: addr, Summary: "Failed to Store the Object", Detail: err.Error()})
		return
	}
	c.state[addr] = &storedObject{json: b, private: o.private, identity: o.identity, tainted: o.tainted}
}

func (r *runner) store(addr string, o *liveObject) {
	r.cli.mu.Lock()
	defer r.cli.mu.Unlock()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.storeLocked(addr, o)
}

// apply runs the changes, ten at a time; none starts after Ctrl-C.
func (r *runner) apply(objs map[string]*liveObject, changes []*change) {
	var todo []string
	byAddr := map[string]*change{}
	for _, ch := range changes {
		if ch.act != actNoop {
			todo = append(todo, ch.addr)
			byAddr[ch.addr] = ch
		}
	}
	r.parallel(todo, func(addr string) bool {
		ch := byAddr[addr]
		switch ch.act {
		case actDelete:
			return r.applyDelete(ch, ch.prior, ch.private)
		case actReplace:
			// The delete gets the change's private state (the create's
			// plan), as Terraform's Simplify passes it on.
			if !r.applyDelete(ch, ch.prior, ch.private) || r.stopped.Load() {
				return false
			}
			return r.applyCreateOrUpdate(ch, nil)
		default:
			return r.applyCreateOrUpdate(ch, objs[addr])
		}
	})
}

func (r *runner) applyDelete(ch *change, prior *liveObject, private []byte) bool {
	c := r.cli
	null := tftypes.NewValue(c.objType, nil)
	resp, err := r.srv.ApplyResourceChange(r.ctx, &tfprotov6.ApplyResourceChangeRequest{TypeName: c.typeName,
		PriorState: dynamic(c.objType, prior.value), PlannedState: dynamic(c.objType, null), Config: dynamic(c.objType, null),
		PlannedPrivate: private})
	failed := r.rpcErr(ch.addr, "ApplyResourceChange", err)
	if !failed {
		failed = r.diags(ch.addr, resp.Diagnostics)
	}
	id := stringAttr(prior.value, "id")
	ret := DeleteReturn{Address: ch.addr, ID: id, OK: !failed}
	if c.simState != nil {
		ret.SimState = c.simState(id)
	}
	r.mu.Lock()
	r.out.Deletes = append(r.out.Deletes, ret)
	r.mu.Unlock()
	if failed {
		// A delete that fails keeps the object, as it was or as the
		// provider returned it.
		if resp != nil {
			if v, err := fromDynamic(c.objType, resp.NewState); err == nil && !v.IsNull() {
				r.store(ch.addr, &liveObject{value: v, private: resp.Private, identity: prior.identity, tainted: prior.tainted})
			}
		}
		return false
	}
	r.store(ch.addr, nil)
	return true
}

// applyCreateOrUpdate plans the change once more, as Terraform does at
// apply time, then applies it.
func (r *runner) applyCreateOrUpdate(ch *change, prior *liveObject) bool {
	c := r.cli
	if r.stopped.Load() {
		return false
	}
	priorVal, priorPrivate := tftypes.NewValue(c.objType, nil), []byte(nil)
	var priorIdentity *tfprotov6.ResourceIdentityData
	create := prior == nil || prior.tainted || ch.act == actCreate || ch.act == actReplace
	if !create {
		priorVal, priorPrivate, priorIdentity = prior.value, prior.private, r.identityOf(prior)
	}
	planned, private, identity, _, ok := r.planCall(ch.addr, priorVal, ch.config, priorPrivate, priorIdentity)
	if !ok {
		return false
	}
	if probs := incompatible(ch.planned, planned, ""); len(probs) > 0 {
		r.fail(ch.addr, "Provider Produced Inconsistent Final Plan", strings.Join(probs, "; "))
		return false
	}
	resp, err := r.srv.ApplyResourceChange(r.ctx, &tfprotov6.ApplyResourceChangeRequest{TypeName: c.typeName,
		PriorState: dynamic(c.objType, priorVal), PlannedState: dynamic(c.objType, planned), Config: dynamic(c.objType, ch.config),
		PlannedPrivate: private, PlannedIdentity: identity})
	if r.rpcErr(ch.addr, "ApplyResourceChange", err) {
		return false
	}
	failed := r.diags(ch.addr, resp.Diagnostics)
	newVal, err := fromDynamic(c.objType, resp.NewState)
	if err != nil {
		r.fail(ch.addr, "Provider Produced Invalid Object", err.Error())
		return false
	}
	if !failed {
		if probs := incompatible(planned, newVal, ""); len(probs) > 0 {
			r.fail(ch.addr, "Provider Produced Inconsistent Result After Apply", strings.Join(probs, "; "))
			failed = true
		}
	}
	switch {
	case newVal.IsNull() && failed:
		// Nothing returned: the prior object stays (none for a create).
		return false
	case newVal.IsNull():
		r.fail(ch.addr, "Provider Returned Invalid Result Object After Apply", "a null object after a create or update")
		return false
	}
	ident := r.keepIdentity(resp.NewIdentity)
	if ident == nil && prior != nil && !create {
		ident = prior.identity
	}
	obj := &liveObject{value: newVal, private: resp.Private, identity: ident}
	if failed && create {
		obj.tainted = true // a create that failed leaves a tainted object
	} else if failed && prior != nil {
		obj.tainted = prior.tainted
	}
	r.store(ch.addr, obj)
	return !failed
}

// importOne is terraform import: ImportResourceState, then ReadResource.
func (r *runner) importOne(objs map[string]*liveObject, cmd command) {
	c := r.cli
	addr := cmd.importAddr
	if _, ok := objs[addr]; ok {
		r.fail(addr, "Resource Already Managed by Terraform", "terraform import needs an address that the state does not hold")
		return
	}
	if _, ok := cmd.config[addr]; !ok {
		r.fail(addr, "Configuration for Import Target Does Not Exist", "the address is not in the configuration")
		return
	}
	resp, err := r.srv.ImportResourceState(r.ctx, &tfprotov6.ImportResourceStateRequest{TypeName: c.typeName, ID: cmd.importID,
		ClientCapabilities: &tfprotov6.ImportResourceStateClientCapabilities{}})
	if r.rpcErr(addr, "ImportResourceState", err) || r.diags(addr, resp.Diagnostics) {
		return
	}
	if len(resp.ImportedResources) != 1 {
		r.fail(addr, "Unexpected Import Result", fmt.Sprintf("%d objects imported, want 1", len(resp.ImportedResources)))
		return
	}
	im := resp.ImportedResources[0]
	v, err := fromDynamic(c.objType, im.State)
	if err != nil {
		r.fail(addr, "Invalid Imported Object", err.Error())
		return
	}
	o, ok := r.read(addr, &liveObject{value: v, private: im.Private, identity: r.keepIdentity(im.Identity)})
	if !ok {
		return
	}
	if o == nil {
		r.fail(addr, "Cannot Import Non-Existent Remote Object", "the provider found no object with ID "+cmd.importID)
		return
	}
	r.store(addr, o)
}

// stateRm is terraform state rm: no provider call.
func (c *cli) stateRm(addr string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.state, addr)
}

// StateObject is what the checker may read of a stored object: its
// address, the id attribute (when it is a known string), whether it is
// tainted, and the raw JSON (for the secrets check). The checker treats
// everything else as opaque.
type StateObject struct {
	Address string
	ID      string
	Tainted bool
	JSON    string
	Private []byte
}

// snapshot returns the state, by address.
func (c *cli) snapshot() map[string]StateObject {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]StateObject, len(c.state))
	for addr, so := range c.state {
		o := StateObject{Address: addr, Tainted: so.tainted, JSON: string(so.json), Private: so.private}
		var attrs map[string]any
		if json.Unmarshal(so.json, &attrs) == nil {
			o.ID, _ = attrs["id"].(string)
		}
		out[addr] = o
	}
	return out
}

func unknownAsNull(v tftypes.Value) tftypes.Value {
	out, err := tftypes.Transform(v, func(_ *tftypes.AttributePath, x tftypes.Value) (tftypes.Value, error) {
		if !x.IsKnown() {
			return tftypes.NewValue(x.Type(), nil), nil
		}
		return x, nil
	})
	if err != nil {
		return v
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
