//go:build !unix

package bench

import (
	"os"
	"time"
)

// peakRSS is not known on this system.
func peakRSS(*os.ProcessState) int64 { return 0 }

// selfCPU is not known on this system.
func selfCPU() time.Duration { return 0 }
