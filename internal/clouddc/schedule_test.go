package clouddc

import (
	"testing"
	"time"
)

// The schedule's decisions, on a watcher with made-up waits: no HTTP, no
// timers, so each rule is checked exactly.

var scheduleTest = PollSchedule{Delay: time.Second, Interval: time.Second, MinInterval: 250 * time.Millisecond, MaxInterval: 10 * time.Second}

func scheduleWatcher(t *testing.T) *watcher {
	t.Helper()
	c, err := NewClient(WithEndpoint("http://127.0.0.1:1"), WithProjectID("p"), WithToken("t"), WithPollSchedule(scheduleTest))
	if err != nil {
		t.Fatal(err)
	}
	return newWatcher(c)
}

const goal = "be terminated"

func (w *watcher) addWaits(n int, start time.Time) []*sub {
	subs := make([]*sub, n)
	for i := range subs {
		subs[i] = &sub{id: "i", spec: waitSpec{goal: goal}, start: start}
		w.subs[subs[i]] = struct{}{}
	}
	return subs
}

func TestLearner_window(t *testing.T) {
	t.Parallel()
	var l *learner
	if _, _, ok := l.window(); ok {
		t.Error("nothing learned, yet a window")
	}
	l = &learner{}
	for _, d := range []time.Duration{40 * time.Second, time.Minute, 100 * time.Second} {
		l.add(d)
	}
	lo, hi, ok := l.window()
	if !ok || lo != 30*time.Second || hi != 200*time.Second {
		t.Errorf("window = %v, %v, %v; want from 3/4 of the quickest (30s) to twice the longest (200s)", lo, hi, ok)
	}
	for range learnWindow {
		l.add(time.Minute)
	}
	if lo, hi, _ := l.window(); lo != 45*time.Second || hi != 2*time.Minute {
		t.Errorf("window = %v, %v; want only the last %d durations to count", lo, hi, learnWindow)
	}
}

func TestWatcher_schedule(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(d time.Duration) time.Time { return start.Add(d) }

	t.Run("nothing learned: every second for a minute, then less often", func(t *testing.T) {
		t.Parallel()
		w := scheduleWatcher(t)
		s := w.addWaits(1, start)[0]
		if got := w.firstPollLocked(s); !got.Equal(at(time.Second)) || !s.early {
			t.Errorf("first look at %v (early %v); want after the 1s delay, early", got.Sub(start), s.early)
		}
		if got := w.nextPollLocked(s, at(30*time.Second)); got.Sub(at(30*time.Second)) != time.Second || s.early {
			t.Errorf("at 30s the next look is %v later; want a second", got.Sub(at(30*time.Second)))
		}
		if got := w.nextPollLocked(s, at(3*time.Minute)); got.Sub(at(3*time.Minute)) != 3*time.Second {
			t.Errorf("at 3m the next look is %v later; want a sixtieth of the time waited", got.Sub(at(3*time.Minute)))
		}
	})

	t.Run("learned: early looks, then every second, then less often", func(t *testing.T) {
		t.Parallel()
		w := scheduleWatcher(t)
		w.learned[goal] = &learner{recent: []time.Duration{40 * time.Second, 80 * time.Second}} // window 30s to 160s
		s := w.addWaits(1, start)[0]
		if got := w.firstPollLocked(s); !got.Equal(at(10*time.Second)) || !s.early {
			t.Errorf("first look at %v; want an early look after MaxInterval, before the window opens at 30s", got.Sub(start))
		}
		if got := w.nextPollLocked(s, at(25*time.Second)); !got.Equal(at(30*time.Second)) || !s.early {
			t.Errorf("at 25s the next look is at %v (early %v); want the window's start, 30s, early", got.Sub(start), s.early)
		}
		if got := w.nextPollLocked(s, at(100*time.Second)); got.Sub(at(100*time.Second)) != time.Second || s.early {
			t.Errorf("at 100s the next look is %v later (early %v); want a second, not early", got.Sub(at(100*time.Second)), s.early)
		}
		if got := w.nextPollLocked(s, at(10*time.Minute)); got.Sub(at(10*time.Minute)) != 10*time.Second {
			t.Errorf("at 10m, past the window, the next look is %v later; want MaxInterval", got.Sub(at(10*time.Minute)))
		}
	})

	t.Run("many waits look more often, at the cost of one look each per MaxInterval", func(t *testing.T) {
		t.Parallel()
		for _, tc := range []struct {
			waits int
			want  time.Duration
		}{
			{1, time.Second},              // a lone wait: every Interval, not every 10s
			{10, time.Second},             // ten waits in one call a second: what 10s each would cost
			{20, 500 * time.Millisecond},  // twenty: two calls a second would still be one per 10s each
			{50, 250 * time.Millisecond},  // never more often than MinInterval
			{150, 250 * time.Millisecond}, // two calls a sweep
		} {
			w := scheduleWatcher(t)
			w.addWaits(tc.waits, start)
			if got := w.denseIntervalLocked(); got != tc.want {
				t.Errorf("%d waits: dense interval %v, want %v", tc.waits, got, tc.want)
			}
		}
	})

	t.Run("an early look joins a sweep that comes soon, and never holds one back", func(t *testing.T) {
		t.Parallel()
		w := scheduleWatcher(t)
		subs := w.addWaits(2, start)
		firm, early := subs[0], subs[1]
		early.early = true
		for _, tc := range []struct {
			name        string
			firm, early time.Duration
			want        time.Duration
		}{
			{"early look shortly before the sweep waits for it", 10 * time.Second, 9700 * time.Millisecond, 10 * time.Second},
			{"early look long before the sweep is taken", 10 * time.Second, 9 * time.Second, 9 * time.Second},
			{"early look after the sweep does not delay it", 10 * time.Second, 10300 * time.Millisecond, 10 * time.Second},
		} {
			firm.next, early.next = at(tc.firm), at(tc.early)
			if got := w.nextSweepLocked(); !got.Equal(at(tc.want)) {
				t.Errorf("%s: sweep at %v, want %v", tc.name, got.Sub(start), tc.want)
			}
		}
		delete(w.subs, firm)
		if got := w.nextSweepLocked(); !got.Equal(early.next) {
			t.Errorf("only an early look left: sweep at %v, want its own time", got.Sub(start))
		}
	})
}
