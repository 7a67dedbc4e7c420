package chaos

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/clouddc-tf/terraform-provider-clouddc/internal/simulator"
)

// A schedule is a pure function of its seed: the CLI it emulates, the
// steps (operations with the configuration they run with), and the faults
// of each step with their timings. Times in a schedule are API time: what
// the real service would take. Run scales them down (Options.Scale).

// OpKind is what a step does.
type OpKind string

// The operations of a schedule.
const (
	OpApply   OpKind = "apply"             // terraform apply with Step.Blocks
	OpDestroy OpKind = "destroy"           // terraform destroy
	OpRefresh OpKind = "refresh"           // terraform apply -refresh-only
	OpPlan    OpKind = "plan"              // terraform plan (writes nothing)
	OpImport  OpKind = "state-rm-import"   // terraform state rm Step.Address, then terraform import of the same ID
	OpSwitch  OpKind = "switch-project"    // Step.Then with the other project's credentials, then back
	OpByHand  OpKind = "instances-by-hand" // instances made in the console (no create token), named Step.Names
	OpFinal   OpKind = "teardown-apply"    // the end: deletion_protection off everywhere
	OpFinalD  OpKind = "teardown-destroy"  // the end: terraform destroy on a well-behaved API
)

// Block is one resource block of the configuration: Count instances at
// the addresses clouddc_instance.Name[i].
type Block struct {
	Name  string
	Count int
	// InstanceName is the name attribute; "%d" in it is the index.
	InstanceName string
	Image        string
	// Subnets are the network interfaces' subnets; FixedIP gives the
	// first one a fixed address (its last octet grows with the index).
	Subnets []string
	FixedIP int
	// Password is password, or password_wo with PasswordWOVersion when
	// WriteOnly is set (on a CLI with identity support only).
	Password          string
	WriteOnly         bool
	PasswordWOVersion int
	// Power is power_state ("" leaves it unset).
	Power string
	// Protect is deletion_protection (nil leaves it unset).
	Protect     *bool
	Description string
	Metadata    map[string]string
}

// Address returns the address of instance i of the block.
func (b Block) Address(i int) string { return fmt.Sprintf("clouddc_instance.%s[%d]", b.Name, i) }

// Step is one step of a schedule.
type Step struct {
	Op OpKind
	// Blocks is the configuration the step's command runs with.
	Blocks []Block
	// Interrupt presses Ctrl-C this long (API time) after an apply or a
	// destroy started; 0 never does.
	Interrupt time.Duration
	// Address is OpImport's address.
	Address string
	// Then is the command OpSwitch runs against the other project;
	// Lookup finds that project by its region's name in IAM instead of
	// giving its project_id.
	Then   OpKind
	Lookup bool
	// Names are the names of OpByHand's instances.
	Names []string
	// Faults are the step's faults; they end with the step.
	Faults []Fault
}

// FaultKind is the kind of a Fault.
type FaultKind string

// The kinds of faults.
const (
	FaultQueue        FaultKind = "queue"          // Fault.Sim queued (simulator.Fault)
	FaultFailNext     FaultKind = "fail-next"      // the next Fault.Op (create, delete, reinstall, modify-ip) ends in error
	FaultPageCap      FaultKind = "page-cap"       // pages capped at Fault.N items
	FaultIgnoreFilter FaultKind = "ignore-filter"  // ListInstances ignores instance_id
	FaultOpLag        FaultKind = "operation-lag"  // reinstalls and IP changes show Fault.D late
	FaultVanish       FaultKind = "vanish"         // terminated instances answer 404 at once
	FaultLegacy       FaultKind = "legacy"         // the 2025 state names
	FaultLatency      FaultKind = "latency"        // Fault.Op answers Fault.D late
	FaultFailureRate  FaultKind = "failure-rate"   // a share Fault.Rate of Fault.Op fails with Fault.N
	FaultRateLimit    FaultKind = "rate-limit"     // Fault.Rate requests a second, burst Fault.N, Retry-After Fault.D
	FaultHoldDeletes  FaultKind = "hold-deletes"   // deletions stay shutting-down for Fault.D (or until the step ends)
	FaultNarrowToken  FaultKind = "instances-only" // the provider's token holds the instance permissions only
)

// Fault is one fault of a step. Its durations are API time.
type Fault struct {
	// ID numbers the faults of a schedule, for Pin.Faults.
	ID int
	// At starts the fault this long after the step's command started; 0
	// starts it before.
	At   time.Duration
	Kind FaultKind
	// Sim is the queued fault of FaultQueue.
	Sim  simulator.Fault
	Op   string
	N    int
	Rate float64
	D    time.Duration
}

// Schedule is what a seed makes.
type Schedule struct {
	Seed uint64
	// Identity emulates a CLI with resource identity (Terraform 1.14);
	// without it, Terraform 1.5.7 or OpenTofu.
	Identity bool
	// AKSK authenticates the provider with an access key pair instead of
	// a token.
	AKSK bool
	// MaxRetries is the provider's max_retries (-1 leaves it unset).
	MaxRetries int
	// Retention is how long a terminated instance stays listed (0:
	// vanishes at once).
	Retention time.Duration
	Steps     []Step
}

// Name pools: names are shared between blocks and with instances made by
// hand (names are not unique, DESIGN.md N7).
var instanceNames = []string{"web", "web-%d", "db", "db-%d", "app-%d"}

var images = []string{simulator.DefaultImageID, simulator.DefaultImageID2}

// gen draws a schedule.
type gen struct {
	rng    *rand.Rand
	s      *Schedule
	blocks []Block
	nextID int
	nBlock int
	// forCLI draws for the real CLI (GenerateForCLI).
	forCLI bool
}

// Generate is the schedule of a seed.
func Generate(seed uint64) Schedule {
	return generate(seed, false, false)
}

// GenerateForCLI is the schedule of a seed for the real CLI, whose
// provider binary waits at the API's own pace: fewer steps and faults, no
// deletion protection (its teardown needs a configuration read back from
// the state), no answer held until the client's minute-long timeout, no
// deletion held past the provider's timeout. identity says whether the CLI
// supports resource identity (and so write-only passwords).
func GenerateForCLI(seed uint64, identity bool) Schedule {
	return generate(seed, true, identity)
}

func generate(seed uint64, forCLI, identity bool) Schedule {
	g := &gen{rng: rand.New(rand.NewPCG(seed, 0x63686165)), s: &Schedule{Seed: seed}, forCLI: forCLI} //nolint:gosec // G404: a reproducible schedule, not cryptography
	g.s.Identity = g.rng.IntN(2) == 0
	if forCLI {
		g.s.Identity = identity
	}
	g.s.AKSK = g.rng.IntN(4) == 0
	g.s.MaxRetries = []int{-1, -1, 0, 2, 5}[g.rng.IntN(5)]
	g.s.Retention = []time.Duration{0, 5 * time.Minute, 5 * time.Minute}[g.rng.IntN(3)]

	g.blocks = []Block{g.newBlock()}
	if g.rng.IntN(3) == 0 {
		g.blocks = append(g.blocks, g.newBlock())
	}
	g.add(Step{Op: OpApply, Blocks: g.config(), Faults: g.faults(OpApply, 0)})
	n := 5 + g.rng.IntN(8)
	if forCLI {
		n = 2 + g.rng.IntN(3)
	}
	for range n {
		g.step()
	}
	return *g.s
}

func (g *gen) add(st Step) { g.s.Steps = append(g.s.Steps, st) }

// config is a deep copy of the current configuration.
func (g *gen) config() []Block {
	out := make([]Block, len(g.blocks))
	for i, b := range g.blocks {
		b.Subnets = slices.Clone(b.Subnets)
		if b.Protect != nil {
			p := *b.Protect
			b.Protect = &p
		}
		if b.Metadata != nil {
			m := make(map[string]string, len(b.Metadata))
			for k, v := range b.Metadata {
				m[k] = v
			}
			b.Metadata = m
		}
		out[i] = b
	}
	return out
}

func (g *gen) pick(xs ...string) string { return xs[g.rng.IntN(len(xs))] }

func (g *gen) password() string {
	const alnum = "abcdefghijkmnpqstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	for {
		var b strings.Builder
		b.WriteString("Cx-")
		for range 10 {
			b.WriteByte(alnum[g.rng.IntN(len(alnum))])
		}
		b.WriteString(".9")
		p := b.String()
		low := strings.ToLower(p)
		if !strings.Contains(low, "root") && !strings.Contains(low, "toor") {
			return p
		}
	}
}

func (g *gen) newBlock() Block {
	g.nBlock++
	b := Block{Name: fmt.Sprintf("b%d", g.nBlock), Count: 1 + g.rng.IntN(4), InstanceName: g.pick(instanceNames...),
		Image: g.pick(images...), Subnets: []string{simulator.DefaultSubnetID}, Password: g.password()}
	if g.rng.IntN(4) == 0 {
		b.Subnets = append(b.Subnets, simulator.DefaultSubnetID2)
	}
	if g.rng.IntN(6) == 0 {
		b.FixedIP = 100 + 10*g.nBlock
	}
	if g.s.Identity && g.rng.IntN(3) == 0 {
		b.WriteOnly, b.PasswordWOVersion = true, 1
	}
	if g.rng.IntN(5) == 0 {
		b.Power = g.pick("on", "off")
	}
	if g.rng.IntN(5) == 0 {
		b.Description = "made by the chaos checker"
	}
	if g.rng.IntN(5) == 0 {
		b.Metadata = map[string]string{"team": g.pick("blue", "red")}
	}
	return b
}

// mutate changes the configuration the way a user edits it.
func (g *gen) mutate() {
	for range 1 + g.rng.IntN(2) {
		i := g.rng.IntN(len(g.blocks))
		b := &g.blocks[i]
		switch g.rng.IntN(11) {
		case 0, 1:
			b.Count = min(b.Count+1+g.rng.IntN(2), 5)
		case 2:
			b.Count = max(b.Count-1-g.rng.IntN(2), 0)
		case 3:
			if len(g.blocks) < 3 {
				g.blocks = append(g.blocks, g.newBlock())
			}
		case 4:
			if len(g.blocks) > 1 {
				g.blocks = slices.Delete(g.blocks, i, i+1)
			}
		case 5: // a new name replaces the instances
			b.InstanceName = g.pick(instanceNames...)
		case 6: // a new image reinstalls them
			if b.Image == images[0] {
				b.Image = images[1]
			} else {
				b.Image = images[0]
			}
		case 7: // new network interfaces: an IP change
			switch {
			case len(b.Subnets) == 2:
				b.Subnets = b.Subnets[:1]
			case g.rng.IntN(2) == 0:
				b.Subnets = append(b.Subnets, simulator.DefaultSubnetID2)
			case b.FixedIP == 0:
				b.FixedIP = 150 + 10*g.rng.IntN(9)
			default:
				b.FixedIP = 0
			}
		case 8:
			b.Power = g.pick("", "on", "off", "off")
		case 9:
			if g.forCLI {
				continue
			}
			p := b.Protect == nil || !*b.Protect
			b.Protect = &p
		case 10:
			b.Password = g.password()
			if b.WriteOnly {
				b.PasswordWOVersion++
			}
		}
	}
}

// addresses are the addresses of the current configuration.
func (g *gen) addresses() []string {
	var out []string
	for _, b := range g.blocks {
		for i := range b.Count {
			out = append(out, b.Address(i))
		}
	}
	return out
}

func (g *gen) step() {
	w := g.rng.IntN(100)
	switch {
	case w < 38:
		g.mutate()
		g.add(g.interruptible(OpApply, 120_000))
	case w < 48:
		g.add(g.interruptible(OpDestroy, 60_000))
	case w < 62:
		g.add(Step{Op: OpRefresh, Blocks: g.config(), Faults: g.faults(OpRefresh, 0)})
	case w < 67:
		g.add(Step{Op: OpPlan, Blocks: g.config(), Faults: g.faults(OpPlan, 0)})
	case w < 76:
		addrs := g.addresses()
		if len(addrs) == 0 {
			g.add(Step{Op: OpRefresh, Blocks: g.config(), Faults: g.faults(OpRefresh, 0)})
			return
		}
		g.add(Step{Op: OpImport, Blocks: g.config(), Address: addrs[g.rng.IntN(len(addrs))], Faults: g.faults(OpImport, 0)})
	case w < 85:
		then := []OpKind{OpRefresh, OpPlan, OpApply, OpDestroy}[g.rng.IntN(4)]
		g.add(Step{Op: OpSwitch, Then: then, Lookup: g.rng.IntN(2) == 0, Blocks: g.config(), Faults: g.faults(then, 0)})
	default:
		// Usually one or two, sometimes a dozen: a project where the
		// configuration's instances are not on the first page.
		n := 1 + g.rng.IntN(2)
		if g.rng.IntN(3) == 0 {
			n = 6 + g.rng.IntN(7)
		}
		names := make([]string, n)
		for i := range names {
			names[i] = strings.ReplaceAll(g.pick(instanceNames...), "%d", fmt.Sprint(g.rng.IntN(3)))
		}
		g.add(Step{Op: OpByHand, Names: names, Blocks: g.config()})
	}
}

// fault makes a fault with the next ID.
// interruptible is an apply or a destroy of the current configuration
// that is interrupted, one time in four, up to maxMillis into it, with
// faults drawn for it.
func (g *gen) interruptible(op OpKind, maxMillis int) Step {
	st := Step{Op: op, Blocks: g.config()}
	if g.rng.IntN(4) == 0 {
		st.Interrupt = time.Duration(g.rng.IntN(maxMillis)) * time.Millisecond
	}
	st.Faults = g.faults(op, st.Interrupt)
	return st
}

func (g *gen) fault(f Fault) Fault {
	f.ID = g.nextID
	g.nextID++
	if g.rng.IntN(5) == 0 {
		f.At = time.Duration(g.rng.IntN(30_000)) * time.Millisecond
	}
	return f
}

func (g *gen) queue(sf simulator.Fault) Fault { return g.fault(Fault{Kind: FaultQueue, Sim: sf}) }

// faults draws the faults of a step. interrupt is the step's Ctrl-C (0
// for none): a create that lands late may land up to a minute after the
// client gave up (DESIGN.md N1), and with a Ctrl-C the client gives up
// while the request is held, so its lateness stays within a minute.
func (g *gen) faults(op OpKind, interrupt time.Duration) []Fault {
	n := g.rng.IntN(4)
	if op == OpApply || op == OpDestroy {
		n += g.rng.IntN(2)
	}
	if g.forCLI {
		n = g.rng.IntN(3)
	}
	var out []Fault
	for len(out) < n {
		f := g.oneFault(interrupt)
		if g.forCLI && !fitsCLI(f, interrupt) {
			g.nextID-- // drawn again
			continue
		}
		out = append(out, f)
	}
	return out
}

// fitsCLI reports whether a fault suits the real CLI, whose provider waits
// at the API's own pace.
func fitsCLI(f Fault, interrupt time.Duration) bool {
	switch {
	case f.Kind == FaultHoldDeletes:
		return false
	case f.Kind == FaultQueue && f.Sim.Hold > 0 && (f.Sim.Late == 0 || interrupt == 0):
		return false // held until the client's one-minute timeout
	}
	return true
}

var (
	acting   = []string{simulator.OpCreateInstance, simulator.OpDeleteInstance, simulator.OpReinstallOS, simulator.OpModifyIP, simulator.OpChangePassword, simulator.OpChangePowerState}
	anyOp    = []string{simulator.OpCreateInstance, simulator.OpListInstances, simulator.OpListInstances, simulator.OpShowInstanceStatus, simulator.OpDeleteInstance, simulator.OpReinstallOS, simulator.OpModifyIP, simulator.OpChangePowerState, simulator.OpListServers}
	statuses = []int{http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout}
)

func (g *gen) oneFault(interrupt time.Duration) Fault {
	r := g.rng
	count := 1 + r.IntN(3)
	switch r.IntN(29) {
	case 0: // a 5xx before the API acted
		return g.queue(simulator.Fault{Op: g.pick(anyOp...), Status: statuses[r.IntN(len(statuses))], Count: count})
	case 1: // a 5xx after the API acted
		return g.queue(simulator.Fault{Op: g.pick(acting...), Status: statuses[r.IntN(len(statuses))], After: true})
	case 2: // 429s, with and without Retry-After, JSON or the gateway's text
		f := simulator.Fault{Op: g.pick(anyOp...), Status: http.StatusTooManyRequests, Count: count, PlainText: r.IntN(2) == 0}
		if r.IntN(2) == 0 {
			f.RetryAfter = time.Second
		}
		return g.queue(f)
	case 3: // a connection dropped, before or after acting
		return g.queue(simulator.Fault{Op: g.pick(anyOp...), Drop: true, After: r.IntN(2) == 0})
	case 4:
		return g.fault(Fault{Kind: FaultLatency, Op: g.pick(anyOp...), D: time.Duration(500+r.IntN(4500)) * time.Millisecond})
	case 5: // a create answered 504 at once and carried out up to a minute later
		return g.queue(simulator.Fault{Op: simulator.OpCreateInstance, Status: http.StatusGatewayTimeout,
			Late: time.Duration(r.IntN(60_000)) * time.Millisecond, Count: count})
	case 6: // a create carried out, its answer held until the client gives up
		return g.queue(simulator.Fault{Op: simulator.OpCreateInstance, After: true, Status: http.StatusOK, Hold: 10 * time.Minute})
	case 7:
		body := []string{"", "<html><body>OK</body></html>", `{"instance_id":""}`}[r.IntN(3)]
		return g.queue(simulator.Fault{Op: simulator.OpCreateInstance, After: true, Status: http.StatusOK, RawBody: &body})
	case 8:
		return g.queue(simulator.Fault{Op: simulator.OpListInstances, Body: g.pick(`{}`, `{"instances":null}`), Count: count})
	case 9:
		return g.queue(simulator.Fault{Op: simulator.OpListInstances, LoseItems: 1 + r.IntN(2), Count: count})
	case 10:
		return g.queue(simulator.Fault{Op: g.pick(simulator.OpListInstances, simulator.OpShowInstanceStatus, simulator.OpDeleteInstance), Gateway: true, Count: count})
	case 11:
		return g.queue(simulator.Fault{Op: g.pick(anyOp...), RedirectTo: simulator.SinkTarget})
	case 12:
		return g.fault(Fault{Kind: FaultFailNext, Op: g.pick("create", "delete", "reinstall", "modify-ip")})
	case 13:
		return g.fault(Fault{Kind: FaultVanish})
	case 14:
		return g.fault(Fault{Kind: FaultLegacy})
	case 15:
		return g.fault(Fault{Kind: FaultFailureRate, Op: g.pick(anyOp...), Rate: 0.1 + 0.2*r.Float64(), N: statuses[r.IntN(len(statuses))]})
	case 16:
		rl := Fault{Kind: FaultRateLimit, Rate: float64(2 + r.IntN(8)), N: 2 + r.IntN(4)}
		if r.IntN(2) == 0 {
			rl.D = time.Second
		}
		return g.fault(rl)
	case 17: // deletions stuck for 1 to 15 minutes
		return g.fault(Fault{Kind: FaultHoldDeletes, D: time.Duration(1+r.IntN(15)) * time.Minute})
	case 18:
		return g.queue(simulator.Fault{Op: g.pick(anyOp...), Status: http.StatusTooManyRequests, RetryAfterHeader: "9999999999"})
	case 19, 20: // pages capped below limit (issue 16, scenario 1)
		return g.fault(Fault{Kind: FaultPageCap, N: 1 + r.IntN(4)})
	case 21: // an ID filter the API ignores (scenario 2)
		return g.fault(Fault{Kind: FaultIgnoreFilter})
	case 22:
		return g.queue(simulator.Fault{Op: simulator.OpListInstances, IgnoreFilter: true, Count: count})
	case 23, 24: // a create held with no answer that lands later (scenario 3)
		most := 90 * time.Second
		if interrupt > 0 {
			most = time.Minute
		}
		return g.queue(simulator.Fault{Op: simulator.OpCreateInstance, Late: time.Duration(r.Int64N(int64(most))), Hold: 10 * time.Minute, Count: count})
	case 25: // a create replayed by the gateway within seconds, while the
		// original still installs (an install takes a minute here)
		return g.queue(simulator.Fault{Op: simulator.OpCreateInstance, Replay: time.Duration(500+r.IntN(20_000)) * time.Millisecond})
	case 26:
		return g.fault(Fault{Kind: FaultOpLag, D: time.Duration(5_000+r.IntN(35_000)) * time.Millisecond})
	case 27:
		return g.queue(simulator.Fault{Op: simulator.OpListInstances, HideItems: 1 + r.IntN(2), Count: 1 + r.IntN(2)})
	default:
		return g.fault(Fault{Kind: FaultNarrowToken})
	}
}
