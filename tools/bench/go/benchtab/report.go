// SPDX-License-Identifier: GPL-2.0

package main

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// What the latency workloads measure, for the plots' titles.
var latTitles = map[string]string{
	"syscall-block":       "From a task blocking in a raw read(2) to another task running",
	"ticker-lateness":     "Lateness of a 1 ms ticker beside 2 x slots CPU hogs",
	"block-standby-same":  "From a worker blocking to its standby running (same CPU)",
	"block-standby-cross": "From a worker blocking to its standby running (other CPU)",
	"gate-grant":          "From USCHED_IOC_GRANT to the gated worker running",
}

type cdfKey struct{ name, env, impl string }

func readCDF(dir string) (map[cdfKey][][2]float64, []cdfKey) {
	m := map[cdfKey][][2]float64{}
	var keys []cdfKey
	for _, c := range readCSV(filepath.Join(dir, "cdf.csv")) {
		k := cdfKey{c[2], c[0], c[3]}
		q, err1 := strconv.ParseFloat(c[5], 64)
		v, err2 := strconv.ParseFloat(c[6], 64)
		if err1 != nil || err2 != nil {
			continue
		}
		if _, ok := m[k]; !ok {
			keys = append(keys, k)
		}
		m[k] = append(m[k], [2]float64{q, v})
	}
	sort.SliceStable(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if a.name != b.name {
			return workloadRank(a.name) < workloadRank(b.name)
		}
		if a.env != b.env {
			return envRank(a.env) < envRank(b.env)
		}
		return sliceKey(a.impl) < sliceKey(b.impl)
	})
	return m, keys
}

func gpString(s string) string { return strings.ReplaceAll(s, `"`, `'`) }

const gpHead = `set terminal svg size 860,520 dynamic noenhanced font "sans,11" background "white"
set output "%s"
set title "%s"
set key outside right top vertical Left reverse noenhanced
set grid
`

type plot struct{ name, env, file string }

// plotCDFs writes one data file and gnuplot script per latency workload
// and environment; it returns the plots in report order.
func plotCDFs(dir, plots, data string) []plot {
	m, keys := readCDF(dir)
	var out []plot
	group := map[plot][]cdfKey{}
	for _, k := range keys {
		g := plot{name: k.name, env: k.env, file: k.name + "-" + k.env}
		if _, ok := group[g]; !ok {
			out = append(out, g)
		}
		group[g] = append(group[g], k)
	}
	// A plot of peers only (kbench's references on a host without the
	// module) shows nothing of usched: leave it out.
	var keep []plot
	for _, g := range out {
		for _, k := range group[g] {
			if !isPeer(k.impl) {
				keep = append(keep, g)
				break
			}
		}
	}
	out = keep
	for _, g := range out {
		dat := filepath.Join(data, "cdf-"+g.file+".dat")
		var b strings.Builder
		var lines []string
		for i, k := range group[g] {
			if i > 0 {
				b.WriteString("\n\n")
			}
			fmt.Fprintf(&b, "# %s %s\n", k.env, k.impl)
			for _, p := range m[k] {
				fmt.Fprintf(&b, "%g %g\n", math.Max(p[1], 1)/1e3, p[0])
			}
			lines = append(lines, fmt.Sprintf(`"%s" index %d using 1:2 with linespoints pt %d ps 0.6 title "%s"`,
				dat, i, 1+i%7, gpString(k.impl)))
		}
		write(dat, b.String())
		title := latTitles[g.name]
		if title == "" {
			title = g.name
		}
		svg := filepath.Join(plots, g.file+".svg")
		gp := fmt.Sprintf(gpHead, svg, gpString(title)+", "+g.env+" (CDF)") +
			"set logscale x\nset xlabel \"latency (us, log scale; CLOCK_MONOTONIC)\"\nset ylabel \"fraction of samples\"\nset yrange [0:1.02]\n" +
			"plot " + strings.Join(lines, ", \\\n     ") + "\n"
		write(filepath.Join(data, "cdf-"+g.file+".gp"), gp)
	}
	return out
}

// plotScaling: forkjoin speedup over 1 slot, per environment, a line per
// implementation; returns the plots.
func plotScaling(rs []*result, plots, data string) []plot {
	type key struct{ env, impl string }
	t := map[key]map[int]float64{}
	var keys []key
	var envs []string
	maxp := map[string]int{}
	for _, r := range rs {
		if !strings.HasPrefix(r.name, "forkjoin-p") {
			continue
		}
		k := key{r.env, r.impl}
		if t[k] == nil {
			t[k] = map[int]float64{}
			keys = append(keys, k)
		}
		if _, ok := maxp[r.env]; !ok {
			envs = append(envs, r.env)
		}
		p := forkjoinP(r.name)
		t[k][p] = r.median
		if p > maxp[r.env] {
			maxp[r.env] = p
		}
	}
	sort.SliceStable(envs, func(i, j int) bool { return envRank(envs[i]) < envRank(envs[j]) })
	var out []plot
	for _, env := range envs {
		g := plot{name: "forkjoin", env: env, file: "forkjoin-" + env}
		dat := filepath.Join(data, g.file+".dat")
		var b strings.Builder
		var lines []string
		i := 0
		for _, k := range keys {
			if k.env != env {
				continue
			}
			if i > 0 {
				b.WriteString("\n\n")
			}
			fmt.Fprintf(&b, "# %s %s: slots speedup ms/job\n", k.env, k.impl)
			var ps []int
			for p := range t[k] {
				ps = append(ps, p)
			}
			sort.Ints(ps)
			t1 := t[k][1]
			for _, p := range ps {
				sp := math.NaN()
				if t1 > 0 {
					sp = t1 / t[k][p]
				}
				fmt.Fprintf(&b, "%d %g %g\n", p, sp, t[k][p])
			}
			lines = append(lines, fmt.Sprintf(`"%s" index %d using 1:2 with linespoints pt %d title "%s"`,
				dat, i, 1+i%7, gpString(k.impl)))
			i++
		}
		write(dat, b.String())
		lines = append(lines, `x with lines lc "gray" dt 3 title "ideal"`)
		mp := float64(maxp[env])
		gp := fmt.Sprintf(gpHead, filepath.Join(plots, g.file+".svg"),
			"Fork-join of 64 CPU-bound tasks: speedup over 1 slot, "+env) +
			fmt.Sprintf("set xlabel \"slots (usched slots, GOMAXPROCS, threads)\"\nset ylabel \"speedup (time per job at 1 slot / time)\"\nset xrange [0.8:%g]\nset yrange [0:%g]\nset xtics 1\n", mp+0.2, mp+0.5) +
			"plot " + strings.Join(lines, ", \\\n     ") + "\n"
		write(filepath.Join(data, g.file+".gp"), gp)
		out = append(out, g)
	}
	return out
}

func write(path, s string) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		die("%v", err)
	}
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		die("%v", err)
	}
}

func readKV(path string) ([][2]string, map[string]string) {
	b, _ := os.ReadFile(path)
	var kv [][2]string
	m := map[string]string{}
	for _, l := range strings.Split(string(b), "\n") {
		if i := strings.Index(l, ": "); i > 0 {
			kv = append(kv, [2]string{l[:i], l[i+2:]})
			m[l[:i]] = l[i+2:]
		}
	}
	return kv, m
}

func md(s string) string { return strings.ReplaceAll(s, "|", "\\|") }

// report writes the document; the plots are drawn by tools/bench/report.
func report(dir, doc, plots, data string) {
	rs := aggregate(dir)
	if len(rs) == 0 {
		die("no results in %s (run make bench first)", dir)
	}
	rel, err := filepath.Rel(filepath.Dir(doc), plots)
	if err != nil {
		rel = plots
	}
	for _, d := range []string{plots, data} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			die("%v", err)
		}
	}
	cdfs := plotCDFs(dir, plots, data)
	scaling := plotScaling(rs, plots, data)
	machine, mm := readKV(filepath.Join(dir, "machine.txt"))
	var b strings.Builder
	p := func(f string, a ...any) { fmt.Fprintf(&b, f, a...) }

	p("# Performance\n\n")
	p("<!-- Generated by tools/bench/report (make bench-report) from %s: do not edit by hand. -->\n\n", filepath.Join(dir, "results.csv"))
	p("This page is written by `make bench-report` from the results of the last\n")
	p("`make bench` (size: %s).\n", mm["size"])
	p("It compares usched with its peers in one run on one machine:\n")
	p("Go goroutines (Go's own runtime, `GOMAXPROCS` slots), plain threads\n")
	p("(pthreads, futex, pipes, epoll) and, for the module's microbenchmarks, a\n")
	p("futex wake+wait pair and a pipe. Regenerate it with:\n\n")
	p("    make bench          # full run: host, then a VM per kernel\n")
	p("    make bench-report   # this page and its plots (Documentation/perf/)\n\n")
	p("`make bench-quick` is the same with smaller workloads (minutes), and\n")
	p("`make bench-smoke` runs every benchmark once at its smallest, as a CI\n")
	p("smoke test that only fails when a benchmark crashes.\n\n")

	p("## The machine\n\n")
	for _, kv := range machine {
		p("- %s: %s\n", kv[0], md(kv[1]))
	}
	p("\n")

	p("## What the VM numbers are, and what they are not\n\n")
	p("The module only ever runs inside QEMU here, and this machine has no KVM,\n")
	p("so the VM is emulated by TCG: every guest instruction is translated, and\n")
	p("the kernel's entry paths, context switches, interrupts and IPIs cost\n")
	p("tens of times what they cost on hardware (a futex handoff between two\n")
	p("threads on one CPU takes %s in the VM against %s on the host in this run).\n",
		find(rs, "vm", "handoff-same", "", "futex"), find(rs, "host", "handoff-same", "", "futex"))
	p("TCG does not slow everything alike: user-space code that stays in\n")
	p("translated blocks (task switches, channel operations, the fork-join\n")
	p("hash) runs a few times slower, while anything that enters the kernel,\n")
	p("takes an interrupt or wakes another vCPU (syscalls, signals, timers,\n")
	p("IPIs, idle exits) is inflated far more, and a vCPU is a host thread\n")
	p("that the host may deschedule (more so while other VMs or builds run on\n")
	p("the host: the spreads show it). So absolute VM times mean nothing; only\n")
	p("ratios between implementations measured in the same VM run are\n")
	p("compared, and even those favour whoever enters the kernel less (usched's\n")
	p("user-space switching looks better, and every mechanism that needs a\n")
	p("signal or an IPI looks worse, than on hardware). Timer-driven results\n")
	p("(the ticker, preemption) also depend on how promptly QEMU delivers the\n")
	p("guest's timer interrupts. The host rows (the library in fallback mode,\n")
	p("no module) are real times on this machine, itself a virtual machine\n")
	p("shared with other work (see its load averages above), which is what\n")
	p("the wide spreads of some host rows come from.\n")
	p("Confirm any conclusion on real hardware before relying on it.\n\n")

	p("## Targets\n\n")
	p("The ratios that issues #3 (module) and #4 (library) set, in each\n")
	p("environment of this run (ratio = implementation / reference, both\n")
	p("medians of the same run; for the library: fallback mode on the host,\n")
	p("kernel and fallback mode in the VMs).\n\n")
	p("| issue | what | env | impl | vs | ratio | target | |\n|---|---|---|---|---|---:|---:|---|\n")
	for _, t := range targetRows(rs) {
		met := "met"
		if t.ratio > t.t.limit {
			met = "**missed**"
		}
		p("| %s | %s | %s | %s | %s | %.3fx | <= %.2gx | %s |\n", t.t.issue, md(t.t.what), t.env, t.impl, t.t.den, t.ratio, t.t.limit, met)
	}
	p("\n")

	p("## Results\n\n")
	p("Median over the repetitions, the spread ((max - min) / median), and the\n")
	p("cost relative to the best peer of the same row and environment (< 1x:\n")
	p("cheaper or faster than every peer; for rates the inverse ratio is shown,\n")
	p("so < 1x is still better).\n\n")
	last := ""
	for _, r := range rs {
		if r.metric == "max" && r.name != "ticker-lateness" {
			continue
		}
		if r.row() != last {
			if last != "" {
				p("\n")
			}
			last = r.row()
			p("### %s\n\n| env | impl | median | spread | reps | n | x best peer |\n|---|---|---:|---:|---:|---:|---:|\n", r.row())
		}
		bp := ratioStr(r.ratio)
		if r.best != "" && r.best != r.impl {
			bp += " (" + r.best + ")"
		}
		p("| %s | %s | %s | %.0f%% | %d | %s | %s |\n", r.env, md(r.impl), human(r.median, r.unit), r.spread, len(r.vals), nstr(r.n), bp)
	}
	p("\n")

	if len(cdfs) > 0 || len(scaling) > 0 {
		p("## Plots\n\n")
		last := ""
		for _, g := range cdfs {
			if g.name != last {
				last = g.name
				t := latTitles[g.name]
				if t == "" {
					t = g.name
				}
				p("**%s** (`%s`): cumulative distribution of all repetitions' samples.\n\n", t, g.name)
			}
			p("![%s, %s](%s/%s.svg)\n\n", g.name, g.env, rel, g.file)
		}
		if len(scaling) > 0 {
			p("**Scaling**: a fork-join job of 64 CPU-bound tasks, the speedup of the\n")
			p("time per job over the same implementation with one slot.\n\n")
			for _, g := range scaling {
				p("![forkjoin scaling, %s](%s/%s.svg)\n\n", g.env, rel, g.file)
			}
		}
	}

	p("## Method\n\n")
	p("- Every workload is implemented three times, doing the same work: with\n")
	p("  libusched's public API (`tools/bench/c/usched/ubench.c`), in Go with the\n")
	p("  standard library only (`tools/bench/go`, built static with\n")
	p("  `CGO_ENABLED=0`), and with plain threads (`tools/bench/c/pthread/cbench.c`,\n")
	p("  static) where threads can do it. The module's microbenchmarks are\n")
	p("  `tools/bench/kbench.c`. The same binaries run on the host and in the VM.\n")
	p("- Workloads: spawn+join (%s tasks; threads: fewer, per thread), task switch\n", orDash(mm["size"]))
	p("  by yield and by an unbuffered channel ping-pong (one slot, one CPU: `GOMAXPROCS=1`,\n")
	p("  threads pinned), memory per parked task (RSS growth / N, a fresh process per\n")
	p("  repetition), thread handoff (module handoff vs futex wake+wait vs pipe,\n")
	p("  same CPU and across CPUs), time from a task blocking in a raw `read(2)` to\n")
	p("  another runnable task running (one slot), lateness of a 1 ms ticker beside\n")
	p("  2 x slots spinning tasks at several time slices (Go: its fixed ~10 ms\n")
	p("  preemption), a fan-out of socket pairs each doing 64-byte round trips\n")
	p("  (usched: io_uring through `usched_read/usched_write`; Go: the netpoller;\n")
	p("  threads: one epoll loop per CPU), and a CPU-bound fork-join from 1 slot to\n")
	p("  all.\n")
	p("- Each program warms up once, then repeats (5 times in the full run); the\n")
	p("  table shows the median and the spread. Time is read from\n")
	p("  `CLOCK_MONOTONIC`. Results feed a printed sink so that no work is dead code.\n")
	p("- Every program runs under `tools/bench/bench-exec` with the same CPU\n")
	p("  placement for every implementation: one CPU for the switch workloads, all\n")
	p("  CPUs otherwise; kbench pins its threads itself (CPU 0, or CPUs 0 and 1).\n")
	p("- Implementations: `usched-kernel` and `usched-fallback` are libusched in\n")
	p("  its two modes (`@1ms` and the like: the time slice); `go` is Go; `c-thread`\n")
	p("  plain pthreads, `c-epoll` an epoll loop per CPU. In kbench's rows, `module`\n")
	p("  is usched.ko (`module-nospin`: the same with its handoff spin turned off\n")
	p("  through the module parameter), `futex` a futex wake+wait pair, `pipe` a pipe\n")
	p("  ping-pong, `futex-wakeup` the latency of a plain futex wake-up with the\n")
	p("  same CPU placement; `timer-only` is the cost of a slice timer that fires\n")
	p("  and does nothing, `signal` and `redirect` what a delivered preemption adds.\n")
	p("  Those two are differences of medians of noisy gaps under TCG: a small or\n")
	p("  negative value means the delivery cost less than the spread of the timer's\n")
	p("  own cost in that run (look at its spread), not that it saved time.\n")
	p("- n: the size behind a row (tasks, samples, round trips, socket pairs); the\n")
	p("  VM runs smaller sizes than the host (see \"size\" above).\n")
	p("- Raw data: `build/bench/raw.csv` (every repetition), `results.csv`,\n")
	p("  `targets.csv`, `cdf.csv`, and the programs' logs in `build/bench/logs/`.\n\n")

	if b2, err := os.ReadFile(filepath.Join(dir, "failures.txt")); err == nil && len(b2) > 0 {
		p("## Runs that failed\n\n")
		for _, l := range strings.Split(strings.TrimSpace(string(b2)), "\n") {
			p("- %s\n", md(strings.ReplaceAll(l, "\t", ": ")))
		}
		p("\n")
	}
	write(doc, b.String())
	fmt.Fprintf(os.Stderr, "benchtab: wrote %s; plot scripts in %s\n", doc, data)
}

func orDash(s string) string {
	if strings.HasPrefix(s, "full") {
		return "1,000,000"
	}
	if strings.HasPrefix(s, "quick") {
		return "100,000"
	}
	return "N"
}

// find: the median of a row in the first environment starting with @env.
func find(rs []*result, env, name, metric, impl string) string {
	for _, r := range rs {
		if strings.HasPrefix(r.env, env) && r.name == name && r.metric == metric && r.impl == impl {
			return human(r.median, r.unit)
		}
	}
	return "(not measured)"
}
