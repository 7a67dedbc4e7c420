package chaos

import (
	"context"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/clouddc-tf/terraform-provider-clouddc/internal/simulator"
)

// The emulated CLI is tested against the real provider and the simulator:
// what each command leaves in the state and in the API.

var nicType = tftypes.Object{AttributeTypes: map[string]tftypes.Type{"subnet_id": tftypes.String, "ipv4_address": tftypes.String}}

func nicSchema() *tfprotov6.SchemaBlock {
	return &tfprotov6.SchemaBlock{Attributes: []*tfprotov6.SchemaAttribute{
		{Name: "id", Type: tftypes.String, Computed: true},
		{Name: "name", Type: tftypes.String, Required: true},
		{Name: "nics", Required: true, NestedType: &tfprotov6.SchemaObject{Nesting: tfprotov6.SchemaObjectNestingModeList,
			Attributes: []*tfprotov6.SchemaAttribute{
				{Name: "subnet_id", Type: tftypes.String, Required: true},
				{Name: "ipv4_address", Type: tftypes.String, Optional: true, Computed: true},
			}}},
	}}
}

func nicList(pairs ...string) tftypes.Value {
	var elems []tftypes.Value
	for i := 0; i+1 < len(pairs); i += 2 {
		var addr tftypes.Value
		if pairs[i+1] == "" {
			addr = tftypes.NewValue(tftypes.String, nil)
		} else {
			addr = str(pairs[i+1])
		}
		elems = append(elems, tftypes.NewValue(nicType, map[string]tftypes.Value{"subnet_id": str(pairs[i]), "ipv4_address": addr}))
	}
	return tftypes.NewValue(tftypes.List{ElementType: nicType}, elems)
}

// TestProposedNew: the configuration's values, the prior's for computed
// attributes left null, nested lists element by element (a second NIC
// has no prior element and stays as configured).
func TestProposedNew(t *testing.T) {
	b := nicSchema()
	typ := b.ValueType()
	prior := tftypes.NewValue(typ, map[string]tftypes.Value{"id": str("i-1"), "name": str("web"), "nics": nicList("s1", "10.0.0.5")})
	config := tftypes.NewValue(typ, map[string]tftypes.Value{"id": tftypes.NewValue(tftypes.String, nil), "name": str("web2"),
		"nics": nicList("s1", "", "s2", "")})
	got := proposedNew(b, prior, config)
	want := tftypes.NewValue(typ, map[string]tftypes.Value{"id": str("i-1"), "name": str("web2"), "nics": nicList("s1", "10.0.0.5", "s2", "")})
	if !got.Equal(want) {
		t.Errorf("proposed %s\nwant %s", got, want)
	}
	// A create: no prior, computed attributes stay null.
	if got := proposedNew(b, tftypes.NewValue(typ, nil), config); !got.Equal(config) {
		t.Errorf("proposed for a create %s, want the configuration", got)
	}
}

func TestPlanAction(t *testing.T) {
	b := nicSchema()
	typ := b.ValueType()
	v := func(name string) tftypes.Value {
		return tftypes.NewValue(typ, map[string]tftypes.Value{"id": str("i-1"), "name": str(name), "nics": nicList("s1", "10.0.0.5")})
	}
	name := []*tftypes.AttributePath{tftypes.NewAttributePath().WithAttributeName("name")}
	for _, tc := range []struct {
		prior, planned tftypes.Value
		rr             []*tftypes.AttributePath
		want           action
	}{
		{tftypes.NewValue(typ, nil), v("a"), nil, actCreate},
		{v("a"), v("a"), name, actNoop},
		{v("a"), v("b"), nil, actUpdate},
		{v("a"), v("b"), name, actReplace},
	} {
		if got := planAction(tc.prior, tc.planned, tc.rr); got != tc.want {
			t.Errorf("planAction(%s → %s) = %s, want %s", tc.prior, tc.planned, got, tc.want)
		}
	}
}

func TestIncompatible(t *testing.T) {
	b := nicSchema()
	typ := b.ValueType()
	planned := tftypes.NewValue(typ, map[string]tftypes.Value{"id": tftypes.NewValue(tftypes.String, tftypes.UnknownValue), "name": str("web"),
		"nics": nicList("s1", "")})
	ok := tftypes.NewValue(typ, map[string]tftypes.Value{"id": str("i-9"), "name": str("web"), "nics": nicList("s1", "")})
	if probs := incompatible(planned, ok, ""); len(probs) != 0 {
		t.Errorf("an unknown planned id filled in: %v", probs)
	}
	bad := tftypes.NewValue(typ, map[string]tftypes.Value{"id": str("i-9"), "name": str("db"), "nics": nicList("s1", "")})
	if probs := incompatible(planned, bad, ""); len(probs) != 1 {
		t.Errorf("a planned name that changed: %v, want one problem", probs)
	}
}

func TestGenerate_pureFunctionOfTheSeed(t *testing.T) {
	for seed := range uint64(50) {
		a, b := Generate(seed), Generate(seed)
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("seed %d made two schedules", seed)
		}
		if len(a.Steps) < 6 || a.Steps[0].Op != OpApply {
			t.Errorf("seed %d: %d steps starting with %s", seed, len(a.Steps), a.Steps[0].Op)
		}
		ids := map[int]bool{}
		for _, st := range a.Steps {
			for _, f := range st.Faults {
				if ids[f.ID] {
					t.Errorf("seed %d: fault ID %d twice", seed, f.ID)
				}
				ids[f.ID] = true
			}
		}
	}
	if reflect.DeepEqual(Generate(1), Generate(2)) {
		t.Error("seeds 1 and 2 made the same schedule")
	}
}

func TestDdmin(t *testing.T) {
	all := []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	// Fails when both 3 and 8 are kept.
	got := ddmin(all, func(keep []int) bool { return slices.Contains(keep, 3) && slices.Contains(keep, 8) })
	if !slices.Equal(got, []int{3, 8}) {
		t.Errorf("ddmin = %v, want [3 8]", got)
	}
	if got := ddmin(all, func([]int) bool { return true }); len(got) != 0 {
		t.Errorf("ddmin of a failure that needs nothing = %v, want empty", got)
	}
}

// TestCLI_lifecycle drives the real provider through the emulated CLI with
// no fault: create, update in place, replace, refresh, import and destroy,
// each leaving the state and the API as Terraform would.
func TestCLI_lifecycle(t *testing.T) {
	w := testWorld(t, 7)
	ctx := context.Background()
	b := Block{Name: "b1", Count: 2, InstanceName: "web-%d", Image: simulator.DefaultImageID, Subnets: []string{simulator.DefaultSubnetID},
		Password: "Cx-Lifecycle.9"}
	run := func(kind commandKind, blocks []Block) *outcome {
		t.Helper()
		out := w.cli.run(ctx, command{kind: kind, provider: w.providerValue(creds{}), config: w.configOf(blocks)})
		if !out.OK {
			t.Fatalf("%s failed: %v", kind, out.Diags)
		}
		return out
	}
	ids := func() []string {
		var out []string
		for _, addr := range sortedKeys(w.cli.snapshot()) {
			out = append(out, w.cli.snapshot()[addr].ID)
		}
		return out
	}

	out := run(cmdApply, []Block{b})
	first := ids()
	if len(first) != 2 || out.Actions[b.Address(0)] != actCreate {
		t.Fatalf("after the create: %v, actions %v", first, out.Actions)
	}
	for _, id := range first {
		if in, ok := w.sim.Instance(id); !ok || in.State != "running" {
			t.Errorf("instance %s: %+v", id, in)
		}
	}
	if out := run(cmdApply, []Block{b}); out.Actions[b.Address(0)] != actNoop {
		t.Errorf("a second apply planned %v, want no-op", out.Actions)
	}

	b.Image = simulator.DefaultImageID2 // reinstall in place
	if out := run(cmdApply, []Block{b}); out.Actions[b.Address(1)] != actUpdate || !slices.Equal(ids(), first) {
		t.Errorf("a new image: actions %v, IDs %v; want an update of %v", out.Actions, ids(), first)
	}
	if in, _ := w.sim.Instance(first[1]); in.Image.ID != simulator.DefaultImageID2 {
		t.Errorf("image after the update: %s", in.Image.ID)
	}

	b.InstanceName = "db-%d" // a new name replaces
	out = run(cmdApply, []Block{b})
	second := ids()
	if out.Actions[b.Address(0)] != actReplace || slices.Contains(second, first[0]) || len(out.Deletes) != 2 {
		t.Errorf("a new name: actions %v, IDs %v, deletes %v; want two replacements", out.Actions, second, out.Deletes)
	}
	for _, d := range out.Deletes {
		if d.SimState != "terminated" {
			t.Errorf("the replacement's delete returned while %s was %s", d.ID, d.SimState)
		}
	}

	run(cmdRefresh, []Block{b})
	if got := ids(); !slices.Equal(got, second) {
		t.Errorf("after a refresh: %v, want %v", got, second)
	}

	w.cli.stateRm(b.Address(0))
	if out := w.cli.run(ctx, command{kind: cmdImport, provider: w.providerValue(creds{}), config: w.configOf([]Block{b}),
		importAddr: b.Address(0), importID: second[0]}); !out.OK {
		t.Fatalf("import failed: %v", out.Diags)
	}
	if got := ids(); !slices.Equal(got, second) {
		t.Errorf("after state rm and import: %v, want %v", got, second)
	}

	run(cmdDestroy, []Block{b})
	if n := len(w.cli.snapshot()); n != 0 {
		t.Errorf("%d objects after the destroy", n)
	}
	for _, id := range second {
		if in, ok := w.sim.Instance(id); ok && in.State != "terminated" {
			t.Errorf("instance %s is %s after the destroy", id, in.State)
		}
	}
}

// TestCLI_interruptedCreateIsTainted: Ctrl-C during the wait for running
// stores the object the provider returned with its error, tainted, and the
// next apply replaces it.
func TestCLI_interruptedCreateIsTainted(t *testing.T) {
	w := testWorld(t, 8)
	b := Block{Name: "b1", Count: 1, InstanceName: "web", Image: simulator.DefaultImageID, Subnets: []string{simulator.DefaultSubnetID},
		Password: "Cx-Interrupt.9"}
	// Ctrl-C once the instance exists, while the provider waits for it
	// to run (the install takes 0.6 s).
	ctrlC := make(chan struct{})
	go func() {
		for deadline := time.Now().Add(30 * time.Second); len(w.sim.Instances()) == 0 && time.Now().Before(deadline); {
			time.Sleep(5 * time.Millisecond)
		}
		close(ctrlC)
	}()
	out := w.cli.run(context.Background(), command{kind: cmdApply, provider: w.providerValue(creds{}),
		config: w.configOf([]Block{b}), interrupt: ctrlC})
	if out.OK || !out.Interrupted {
		t.Fatalf("the interrupted apply: %+v", out)
	}
	obj, ok := w.cli.snapshot()[b.Address(0)]
	if !ok || !obj.Tainted || !isUUID(obj.ID) {
		t.Fatalf("after Ctrl-C the state holds %+v; want the instance, tainted", obj)
	}
	out = w.cli.run(context.Background(), command{kind: cmdApply, provider: w.providerValue(creds{}), config: w.configOf([]Block{b})})
	if !out.OK || out.Actions[b.Address(0)] != actReplace {
		t.Errorf("the next apply: ok %v, actions %v; want a replacement", out.OK, out.Actions)
	}
}

// testWorld is a simulator and the emulated CLI, for a test that drives
// commands by hand.
func testWorld(t *testing.T, seed uint64) *world {
	t.Helper()
	clearProviderEnv(t)
	w := newWorld(Schedule{Seed: seed, MaxRetries: -1, Retention: 5 * time.Minute}, Mask{}, Options{})
	if err := w.setUp(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.tearDownWorld)
	return w
}
