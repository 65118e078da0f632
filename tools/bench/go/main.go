// SPDX-License-Identifier: GPL-2.0

package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
)

// Sizes of each workload: full (make bench), quick (--quick), smoke
// (make bench-smoke).  The C programs use the same table (bench.h users
// copy it: tools/bench/c/common/sizes.h).
type sizes struct {
	reps                int
	spawnN              int // tasks spawned and joined
	yieldK              int // yields per task (2 tasks)
	chanK               int // round trips (2 messages each)
	memN                int // parked tasks
	sysblockN           int // samples per repetition
	tickerMs            int // ticker run per repetition, ms of wall time
	fanoutPairs, fanout int // socket pairs, round trips per pair
	forkjoinJobs        int // jobs per repetition (64 subtasks each)
}

var table = map[string]sizes{
	"full":  {5, 1000000, 500000, 200000, 1000000, 300, 2000, 10000, 20, 4},
	"quick": {3, 100000, 100000, 50000, 100000, 100, 300, 2000, 5, 2},
	"smoke": {1, 10000, 10000, 5000, 10000, 20, 50, 100, 5, 1},
}

const (
	forkjoinTasks = 64     // subtasks of one job
	forkjoinIters = 200000 // hash rounds of one subtask
)

var (
	sz    sizes
	reps  int
	nOver int
	procs []int
)

var workloads = map[string]func(){
	"spawn":    spawnJoin,
	"yield":    switchYield,
	"chan":     switchChan,
	"mem":      memParked,
	"sysblock": syscallBlock,
	"ticker":   tickerLateness,
	"fanout":   fanoutIO,
	"forkjoin": forkJoin,
}

func usage() {
	var names []string
	for n := range workloads {
		names = append(names, n)
	}
	fmt.Fprintf(os.Stderr, "usage: gobench WORKLOAD [-q|-s] [-r REPS] [-n SIZE] [-p 1,2,...]\nworkloads: %s\n",
		strings.Join(names, " "))
	os.Exit(2)
}

// n is the workload's size unless -n overrides it.
func n(def int) int {
	if nOver > 0 {
		return nOver
	}
	return def
}

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	run, ok := workloads[os.Args[1]]
	if !ok {
		usage()
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	quick := fs.Bool("q", false, "quick sizes")
	smoke := fs.Bool("s", false, "smoke sizes (one tiny repetition)")
	fs.IntVar(&reps, "r", 0, "repetitions (0: the size table's)")
	fs.IntVar(&nOver, "n", 0, "size of the workload (0: the size table's)")
	plist := fs.String("p", "", "forkjoin: GOMAXPROCS values, comma-separated (default 1..NumCPU)")
	fs.Parse(os.Args[2:])
	switch {
	case *smoke:
		sz = table["smoke"]
	case *quick:
		sz = table["quick"]
	default:
		sz = table["full"]
	}
	if reps <= 0 {
		reps = sz.reps
	}
	if *plist != "" {
		for _, f := range strings.Split(*plist, ",") {
			p, err := strconv.Atoi(f)
			if err != nil || p < 1 {
				usage()
			}
			procs = append(procs, p)
		}
	} else {
		for p := 1; p <= runtime.NumCPU(); p++ {
			procs = append(procs, p)
		}
	}
	note("gobench %s: %s, GOMAXPROCS=%d, NumCPU=%d, %d repetitions, clock CLOCK_MONOTONIC",
		os.Args[1], runtime.Version(), runtime.GOMAXPROCS(0), runtime.NumCPU(), reps)
	run()
	note("sink %d", sink)
}
