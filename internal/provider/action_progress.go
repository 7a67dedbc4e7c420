package provider

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/action"

	"github.com/clouddc-tf/terraform-provider-clouddc/internal/clouddc"
)

// Actions (Terraform 1.14 and later) can print progress while they run,
// which a resource cannot. progressReporter turns the statuses that the
// client's waits read into messages such as
//
//	instance 2f6a…: stopping (12s elapsed)
//
// sent when the state changes, and at least every heartbeat while it does
// not, so that a long wait never looks hung.
type progressReporter struct {
	send      func(action.InvokeProgressEvent)
	subject   string // "instance <id>"
	start     time.Time
	tick      time.Duration
	heartbeat time.Duration

	mu       sync.Mutex
	latest   *clouddc.Observation
	lastSent string
	sentAt   time.Time

	stopCh chan struct{}
	done   chan struct{}
}

// progressTick is how often the reporter looks for news, and
// progressHeartbeat how long it stays silent at most.
const (
	progressTick      = time.Second
	progressHeartbeat = 30 * time.Second
)

// startProgress starts reporting the waits under the returned context.
// stop must be called before Invoke returns: the framework's SendProgress
// may not be called after that.
func startProgress(ctx context.Context, send func(action.InvokeProgressEvent), subject string) (context.Context, *progressReporter) {
	return startProgressEvery(ctx, send, subject, progressTick, progressHeartbeat)
}

func startProgressEvery(ctx context.Context, send func(action.InvokeProgressEvent), subject string, tick, heartbeat time.Duration) (context.Context, *progressReporter) {
	p := &progressReporter{send: send, subject: subject, start: time.Now(), tick: tick, heartbeat: heartbeat,
		stopCh: make(chan struct{}), done: make(chan struct{})}
	p.sentAt = p.start
	go p.loop()
	return clouddc.WithObserver(ctx, p.observe), p
}

// observe is the client's observer: it only stores the status (the client
// calls it under its locks).
func (p *progressReporter) observe(o clouddc.Observation) {
	p.mu.Lock()
	p.latest = &o
	p.mu.Unlock()
}

func (p *progressReporter) loop() {
	defer close(p.done)
	t := time.NewTicker(p.tick)
	defer t.Stop()
	for {
		select {
		case <-p.stopCh:
			return
		case <-t.C:
			p.report(false)
		}
	}
}

// report sends the latest status when it is news, or when nothing was
// sent for a heartbeat (always when final).
func (p *progressReporter) report(final bool) {
	p.mu.Lock()
	o := p.latest
	now := time.Now()
	var state string
	if o != nil {
		state = o.State
		// Only an operation in progress is news; the outcome of the last
		// one (install-succeed, say) says nothing about this wait.
		if strings.HasSuffix(o.OperationState, "-processing") {
			state += ", " + o.OperationState
		}
	}
	news := state != "" && state != p.lastSent
	if !news && now.Sub(p.sentAt) < p.heartbeat && !final {
		p.mu.Unlock()
		return
	}
	p.lastSent, p.sentAt = state, now
	p.mu.Unlock()
	elapsed := now.Sub(p.start).Round(time.Second)
	switch {
	case state == "":
		p.msg(fmt.Sprintf("%s: waiting for its first status (%s elapsed)", p.subject, elapsed))
	case news || final:
		p.msg(fmt.Sprintf("%s: %s (%s elapsed)", p.subject, state, elapsed))
	default:
		p.msg(fmt.Sprintf("%s: still %s (%s elapsed)", p.subject, state, elapsed))
	}
}

// msg sends one message. Only the reporter's goroutine sends while it
// runs, and only Invoke's goroutine after stop, so sends never overlap.
func (p *progressReporter) msg(m string) {
	p.send(action.InvokeProgressEvent{Message: m})
}

// stop ends the reporting; it is safe to call more than once.
func (p *progressReporter) stop() {
	select {
	case <-p.stopCh:
	default:
		close(p.stopCh)
	}
	<-p.done
}

// say stops the background reports, if still running, and sends m with
// the time elapsed since the action started.
func (p *progressReporter) say(m string) {
	p.stop()
	p.msg(fmt.Sprintf("%s: %s (%s elapsed)", p.subject, m, time.Since(p.start).Round(time.Second)))
}

// sayNow sends m while the background reports run: between the steps of an
// action, before the next wait starts. It stops and restarts the loop so
// that two sends never overlap.
func (p *progressReporter) sayNow(m string) {
	p.stop()
	p.msg(fmt.Sprintf("%s: %s (%s elapsed)", p.subject, m, time.Since(p.start).Round(time.Second)))
	p.mu.Lock()
	p.sentAt = time.Now()
	p.mu.Unlock()
	p.stopCh, p.done = make(chan struct{}), make(chan struct{})
	go p.loop()
}
