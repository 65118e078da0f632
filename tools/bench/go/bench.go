// SPDX-License-Identifier: GPL-2.0

// Package main is gobench: the Go peer of usched's benchmarks (see
// tools/bench/run).  Each workload does the same work as the C programs
// tools/bench/c/usched/ubench.c (usched) and tools/bench/c/pthread/cbench.c
// (plain threads), with goroutines, channels and runtime.Gosched, using the
// standard library only.  It is built static (CGO_ENABLED=0) so that the
// same binary runs on the host and in the VM.
//
// Output: one line per repetition, in the format of tools/bench/c/common/bench.h:
//
//	BENCH suite=gobench name=<workload> impl=go unit=<unit> value=<v> rep=<r> [key=value...]
//
// Clock: CLOCK_MONOTONIC (the runtime's nanotime, read through time.Since
// of a monotonic base).
package main

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const suite = "gobench"

var base = time.Now()

// nanotime is CLOCK_MONOTONIC in nanoseconds since the program started.
func nanotime() int64 { return int64(time.Since(base)) }

// sink keeps results alive: it is printed at exit, so no work is dead.
var sink uint64

func line(name, impl, unit string, value float64, extra string) {
	if extra != "" {
		extra = " " + extra
	}
	fmt.Printf("BENCH suite=%s name=%s impl=%s unit=%s value=%s%s\n",
		suite, name, impl, unit, strconv.FormatFloat(value, 'g', 6, 64), extra)
}

// samples of a latency, in nanoseconds.
type samples []int64

func (s samples) sorted() samples {
	c := append(samples(nil), s...)
	sort.Slice(c, func(i, j int) bool { return c[i] < c[j] })
	return c
}

// q is the nearest-rank quantile of sorted samples (as bench.h's samples_q).
func (s samples) q(q float64) int64 {
	if len(s) == 0 {
		return 0
	}
	i := int(q*float64(len(s)) + 0.5)
	if i > 0 {
		i--
	}
	if i >= len(s) {
		i = len(s) - 1
	}
	return s[i]
}

// lat prints one latency repetition: value=p50, with p99, max and n.
func lat(name, impl string, s samples, rep int) {
	s = s.sorted()
	line(name, impl, "ns", float64(s.q(0.5)), fmt.Sprintf("p50=%d p99=%d max=%d n=%d rep=%d",
		s.q(0.5), s.q(0.99), s.q(1), len(s), rep))
}

// cdf prints the distribution of all repetitions' samples.
func cdf(name, impl string, s samples) {
	if len(s) == 0 {
		return
	}
	s = s.sorted()
	qs := []float64{0.01, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9,
		0.95, 0.98, 0.99, 0.995, 0.999, 1.0}
	var b strings.Builder
	for i, q := range qs {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%s:%d", strconv.FormatFloat(q, 'g', -1, 64), s.q(q))
	}
	line(name, impl, "ns", float64(s.q(0.5)), fmt.Sprintf("n=%d cdf=%s", len(s), b.String()))
}

// rss is the resident set size of this process, bytes (/proc/self/statm).
func rss() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		die("read /proc/self/statm: %v", err)
	}
	f := strings.Fields(string(b))
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}

// raiseNofile lifts RLIMIT_NOFILE to n, or to the hard limit where this
// process may not raise that (a container); returns the limit now.
func raiseNofile(n uint64) uint64 {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
		die("getrlimit: %v", err)
	}
	if r.Cur >= n {
		return r.Cur
	}
	w := r
	w.Cur = n
	if w.Max < n {
		w.Max = n
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &w); err == nil {
		return n
	}
	r.Cur = r.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
		die("setrlimit(RLIMIT_NOFILE, %d): %v", r.Max, err)
	}
	return r.Max
}

func die(f string, a ...any) {
	fmt.Fprintf(os.Stderr, "gobench: "+f+"\n", a...)
	os.Exit(1)
}

func note(f string, a ...any) {
	fmt.Printf("# "+f+"\n", a...)
}

func median(v []float64) float64 {
	c := append([]float64(nil), v...)
	sort.Float64s(c)
	n := len(c)
	if n == 0 {
		return 0
	}
	if n%2 == 1 {
		return c[n/2]
	}
	return (c[n/2-1] + c[n/2]) / 2
}
