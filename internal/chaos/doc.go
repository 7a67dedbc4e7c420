// Package chaos proves the provider against random fault schedules: a seed
// becomes a schedule of Terraform commands and API misbehaviours, the
// schedule runs against the real provider and the simulator in process,
// and invariants are checked after every step. make chaos SEED=<n>
// SEEDS=<k> runs k schedules; a failure is shrunk to the smallest schedule
// that still fails, and printed with a Pin for pinned_test.go.
//
// # The CLI
//
// core.go emulates Terraform core over the plugin protocol (tfprotov6),
// as Terraform 1.14's node_resource_abstract_instance.go calls a provider:
// a fresh provider server per command, UpgradeResourceState and
// ConfigureProvider first, refresh before plan, the proposed new state
// built from the configuration and the prior state, RequiresReplace and
// tainted objects turned into replacements, a second plan at apply time,
// failed creates stored tainted, Ctrl-C as StopProvider plus cancelled
// calls, parallelism 10. A schedule emulates either a CLI with resource
// identity (Terraform 1.14: identities sent and stored) or one without
// (Terraform 1.5.7, OpenTofu). The checker reads nothing of a stored
// object but its id and the attributes its configuration sets; private
// state is opaque bytes.
//
// # Time
//
// Everything runs Options.Scale (100) times faster than the API: the
// simulator's durations, the schedule's faults and Ctrl-Cs, and the
// client's poll schedule, create lookup and retry delays (through
// provider.NewWithClientOptions). The client's HTTP timeout is scaled too,
// but kept at two seconds at least, so that a busy machine does not make a
// healthy request time out. A few of the client's own bounds are not
// options and so not scaled (the one-minute wait for a new instance to be
// listed, the refresh snapshot's two seconds, some one-minute contexts);
// they make some waits relatively longer than in production, never
// shorter.
//
// # Fairness
//
// The API contract lets a create land up to a minute after the client
// gave up on it. A late create answered 504 at once lands within a minute;
// one held with no answer lands within 90 s when the step presses no
// Ctrl-C (the client's HTTP timeout then gives up later than that), and
// within a minute when it does (the request was in flight at the Ctrl-C).
// An instance that lands after a command started may not have been seen
// by it, so invariant 2 gives it one more command before it counts as
// forgotten; after the final destroy the checker waits until every late
// or replayed request has landed.
//
// # Steps are independent
//
// Each step's faults and settings end with the step, so that removing a
// fault while shrinking removes all of it; requests carried out late
// (Late, Replay) still land when they were due.
package chaos
