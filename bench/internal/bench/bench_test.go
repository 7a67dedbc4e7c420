package bench

import (
	"strings"
	"testing"
	"time"
)

func TestMakespan(t *testing.T) {
	t.Parallel()
	s := time.Second
	tests := []struct {
		name      string
		durations []time.Duration
		p         int
		want      time.Duration
	}{
		{"equal durations: ceil(N/p)·T", []time.Duration{5 * s, 5 * s, 5 * s, 5 * s, 5 * s}, 2, 15 * s},
		{"fewer tasks than workers", []time.Duration{3 * s, 7 * s}, 10, 7 * s},
		{"the next task goes to the first free worker", []time.Duration{10 * s, 2 * s, 2 * s, 2 * s}, 2, 10 * s},
		{"in order, not sorted", []time.Duration{2 * s, 2 * s, 10 * s, 10 * s}, 2, 12 * s},
		{"nothing", nil, 3, 0},
	}
	for _, tc := range tests {
		if got := makespan(tc.durations, tc.p); got != tc.want {
			t.Errorf("%s: makespan = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestPercentile(t *testing.T) {
	t.Parallel()
	var ds []time.Duration
	for i := 100; i >= 1; i-- {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	for p, want := range map[int]time.Duration{50: 50 * time.Millisecond, 95: 95 * time.Millisecond, 100: 100 * time.Millisecond} {
		if got := percentile(ds, p); got != want {
			t.Errorf("p%d = %v, want %v", p, got, want)
		}
	}
	// Ten values: the 95th percentile by nearest rank is the largest.
	if got := percentile(ds[90:], 95); got != 10*time.Millisecond {
		t.Errorf("p95 of ten = %v, want the largest, 10ms", got)
	}
	if got := percentile(nil, 95); got != 0 {
		t.Errorf("p95 of nothing = %v", got)
	}
}

func TestDestroyedAt(t *testing.T) {
	t.Parallel()
	out := strings.Join([]string{
		`{"@level":"info","@message":"Terraform 1.5.7","@timestamp":"2026-12-06T10:00:00.000000Z","type":"version"}`,
		`{"@timestamp":"2026-12-06T10:00:05.250000Z","type":"apply_complete","hook":{"resource":{"addr":"clouddc_instance.fleet[3]"},"action":"delete","elapsed_seconds":5}}`,
		`{"@timestamp":"2026-12-06T10:00:06.000000Z","type":"apply_complete","hook":{"resource":{"addr":"clouddc_instance.fleet[12]"},"action":"create"}}`,
		`{"@timestamp":"2026-12-06T10:00:07.125000Z","type":"apply_errored","hook":{"resource":{"addr":"clouddc_instance.fleet[4]"},"action":"delete"}}`,
		`not json`,
		`{"@timestamp":"2026-12-06T10:00:08.000000Z","type":"apply_complete","hook":{"resource":{"addr":"clouddc_instance.other[1]"},"action":"delete"}}`,
	}, "\n")
	got := destroyedAt([]byte(out))
	want := time.Date(2026, 12, 6, 10, 0, 5, 250_000_000, time.UTC)
	if len(got) != 1 || !got[3].Equal(want) {
		t.Errorf("destroyedAt = %v; want only fleet[3] at %v", got, want)
	}
}

func TestReport_targets(t *testing.T) {
	t.Parallel()
	sc := Scenario{Op: OpDestroy, Instances: 10, Parallelism: 10, Median: time.Minute}
	rep := &Report{Results: []Result{
		{Scenario: sc, Scheduler: Provider, LagP95: 900 * time.Millisecond, StatusPerInstance: 11, Floor: 11.5},
		{Scenario: sc, Scheduler: SCC, StatusPerInstance: 13},
		{Scenario: sc, Scheduler: HW, StatusPerInstance: 6},
	}}
	targets := strings.Join(rep.Targets(), "\n")
	for _, want := range []string{
		"notice lag p95 ≤ 1s in every scenario: met (worst 0.90s",
		"cannot be met together with the lag target",
		"destroy 10, p10, 1m0s (11.00 > 6.00; floor 11.50)",
	} {
		if !strings.Contains(targets, want) {
			t.Errorf("the targets do not say %q:\n%s", want, targets)
		}
	}
	rep.Results[0].Floor = 4
	if targets := strings.Join(rep.Targets(), "\n"); !strings.Contains(targets, "above it although the 1 s floor is below it") {
		t.Errorf("a miss the floor does not explain is not called one:\n%s", targets)
	}
}

func TestPlanProfile_ours(t *testing.T) {
	t.Parallel()
	p := PlanProfile{Top: []ProfileLine{
		{Function: "github.com/hashicorp/terraform-plugin-framework/internal/fwserver.SchemaModifyPlan", Cum: 0.30},
		{Function: "github.com/hashicorp/terraform-plugin-framework-validators/internal/configvalidator.ExactlyOneOfValidator.ValidateResource", Cum: 0.07},
		{Function: "github.com/hashicorp/terraform-plugin-framework-validators/internal/configvalidator.ExactlyOneOfValidator.Validate", Cum: 0.07},
		{Function: "github.com/clouddc-tf/terraform-provider-clouddc/internal/provider.keptUnlessUpdated.PlanModifyString (inline)", Cum: 0.02},
		{Function: "github.com/clouddc-tf/terraform-provider-clouddc/internal/provider.readUpdateGoal", Cum: 0.015},
	}}
	if got := p.Ours(); got < 0.0899 || got > 0.0901 {
		t.Errorf("Ours = %v; want the two entry points' 0.07 + 0.02, without what they call", got)
	}
	if got := p.ownLines(10); len(got) != 4 {
		t.Errorf("ownLines = %v; want the four functions of the provider and its validators", got)
	}
}
