// cpuprog writes a CPU profile of itself (runtime/pprof) to the file its argument names: two busy
// functions, one calling the other, run until the process has used 600 ms of CPU time
// (test/pprof-consumers.test.ts imports the profile).
package main

import (
	"os"
	"runtime/pprof"
	"syscall"
	"time"
)

var sink float64

func inner(n int) float64 {
	s := 0.0
	for i := 0; i < n; i++ {
		s += float64(i%7) * 1.0001
	}
	return s
}

func outer() {
	for k := 0; k < 50; k++ {
		sink += inner(20000)
	}
	for i := 0; i < 500000; i++ {
		sink += float64(i%3) * 0.5
	}
}

func cpuUsed() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func main() {
	f, err := os.Create(os.Args[1])
	if err != nil {
		panic(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		panic(err)
	}
	start := cpuUsed()
	for cpuUsed()-start < 600*time.Millisecond {
		outer()
	}
	pprof.StopCPUProfile()
	f.Close()
}
