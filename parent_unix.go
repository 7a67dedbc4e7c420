//go:build !windows

package main

import (
	"os"
	"time"
)

// parentGone returns a channel that is closed once the process ppid, this
// process's parent when it started, is gone. On Unix an orphan is adopted
// by init or a subreaper at once, so its parent process ID changes: that
// is the signal, read every interval. (PR_SET_PDEATHSIG would fire when the
// thread that started us ends, not the process, and is Linux only.)
func parentGone(ppid int, interval time.Duration) <-chan struct{} {
	if ppid <= 1 {
		// Started by init, or already orphaned: there is no parent to
		// watch.
		return nil
	}
	gone := make(chan struct{})
	go func() {
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for range tick.C {
			if os.Getppid() != ppid {
				close(gone)
				return
			}
		}
	}()
	return gone
}
