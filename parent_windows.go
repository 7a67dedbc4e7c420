//go:build windows

package main

import (
	"errors"
	"syscall"
	"time"
)

// errInvalidParameter is ERROR_INVALID_PARAMETER, OpenProcess's answer for
// a process ID that no process has.
const errInvalidParameter = syscall.Errno(87)

// parentGone returns a channel that is closed once the process ppid, this
// process's parent when it started, has exited. Windows does not re-parent
// orphans, so the provider holds a handle to its parent and waits on it.
// When the parent cannot be opened for that (access denied), it returns
// nil: nothing is watched.
func parentGone(ppid int, _ time.Duration) <-chan struct{} {
	gone := make(chan struct{})
	h, err := syscall.OpenProcess(syscall.SYNCHRONIZE, false, uint32(ppid)) //nolint:gosec // G115: a process ID fits in a DWORD
	if err != nil {
		if errors.Is(err, errInvalidParameter) {
			// No process has that ID any more: the parent is gone.
			close(gone)
			return gone
		}
		return nil
	}
	go func() {
		defer syscall.CloseHandle(h) //nolint:errcheck // nothing to do about a failed close on the way out
		if _, err := syscall.WaitForSingleObject(h, syscall.INFINITE); err == nil {
			close(gone)
		}
	}()
	return gone
}
