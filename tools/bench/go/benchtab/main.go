// SPDX-License-Identifier: GPL-2.0

// benchtab turns the BENCH lines of the benchmark programs into results:
//
//	benchtab parse -env ENV -dir DIR LOG...   append a run's lines to
//	                                          DIR/raw.csv, cdf.csv, failures.txt
//	benchtab table -dir DIR                   aggregate: DIR/results.csv and
//	                                          targets.csv; print the table
//	benchtab report -dir DIR -doc FILE -plots DIR
//	                                          write the report and the plot
//	                                          data and gnuplot scripts
//
// Line format: tools/bench/c/common/bench.h.  Logs are framed by the
// runners' "@@USCHED: run CMD" / "@@USCHED: exit RC CMD" markers (tools/vm-run
// and tools/bench/run), which attribute a crash to its command.
package main

import (
	"bufio"
	"encoding/csv"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

func die(f string, a ...any) {
	fmt.Fprintf(os.Stderr, "benchtab: "+f+"\n", a...)
	os.Exit(1)
}

func main() {
	if len(os.Args) < 2 {
		die("usage: benchtab parse|table|report ...")
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	env := fs.String("env", "", "parse: environment name")
	dir := fs.String("dir", "build/bench", "results folder")
	doc := fs.String("doc", "Documentation/performance.md", "report: the document")
	plots := fs.String("plots", "Documentation/perf", "report: folder of the plots")
	data := fs.String("data", "", "report: folder of plot data and scripts (default DIR/plots)")
	fs.Parse(os.Args[2:])
	switch os.Args[1] {
	case "parse":
		if *env == "" {
			die("parse: -env is required")
		}
		for _, l := range fs.Args() {
			parse(*env, *dir, l)
		}
	case "table":
		rs := aggregate(*dir)
		printTable(os.Stdout, rs, *dir)
	case "report":
		if *data == "" {
			*data = filepath.Join(*dir, "plots")
		}
		report(*dir, *doc, *plots, *data)
	default:
		die("unknown command %s", os.Args[1])
	}
}

// ---- parse -----------------------------------------------------------------

var rawHeader = []string{"env", "suite", "name", "impl", "unit", "value", "p50", "p99", "max", "n", "rep", "cmd"}
var cdfHeader = []string{"env", "suite", "name", "impl", "unit", "q", "value"}

func appendCSV(path string, header []string, rows [][]string) {
	_, err := os.Stat(path)
	fresh := os.IsNotExist(err)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		die("%v", err)
	}
	w := csv.NewWriter(f)
	if fresh {
		w.Write(header)
	}
	w.WriteAll(rows)
	w.Flush()
	if err := f.Close(); err != nil {
		die("%v", err)
	}
}

func fields(line string) map[string]string {
	kv := map[string]string{}
	for _, f := range strings.Fields(line)[1:] {
		if i := strings.IndexByte(f, '='); i > 0 {
			kv[f[:i]] = f[i+1:]
		}
	}
	return kv
}

func parse(env, dir, log string) {
	f, err := os.Open(log)
	if err != nil {
		die("%v", err)
	}
	defer f.Close()
	var raw, cdf [][]string
	var fails []string
	cur := ""
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		l := strings.TrimRight(sc.Text(), "\r")
		switch {
		case strings.HasPrefix(l, "@@USCHED: run "):
			cur = strings.TrimPrefix(l, "@@USCHED: run ")
		case strings.HasPrefix(l, "@@USCHED: exit "):
			p := strings.SplitN(strings.TrimPrefix(l, "@@USCHED: exit "), " ", 2)
			if p[0] != "0" {
				why := "exit " + p[0]
				if p[0] == "137" {
					why += " (killed: timeout?)"
				}
				fails = append(fails, fmt.Sprintf("%s\t%s\t%s", env, why, short(cur)))
			}
			cur = ""
		case strings.HasPrefix(l, "BENCH "):
			kv := fields(l)
			if kv["name"] == "" || kv["impl"] == "" || kv["value"] == "" {
				continue
			}
			if c, ok := kv["cdf"]; ok {
				for _, qv := range strings.Split(c, ",") {
					p := strings.SplitN(qv, ":", 2)
					if len(p) == 2 {
						cdf = append(cdf, []string{env, kv["suite"], kv["name"], kv["impl"], kv["unit"], p[0], p[1]})
					}
				}
				continue
			}
			raw = append(raw, []string{env, kv["suite"], kv["name"], kv["impl"], kv["unit"], kv["value"],
				kv["p50"], kv["p99"], kv["max"], kv["n"], kv["rep"], short(cur)})
		}
	}
	if cur != "" {
		fails = append(fails, fmt.Sprintf("%s\tno exit (the VM stopped or timed out)\t%s", env, short(cur)))
	}
	appendCSV(filepath.Join(dir, "raw.csv"), rawHeader, raw)
	if len(cdf) > 0 {
		appendCSV(filepath.Join(dir, "cdf.csv"), cdfHeader, cdf)
	}
	ff, err := os.OpenFile(filepath.Join(dir, "failures.txt"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		die("%v", err)
	}
	for _, l := range fails {
		fmt.Fprintln(ff, l)
	}
	ff.Close()
	fmt.Fprintf(os.Stderr, "benchtab: %s: %d results, %d distributions, %d failures\n", env, len(raw), len(cdf), len(fails))
	if len(fails) > 0 {
		os.Exit(1)
	}
}

func short(cmd string) string {
	return strings.TrimSpace(strings.TrimPrefix(cmd, "tools/bench/bench-exec "))
}

// ---- aggregate ---------------------------------------------------------------

// result: one row of the table: a workload's metric in one environment for
// one implementation, over its repetitions.
type result struct {
	env, name, metric, impl, unit string
	vals                          []float64
	n                             int // largest n= (tasks, samples...) seen
	median, min, max, spread      float64
	best                          string
	ratio                         float64 // cost ratio to the best peer (< 1: better)
}

func (r *result) row() string {
	if r.metric == "" {
		return r.name
	}
	return r.name + " " + r.metric
}

// Peers: what usched is compared with.
func isPeer(impl string) bool {
	switch {
	case impl == "go", strings.HasPrefix(impl, "c-"), impl == "futex", impl == "pipe", impl == "futex-wakeup":
		return true
	}
	return false
}

func higherBetter(unit string) bool { return strings.HasSuffix(unit, "/s") }

func readCSV(path string) [][]string {
	f, err := os.Open(path)
	if err != nil {
		if os.IsNotExist(err) {
			return nil
		}
		die("%v", err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		die("%s: %v", path, err)
	}
	if len(rows) > 0 {
		rows = rows[1:]
	}
	return rows
}

func median(v []float64) float64 {
	c := append([]float64(nil), v...)
	sort.Float64s(c)
	n := len(c)
	if n == 0 {
		return math.NaN()
	}
	if n%2 == 1 {
		return c[n/2]
	}
	return (c[n/2-1] + c[n/2]) / 2
}

func aggregate(dir string) []*result {
	byKey := map[string]*result{}
	var order []string
	add := func(env, name, metric, impl, unit, v, n string) {
		x, err := strconv.ParseFloat(v, 64)
		if err != nil || v == "" {
			return
		}
		k := env + "\x00" + name + "\x00" + metric + "\x00" + impl
		r := byKey[k]
		if r == nil {
			r = &result{env: env, name: name, metric: metric, impl: impl, unit: unit}
			byKey[k] = r
			order = append(order, k)
		}
		r.vals = append(r.vals, x)
		if k, err := strconv.Atoi(n); err == nil && k > r.n {
			r.n = k
		}
	}
	for _, c := range readCSV(filepath.Join(dir, "raw.csv")) {
		env, name, impl, unit, value, p99, max, n := c[0], c[2], c[3], c[4], c[5], c[7], c[8], c[9]
		if c[6] != "" || p99 != "" { // a latency: p50, p99, max rows
			add(env, name, "p50", impl, unit, value, n)
			add(env, name, "p99", impl, unit, p99, n)
			add(env, name, "max", impl, unit, max, n)
		} else {
			add(env, name, "", impl, unit, value, n)
		}
	}
	var rs []*result
	for _, k := range order {
		r := byKey[k]
		r.median = median(r.vals)
		r.min, r.max = math.Inf(1), math.Inf(-1)
		for _, v := range r.vals {
			r.min = math.Min(r.min, v)
			r.max = math.Max(r.max, v)
		}
		if r.median != 0 {
			r.spread = (r.max - r.min) / math.Abs(r.median) * 100
		}
		rs = append(rs, r)
	}
	// The best peer of each (env, row).
	best := map[string]*result{}
	for _, r := range rs {
		if !isPeer(r.impl) {
			continue
		}
		k := r.env + "\x00" + r.row()
		b := best[k]
		if b == nil || (higherBetter(r.unit) && r.median > b.median) || (!higherBetter(r.unit) && r.median < b.median) {
			best[k] = r
		}
	}
	for _, r := range rs {
		r.ratio = math.NaN()
		if b := best[r.env+"\x00"+r.row()]; b != nil && b.median != 0 && r.median != 0 {
			r.best = b.impl
			if higherBetter(r.unit) {
				r.ratio = b.median / r.median
			} else {
				r.ratio = r.median / b.median
			}
		}
	}
	sortResults(rs)
	writeResults(dir, rs)
	return rs
}

var workloadOrder = []string{"spawn-join", "switch-yield", "switch-chan", "mem-parked",
	"handoff-same", "handoff-cross", "syscall-block", "block-standby-same", "block-standby-cross",
	"gate-grant", "preempt", "ticker-lateness", "fanout-io", "forkjoin-p"}

func workloadRank(name string) int {
	for i, w := range workloadOrder {
		if name == w || (strings.HasSuffix(w, "-p") && strings.HasPrefix(name, w)) {
			return i
		}
	}
	return len(workloadOrder)
}

func metricRank(m string) int {
	return map[string]int{"": 0, "p50": 0, "p99": 1, "max": 2}[m]
}

func envRank(e string) string {
	if e == "host" {
		return "0"
	}
	return "1" + e
}

func implRank(i string) string {
	switch {
	case strings.HasPrefix(i, "usched-kernel"), i == "module", i == "module-nospin":
		return "0" + i
	case strings.HasPrefix(i, "usched-fallback"):
		return "1" + i
	case !isPeer(i):
		return "2" + i
	}
	return "3" + i
}

// Slices sort numerically (@100us before @1ms before @10ms).
func sliceKey(impl string) string {
	i := strings.IndexByte(impl, '@')
	if i < 0 {
		return implRank(impl)
	}
	d, _ := parseDur(impl[i+1:])
	return fmt.Sprintf("%s%015.0f", implRank(impl[:i]), d)
}

func parseDur(s string) (float64, bool) {
	for _, u := range []struct {
		s string
		f float64
	}{{"us", 1e3}, {"ms", 1e6}, {"s", 1e9}} {
		if strings.HasSuffix(s, u.s) {
			v, err := strconv.ParseFloat(strings.TrimSuffix(s, u.s), 64)
			return v * u.f, err == nil
		}
	}
	return 0, false
}

func forkjoinP(name string) int {
	p, _ := strconv.Atoi(strings.TrimPrefix(name, "forkjoin-p"))
	return p
}

func sortResults(rs []*result) {
	sort.SliceStable(rs, func(i, j int) bool {
		a, b := rs[i], rs[j]
		if x, y := workloadRank(a.name), workloadRank(b.name); x != y {
			return x < y
		}
		if a.name != b.name {
			return forkjoinP(a.name) < forkjoinP(b.name)
		}
		if x, y := metricRank(a.metric), metricRank(b.metric); x != y {
			return x < y
		}
		if x, y := envRank(a.env), envRank(b.env); x != y {
			return x < y
		}
		return sliceKey(a.impl) < sliceKey(b.impl)
	})
}

func fnum(v float64) string {
	if math.IsNaN(v) {
		return ""
	}
	return strconv.FormatFloat(v, 'g', 6, 64)
}

func writeResults(dir string, rs []*result) {
	f, err := os.Create(filepath.Join(dir, "results.csv"))
	if err != nil {
		die("%v", err)
	}
	w := csv.NewWriter(f)
	w.Write([]string{"env", "workload", "metric", "impl", "unit", "median", "min", "max", "spread_pct", "reps", "n", "best_peer", "ratio_to_best_peer"})
	for _, r := range rs {
		m := r.metric
		if m == "" {
			m = "value"
		}
		w.Write([]string{r.env, r.name, m, r.impl, r.unit, fnum(r.median), fnum(r.min), fnum(r.max),
			fmt.Sprintf("%.1f", r.spread), strconv.Itoa(len(r.vals)), nstr(r.n), r.best, fnum(r.ratio)})
	}
	w.Flush()
	f.Close()
}

// ---- formatting ----------------------------------------------------------------

func nstr(n int) string {
	if n == 0 {
		return ""
	}
	return strconv.Itoa(n)
}

func human(v float64, unit string) string {
	if math.IsNaN(v) {
		return "-"
	}
	switch unit {
	case "ns", "ns/task", "ns/switch":
		suffix := strings.TrimPrefix(unit, "ns")
		switch a := math.Abs(v); {
		case a >= 1e9:
			return fmt.Sprintf("%.2f s%s", v/1e9, suffix)
		case a >= 1e6:
			return fmt.Sprintf("%.2f ms%s", v/1e6, suffix)
		case a >= 1e4:
			return fmt.Sprintf("%.1f us%s", v/1e3, suffix)
		case a >= 1e3:
			return fmt.Sprintf("%.2f us%s", v/1e3, suffix)
		}
		return fmt.Sprintf("%.0f ns%s", v, suffix)
	case "B/task":
		if v >= 1024 {
			return fmt.Sprintf("%.2f KiB/task", v/1024)
		}
		return fmt.Sprintf("%.0f B/task", v)
	case "msg/s":
		if v >= 1e6 {
			return fmt.Sprintf("%.2f M msg/s", v/1e6)
		}
		return fmt.Sprintf("%.1f k msg/s", v/1e3)
	case "ms/job":
		return fmt.Sprintf("%.2f ms/job", v)
	}
	return fmt.Sprintf("%.4g %s", v, unit)
}

func ratioStr(r float64) string {
	if math.IsNaN(r) {
		return "-"
	}
	return fmt.Sprintf("%.2fx", r)
}

// ---- targets -----------------------------------------------------------------------

// target: a ratio the issues ask for, between two implementations of one
// row in one environment.
type target struct {
	issue, row, num, den string
	limit                float64
	what                 string
}

var targets = []target{
	{"#3", "handoff-same", "module", "futex", 0.5, "handoff vs futex wake+wait, same CPU"},
	{"#3", "handoff-cross", "module", "futex", 0.8, "handoff vs futex wake+wait, across CPUs"},
	{"#3", "block-standby-same p50", "module", "futex-wakeup", 1.2, "block-to-standby vs plain wake-up, p50 (standby on the same CPU)"},
	{"#3", "block-standby-same p99", "module", "futex-wakeup", 1.2, "block-to-standby vs plain wake-up, p99 (same CPU)"},
	{"#3", "block-standby-cross p50", "module", "futex-wakeup", 1.2, "block-to-standby vs plain wake-up, p50 (standby on the other CPU)"},
	{"#3", "block-standby-cross p99", "module", "futex-wakeup", 1.2, "block-to-standby vs plain wake-up, p99 (other CPU)"},
	{"#3", "preempt", "redirect", "signal", 0.5, "preemption delivery beyond the timer: redirect vs signal"},
	{"#4", "spawn-join", "usched", "go", 0.5, "task spawn+join vs goroutines"},
	{"#4", "switch-yield", "usched", "go", 0.5, "task switch by yield vs runtime.Gosched"},
	{"#4", "switch-chan", "usched", "go", 0.5, "unbuffered channel ping-pong vs Go channels"},
	{"#4", "mem-parked", "usched", "go", 1.0, "memory per parked task vs goroutine"},
	{"#4", "syscall-block p99", "usched", "go", 0.1, "raw-syscall block to another task running, p99"},
	{"#4", "ticker-lateness p99", "usched@1ms", "go", 0.1, "1 ms ticker lateness beside hogs, p99, 1 ms slice"},
}

type targetRow struct {
	t         target
	env, impl string
	num, den  float64
	ratio     float64
}

// usched rows: fallback on the host, kernel (and fallback) in the VMs.
func targetRows(rs []*result) []targetRow {
	idx := map[string]*result{}
	envs := []string{}
	seen := map[string]bool{}
	for _, r := range rs {
		idx[r.env+"\x00"+r.row()+"\x00"+r.impl] = r
		if !seen[r.env] {
			seen[r.env] = true
			envs = append(envs, r.env)
		}
	}
	sort.Slice(envs, func(i, j int) bool { return envRank(envs[i]) < envRank(envs[j]) })
	var out []targetRow
	for _, t := range targets {
		for _, e := range envs {
			nums := []string{t.num}
			if strings.HasPrefix(t.num, "usched") {
				suffix := strings.TrimPrefix(t.num, "usched")
				nums = []string{"usched-kernel" + suffix, "usched-fallback" + suffix}
			}
			d := idx[e+"\x00"+t.row+"\x00"+t.den]
			for _, n := range nums {
				r := idx[e+"\x00"+t.row+"\x00"+n]
				if r == nil || d == nil || d.median == 0 {
					continue
				}
				ratio := r.median / d.median
				if higherBetter(r.unit) {
					ratio = d.median / r.median
				}
				out = append(out, targetRow{t, e, n, r.median, d.median, ratio})
			}
		}
	}
	return out
}

func printTable(w *os.File, rs []*result, dir string) {
	fmt.Fprintf(w, "\n%-24s %-8s %-22s %16s %8s %8s  %s\n", "workload", "env", "impl", "median", "spread", "reps", "x best peer")
	last := ""
	for _, r := range rs {
		if r.metric == "max" && r.name != "ticker-lateness" {
			continue // in results.csv; the issues ask for the ticker's max only
		}
		if r.row() != last && last != "" {
			fmt.Fprintln(w)
		}
		last = r.row()
		b := ratioStr(r.ratio)
		if r.best != "" && r.best != r.impl {
			b += " (" + r.best + ")"
		}
		fmt.Fprintf(w, "%-24s %-8s %-22s %16s %7.0f%% %8d  %s\n", r.row(), r.env, r.impl, human(r.median, r.unit), r.spread, len(r.vals), b)
	}
	fmt.Fprintln(w, "\nspread: (max - min) / median over the repetitions; x best peer: cost relative to the best")
	fmt.Fprintln(w, "peer (Go, plain threads, futex, pipe) of the same row and environment, < 1 is better.")
	tr := targetRows(rs)
	f, err := os.Create(filepath.Join(dir, "targets.csv"))
	if err != nil {
		die("%v", err)
	}
	cw := csv.NewWriter(f)
	cw.Write([]string{"issue", "row", "env", "impl", "vs", "ratio", "limit", "met"})
	fmt.Fprintf(w, "\nTargets (issues #3 and #4): ratio = impl / vs in one environment and run\n")
	fmt.Fprintf(w, "%-4s %-24s %-8s %-20s %-13s %8s %6s  %s\n", "", "row", "env", "impl", "vs", "ratio", "limit", "")
	for _, t := range tr {
		met := "met"
		if t.ratio > t.t.limit {
			met = "MISSED"
		}
		fmt.Fprintf(w, "%-4s %-24s %-8s %-20s %-13s %7.3fx %5.2fx  %s\n", t.t.issue, t.t.row, t.env, t.impl, t.t.den, t.ratio, t.t.limit, met)
		cw.Write([]string{t.t.issue, t.t.row, t.env, t.impl, t.t.den, fmt.Sprintf("%.3f", t.ratio), fmt.Sprintf("%.2f", t.t.limit), met})
	}
	cw.Flush()
	f.Close()
	if b, err := os.ReadFile(filepath.Join(dir, "failures.txt")); err == nil && len(b) > 0 {
		fmt.Fprintf(w, "\nFAILED runs (env, why, command):\n%s", b)
	}
}
