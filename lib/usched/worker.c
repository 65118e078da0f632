// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * worker.c - worker threads (M): starting them, and parking and waking a
 * worker that has nothing to do.
 *
 * In kernel mode a worker parks in the module (USCHED_IOC_PARK, with a wake
 * permit, woken by USCHED_IOC_WAKE or, for the standby, by the module when
 * a holder blocks).  In fallback mode it sleeps on its own futex word with
 * the same permit semantics: a wake before the park is never lost.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"
#include "san.h"

#define WORKER_STACK	(1u << 20)

static void *worker_thread(void *arg)
{
	struct usched_worker *w = arg;
	pthread_attr_t a;
	char name[16];
	bool spare;
	int r;

	__usched_worker = w;
	snprintf(name, sizeof(name), "usched-w%u", w->id);
	pthread_setname_np(pthread_self(), name);
	/* Release: the monitor reads it (0 until then: not yet looked at). */
	__atomic_store_n(&w->tid, (pid_t)syscall(SYS_gettid), __ATOMIC_RELEASE);
	w->rand = (uint64_t)w->tid * 0x9e3779b97f4a7c15ull | 1;
	if (!pthread_getattr_np(pthread_self(), &a)) {
		void *lo;
		size_t sz;

		pthread_attr_getstack(&a, &lo, &sz);
		w->sched_stack_lo = lo;
		w->sched_stack_size = sz;
		pthread_attr_destroy(&a);
	}
	__usched_san_worker_init(w);
	if (rt.mode == USCHED_MODE_KERNEL) {
		r = __usched_kmode_register(w);
		if (r)
			__usched_die("worker %u: cannot register with usched.ko: %s",
				     w->id, strerror(-r));
	}
	r = __usched_preempt_worker_init(w);
	if (r)
		__usched_die("worker %u: cannot set up preemption: %s", w->id,
			     strerror(-r));

	usched_lock(&rt.lock);
	spare = !w->next_slot;
	if (spare) {
		/* Only now can others wake it (its module id is known). */
		w->role = ROLE_SPARE;
		if (rt.mode == USCHED_MODE_KERNEL && !rt.standby) {
			rt.standby = w;	/* off the spare list */
		} else {
			w->spare_next = rt.spares;
			rt.spares = w;
			rt.nspares++;
		}
	}
	usched_unlock(&rt.lock);
	if (rt.mode == USCHED_MODE_KERNEL)
		__usched_standby_update();

	__usched_worker_loop(w);

	__usched_preempt_worker_fini(w);
	if (rt.mode == USCHED_MODE_KERNEL)
		__usched_kmode_unregister(w);
	__usched_worker = NULL;
	return NULL;
}

int __usched_worker_spawn_with(struct usched_slot *s, bool spinning)
{
	struct usched_worker *w;
	pthread_attr_t a;
	sigset_t all, old;
	int r;

	w = aligned_alloc(CACHELINE, (sizeof(*w) + CACHELINE - 1) & ~(CACHELINE - 1));
	if (!w)
		return -ENOMEM;
	memset(w, 0, sizeof(*w));
	w->kid = USCHED_NO_WORKER;
	w->standby_named = USCHED_NO_WORKER;

	usched_lock(&rt.lock);
	if (rt.nworkers >= rt.cfg.max_workers) {
		usched_unlock(&rt.lock);
		free(w);
		return -EAGAIN;
	}
	w->id = rt.nworkers;
	rt.workers[w->id] = w;
	/* Release: the worker's fields before the monitor sees it counted. */
	__atomic_store_n(&rt.nworkers, w->id + 1, __ATOMIC_RELEASE);
	if (s) {
		w->role = ROLE_HOLDER;
		w->next_slot = s;
		w->spinning = spinning;
		atomic_store_explicit(&s->owner, OWNER_TAKEN(w),
				      memory_order_release);
	}
	usched_unlock(&rt.lock);

	pthread_attr_init(&a);
	pthread_attr_setstacksize(&a, WORKER_STACK);
	/* Workers start with every signal blocked but the preemption one. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = pthread_create(&w->thread, &a, worker_thread, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&a);
	if (r) {
		usched_lock(&rt.lock);
		rt.workers[w->id] = NULL;
		__atomic_store_n(&rt.nworkers, w->id, __ATOMIC_RELEASE);
		usched_unlock(&rt.lock);
		free(w);
		return -r;
	}
	return 0;
}

int __usched_worker_park(struct usched_worker *w, uint64_t deadline)
{
	int r;

	if (rt.mode == USCHED_MODE_KERNEL)
		return __usched_kmode_park(w, deadline);
	for (;;) {
		if (atomic_exchange_explicit(&w->permit, 0, memory_order_acquire))
			return 0;
		r = __usched_futex_wait(&w->permit, 0, deadline);
		if (r == -ETIMEDOUT)
			return atomic_exchange_explicit(&w->permit, 0,
				memory_order_acquire) ? 0 : -ETIMEDOUT;
		if (r == -EINTR)
			return r;
	}
}

void __usched_worker_wake(struct usched_worker *w)
{
	if (rt.mode == USCHED_MODE_KERNEL) {
		__usched_kmode_wake(w);
		return;
	}
	/* Release: what the waker set up (next_slot) before the permit. */
	if (!atomic_exchange_explicit(&w->permit, 1, memory_order_release))
		__usched_futex_wake(&w->permit, 1);
}
