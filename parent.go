package main

import (
	"os"
	"time"
)

// parentPollInterval is how often the provider looks whether Terraform is
// still there (a system call; see exitWithParent).
const parentPollInterval = 500 * time.Millisecond

// exitWithParent ends this process soon after the process that started it
// is gone.
//
// Terraform and OpenTofu start the provider through go-plugin and end it
// with a Shutdown call when they finish. A CLI that crashes, or is killed,
// never makes that call, and go-plugin's server has no other way to stop:
// it serves its socket until the end of time, with whatever it was doing
// (a wait, a create lookup) carrying on for nobody. Nothing the provider
// does after that can reach the state, so the provider stops at once.
//
// exit is called at most once, from another goroutine; the watch is off
// when the parent cannot be watched (see parentGone).
func exitWithParent(exit func()) {
	gone := parentGone(os.Getppid(), parentPollInterval)
	if gone == nil {
		return
	}
	go func() {
		<-gone
		exit()
	}()
}
