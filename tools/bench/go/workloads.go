// SPDX-License-Identifier: GPL-2.0

package main

import (
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

const impl = "go"

// spawn: spawn N goroutines that each store one result, wait for all.
func spawnJoin() {
	N := n(sz.spawnN)
	res := make([]uint64, N)
	once := func(N int) int64 {
		var wg sync.WaitGroup
		t0 := nanotime()
		for i := 0; i < N; i++ {
			wg.Add(1)
			go func(i int) {
				res[i] = uint64(i)*2 + 1
				wg.Done()
			}(i)
		}
		wg.Wait()
		dt := nanotime() - t0
		var s uint64
		for _, v := range res[:N] {
			s += v
		}
		if s != uint64(N)*uint64(N) {
			die("spawn: wrong sum %d", s)
		}
		sink += s
		return dt
	}
	once(N / 10) // warm-up
	for r := 1; r <= reps; r++ {
		dt := once(N)
		line("spawn-join", impl, "ns/task", float64(dt)/float64(N), fmt.Sprintf("n=%d rep=%d", N, r))
	}
}

// yield: two goroutines on one P, each calling runtime.Gosched K times.
func switchYield() {
	runtime.GOMAXPROCS(1)
	K := n(sz.yieldK)
	once := func(K int) int64 {
		var wg sync.WaitGroup
		start := make(chan struct{})
		var count [2]uint64
		for t := 0; t < 2; t++ {
			wg.Add(1)
			go func(t int) {
				<-start
				for i := 0; i < K; i++ {
					runtime.Gosched()
					count[t]++
				}
				wg.Done()
			}(t)
		}
		runtime.Gosched() // both wait on start
		t0 := nanotime()
		close(start)
		wg.Wait()
		dt := nanotime() - t0
		sink += count[0] + count[1]
		return dt
	}
	once(K / 10)
	for r := 1; r <= reps; r++ {
		dt := once(K)
		line("switch-yield", impl, "ns/switch", float64(dt)/float64(2*K), fmt.Sprintf("n=%d rep=%d", 2*K, r))
	}
}

// chan: ping-pong over two unbuffered channels on one P; one message is
// one switch.
func switchChan() {
	runtime.GOMAXPROCS(1)
	K := n(sz.chanK)
	once := func(K int) int64 {
		ping, pong := make(chan uint64), make(chan uint64)
		go func() {
			for v := range ping {
				pong <- v + 1
			}
			close(pong)
		}()
		var s uint64
		t0 := nanotime()
		for i := 0; i < K; i++ {
			ping <- uint64(i)
			s += <-pong
		}
		dt := nanotime() - t0
		close(ping)
		<-pong
		if s != uint64(K)*uint64(K+1)/2 {
			die("chan: wrong sum %d", s)
		}
		sink += s
		return dt
	}
	once(K / 10)
	for r := 1; r <= reps; r++ {
		dt := once(K)
		line("switch-chan", impl, "ns/switch", float64(dt)/float64(2*K), fmt.Sprintf("n=%d rep=%d", 2*K, r))
	}
}

// mem: N goroutines parked on a channel receive; RSS growth per goroutine.
// One repetition per process (a second one would reuse freed stacks): the
// harness runs the program once per repetition.
func memParked() {
	N := n(sz.memN)
	runtime.GC()
	debug.FreeOSMemory()
	r0 := rss()
	ch := make(chan struct{})
	var parked atomic.Int64
	var wg sync.WaitGroup
	wg.Add(N)
	for i := 0; i < N; i++ {
		go func() {
			parked.Add(1)
			<-ch
			wg.Done()
		}()
	}
	for parked.Load() < int64(N) {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond) // the last ones reach the receive
	r1 := rss()
	close(ch)
	wg.Wait()
	line("mem-parked", impl, "B/task", float64(r1-r0)/float64(N), fmt.Sprintf("n=%d rep=1", N))
}

// sysblock: on one P, goroutine A makes B runnable, then blocks in a raw
// read(2) of an empty pipe (syscall.Read: no netpoller); B measures how
// long after A's read began it got to run, then writes the byte A waits for.
func syscallBlock() {
	runtime.GOMAXPROCS(1)
	N := n(sz.sysblockN)
	var fds [2]int
	if err := syscall.Pipe(fds[:]); err != nil {
		die("pipe: %v", err)
	}
	warm := N/10 + 2
	total := warm + reps*N
	ready := make(chan struct{}, 1)
	done := make(chan struct{})
	var t0 atomic.Int64
	lats := make(samples, 0, total)
	go func() {
		b := []byte{1}
		for i := 0; i < total; i++ {
			<-ready
			lats = append(lats, nanotime()-t0.Load())
			if _, err := syscall.Write(fds[1], b); err != nil {
				die("write: %v", err)
			}
		}
		close(done)
	}()
	buf := make([]byte, 1)
	for i := 0; i < total; i++ {
		ready <- struct{}{}
		t0.Store(nanotime())
		if _, err := syscall.Read(fds[0], buf); err != nil {
			die("read: %v", err)
		}
		sink += uint64(buf[0])
	}
	<-done
	all := lats[warm:]
	for r := 1; r <= reps; r++ {
		lat("syscall-block", impl, all[(r-1)*N:r*N], r)
	}
	cdf("syscall-block", impl, all)
	syscall.Close(fds[0])
	syscall.Close(fds[1])
}

// ticker: a goroutine that sleeps until each 1 ms tick beside 2 x
// GOMAXPROCS spinning goroutines, for sz.tickerMs of wall time (a late
// ticker takes fewer samples); lateness of each wake-up.
func tickerLateness() {
	P := runtime.GOMAXPROCS(0)
	const period = int64(time.Millisecond)
	ticks := sz.tickerMs
	once := func(ticks int) samples {
		var stop atomic.Bool
		var wg sync.WaitGroup
		for h := 0; h < 2*P; h++ {
			wg.Add(1)
			go func(h int) {
				x := uint64(h + 1)
				for !stop.Load() {
					for j := 0; j < 1000; j++ {
						x = x*6364136223846793005 + 1442695040888963407
					}
				}
				atomic.AddUint64(&sink, x)
				wg.Done()
			}(h)
		}
		s := make(samples, 0, ticks)
		res := make(chan samples)
		go func() {
			next := nanotime() + period
			end := next + int64(ticks)*period
			for nanotime() < end {
				if d := next - nanotime(); d > 0 {
					time.Sleep(time.Duration(d))
				}
				now := nanotime()
				s = append(s, now-next)
				next += period
				if next <= now {
					next = now + period
				}
			}
			res <- s
		}()
		s = <-res
		stop.Store(true)
		wg.Wait()
		return s
	}
	once(ticks / 10)
	var all samples
	for r := 1; r <= reps; r++ {
		s := once(ticks)
		lat("ticker-lateness", impl, s, r)
		all = append(all, s...)
	}
	cdf("ticker-lateness", impl, all)
}

// fanout: P socket pairs, a client and an echo server goroutine on each,
// each client doing R round trips of 64 bytes through the netpoller.
func fanoutIO() {
	P, R := n(sz.fanoutPairs), sz.fanout
	if lim := raiseNofile(uint64(2*P + 256)); lim < uint64(2*P+256) {
		P = int(lim-256) / 2
		note("fanout: RLIMIT_NOFILE is %d here: %d socket pairs", lim, P)
	}
	conns := make([][2]net.Conn, P)
	for i := range conns {
		fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
		if err != nil {
			die("socketpair: %v", err)
		}
		for k := 0; k < 2; k++ {
			f := os.NewFile(uintptr(fds[k]), "sp")
			c, err := net.FileConn(f)
			if err != nil {
				die("FileConn: %v", err)
			}
			f.Close()
			conns[i][k] = c
		}
	}
	once := func(R int) int64 {
		var wg sync.WaitGroup
		var total atomic.Uint64
		t0 := nanotime()
		for i := range conns {
			wg.Add(2)
			go func(c net.Conn) { // echo server
				buf := make([]byte, 64)
				for k := 0; k < R; k++ {
					if _, err := io.ReadFull(c, buf); err != nil {
						die("server read: %v", err)
					}
					if _, err := c.Write(buf); err != nil {
						die("server write: %v", err)
					}
				}
				wg.Done()
			}(conns[i][1])
			go func(c net.Conn, i int) { // client
				buf := make([]byte, 64)
				var s uint64
				for k := 0; k < R; k++ {
					buf[0] = byte(i + k)
					if _, err := c.Write(buf); err != nil {
						die("client write: %v", err)
					}
					if _, err := io.ReadFull(c, buf); err != nil {
						die("client read: %v", err)
					}
					s += uint64(buf[0])
				}
				total.Add(s)
				wg.Done()
			}(conns[i][0], i)
		}
		wg.Wait()
		dt := nanotime() - t0
		sink += total.Load()
		return dt
	}
	once(1)
	for r := 1; r <= reps; r++ {
		dt := once(R)
		msgs := float64(2 * P * R)
		line("fanout-io", impl, "msg/s", msgs/(float64(dt)/1e9), fmt.Sprintf("n=%d rep=%d", P, r))
	}
	for i := range conns {
		conns[i][0].Close()
		conns[i][1].Close()
	}
}

// forkjoin: a job spawns 64 CPU-bound subtasks and joins them; time per
// job for each GOMAXPROCS in -p.
func forkJoin() {
	job := func() {
		var wg sync.WaitGroup
		var res [forkjoinTasks]uint64
		for t := 0; t < forkjoinTasks; t++ {
			wg.Add(1)
			go func(t int) {
				x := uint64(t + 1)
				for i := 0; i < forkjoinIters; i++ {
					x = x*6364136223846793005 + 1442695040888963407
					x ^= x >> 29
				}
				res[t] = x
				wg.Done()
			}(t)
		}
		wg.Wait()
		for _, v := range res {
			sink += v
		}
	}
	jobs := sz.forkjoinJobs
	for _, p := range procs {
		runtime.GOMAXPROCS(p)
		job() // warm-up
		for r := 1; r <= reps; r++ {
			t0 := nanotime()
			for j := 0; j < jobs; j++ {
				job()
			}
			dt := nanotime() - t0
			line(fmt.Sprintf("forkjoin-p%d", p), impl, "ms/job", float64(dt)/1e6/float64(jobs),
				fmt.Sprintf("slots=%d rep=%d", p, r))
		}
	}
}
