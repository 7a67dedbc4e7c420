package provider

import (
	"context"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/action"
	"github.com/hashicorp/terraform-plugin-framework/list"

	"github.com/clouddc-tf/terraform-provider-clouddc/internal/clouddc"
)

func TestProgressReporter(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var msgs []string
	send := func(e action.InvokeProgressEvent) {
		mu.Lock()
		defer mu.Unlock()
		msgs = append(msgs, e.Message)
	}
	messages := func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), msgs...)
	}
	waitFor := func(n int) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for len(messages()) < n {
			if time.Now().After(deadline) {
				t.Fatalf("got %d messages, want %d: %q", len(messages()), n, messages())
			}
			time.Sleep(time.Millisecond)
		}
	}

	_, p := startProgressEvery(context.Background(), send, "instance i-1", time.Millisecond, time.Second)
	observe := p.observe
	p.sayNow("powering off physical server s-1")
	observe(clouddc.Observation{State: "running", OperationState: "install-succeed"})
	waitFor(2)
	// The same state again is no news: nothing until the heartbeat.
	observe(clouddc.Observation{State: "running", OperationState: "install-succeed"})
	waitFor(3)
	observe(clouddc.Observation{State: "stopped", OperationState: "reinstall-processing"})
	waitFor(4)
	p.say("powered off; the instance is stopped")
	p.stop() // safe after say
	got := messages()

	want := []*regexp.Regexp{
		regexp.MustCompile(`^instance i-1: powering off physical server s-1 \(0s elapsed\)$`),
		regexp.MustCompile(`^instance i-1: running \(0s elapsed\)$`),         // install-succeed is not this wait's news
		regexp.MustCompile(`^instance i-1: still running \(\d+s elapsed\)$`), // after the heartbeat
		regexp.MustCompile(`^instance i-1: stopped, reinstall-processing \(\d+s elapsed\)$`),
		regexp.MustCompile(`^instance i-1: powered off; the instance is stopped \(\d+s elapsed\)$`),
	}
	if len(got) != len(want) {
		t.Fatalf("messages:\n%s\nwant %d", strings.Join(got, "\n"), len(want))
	}
	for i, re := range want {
		if !re.MatchString(got[i]) {
			t.Errorf("message %d = %q; want %s", i, got[i], re)
		}
	}
}

// TestActions_unconfigured: an action or a list resource whose provider
// has no client (its configuration is not known yet) says so instead of
// crashing.
func TestActions_unconfigured(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, a := range []action.Action{NewInstancePowerOnAction(), NewInstancePowerOffAction(), NewInstanceRebootAction(), NewInstanceReinstallAction()} {
		var resp action.InvokeResponse
		a.Invoke(ctx, action.InvokeRequest{}, &resp)
		if !resp.Diagnostics.HasError() || resp.Diagnostics.Errors()[0].Summary() != "Provider Not Configured" {
			t.Errorf("%T: diagnostics = %v; want Provider Not Configured", a, resp.Diagnostics)
		}
	}
	var stream list.ListResultsStream
	NewInstanceListResource().List(ctx, list.ListRequest{}, &stream)
	n := 0
	for r := range stream.Results {
		n++
		if !r.Diagnostics.HasError() || r.Diagnostics.Errors()[0].Summary() != "Provider Not Configured" {
			t.Errorf("list result diagnostics = %v; want Provider Not Configured", r.Diagnostics)
		}
	}
	if n != 1 {
		t.Errorf("the list streamed %d results; want 1 with the error", n)
	}
}
