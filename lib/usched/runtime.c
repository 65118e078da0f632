// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * runtime.c - starting and stopping the runtime, its configuration, the
 * main task, statistics and messages.
 */
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

void usched_config_init(struct usched_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->size = sizeof(*cfg);
	cfg->mode = USCHED_MODE_AUTO;
}

void __usched_log(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n > (int)sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	fputs("usched: ", stderr);
	fwrite(buf, 1, n, stderr);
}

void __usched_die(const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fprintf(stderr, "usched: fatal: %s\n", buf);
	abort();
}

const char *usched_mode_name(int mode)
{
	switch (mode) {
	case USCHED_MODE_AUTO:
		return "auto";
	case USCHED_MODE_KERNEL:
		return "kernel";
	case USCHED_MODE_FALLBACK:
		return "fallback";
	}
	return "none";
}

int usched_mode(void)
{
	return rt.started ? (int)rt.mode : -1;
}

static uint32_t cpus_allowed(void)
{
	cpu_set_t set;
	int n;

	if (sched_getaffinity(0, sizeof(set), &set))
		return 1;
	n = CPU_COUNT(&set);
	return n > 0 ? n : 1;
}

static int env_u64(const char *name, uint64_t *out)
{
	const char *v = getenv(name);
	char *end;
	unsigned long long x;

	if (!v || !*v)
		return 0;
	errno = 0;
	x = strtoull(v, &end, 10);
	if (errno || *end) {
		__usched_log("ignoring %s=%s: not a number", name, v);
		return 0;
	}
	*out = x;
	return 1;
}

/* The configuration, with defaults and the environment applied. */
static int config_resolve(const struct usched_config *in, struct usched_config *c)
{
	const char *mode = getenv("USCHED_MODE");
	uint64_t x;

	usched_config_init(c);
	if (in) {
		if (in->size < sizeof(*in) || (in->flags & ~USCHED_CFG_FLAGS) ||
		    in->__reserved || in->mode > USCHED_MODE_FALLBACK)
			return -EINVAL;
		*c = *in;
		c->size = sizeof(*c);
	}
	if (mode && *mode) {
		if (!strcmp(mode, "auto"))
			c->mode = USCHED_MODE_AUTO;
		else if (!strcmp(mode, "kernel"))
			c->mode = USCHED_MODE_KERNEL;
		else if (!strcmp(mode, "fallback"))
			c->mode = USCHED_MODE_FALLBACK;
		else
			__usched_log("ignoring USCHED_MODE=%s (auto, kernel or fallback)",
				     mode);
	}
	if (env_u64("USCHED_SLOTS", &x))
		c->slots = x;
	if (env_u64("USCHED_SLICE_US", &x))
		c->slice_ns = x * 1000;
	if (getenv("USCHED_VERBOSE"))
		c->flags |= USCHED_CFG_VERBOSE;

	if (!c->slots)
		c->slots = cpus_allowed();
	if (c->slots > USCHED_MAX_SLOTS)
		return -EINVAL;
	if (!c->max_workers)
		c->max_workers = 4 * c->slots + 8;
	if (c->max_workers < c->slots + 2)
		return -EINVAL;
	if (!c->stack_size)
		c->stack_size = USCHED_DEF_STACK;
	if (c->stack_size < USCHED_MIN_STACK || c->stack_size > (1ull << 30))
		return -EINVAL;
	if (!c->slice_ns)
		c->slice_ns = USCHED_DEF_SLICE_NS;
	if (c->slice_ns < USCHED_MIN_SLICE_NS)
		return -EINVAL;
	return 0;
}

static void teardown(void)
{
	uint32_t i;

	__usched_monitor_stop();
	for (i = 0; i < rt.nworkers; i++)
		if (rt.workers[i]) {
			pthread_join(rt.workers[i]->thread, NULL);
			/* Its cached stacks go with their chunks, below. */
			__usched_task_cache_drain(rt.workers[i]);
			free(rt.workers[i]);
			rt.workers[i] = NULL;
		}
	rt.nworkers = 0;
	for (i = 0; rt.slots && i < rt.nslots; i++)
		__usched_io_slot_fini(&rt.slots[i]);
	free(rt.slots);
	rt.slots = NULL;
	free(rt.workers);
	rt.workers = NULL;
	__usched_kmode_close();
	__usched_preempt_fini();
	__usched_stack_pool_drain();
}

int usched_start(const struct usched_config *cfg)
{
	struct usched_config c;
	uint32_t i;
	int r;

	if (rt.started)
		return -EALREADY;
	r = config_resolve(cfg, &c);
	if (r)
		return r;
	memset(&rt, 0, sizeof(rt));
	rt.cfg = c;
	rt.kfd = -1;
	rt.nslots = c.slots;
	__usched_arch_init();
	__usched_stack_init();

	rt.mode = USCHED_MODE_FALLBACK;
	if (c.mode != USCHED_MODE_FALLBACK) {
		r = __usched_kmode_open();
		if (!r)
			rt.mode = USCHED_MODE_KERNEL;
		else if (c.mode == USCHED_MODE_KERNEL)
			return r == -ENOENT ? -ENODEV : r;
		else if (c.flags & USCHED_CFG_VERBOSE)
			__usched_log("usched.ko not usable (%s): fallback mode",
				     strerror(-r));
	}

	r = -ENOMEM;
	rt.slots = aligned_alloc(CACHELINE, sizeof(*rt.slots) * rt.nslots);
	rt.workers = calloc(rt.cfg.max_workers, sizeof(*rt.workers));
	if (!rt.slots || !rt.workers)
		goto fail;
	memset(rt.slots, 0, sizeof(*rt.slots) * rt.nslots);
	for (i = 0; i < rt.nslots; i++) {
		rt.slots[i].id = i;
		__usched_io_slot_init(&rt.slots[i]);
	}
	r = __usched_preempt_init();
	if (r)
		goto fail;
	rt.started = true;
	for (i = 0; i < rt.nslots; i++) {
		r = __usched_worker_spawn_with(&rt.slots[i], false);
		if (r)
			goto fail_started;
	}
	/* Kernel mode: one more worker, the standby. */
	if (rt.mode == USCHED_MODE_KERNEL &&
	    !(c.flags & USCHED_CFG_NO_DETACH)) {
		r = __usched_worker_spawn_with(NULL, false);
		if (r)
			goto fail_started;
	}
	atomic_store(&rt.started_all, 1);
	if (rt.mode == USCHED_MODE_FALLBACK) {
		r = __usched_monitor_start();
		if (r)
			goto fail_started;
	}
	if (c.flags & USCHED_CFG_VERBOSE)
		__usched_log("%s mode, %u slots, %u workers at most, %llu us slice, "
			     "%llu KiB stacks, preemption %s",
			     usched_mode_name(rt.mode), rt.nslots, c.max_workers,
			     (unsigned long long)c.slice_ns / 1000,
			     (unsigned long long)c.stack_size >> 10,
			     __usched_preempt_async() ? "on" : "off");
	return 0;

fail_started:
	atomic_store(&rt.stopping, 2);
	__usched_wake_all();
fail:
	teardown();
	rt.started = false;
	return r;
}

int usched_stop(void)
{
	uint32_t seen;

	if (!rt.started)
		return -ESRCH;
	if (this_worker())
		return -EDEADLK;
	atomic_store_explicit(&rt.stopping, 1, memory_order_seq_cst);
	for (;;) {
		seen = atomic_load_explicit(&rt.done_futex, memory_order_acquire);
		if (!atomic_load_explicit(&rt.ntasks, memory_order_seq_cst))
			break;
		__usched_futex_wait(&rt.done_futex, seen, USCHED_NEVER);
	}
	atomic_store_explicit(&rt.stopping, 2, memory_order_seq_cst);
	__usched_wake_all();
	teardown();
	rt.started = false;
	return 0;
}

int usched_main(const struct usched_config *cfg, int (*fn)(void *), void *arg)
{
	struct usched_attr a;
	usched_task_t *t;
	int r, result = 0;

	r = usched_start(cfg);
	if (r)
		return r;
	usched_attr_init(&a);
	a.name = "main";
	r = usched_spawn(&t, &a, fn, arg);
	if (!r)
		r = usched_join(t, &result);
	usched_stop();
	return r ? r : result;
}

int usched_stats_get(struct usched_stats *st)
{
	struct usched_stats s;
	uint64_t sw = 0, steals = 0;
	uint32_t i;

	if (!st || st->size < offsetof(struct usched_stats, switches))
		return -EINVAL;
	memset(&s, 0, sizeof(s));
	s.size = st->size < sizeof(s) ? st->size : sizeof(s);
	if (rt.started) {
		s.mode = rt.mode;
		s.slots = rt.nslots;
		s.workers = __atomic_load_n(&rt.nworkers, __ATOMIC_RELAXED);
		for (i = 0; i < rt.nslots; i++) {
			steals += atomic_load(&rt.slots[i].steals);
			sw += atomic_load(&rt.slots[i].switches);
		}
	}
	s.tasks_live = atomic_load(&rt.ntasks);
	s.tasks_spawned = atomic_load(&rt.st_spawned);
	s.switches = sw;
	s.steals = steals;
	s.preempts = atomic_load(&rt.st_preempts);
	s.preempt_deferred = atomic_load(&rt.st_preempt_deferred);
	s.blocks = atomic_load(&rt.st_blocks);
	s.handovers = atomic_load(&rt.st_handovers);
	s.gate_waits = atomic_load(&rt.st_gate_waits);
	s.io_ops = atomic_load(&rt.st_io_ops);
	s.parks = atomic_load(&rt.st_parks);
	if (rt.started && rt.mode == USCHED_MODE_KERNEL && rt.kslots) {
		uint64_t b = 0;

		/* Every block the module saw, taken over or not. */
		for (i = 0; i < rt.nworkers; i++)
			if (rt.workers[i] && rt.workers[i]->kslot)
				b += __atomic_load_n(&rt.workers[i]->kslot->blocks,
						     __ATOMIC_RELAXED);
		s.blocks = b;
	}
	memcpy(st, &s, s.size);
	return 0;
}
