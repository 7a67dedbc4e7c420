package chaos

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/clouddc-tf/terraform-provider-clouddc/internal/clouddc"
	"github.com/clouddc-tf/terraform-provider-clouddc/internal/provider"
	"github.com/clouddc-tf/terraform-provider-clouddc/internal/simulator"
)

// Options tune how schedules run.
type Options struct {
	// Scale is how much faster than the API the run goes: every duration
	// of the simulator, of the schedule and of the client's waits is
	// divided by it (default 100: an install of a minute takes 0.6 s).
	Scale float64
	// SDKLogs captures the framework's own TRACE logs too, not only the
	// provider's (slower).
	SDKLogs bool
	// CommandLimit bounds one command in real time; a command still
	// running then is interrupted and reported (default 3 minutes).
	CommandLimit time.Duration
	// Verbose puts every diagnostic into Result.Trace.
	Verbose bool
}

func (o Options) withDefaults() Options {
	if o.Scale <= 0 {
		o.Scale = 100
	}
	if o.CommandLimit <= 0 {
		o.CommandLimit = 3 * time.Minute
	}
	return o
}

// Mask keeps a part of a schedule: nil keeps everything.
type Mask struct {
	Steps  map[int]bool
	Faults map[int]bool
}

func (m Mask) step(i int) bool  { return m.Steps == nil || m.Steps[i] }
func (m Mask) fault(i int) bool { return m.Faults == nil || m.Faults[i] }

// Result is what one run of a schedule found.
type Result struct {
	Seed       uint64
	Violations []Violation
	// Trace says what each step did, for the report.
	Trace []string
	// Commands and Succeeded count the schedule's commands (the teardown
	// excepted) and those that succeeded: a run whose every command failed
	// proves little.
	Commands, Succeeded int
}

// Failed reports whether the run broke an invariant.
func (r *Result) Failed() bool { return len(r.Violations) > 0 }

// Fixed facts of the world every schedule runs in.
const (
	resourceType = "clouddc_instance"
	projectB     = "5b6c7d8e9f00112233445566778899aa"
	serversEach  = 40
)

// API durations of the simulated service, scaled down by Options.Scale.
const (
	apiCreate    = time.Minute
	apiDelete    = 30 * time.Second
	apiReinstall = time.Minute
	apiModifyIP  = 30 * time.Second
	apiPower     = 10 * time.Second
	apiTimeout   = 10 * time.Minute // the configuration's timeouts
)

// world is one schedule's simulator, credentials and CLI.
type world struct {
	opts  Options
	sched Schedule
	mask  Mask

	sim *simulator.Simulator
	srv *httptest.Server
	// drv runs the commands: cli, the emulated CLI in process, or the
	// real CLI (clidriver.go), when cli is nil.
	drv    driver
	cli    *cli
	logs   *scanWriter
	rng    *rand.Rand
	tokenA string
	tokenB string
	narrow string
	akA    string
	skA    string
	akB    string
	skB    string
	// woPasswords are the password_wo values (never in state or plan);
	// passwords every password.
	woPasswords []string
	passwords   []string
	handMade    map[string]handInstance
	// lands is the latest time a late or replayed request may still land.
	lands    time.Time
	deferred map[string]bool
	// released are the instances the user took out of the state and could
	// not import again (observation.Released).
	released map[string]bool
	// releasedTokens are create tokens whose record the user removed
	// from the state (releaseRemembered).
	releasedTokens map[string]bool
	// deleting are the instances whose deletion the provider started and
	// named (observation.Deleting).
	deleting map[string]bool
	// tokens remembers the create token of every instance seen, for the
	// check after it is purged; sinkSeen counts the redirect sink's
	// requests already reported.
	tokens   map[string]string
	usedSink bool
	// lastDiags are the diagnostics of the last command.
	lastDiags []Diagnostic
	sinkSeen  int
	res       *Result
}

type handInstance struct {
	ID, Name, Password, ServerID string
}

func (w *world) d(api time.Duration) time.Duration {
	return time.Duration(float64(api) / w.opts.Scale)
}

// Run runs a schedule, with the part of it that mask keeps, and checks
// the invariants after every step.
func Run(ctx context.Context, sched Schedule, mask Mask, opts Options) *Result {
	return newWorld(sched, mask, opts).play(ctx)
}

// play sets the world up, runs the steps and the teardown.
func (w *world) play(ctx context.Context) *Result {
	if err := w.setUp(); err != nil {
		w.violate(Violation{Invariant: 0, Class: "setup", Step: -1, Message: "setting up: " + err.Error()})
		return w.res
	}
	defer w.tearDownWorld()
	for i, st := range w.sched.Steps {
		if !w.mask.step(i) {
			continue
		}
		if ctx.Err() != nil {
			return w.res
		}
		w.runStep(ctx, i, st)
		if w.res.Failed() {
			return w.res
		}
	}
	w.final(ctx)
	return w.res
}

func newWorld(sched Schedule, mask Mask, opts Options) *world {
	return &world{opts: opts.withDefaults(), sched: sched, mask: mask, handMade: map[string]handInstance{}, deferred: map[string]bool{}, released: map[string]bool{}, releasedTokens: map[string]bool{}, deleting: map[string]bool{},
		tokens: map[string]string{}, res: &Result{Seed: sched.Seed},
		// Secrets and hand-made passwords come from the seed as well.
		rng: rand.New(rand.NewPCG(sched.Seed, 0x7365637265747321))} //nolint:gosec // G404: reproducible test secrets
}

func (w *world) secret(prefix string) string {
	const hexdigits = "0123456789abcdef"
	var b strings.Builder
	b.WriteString(prefix)
	for range 20 {
		b.WriteByte(hexdigits[w.rng.IntN(16)])
	}
	return b.String()
}

func (w *world) setUp() error {
	w.tokenA, w.tokenB, w.narrow = w.secret("tokA-"), w.secret("tokB-"), w.secret("tokN-")
	w.akA, w.skA, w.akB, w.skB = strings.ToUpper(w.secret("AKA")), w.secret("skA-"), strings.ToUpper(w.secret("AKB")), w.secret("skB-")
	for _, st := range w.sched.Steps {
		for _, b := range st.Blocks {
			w.passwords = append(w.passwords, b.Password)
			if b.WriteOnly {
				w.woPasswords = append(w.woPasswords, b.Password)
			}
		}
	}
	sim, err := simulator.New(simulator.Options{
		Token: w.tokenA, Servers: serversEach,
		CreateDuration: w.d(apiCreate), DeleteDuration: w.d(apiDelete), ReinstallDuration: w.d(apiReinstall),
		ModifyIPDuration: w.d(apiModifyIP), PowerDuration: w.d(apiPower), Retention: w.d(w.sched.Retention),
		AccessKeys: map[string]simulator.AccessKey{w.akA: {Secret: w.skA}},
	})
	if err != nil {
		return err
	}
	w.sim = sim
	w.srv = httptest.NewServer(sim)
	if err := sim.AddProject(projectB, simulator.DefaultRegion, w.tokenB); err != nil {
		return err
	}
	if err := sim.AddAccessKey(w.akB, simulator.AccessKey{Secret: w.skB, ProjectID: projectB}); err != nil {
		return err
	}
	if err := sim.AddToken(w.narrow, simulator.DefaultProjectID, simulator.TokenScope{InstancesOnly: true}); err != nil {
		return err
	}
	w.logs = newScanWriter(w.secrets())
	if w.drv != nil {
		return nil // the real CLI (RunCLI)
	}
	retries := clouddc.DefaultRetryPolicy()
	if w.sched.MaxRetries >= 0 {
		retries.MaxRetries = w.sched.MaxRetries
	}
	retries.BaseDelay, retries.MaxDelay, retries.MaxRetryAfter = w.d(retries.BaseDelay), w.d(retries.MaxDelay), w.d(retries.MaxRetryAfter)
	poll := clouddc.DefaultPollSchedule()
	lookup := clouddc.DefaultCreateLookup()
	clientOpts := []clouddc.Option{
		clouddc.WithPollSchedule(clouddc.PollSchedule{Delay: w.d(poll.Delay), Interval: w.d(poll.Interval),
			MinInterval: w.d(poll.MinInterval), MaxInterval: w.d(poll.MaxInterval)}),
		clouddc.WithCreateLookup(clouddc.CreateLookup{Window: w.d(lookup.Window), FirstDelay: w.d(lookup.FirstDelay),
			MaxDelay: w.d(lookup.MaxDelay), Interrupted: w.d(lookup.Interrupted)}),
		clouddc.WithRetryPolicy(retries),
		// The client's own 60 s, scaled, but never so short that a busy
		// machine makes a healthy request time out.
		clouddc.WithHTTPClient(&http.Client{Timeout: max(w.d(time.Minute), 2*time.Second)}),
	}
	newProvider := func() (tfprotov6.ProviderServer, error) {
		return providerserver.NewProtocol6WithError(provider.NewWithClientOptions("chaos", clientOpts...)())()
	}
	c, err := newCLI(newProvider, resourceType)
	if err != nil {
		return err
	}
	c.identity = w.sched.Identity
	c.version = "1.5.7"
	if c.identity {
		c.version = "1.14.9"
	}
	c.logs, c.sdkLogs = w.logs, w.opts.SDKLogs
	c.simState = func(id string) string {
		if in, ok := sim.Instance(id); ok {
			return in.State
		}
		return "gone"
	}
	w.cli, w.drv = c, c
	return nil
}

func (w *world) tearDownWorld() {
	if w.srv != nil {
		w.srv.Close()
	}
	if w.sim != nil {
		_ = w.sim.Close()
	}
}

// secrets are the values that must never show in a log, a diagnostic or
// another host; stateOK says which may be in the state and the plan (a
// password attribute is stored there, by design).
func (w *world) secrets() []secret {
	out := []secret{{"the token of project A", w.tokenA, false}, {"the token of project B", w.tokenB, false},
		{"the instances-only token", w.narrow, false}, {"the secret key of project A", w.skA, false},
		{"the secret key of project B", w.skB, false}}
	wo := map[string]bool{}
	for _, p := range w.woPasswords {
		wo[p] = true
	}
	for _, p := range w.passwords {
		if wo[p] {
			out = append(out, secret{"a password_wo value", p, false})
		} else {
			out = append(out, secret{"a password", p, true})
		}
	}
	return out
}

// str and friends build attribute values.
func str(s string) tftypes.Value { return tftypes.NewValue(tftypes.String, s) }

func (w *world) resourceValue(b Block, i int) tftypes.Value {
	t, _ := w.cli.objType.(tftypes.Object)
	nicList, _ := t.AttributeTypes["network_interfaces"].(tftypes.List)
	nics := make([]tftypes.Value, len(b.Subnets))
	for n, sn := range b.Subnets {
		set := map[string]tftypes.Value{"subnet_id": str(sn)}
		if n == 0 && b.FixedIP > 0 {
			set["ipv4_address"] = str(fmt.Sprintf("192.168.0.%d", b.FixedIP+i))
		}
		nics[n] = objectValue(nicList.ElementType, set)
	}
	to := w.d(apiTimeout).String()
	set := map[string]tftypes.Value{
		"name":               str(strings.ReplaceAll(b.InstanceName, "%d", fmt.Sprint(i))),
		"image_id":           str(b.Image),
		"vpc_id":             str(simulator.DefaultVPCID),
		"network_interfaces": tftypes.NewValue(nicList, nics),
		"timeouts":           objectValue(t.AttributeTypes["timeouts"], map[string]tftypes.Value{"create": str(to), "update": str(to), "delete": str(to)}),
	}
	if b.WriteOnly {
		set["password_wo"] = str(b.Password)
		set["password_wo_version"] = tftypes.NewValue(tftypes.Number, big.NewFloat(float64(b.PasswordWOVersion)))
	} else {
		set["password"] = str(b.Password)
	}
	if b.Power != "" {
		set["power_state"] = str(b.Power)
	}
	if b.Protect != nil {
		set["deletion_protection"] = tftypes.NewValue(tftypes.Bool, *b.Protect)
	}
	if b.Description != "" {
		set["description"] = str(b.Description)
	}
	if b.Metadata != nil {
		m := map[string]tftypes.Value{}
		for k, v := range b.Metadata {
			m[k] = str(v)
		}
		set["metadata"] = tftypes.NewValue(tftypes.Map{ElementType: tftypes.String}, m)
	}
	return objectValue(w.cli.objType, set)
}

func (w *world) configOf(blocks []Block) map[string]tftypes.Value {
	out := map[string]tftypes.Value{}
	for _, b := range blocks {
		for i := range b.Count {
			out[b.Address(i)] = w.resourceValue(b, i)
		}
	}
	return out
}

// creds says which credentials a command's provider uses: project A's, or
// B's for a switch of project, found by its region's name in IAM when
// lookup is set; the instances-only token when narrow.
type creds struct{ other, lookup, narrow bool }

// providerSettings are the provider's settings for creds, by attribute
// name (and, for the real CLI, by the variable that sets them).
func (w *world) providerSettings(c creds) map[string]string {
	set := map[string]string{"endpoint": w.srv.URL}
	project, token, ak, sk := simulator.DefaultProjectID, w.tokenA, w.akA, w.skA
	if c.other {
		project, token, ak, sk = projectB, w.tokenB, w.akB, w.skB
	}
	if c.narrow && !c.other {
		token = w.narrow
	}
	switch {
	case w.sched.AKSK && (!c.narrow || c.other):
		set["access_key"], set["secret_key"] = ak, sk
	default:
		set["token"] = token
	}
	if c.lookup {
		// project_id left out: the project named after the region, looked
		// up in IAM with these credentials.
		set["region"], set["iam_endpoint"] = simulator.DefaultRegion, w.srv.URL
	} else {
		set["project_id"] = project
	}
	return set
}

// providerValue is the provider block for creds.
func (w *world) providerValue(c creds) tftypes.Value {
	set := map[string]tftypes.Value{}
	for k, v := range w.providerSettings(c) {
		set[k] = str(v)
	}
	if w.sched.MaxRetries >= 0 {
		set["max_retries"] = tftypes.NewValue(tftypes.Number, big.NewFloat(float64(w.sched.MaxRetries)))
	}
	return objectValue(w.cli.providerType, set)
}

// runStep runs one step and checks the invariants after it.
func (w *world) runStep(ctx context.Context, i int, st Step) {
	obs := &observation{Step: i, Op: string(st.Op), Config: addressesOf(st.Blocks), project: simulator.DefaultProjectID}
	if st.Op == OpSwitch {
		obs.project = projectB
	}
	narrow := false
	for _, f := range st.Faults {
		if w.mask.fault(f.ID) && f.Kind == FaultNarrowToken {
			narrow = true
		}
	}
	var cmd *command
	switch st.Op {
	case OpByHand:
		w.makeByHand(st.Names)
	case OpImport:
		obj, ok := w.drv.snapshot()[st.Address]
		if !ok || !isUUID(obj.ID) {
			w.trace(i, st, "nothing to import: %s holds no instance ID", st.Address)
			break
		}
		// The provider's record of the object's create (its token in
		// private state) goes with it: the duplicates that record would
		// have settled are the user's from here on, as the object is.
		w.releaseRemembered(obj)
		w.drv.stateRm(st.Address)
		cmd = &command{kind: cmdImport, importAddr: st.Address, importID: obj.ID}
		obs.Named = []string{obj.ID}
	default:
		kind := map[OpKind]commandKind{OpApply: cmdApply, OpDestroy: cmdDestroy, OpRefresh: cmdRefresh, OpPlan: cmdPlan,
			OpFinal: cmdApply, OpFinalD: cmdDestroy}
		op := st.Op
		if op == OpSwitch {
			op = st.Then
		}
		cmd = &command{kind: kind[op], interruptAfter: w.d(st.Interrupt)}
	}
	if cmd != nil {
		cmd.blocks, cmd.creds = st.Blocks, creds{other: st.Op == OpSwitch, lookup: st.Lookup, narrow: narrow}
		if w.cli != nil {
			cmd.provider = w.providerValue(cmd.creds)
			cmd.config = w.configOf(st.Blocks)
		}
		obs.Command, obs.Kind = true, cmd.kind
		w.runCommand(ctx, i, st, cmd, obs)
	}
	w.check(obs)
}

func (w *world) runCommand(ctx context.Context, i int, st Step, cmd *command, obs *observation) {
	var timers []*time.Timer
	start := time.Now()
	for _, f := range st.Faults {
		if !w.mask.fault(f.ID) {
			continue
		}
		if f.Kind == FaultHoldDeletes && f.D > 0 {
			// A stuck deletion ends; the provider's own timeout (30
			// minutes for an imported object, unscaled) must not be what
			// ends the wait.
			timers = append(timers, time.AfterFunc(w.d(f.At+f.D), func() { w.sim.HoldDeletes(false) }))
		}
		if f.At == 0 {
			w.inject(f)
			continue
		}
		timers = append(timers, time.AfterFunc(w.d(f.At), func() { w.inject(f) }))
	}
	limit := w.opts.CommandLimit
	if cmd.interruptAfter <= 0 || cmd.interruptAfter > limit {
		cmd.interruptAfter = 0
	}
	cctx, cancel := context.WithCancel(ctx)
	watchdog := time.AfterFunc(limit, cancel)
	obs.CommandStart = start
	out := w.drv.run(cctx, *cmd)
	hung := !watchdog.Stop()
	cancel()
	for _, t := range timers {
		t.Stop()
	}
	end := time.Now()
	for _, f := range st.Faults {
		if !w.mask.fault(f.ID) || f.Kind != FaultQueue {
			continue
		}
		if late := max(f.Sim.Late, f.Sim.Replay); late > 0 {
			if t := end.Add(w.d(f.At + late)); t.After(w.lands) {
				w.lands = t
			}
		}
	}
	w.resetFaults()
	w.lastDiags = out.Diags
	obs.OK, obs.Diags, obs.Deletes = out.OK, out.Diags, out.Deletes
	for _, p := range out.Planned {
		if b, err := stateJSON(unknownAsNull(p)); err == nil {
			obs.Planned = append(obs.Planned, string(b))
		}
	}
	if out.OK && cmd.kind == cmdDestroy {
		obs.Config = nil
	}
	verdict := "succeeded"
	if !out.OK {
		verdict = "failed"
	}
	if st.Op != OpFinal && st.Op != OpFinalD && st.Then != OpFinalD {
		w.res.Commands++
		if out.OK {
			w.res.Succeeded++
		}
	}
	var sums []string
	for _, d := range out.Diags {
		if d.Error {
			sums = append(sums, d.Summary)
		}
	}
	w.trace(i, st, "%s %s in %s%s", cmd.kind, verdict, end.Sub(start).Round(time.Millisecond), summarize(sums))
	if w.opts.Verbose {
		for _, d := range out.Diags {
			w.res.Trace = append(w.res.Trace, "    "+strings.ReplaceAll(d.String(), "\n", "\n      "))
		}
	}
	if hung {
		w.violate(Violation{Invariant: 0, Class: "command-hung", Step: i, Op: string(st.Op),
			Message: fmt.Sprintf("the command was still running after %s (real time, %s API time); it was interrupted", w.opts.CommandLimit,
				time.Duration(float64(w.opts.CommandLimit)*w.opts.Scale).Round(time.Minute))})
	}
}

func summarize(sums []string) string {
	if len(sums) == 0 {
		return ""
	}
	seen := map[string]int{}
	var order []string
	for _, s := range sums {
		if seen[s] == 0 {
			order = append(order, s)
		}
		seen[s]++
	}
	parts := make([]string, len(order))
	for i, s := range order {
		parts[i] = s
		if seen[s] > 1 {
			parts[i] += fmt.Sprintf(" ×%d", seen[s])
		}
	}
	return ": " + strings.Join(parts, "; ")
}

func (w *world) trace(i int, st Step, format string, args ...any) {
	w.res.Trace = append(w.res.Trace, fmt.Sprintf("step %d (%s): ", i, describeOp(st))+fmt.Sprintf(format, args...))
}

func (w *world) violate(v Violation) { w.res.Violations = append(w.res.Violations, v) }

// inject starts one fault in the simulator, scaled.
func (w *world) inject(f Fault) {
	s := w.sim
	switch f.Kind {
	case FaultQueue:
		sf := f.Sim
		if sf.RedirectTo != "" {
			w.usedSink = true
		}
		// RetryAfter stays: the header is whole seconds, capped by the
		// client's scaled MaxRetryAfter.
		sf.Late, sf.Hold, sf.Replay = w.d(sf.Late), w.d(sf.Hold), w.d(sf.Replay)
		s.InjectFault(sf)
	case FaultFailNext:
		switch f.Op {
		case "create":
			s.FailNextCreate("iMetal.0099", "the server failed its hardware check (chaos)")
		case "delete":
			s.FailNextDelete("iMetal.0099", "the disk could not be wiped (chaos)")
		case "reinstall":
			s.FailNextReinstall("iMetal.0099", "the image could not be written (chaos)")
		default:
			s.FailNextModifyIP("iMetal.0099", "the switch refused the change (chaos)")
		}
	case FaultPageCap:
		s.SetPageSizeCap(f.N)
	case FaultIgnoreFilter:
		s.SetIgnoreIDFilter(true)
	case FaultOpLag:
		s.SetOperationLag(w.d(f.D))
	case FaultVanish:
		s.SetVanishOnTerminate(true)
	case FaultLegacy:
		s.SetLegacy(true)
	case FaultLatency:
		s.SetLatency(f.Op, w.d(f.D))
	case FaultFailureRate:
		s.SetFailureRate(f.Op, f.Rate, f.N, int64(w.sched.Seed)+int64(f.ID)) //nolint:gosec // G115: a seed, wrapping is fine
	case FaultRateLimit:
		s.SetRateLimit(simulator.RateLimit{PerSecond: f.Rate * w.opts.Scale, Burst: f.N, RetryAfter: f.D})
	case FaultHoldDeletes:
		s.HoldDeletes(true)
	case FaultNarrowToken:
		// Applied to the provider block (providerValue).
	}
}

// resetFaults ends the step's faults: they belong to the step.
func (w *world) resetFaults() {
	s := w.sim
	s.ClearFaults()
	s.SetPageSizeCap(0)
	s.SetIgnoreIDFilter(false)
	s.SetOperationLag(0)
	s.SetVanishOnTerminate(false)
	s.SetLegacy(false)
	s.HoldDeletes(false)
}

// makeByHand creates instances as someone in the console would: no create
// token, names the configuration may use too.
func (w *world) makeByHand(names []string) {
	for _, name := range names {
		pw := "Hand-" + w.secret("")[:8] + ".7"
		body, _ := json.Marshal(map[string]any{"name": name, "image_id": simulator.DefaultImageID, "vpc_id": simulator.DefaultVPCID,
			"network_interfaces": []any{map[string]any{"subnet_id": simulator.DefaultSubnetID}}, "password": pw})
		req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, w.srv.URL+"/v1/"+simulator.DefaultProjectID+"/instances", //nolint:gosec // G704: the schedule's own loopback simulator
			bytes.NewReader(body))
		if err != nil {
			continue
		}
		req.Header.Set("X-Auth-Token", w.tokenA)
		req.Header.Set("Content-Type", "application/json")
		resp, err := w.srv.Client().Do(req) //nolint:gosec // G704: the schedule's own loopback simulator
		if err != nil {
			continue
		}
		var out struct {
			ID string `json:"instance_id"`
		}
		err = json.NewDecoder(resp.Body).Decode(&out)
		_ = resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			continue // no ready server: nothing was made
		}
		in, _ := w.sim.Instance(out.ID)
		w.handMade[out.ID] = handInstance{ID: out.ID, Name: name, Password: pw, ServerID: in.ServerID}
	}
}

// final brings the schedule to an end: deletion protection off, destroy
// on a well-behaved API, then, once every late or replayed request has
// landed and every deletion ended, nothing this configuration made may
// be left running.
func (w *world) final(ctx context.Context) {
	n := len(w.sched.Steps)
	w.resetFaults()
	if config := w.unprotected(); w.cli != nil && config != nil {
		// As a user would: terraform apply with deletion_protection = false
		// and nothing else changed.
		other := false
		ok := w.runFinalApply(ctx, n, config, other)
		if !ok && !w.res.Failed() && w.lastNamed(projectB) {
			// The state's instances are in the other project, the apply
			// said: the user turns protection off there.
			other = true
			ok = w.runFinalApply(ctx, n, config, other)
		}
		if !ok && !w.res.Failed() {
			// The state lags behind the instances (an update that failed
			// after the API acted): as a user would, refresh, then turn
			// protection off with what the state now holds.
			w.runFinalCommand(ctx, n, cmdRefresh, nil, other)
			if config := w.unprotected(); config != nil && !w.res.Failed() {
				w.runFinalApply(ctx, n, config, other)
			}
		}
		if w.res.Failed() {
			return
		}
	}
	destroyed := false
	for attempt := range 3 {
		// A user whose destroy fails because, it says, the state's
		// instances are in the other project runs it there.
		st := Step{Op: OpFinalD}
		if attempt > 0 && w.lastNamed(projectB) {
			st = Step{Op: OpSwitch, Then: OpFinalD}
		}
		w.runStep(ctx, n+1+attempt, st)
		if w.res.Failed() {
			return
		}
		if len(w.drv.snapshot()) == 0 {
			destroyed = true
			break
		}
	}
	wait := time.Until(w.lands) + 3*w.d(apiDelete) + 200*time.Millisecond
	if wait > 0 {
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return
		}
	}
	obs := &observation{Step: n + 4, Op: "after the final destroy", Final: true, StateDestroyed: destroyed, project: simulator.DefaultProjectID}
	w.check(obs)
	if !destroyed {
		w.violate(Violation{Invariant: 0, Class: "teardown-destroy-failed", Step: n + 3, Op: string(OpFinalD),
			Message: "terraform destroy on a well-behaved API failed three times in a row; the state still holds " + strings.Join(sortedKeys(w.drv.snapshot()), ", ")})
	}
}

// configuredAttrs are the attributes a schedule's configuration sets; the
// checker may read them back from the state, and nothing else but id.
var configuredAttrs = []string{"name", "image_id", "vpc_id", "network_interfaces", "password", "password_wo_version",
	"power_state", "description", "metadata"}

// unprotected is, when the state protects an object from deletion, the
// configuration that turns deletion_protection off and changes nothing
// else: each object's configured attributes as the state holds them. Nil
// when nothing is protected. Protected tainted objects are untainted
// first (terraform untaint), or the apply would have to replace them.
func (w *world) unprotected() map[string]tftypes.Value {
	c := w.cli
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	protected := false
	config := map[string]tftypes.Value{}
	t, _ := c.objType.(tftypes.Object)
	to := str(w.d(apiTimeout).String())
	for addr, so := range c.state {
		v, err := tftypes.ValueFromJSONWithOpts(so.json, c.objType, tftypes.ValueFromJSONOpts{IgnoreUndefinedAttributes: true})
		if err != nil {
			continue
		}
		attrs := objectAttrs(v)
		if p := attrs["deletion_protection"]; p.IsKnown() && !p.IsNull() {
			var b bool
			if p.As(&b) == nil && b {
				protected = true
				so.tainted = false
			}
		}
		set := map[string]tftypes.Value{"deletion_protection": tftypes.NewValue(tftypes.Bool, false),
			"timeouts": objectValue(t.AttributeTypes["timeouts"], map[string]tftypes.Value{"create": to, "update": to, "delete": to})}
		for _, name := range configuredAttrs {
			if a, ok := attrs[name]; ok && !a.IsNull() {
				set[name] = a
			}
		}
		_, pw := set["password"]
		if _, ok := set["password_wo_version"]; ok {
			set["password_wo"] = str("Teardown-9.pw")
		} else if !pw {
			// An imported object: the API never returns the password.
			set["password"] = str("Teardown-9.pw")
		}
		config[addr] = objectValue(c.objType, set)
	}
	if !protected {
		return nil
	}
	return config
}

// lastNamed reports whether the last command's errors name s.
func (w *world) lastNamed(s string) bool {
	for _, d := range w.lastDiags {
		if d.Error && strings.Contains(d.Summary+d.Detail, s) {
			return true
		}
	}
	return false
}

// runFinalApply runs the teardown's apply of config and reports whether
// it succeeded.
func (w *world) runFinalApply(ctx context.Context, n int, config map[string]tftypes.Value, other bool) bool {
	return w.runFinalCommand(ctx, n, cmdApply, config, other)
}

// runFinalCommand runs a command of the teardown, in the other project
// when other is set, and reports whether it succeeded.
func (w *world) runFinalCommand(ctx context.Context, n int, kind commandKind, config map[string]tftypes.Value, other bool) bool {
	st := Step{Op: OpFinal}
	project := simulator.DefaultProjectID
	if other {
		project = projectB
	}
	obs := &observation{Step: n, Op: string(OpFinal), Config: sortedKeys(config), project: project}
	cmd := &command{kind: kind, provider: w.providerValue(creds{other: other}), config: config}
	obs.Command, obs.Kind = true, kind
	w.runCommand(ctx, n, st, cmd, obs)
	w.check(obs)
	return obs.OK
}

func addressesOf(blocks []Block) []string {
	var out []string
	for _, b := range blocks {
		for i := range b.Count {
			out = append(out, b.Address(i))
		}
	}
	return out
}

// scanWriter takes the provider's logs and remembers which secrets it saw
// in them; it keeps nothing else, so that thousands of runs stay small.
type scanWriter struct {
	mu      sync.Mutex
	secrets []secret
	tail    []byte
	found   map[string]string // secret kind -> a log line that held it
	n       int64
}

type secret struct {
	kind    string
	value   string
	stateOK bool
}

func newScanWriter(s []secret) *scanWriter {
	return &scanWriter{secrets: s, found: map[string]string{}}
}

func (s *scanWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n += int64(len(p))
	buf := append(s.tail, p...)
	for _, sec := range s.secrets {
		if i := bytes.Index(buf, []byte(sec.value)); i >= 0 {
			if _, ok := s.found[sec.kind]; !ok {
				line := buf[max(0, i-120):min(len(buf), i+len(sec.value)+40)]
				s.found[sec.kind] = strings.ReplaceAll(string(line), sec.value, "<"+sec.kind+">")
			}
		}
	}
	keep := 64
	if len(buf) > keep {
		buf = buf[len(buf)-keep:]
	}
	s.tail = append([]byte(nil), buf...)
	return len(p), nil
}

// take returns what was found since the last call.
func (s *scanWriter) take() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.found
	s.found = map[string]string{}
	return out
}

func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !strings.ContainsRune("0123456789abcdef", c) {
				return false
			}
		}
	}
	return true
}
