// SPDX-License-Identifier: GPL-2.0
/*
 * uschedtop - a live view of usched: the module's counters, the groups and
 * workers of the processes that use it, and the threads of one process.
 *
 * What it shows, and where each number comes from (nothing is guessed):
 *
 *   module   /sys/module/usched (loaded? version, parameters) and the
 *            global counters of /sys/kernel/debug/usched/stats, as totals
 *            and per second (debugfs: root, and debugfs mounted).
 *   groups   each mapping of /dev/usched in /proc/PID/maps is a group of
 *            that process: its shared memory (struct usched_shm_header
 *            and one struct usched_worker_slot per worker, the UAPI of
 *            <linux/usched.h>) is read through /proc/PID/mem: the gate's
 *            free slots, waiters, grants and timeouts, the event ring's
 *            backlog and overflows, and per worker its state (running,
 *            blocked, parked, gated), the CPU it last ran on, and its
 *            blocks, preemptions, deferred preemptions and gate waits, as
 *            totals and per second.  Needs ptrace access to the process
 *            (root, or its owner where ptrace is not restricted).
 *   threads  with -p PID, every thread of the process from /proc: name,
 *            state, CPU, CPU time and %CPU, and what a sleeping thread
 *            waits in (/proc/TID/syscall and wchan): a worker parked by
 *            the module shows as "ioctl PARK w3" (the worker id is read
 *            from the ioctl's argument), so workers can be matched to
 *            threads.
 *
 * What it cannot show: the runtime's tasks and the library's own counters
 * (usched_stats_get()) live inside the process, and the library has no
 * channel to the outside.  A process in fallback mode has no group (it
 * does not use the module): only -p PID shows its threads.  For tasks, use
 * tools/gdb/usched-gdb.py (`usched tasks`).
 *
 * Usage: uschedtop [-p PID] [-d SECS] [-n COUNT | --once]
 *   -p PID    one process: its groups and its threads
 *   -d SECS   refresh interval (default 1; fractions allowed)
 *   -n COUNT  batch mode: print COUNT snapshots, one after another, and
 *             exit (rates appear from the second one on)
 *   --once    batch mode with one snapshot (-n 1)
 * Interactively (stdout a terminal, no -n) the screen is redrawn every
 * interval; q quits.  Exit status 0; 1 when -p names no process; 2 on a
 * usage error.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <linux/usched.h>

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define MAX_GROUPS	64		/* groups shown at most */
#define MAX_WORKERS	4096		/* the module's own bound */
#define MAX_THREADS	1024		/* threads of -p shown at most */
#define MAX_PREV	(MAX_GROUPS * 256)

#define SYS_MODULE	"/sys/module/usched"
#define STATS_FILE	"/sys/kernel/debug/usched/stats"

/* ---- options and state ---------------------------------------------- */

static struct {
	pid_t pid;		/* 0: every process with a group */
	double interval;
	long count;		/* snapshots in batch mode; 0: interactive */
	bool batch;
} opt = { .interval = 1.0 };

static long hz;
static volatile sig_atomic_t quit;

/* Module counters: names and values of the last two samples. */
#define MAX_STATS	32
static char stat_name[MAX_STATS][64];
static long long stat_now[MAX_STATS], stat_prev[MAX_STATS];
static bool stat_shown[MAX_STATS];
static int nstats;
static bool have_prev_stats;

/* Per-worker totals of the previous snapshot, for rates. */
struct prev_worker {
	pid_t pid;
	uint64_t map;		/* address of the group's mapping */
	uint32_t wid;
	uint64_t blocks, preempts;
	uint32_t gate_waits;
};
static struct prev_worker prev_w[MAX_PREV], cur_w[MAX_PREV];
static int nprev_w, ncur_w;

/* Per-thread CPU ticks of the previous snapshot. */
struct prev_thread {
	pid_t tid;
	unsigned long long ticks;
};
static struct prev_thread prev_t[MAX_THREADS], cur_t[MAX_THREADS];
static int nprev_t, ncur_t;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double last_sample, this_sample;

/* ---- small file helpers ----------------------------------------------- */

/* The first line of @path, without its newline; -1 if it cannot be read. */
static int read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	char *nl;

	if (!f)
		return -1;
	if (!fgets(buf, len, f)) {
		fclose(f);
		return -1;
	}
	fclose(f);
	nl = strchr(buf, '\n');
	if (nl)
		*nl = '\0';
	return 0;
}

/* ---- the module ------------------------------------------------------- */

static int stat_index(const char *name)
{
	int i;

	for (i = 0; i < nstats; i++)
		if (!strcmp(stat_name[i], name))
			return i;
	if (nstats == MAX_STATS)
		return -1;
	snprintf(stat_name[nstats], sizeof(stat_name[0]), "%s", name);
	return nstats++;
}

/* 0: read; -1: the file is not readable. */
static int read_stats(void)
{
	FILE *f = fopen(STATS_FILE, "r");
	char name[64];
	long long v;
	int i;

	if (!f)
		return -1;
	memcpy(stat_prev, stat_now, sizeof(stat_now));
	while (fscanf(f, "%63s %lld", name, &v) == 2) {
		i = stat_index(name);
		if (i >= 0)
			stat_now[i] = v;
	}
	fclose(f);
	return 0;
}

static long long stat_get(const char *name, long long *rate, bool *has_rate)
{
	double dt = this_sample - last_sample;
	int i;

	for (i = 0; i < nstats; i++) {
		if (strcmp(stat_name[i], name))
			continue;
		*has_rate = have_prev_stats && dt > 0;
		*rate = *has_rate ? (long long)((stat_now[i] - stat_prev[i]) / dt + 0.5) : 0;
		return stat_now[i];
	}
	*has_rate = false;
	*rate = 0;
	return -1;
}

static void show_stat(const char *label, const char *name)
{
	long long rate, v;
	bool has_rate;
	int i;

	v = stat_get(name, &rate, &has_rate);
	if (v < 0)
		return;
	for (i = 0; i < nstats; i++)
		if (!strcmp(stat_name[i], name))
			stat_shown[i] = true;
	if (has_rate)
		printf("  %-22s %12lld %10lld/s\n", label, v, rate);
	else
		printf("  %-22s %12lld %12s\n", label, v, "-");
}

static void show_module(void)
{
	char ver[64], buf[128], path[PATH_MAX];
	struct dirent *de;
	DIR *d;
	bool first = true;
	int i;

	if (access(SYS_MODULE, F_OK)) {
		printf("usched.ko: not loaded (no %s): programs run in the library's fallback mode\n",
		       SYS_MODULE);
		return;
	}
	if (read_line(SYS_MODULE "/version", ver, sizeof(ver)))
		snprintf(ver, sizeof(ver), "?");
	printf("usched.ko %s: ABI %d.%d (built against)", ver, USCHED_ABI_MAJOR,
	       USCHED_ABI_MINOR);
	d = opendir(SYS_MODULE "/parameters");
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), SYS_MODULE "/parameters/%s", de->d_name);
		if (read_line(path, buf, sizeof(buf)))
			continue;
		printf("%s %s=%s", first ? "; parameters:" : "", de->d_name, buf);
		first = false;
	}
	if (d)
		closedir(d);
	printf("\n");

	if (read_stats()) {
		printf("  counters: %s not readable (mount debugfs; run as root)\n",
		       STATS_FILE);
		return;
	}
	printf("  %-22s %12s %12s\n", "COUNTER", "TOTAL", "RATE");
	show_stat("groups (live)", "groups");
	show_stat("workers (live)", "workers");
	show_stat("blocks", "blocks");
	show_stat("unblocks", "unblocks");
	show_stat("parks", "parks");
	show_stat("wakes", "wakes");
	show_stat("handoffs", "handoffs");
	show_stat("handoff spin hits", "handoff_spin_hits");
	show_stat("standby wakes", "standby_wakes");
	show_stat("gate waits", "gate_waits");
	show_stat("gate opens (fail-open)", "gate_opens");
	show_stat("preempts (signal)", "preempt_signals");
	show_stat("preempts (redirect)", "preempt_redirects");
	show_stat("preempts deferred", "preempt_deferrals");
	show_stat("events lost", "events_lost");
	show_stat("dead worker cleanups", "dead_worker_cleanups");
	/* Counters of a newer module, under their own names. */
	for (i = 0; i < nstats; i++)
		if (!stat_shown[i])
			show_stat(stat_name[i], stat_name[i]);
	have_prev_stats = true;
}

/* ---- groups: the shared memory of a process ------------------------ */

static const char *kstate_name(uint32_t s)
{
	static const char * const names[] = {
		[USCHED_W_FREE] = "free",
		[USCHED_W_RUNNING] = "running",
		[USCHED_W_BLOCKED] = "blocked",
		[USCHED_W_PARKED] = "parked",
		[USCHED_W_GATED] = "gated",
		[USCHED_W_DEAD] = "dead",
	};

	return s < ARRAY_SIZE(names) && names[s] ? names[s] : "?";
}

static const char *claim_name(uint32_t c)
{
	static const char * const names[] = {
		[USCHED_CLAIM_RUNNING] = "own",
		[USCHED_CLAIM_BLOCKED] = "blocked",
		[USCHED_CLAIM_STOLEN] = "stolen",
		[USCHED_CLAIM_IDLE] = "idle",
	};

	return names[c & USCHED_CLAIM_STATE];
}

static const struct prev_worker *prev_worker(pid_t pid, uint64_t map, uint32_t wid)
{
	int i;

	for (i = 0; i < nprev_w; i++)
		if (prev_w[i].pid == pid && prev_w[i].map == map &&
		    prev_w[i].wid == wid)
			return &prev_w[i];
	return NULL;
}

static void rate_str(char *buf, size_t len, uint64_t now, uint64_t before,
		     bool have)
{
	double dt = this_sample - last_sample;

	if (!have || dt <= 0 || now < before)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.0f", (now - before) / dt);
}

/* Print one group of @pid whose mapping starts at @start, @len bytes. */
static void show_group(pid_t pid, int memfd, uint64_t start, uint64_t len)
{
	struct usched_shm_header h;
	struct usched_worker_slot *slots;
	uint32_t i, n, counts[USCHED_W_DEAD + 1] = { 0 };
	size_t size;

	if (pread(memfd, &h, sizeof(h), start) != sizeof(h)) {
		printf("  group at %#" PRIx64 ": shared memory not readable (%s): run as root\n",
		       start, strerror(errno));
		return;
	}
	if (h.magic != USCHED_SHM_MAGIC || h.abi_major != USCHED_ABI_MAJOR) {
		printf("  group at %#" PRIx64 ": unknown layout (magic %#x, ABI %u; this tool knows %u)\n",
		       start, h.magic, h.abi_major, USCHED_ABI_MAJOR);
		return;
	}
	n = h.max_workers;
	if (n > MAX_WORKERS || h.slots_offset + (uint64_t)n * USCHED_SLOT_SIZE > len) {
		printf("  group at %#" PRIx64 ": inconsistent header\n", start);
		return;
	}
	size = (size_t)n * sizeof(*slots);
	slots = malloc(size ? size : 1);
	if (!slots || pread(memfd, slots, size, start + h.slots_offset) != (ssize_t)size) {
		free(slots);
		printf("  group at %#" PRIx64 ": worker slots not readable\n", start);
		return;
	}
	for (i = 0; i < n; i++)
		if (slots[i].kstate <= USCHED_W_DEAD)
			counts[slots[i].kstate]++;
	printf("  group at %#" PRIx64 ": workers %u of %u (running %u, blocked %u, parked %u, gated %u, dead %u)\n",
	       start, n - counts[USCHED_W_FREE], n, counts[USCHED_W_RUNNING],
	       counts[USCHED_W_BLOCKED], counts[USCHED_W_PARKED],
	       counts[USCHED_W_GATED], counts[USCHED_W_DEAD]);
	printf("    gate: free %u, waiting %u, grants %" PRIu64 ", timeouts %" PRIu64
	       "; events: backlog %u of %u, overflows %" PRIu64 "\n",
	       h.gate_free, h.gate_waiting, (uint64_t)h.grants,
	       (uint64_t)h.gate_timeouts, h.ring_tail - h.ring_head,
	       h.ring_entries, (uint64_t)h.overflow_count);
	printf("    %4s %-8s %4s %10s %8s %10s %8s %9s %10s %8s %-7s\n", "WID",
	       "STATE", "CPU", "BLOCKS", "/s", "PREEMPTS", "/s", "DEFERRED",
	       "GATE_WAITS", "/s", "CLAIM");
	for (i = 0; i < n; i++) {
		const struct usched_worker_slot *s = &slots[i];
		const struct prev_worker *p;
		char r1[16], r2[16], r3[16];

		if (s->kstate == USCHED_W_FREE)
			continue;
		p = prev_worker(pid, start, i);
		rate_str(r1, sizeof(r1), s->blocks, p ? p->blocks : 0, p);
		rate_str(r2, sizeof(r2), s->preempts, p ? p->preempts : 0, p);
		rate_str(r3, sizeof(r3), s->gate_waits, p ? p->gate_waits : 0, p);
		printf("    %4u %-8s %4u %10" PRIu64 " %8s %10" PRIu64 " %8s %9u %10u %8s %-7s\n",
		       i, kstate_name(s->kstate), s->cpu, (uint64_t)s->blocks, r1,
		       (uint64_t)s->preempts, r2, s->deferrals, s->gate_waits, r3,
		       claim_name(s->claim));
		if (ncur_w < MAX_PREV) {
			cur_w[ncur_w].pid = pid;
			cur_w[ncur_w].map = start;
			cur_w[ncur_w].wid = i;
			cur_w[ncur_w].blocks = s->blocks;
			cur_w[ncur_w].preempts = s->preempts;
			cur_w[ncur_w].gate_waits = s->gate_waits;
			ncur_w++;
		}
	}
	free(slots);
}

static void proc_comm(pid_t pid, char *buf, size_t len)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	if (read_line(path, buf, len))
		snprintf(buf, len, "?");
}

/* The groups of @pid (mappings of /dev/usched); how many there are. */
static int show_process_groups(pid_t pid, bool say_none)
{
	char path[64], line[512], comm[32];
	uint64_t lo, hi;
	int memfd, n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	memfd = -1;
	while (fgets(line, sizeof(line), f)) {
		size_t l = strlen(line);

		if (l < 12 || strcmp(line + l - 12, "/dev/usched\n"))
			continue;
		if (sscanf(line, "%" SCNx64 "-%" SCNx64, &lo, &hi) != 2)
			continue;
		if (!n) {
			proc_comm(pid, comm, sizeof(comm));
			printf("\nprocess %d (%s)\n", pid, comm);
			memfd = open(path, O_RDONLY | O_CLOEXEC);
		}
		n++;
		if (memfd < 0)
			printf("  group at %#" PRIx64 ": %s not readable (%s): run as root\n",
			       lo, path, strerror(errno));
		else
			show_group(pid, memfd, lo, hi - lo);
	}
	fclose(f);
	if (memfd >= 0)
		close(memfd);
	if (!n && say_none) {
		proc_comm(pid, comm, sizeof(comm));
		printf("\nprocess %d (%s): no usched group (the module is not used: fallback mode, or not a libusched program)\n",
		       pid, comm);
	}
	return n;
}

static void show_all_groups(void)
{
	struct dirent *de;
	DIR *d = opendir("/proc");
	int procs = 0;
	char *end;
	long pid;

	while (d && (de = readdir(d))) {
		pid = strtol(de->d_name, &end, 10);
		if (*end || pid <= 0)
			continue;
		procs += show_process_groups((pid_t)pid, false) > 0;
	}
	if (d)
		closedir(d);
	if (!procs)
		printf("\nno process has a usched group now (programs in fallback mode are only seen with -p PID)\n");
}

/* ---- threads of one process ------------------------------------------- */

static const char *syscall_name(long nr)
{
	switch (nr) {
	case SYS_read: return "read";
	case SYS_write: return "write";
	case SYS_ioctl: return "ioctl";
	case SYS_futex: return "futex";
	case SYS_nanosleep: return "nanosleep";
	case SYS_clock_nanosleep: return "clock_nanosleep";
	case SYS_poll: return "poll";
	case SYS_ppoll: return "ppoll";
	case SYS_epoll_wait: return "epoll_wait";
	case SYS_epoll_pwait: return "epoll_pwait";
	case SYS_io_uring_enter: return "io_uring_enter";
	case SYS_rt_sigtimedwait: return "rt_sigtimedwait";
	case SYS_wait4: return "wait4";
	case SYS_accept: return "accept";
	case SYS_accept4: return "accept4";
	case SYS_recvfrom: return "recvfrom";
	case SYS_sendto: return "sendto";
	case SYS_select: return "select";
	case SYS_pselect6: return "pselect6";
	case SYS_pause: return "pause";
	default: return NULL;
	}
}

static const char *ioctl_name(unsigned long cmd)
{
	switch (cmd) {
	case USCHED_IOC_VERSION: return "VERSION";
	case USCHED_IOC_SETUP: return "SETUP";
	case USCHED_IOC_REGISTER: return "REGISTER";
	case USCHED_IOC_UNREGISTER: return "UNREGISTER";
	case USCHED_IOC_PARK: return "PARK";
	case USCHED_IOC_WAKE: return "WAKE";
	case USCHED_IOC_HANDOFF: return "HANDOFF";
	case USCHED_IOC_SET_STANDBY: return "SET_STANDBY";
	case USCHED_IOC_GRANT: return "GRANT";
	case USCHED_IOC_SET_SLICE: return "SET_SLICE";
#ifdef USCHED_IOC_PREEMPT
	case USCHED_IOC_PREEMPT: return "PREEMPT";
#endif
	default: return NULL;
	}
}

/*
 * What thread @tid of @pid waits in: "" when it runs, else the syscall (for
 * the module's ioctls, the command and the caller's worker id), or the
 * kernel function of wchan.
 */
static void thread_wait(pid_t pid, pid_t tid, int memfd, char *buf, size_t len)
{
	unsigned long long a[6], sp, pc;
	char path[96], line[256], link[64];
	const char *name, *cmd;
	ssize_t l;
	long nr;

	buf[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%d/task/%d/syscall", pid, tid);
	if (read_line(path, line, sizeof(line)))
		return;
	if (!strcmp(line, "running"))
		return;
	if (sscanf(line, "%ld %llx %llx %llx %llx %llx %llx %llx %llx", &nr,
		   &a[0], &a[1], &a[2], &a[3], &a[4], &a[5], &sp, &pc) < 1)
		return;
	if (nr < 0) {
		/* In the kernel, not in a system call (a fault, say). */
		snprintf(path, sizeof(path), "/proc/%d/task/%d/wchan", pid, tid);
		if (!read_line(path, line, sizeof(line)) && strcmp(line, "0"))
			snprintf(buf, len, "kernel %.40s", line);
		return;
	}
	name = syscall_name(nr);
	if (nr == SYS_ioctl) {
		snprintf(path, sizeof(path), "/proc/%d/fd/%llu", pid, a[0]);
		l = readlink(path, link, sizeof(link) - 1);
		link[l > 0 ? l : 0] = '\0';
		cmd = ioctl_name(a[1]);
		if (!strcmp(link, "/dev/usched") && cmd) {
			uint32_t hdr[3];	/* size, flags, worker */

			if ((a[1] == USCHED_IOC_PARK || a[1] == USCHED_IOC_HANDOFF) &&
			    memfd >= 0 && pread(memfd, hdr, sizeof(hdr), a[2]) == sizeof(hdr))
				snprintf(buf, len, "ioctl %s w%u", cmd, hdr[2]);
			else
				snprintf(buf, len, "ioctl %s", cmd);
			return;
		}
	}
	if (name)
		snprintf(buf, len, "%s", name);
	else
		snprintf(buf, len, "syscall %ld", nr);
}

static unsigned long long prev_ticks(pid_t tid, bool *found)
{
	int i;

	for (i = 0; i < nprev_t; i++)
		if (prev_t[i].tid == tid) {
			*found = true;
			return prev_t[i].ticks;
		}
	*found = false;
	return 0;
}

static int show_threads(pid_t pid)
{
	char path[96], line[1024], comm[32], rate[16], wait[48];
	unsigned long long ut, st, ticks, before;
	double dt = this_sample - last_sample, total = 0;
	struct dirent *de;
	int cpu, memfd, nthreads = 0;
	char state, *p;
	bool found;
	DIR *d;
	long tid;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	d = opendir(path);
	if (!d)
		return -1;
	proc_comm(pid, comm, sizeof(comm));
	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	memfd = open(path, O_RDONLY | O_CLOEXEC);
	printf("\nthreads of process %d (%s)\n", pid, comm);
	printf("  %7s %-16s %1s %4s %10s %6s  %s\n", "TID", "NAME", "S", "CPU",
	       "CPU_TIME", "%CPU", "WAITING IN");
	ncur_t = 0;
	while ((de = readdir(d))) {
		tid = strtol(de->d_name, &p, 10);
		if (*p || tid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%ld/stat", pid, tid);
		if (read_line(path, line, sizeof(line)))
			continue;
		/* "tid (comm) S ...": comm may hold spaces and parentheses. */
		p = strrchr(line, ')');
		if (!p)
			continue;
		snprintf(comm, sizeof(comm), "%.*s",
			 (int)(p - strchr(line, '(') - 1), strchr(line, '(') + 1);
		/* Fields after ")": 3 state ... 14 utime 15 stime ... 39 processor. */
		if (sscanf(p + 2, "%c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu "
			   "%*d %*d %*d %*d %*d %*d %*u %*u %*d %*u %*u %*u %*u %*u %*u "
			   "%*u %*u %*u %*u %*u %*u %*u %*d %d", &state, &ut, &st, &cpu) != 4)
			continue;
		ticks = ut + st;
		before = prev_ticks((pid_t)tid, &found);
		if (found && dt > 0) {
			double pct = (ticks - before) * 100.0 / hz / dt;

			snprintf(rate, sizeof(rate), "%.1f", pct);
			total += pct;
		} else {
			snprintf(rate, sizeof(rate), "-");
		}
		thread_wait(pid, (pid_t)tid, memfd, wait, sizeof(wait));
		if (nthreads < MAX_THREADS) {
			printf("  %7ld %-16s %c %4d %9.2fs %6s  %s\n", tid, comm, state,
			       cpu, (double)ticks / hz, rate, wait);
			cur_t[ncur_t].tid = (pid_t)tid;
			cur_t[ncur_t].ticks = ticks;
			ncur_t++;
		}
		nthreads++;
	}
	closedir(d);
	if (memfd >= 0)
		close(memfd);
	if (nthreads > MAX_THREADS)
		printf("  ... %d more threads not shown\n", nthreads - MAX_THREADS);
	if (nprev_t)
		printf("  %d threads, %.1f%% CPU in all\n", nthreads, total);
	else
		printf("  %d threads\n", nthreads);
	memcpy(prev_t, cur_t, sizeof(cur_t[0]) * ncur_t);
	nprev_t = ncur_t;
	return 0;
}

/* ---- one snapshot --------------------------------------------------- */

static int snapshot(void)
{
	char tbuf[32];
	time_t t = time(NULL);
	int ret = 0;

	this_sample = now_s();
	strftime(tbuf, sizeof(tbuf), "%H:%M:%S", localtime(&t));
	printf("uschedtop %s  interval %.1fs%s\n", tbuf, opt.interval,
	       opt.batch ? "" : "  (q quits)");
	show_module();
	ncur_w = 0;
	if (opt.pid) {
		if (kill(opt.pid, 0) && errno == ESRCH) {
			printf("\nprocess %d: no such process\n", opt.pid);
			ret = 1;
		} else {
			show_process_groups(opt.pid, true);
			if (show_threads(opt.pid))
				printf("\nprocess %d: /proc/%d/task not readable\n",
				       opt.pid, opt.pid);
		}
	} else {
		show_all_groups();
	}
	printf("\ntasks: inside each process only (the library has no outside channel): see tools/gdb/usched-gdb.py\n");
	memcpy(prev_w, cur_w, sizeof(cur_w[0]) * ncur_w);
	nprev_w = ncur_w;
	last_sample = this_sample;
	fflush(stdout);
	return ret;
}

/* ---- main ---------------------------------------------------------------- */

static struct termios saved_tty;
static bool tty_raw;

static void tty_restore(void)
{
	if (tty_raw)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved_tty);
}

static void on_signal(int sig)
{
	quit = 1;
}

/* Wait @secs; true when the user asked to quit. */
static bool wait_interval(double secs)
{
	struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };
	double end = now_s() + secs, left;
	char c;

	while (!quit && (left = end - now_s()) > 0) {
		if (!tty_raw) {
			struct timespec ts = { (time_t)left, (long)((left - (time_t)left) * 1e9) };

			nanosleep(&ts, NULL);
			continue;
		}
		if (poll(&p, 1, (int)(left * 1000) + 1) > 0 &&
		    read(STDIN_FILENO, &c, 1) == 1 && (c == 'q' || c == 'Q'))
			return true;
	}
	return quit;
}

static void usage(int status)
{
	fprintf(status ? stderr : stdout,
		"usage: uschedtop [-p PID] [-d SECS] [-n COUNT | --once]\n"
		"  -p PID    one process: its groups and its threads\n"
		"  -d SECS   refresh interval (default 1)\n"
		"  -n COUNT  print COUNT snapshots and exit (batch mode)\n"
		"  --once    one snapshot (-n 1)\n");
	exit(status);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "once", no_argument, NULL, '1' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sigaction sa = { .sa_handler = on_signal };
	long i;
	int c, ret = 0;

	while ((c = getopt_long(argc, argv, "p:d:n:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			opt.pid = (pid_t)atoi(optarg);
			if (opt.pid <= 0)
				usage(2);
			break;
		case 'd':
			opt.interval = atof(optarg);
			if (opt.interval < 0.05)
				usage(2);
			break;
		case 'n':
			opt.count = atol(optarg);
			if (opt.count < 1)
				usage(2);
			opt.batch = true;
			break;
		case '1':
			opt.count = 1;
			opt.batch = true;
			break;
		case 'h':
			usage(0);
			break;
		default:
			usage(2);
		}
	}
	if (optind != argc)
		usage(2);
	hz = sysconf(_SC_CLK_TCK);
	if (!opt.batch && !isatty(STDOUT_FILENO)) {
		opt.batch = true;	/* not a terminal: behave like -n forever */
		opt.count = LONG_MAX;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (!opt.batch && isatty(STDIN_FILENO) && !tcgetattr(STDIN_FILENO, &saved_tty)) {
		struct termios raw = saved_tty;

		raw.c_lflag &= ~(ICANON | ECHO);
		raw.c_cc[VMIN] = 0;
		raw.c_cc[VTIME] = 0;
		if (!tcsetattr(STDIN_FILENO, TCSANOW, &raw)) {
			tty_raw = true;
			atexit(tty_restore);
		}
	}

	for (i = 0; !quit; i++) {
		if (!opt.batch)
			printf("\033[H\033[J");	/* home, clear the screen */
		else if (i)
			printf("\n");
		ret = snapshot();
		if (ret || (opt.batch && i + 1 >= opt.count))
			break;
		if (wait_interval(opt.interval))
			break;
	}
	return ret;
}
