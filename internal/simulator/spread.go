package simulator

import (
	"errors"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"time"
)

// Real installs and disk wipes do not all take the same time: one server
// is quicker than the next, and a few take much longer. With every
// operation ending after exactly its configured duration, a client that
// polls on a fixed period in step with that duration looks better than it
// is. Spread draws each instance's durations from a log-normal
// distribution instead, whose median is the configured duration.

// zP95 is the 95th percentile of the standard normal distribution.
const zP95 = 1.6448536269514722

// Spread makes operation durations vary from instance to instance. The
// zero value (or P95 of 1) keeps them exact.
type Spread struct {
	// P95 is the 95th percentile of a duration as a multiple of its
	// median (the configured duration): 2 means one operation in twenty
	// takes more than twice as long. It must be at least 1.
	P95 float64
	// Seed picks the draw. Two simulators with the same seed give an
	// instance of the same name the same durations, whatever order the
	// requests arrive in, so that runs against separate simulators face
	// the same servers.
	Seed uint64
}

func (sp Spread) validate() error {
	if sp.P95 != 0 && (sp.P95 < 1 || math.IsNaN(sp.P95) || math.IsInf(sp.P95, 0)) {
		return errors.New("simulator: Spread.P95 must be at least 1 (1 or 0: every duration exactly as configured)")
	}
	return nil
}

// Factor is what an operation of kind ("create", "delete", "reinstall",
// "modify-ip") on the instance named name takes, as a multiple of the
// configured duration: exp(σ·z), with z drawn from a standard normal
// distribution seeded by Seed, kind and name, and σ set so that the 95th
// percentile is P95. Its median is 1, its mean exp(σ²/2).
func (sp Spread) Factor(kind, name string) float64 {
	if sp.P95 <= 1 {
		return 1
	}
	h := fnv.New64a()
	_, _ = h.Write([]byte(kind + "\x00" + name))                 // a hash never fails to write
	z := rand.New(rand.NewPCG(sp.Seed, h.Sum64())).NormFloat64() //nolint:gosec // G404: a reproducible draw of durations, not cryptography
	return math.Exp(math.Log(sp.P95) / zP95 * z)
}

// spreadLocked is when transition t of r ends once spread: its duration
// from now, as scheduled, times the instance's factor. Purges (the
// retention of terminated instances) and held deletions are not
// operations of a server and keep their times.
func (s *Simulator) spreadLocked(r *record, t *transition) time.Time {
	if t.Held || t.Kind == kindPurge || s.opts.Spread.P95 <= 1 {
		return t.At
	}
	now := s.now()
	d := t.At.Sub(now)
	if d <= 0 {
		return t.At
	}
	return now.Add(time.Duration(float64(d) * s.opts.Spread.Factor(t.Kind, r.Instance.Name)))
}
