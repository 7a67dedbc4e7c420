package clouddc

import (
	"context"
	"time"
)

// Observation is one status that a wait read: what a caller shows as
// progress while it waits.
type Observation struct {
	// ID is the instance or physical server waited for.
	ID string
	// Goal describes the awaited change, such as "become running".
	Goal string
	// State is the instance's state, or the physical server's power state.
	State string
	// OperationState is the instance's operation_state ("" for servers).
	OperationState string
	// Elapsed is how long the wait has run.
	Elapsed time.Duration
}

type observerKey struct{}

// WithObserver returns a context under which every wait of the client
// reports each status it reads to f, so that a caller can show progress.
// f is called while the client holds locks: it must return at once (store
// the observation and report it from elsewhere).
func WithObserver(ctx context.Context, f func(Observation)) context.Context {
	return context.WithValue(ctx, observerKey{}, f)
}

// observe reports o to the observer of ctx, if any.
func observe(ctx context.Context, o Observation) {
	if f, ok := ctx.Value(observerKey{}).(func(Observation)); ok && f != nil {
		f(o)
	}
}
