// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * sched.c - the scheduler: what a worker does between two tasks.
 *
 * A worker that holds a slot loops: find a runnable task, switch to it,
 * and when the task switches back, do what it asked (requeue it, finish
 * its park, or bury it).  Where it looks, in order (findrunnable):
 *
 *   1. the due timers and the slot's io_uring completions (the tasks they
 *      wake go to runnext; an empty ring costs a few loads, no syscall);
 *   2. every 61st schedule, the global queue first (so it is never starved
 *      by two tasks that keep waking each other on one slot);
 *   3. the slot's runnext (the task just woken: LIFO, for locality), then
 *      its run queue (FIFO, so usched_yield() really yields);
 *   4. the global queue (tasks from outside, from slot-less workers, and
 *      preempted tasks);
 *   5. the other slots' run queues, in a random order, taking half;
 *   6. nothing: in kernel mode, if a worker waits at the gate, hand it this
 *      slot; else go idle: the slot goes on the idle list and the worker
 *      parks, or, with I/O in flight, it waits on the slot's ring.
 *
 * Idle slots are woken by __usched_wakep() when a task becomes runnable:
 * it hands an idle slot to a parked spare worker, unless a worker is
 * already looking for work ("spinning"); that worker, once it finds some,
 * wakes the next one (Go's scheme: at most one spinning worker at a time
 * keeps wake-ups from stampeding, yet work spreads over every slot).
 *
 * Losing a slot.  A slot whose holder blocked in task code can be taken
 * over (see struct usched_slot.owner).  The holder finds out at its next
 * __usched_enter(): then it runs without a slot, puts the tasks it makes
 * runnable on the global queue, and when its task switches out it looks
 * for a free slot (one freed for the gate first) or parks as a spare.
 */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "san.h"

/*
 * A due timer with every slot busy: how soon the watcher looks again (in
 * fallback mode the monitor also preempts for it, at its own ticks).
 */
#define TIMER_RETRY_NS		200000ull
#define TIMER_RETRY_FB_NS	1000000ull

struct usched_rt __usched_rt;
__thread struct usched_worker *__usched_worker
	__attribute__((tls_model("initial-exec")));

/* ---- the slot-ownership protocol -------------------------------------- */

bool __usched_enter(struct usched_worker *w)
{
	struct usched_slot *s = w->slot;
	uintptr_t me = (uintptr_t)w;

	if (w->busy++)
		return w->slot != NULL;
	if (!s)
		return false;
	/*
	 * Kernel mode: a plain load does.  Callers are in a nopreempt section,
	 * and the standby never takes a slot whose holder blocked with its
	 * nopreempt word set; a take-over of a holder blocked in task code
	 * completes before the module lets that holder back to user mode.
	 */
	if (w->kslot) {
		uintptr_t o;

		/* A take-over in progress resolves in a few instructions. */
		while ((o = atomic_load_explicit(&s->owner,
				memory_order_acquire)) & OWNER_STEALING)
			cpu_relax();
		if (o == me)
			return true;
	} else if (atomic_compare_exchange_strong_explicit(&s->owner, &me,
			me | OWNER_BUSY, memory_order_acquire,
			memory_order_relaxed)) {
		/* Acquire: the slot's queues as the last holder left them. */
		return true;
	}
	/* Taken over while this worker was blocked in task code. */
	w->slot = NULL;
	return false;
}

void __usched_leave(struct usched_worker *w)
{
	if (--w->busy)
		return;
	/* Release: what this worker did to the slot, to its next holder. */
	if (w->slot && !w->kslot)
		atomic_store_explicit(&w->slot->owner, (uintptr_t)w,
				      memory_order_release);
}

/* ---- the global queue ---------------------------------------------------- */

void __usched_globq_put(struct usched_task *t)
{
	t->next = NULL;
	usched_lock(&rt.gq_lock);
	if (rt.gq_tail)
		rt.gq_tail->next = t;
	else
		rt.gq_head = t;
	rt.gq_tail = t;
	atomic_fetch_add_explicit(&rt.gq_len, 1, memory_order_seq_cst);
	usched_unlock(&rt.gq_lock);
}

struct usched_task *__usched_globq_get(void)
{
	struct usched_task *t;

	if (!atomic_load_explicit(&rt.gq_len, memory_order_relaxed))
		return NULL;
	usched_lock(&rt.gq_lock);
	t = rt.gq_head;
	if (t) {
		rt.gq_head = t->next;
		if (!rt.gq_head)
			rt.gq_tail = NULL;
		atomic_fetch_sub_explicit(&rt.gq_len, 1, memory_order_relaxed);
	}
	usched_unlock(&rt.gq_lock);
	return t;
}

/* ---- making tasks runnable ---------------------------------------------- */

void __usched_ready(struct usched_task *t, bool next)
{
	struct usched_worker *w = this_worker();

	/* Runtime locks below (gq_lock, rt.lock): not preemptible. */
	if (w)
		__usched_np_inc(w);
	atomic_store_explicit(&t->state, TASK_RUNNABLE, memory_order_relaxed);
	if (w && __usched_enter(w)) {
		struct usched_slot *s = w->slot;

		if (next) {
			/* The woken task runs next; the one it displaces queues. */
			t = atomic_exchange_explicit(&s->runnext, t,
						     memory_order_release);
		}
		if (t && !__usched_runq_put(s, t))
			__usched_globq_put(t);
		__usched_leave(w);
	} else {
		if (w)
			__usched_leave(w);
		__usched_globq_put(t);
	}
	__usched_wakep();
	if (w)
		__usched_np_dec(w);
}

/* A holder idle on its ring (its slot is not on the idle list): kick it. */
static bool kick_io_waiter(void)
{
	uint32_t i;

	if (!atomic_load_explicit(&rt.nio_waiting, memory_order_seq_cst))
		return false;
	for (i = 0; i < rt.nslots; i++)
		if (atomic_load_explicit(&rt.slots[i].io_waiting,
					 memory_order_relaxed)) {
			__usched_io_kick(&rt.slots[i]);
			return true;
		}
	return false;
}

/* Wake a spare (or an I/O-waiting holder) when work may wait for a slot. */
void __usched_wakep(void)
{
	struct usched_slot *s;
	struct usched_worker *w;
	uint32_t z = 0;

	if (!atomic_load_explicit(&rt.nidle, memory_order_seq_cst)) {
		kick_io_waiter();
		return;
	}
	if (atomic_load_explicit(&rt.nspinning, memory_order_relaxed) ||
	    !atomic_compare_exchange_strong_explicit(&rt.nspinning, &z, 1,
			memory_order_seq_cst, memory_order_relaxed))
		return;
	usched_lock(&rt.lock);
	s = rt.idle_slots;
	w = rt.spares;
	if (!s || (!w && rt.nworkers >= rt.cfg.max_workers)) {
		usched_unlock(&rt.lock);
		atomic_fetch_sub_explicit(&rt.nspinning, 1, memory_order_relaxed);
		return;
	}
	rt.idle_slots = s->idle_next;
	s->idle = false;
	atomic_fetch_sub_explicit(&rt.nidle, 1, memory_order_relaxed);
	if (w) {
		rt.spares = w->spare_next;
		rt.nspares--;
		w->role = ROLE_HOLDER;
		w->next_slot = s;
		w->spinning = true;	/* it owns the nspinning count now */
		atomic_store_explicit(&s->owner, OWNER_TAKEN(w),
				      memory_order_relaxed);
		usched_unlock(&rt.lock);
		__usched_worker_wake(w);
		return;
	}
	usched_unlock(&rt.lock);
	/* No spare: a new worker starts with this slot (it counts as spinning). */
	if (__usched_worker_spawn_with(s, true)) {
		usched_lock(&rt.lock);
		s->idle = true;
		s->idle_next = rt.idle_slots;
		rt.idle_slots = s;
		atomic_fetch_add_explicit(&rt.nidle, 1, memory_order_relaxed);
		usched_unlock(&rt.lock);
		atomic_fetch_sub_explicit(&rt.nspinning, 1, memory_order_relaxed);
	}
}

/* A spinning worker found work: stop spinning, and wake the next one. */
static void reset_spinning(struct usched_worker *w)
{
	if (!w->spinning)
		return;
	w->spinning = false;
	if (atomic_fetch_sub_explicit(&rt.nspinning, 1, memory_order_seq_cst) == 1)
		__usched_wakep();
}

/* Stop spinning without finding work. */
static void drop_spinning(struct usched_worker *w)
{
	if (!w->spinning)
		return;
	w->spinning = false;
	atomic_fetch_sub_explicit(&rt.nspinning, 1, memory_order_seq_cst);
}

/* ---- finding work ------------------------------------------------------- */

static uint32_t fastrand(struct usched_worker *w)
{
	uint64_t x = w->rand;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	w->rand = x;
	return (uint32_t)(x >> 16);
}

static struct usched_task *steal_work(struct usched_worker *w)
{
	struct usched_slot *s = w->slot;
	struct usched_task *t;
	uint32_t n = rt.nslots, i, start, round;

	if (n < 2)
		return NULL;
	for (round = 0; round < 2; round++) {
		start = fastrand(w) % n;
		for (i = 0; i < n; i++) {
			struct usched_slot *v = &rt.slots[(start + i) % n];

			if (v == s)
				continue;
			t = __usched_runq_steal(s, v, round > 0);
			if (t) {
				atomic_fetch_add_explicit(&s->steals, 1,
							  memory_order_relaxed);
				return t;
			}
		}
	}
	return NULL;
}

static bool work_anywhere(void)
{
	uint32_t i;

	if (atomic_load_explicit(&rt.gq_len, memory_order_seq_cst))
		return true;
	for (i = 0; i < rt.nslots; i++)
		if (__usched_runq_len(&rt.slots[i]))
			return true;
	return __usched_timers_next() <= __usched_now();
}

/* Put @s on the idle list (under rt.lock). */
static void slot_idle_locked(struct usched_slot *s)
{
	atomic_store_explicit(&s->owner, 0, memory_order_release);
	s->idle = true;
	s->idle_next = rt.idle_slots;
	rt.idle_slots = s;
	atomic_fetch_add_explicit(&rt.nidle, 1, memory_order_seq_cst);
}

/* Take an idle slot for @w (under rt.lock): NULL when none. */
static struct usched_slot *slot_take_idle_locked(struct usched_worker *w)
{
	struct usched_slot *s = rt.idle_slots;

	if (!s)
		return NULL;
	rt.idle_slots = s->idle_next;
	s->idle = false;
	atomic_fetch_sub_explicit(&rt.nidle, 1, memory_order_relaxed);
	atomic_store_explicit(&s->owner, OWNER_TAKEN(w),
			      memory_order_relaxed);
	return s;
}

static void spare_push_locked(struct usched_worker *w)
{
	w->role = ROLE_SPARE;
	/* Kernel mode without a standby (all workers were busy): be it. */
	if (rt.mode == USCHED_MODE_KERNEL && !rt.standby &&
	    !(rt.cfg.flags & USCHED_CFG_NO_DETACH)) {
		rt.standby = w;
		rt.standby_changed = true;
		return;
	}
	w->spare_next = rt.spares;
	rt.spares = w;
	rt.nspares++;
}

static bool spare_remove_locked(struct usched_worker *w)
{
	struct usched_worker **pp;

	for (pp = &rt.spares; *pp; pp = &(*pp)->spare_next)
		if (*pp == w) {
			*pp = w->spare_next;
			rt.nspares--;
			return true;
		}
	return false;
}

/* Give up the slot (nothing to run): it goes idle, the worker spare. */
static void release_slot(struct usched_worker *w)
{
	struct usched_slot *s = w->slot;

	usched_lock(&rt.lock);
	w->slot = NULL;
	slot_idle_locked(s);
	spare_push_locked(w);
	usched_unlock(&rt.lock);
	if (rt.standby_changed)
		__usched_standby_update();
}

/*
 * A slot for a worker that has none: one handed over (next_slot), else,
 * for a worker that lost its slot while blocked, an idle one.  Without one
 * it becomes a spare.
 */
static bool acquire_slot(struct usched_worker *w)
{
	struct usched_slot *s;

	usched_lock(&rt.lock);
	s = w->next_slot;
	w->next_slot = NULL;
	if (!s && w->role == ROLE_HOLDER)
		s = slot_take_idle_locked(w);
	if (s) {
		if (w->role == ROLE_SPARE)
			spare_remove_locked(w);
		w->role = ROLE_HOLDER;
		w->slot = s;
	} else if (w->role == ROLE_HOLDER) {
		spare_push_locked(w);	/* lost its slot: wakep may use it */
	}
	usched_unlock(&rt.lock);
	if (rt.standby_changed)
		__usched_standby_update();
	return s != NULL;
}

/*
 * Kernel mode: any holder will do (a sleeping one takes the preemption
 * when it returns to user mode, without EINTR), but one the module sees
 * running is better.
 */
static bool kmode_running(struct usched_worker *w)
{
	return w->kslot && __atomic_load_n(&w->kslot->kstate, __ATOMIC_RELAXED) ==
		USCHED_W_RUNNING;
}

/*
 * Due timers and every slot busy: preempt a holder that runs task code, so
 * that the timer's task waits for a preemption, not for a whole slice.
 * Only a holder seen running (@running): in fallback mode a signal would
 * interrupt a blocking call with EINTR (nanosleep, poll, ... are never
 * restarted); in kernel mode the module's USCHED_IOC_PREEMPT cannot.
 */
void __usched_preempt_for_timer(bool (*running)(struct usched_worker *w))
{
	struct usched_worker *h;
	uintptr_t o;
	uint32_t i;

	if (!running)
		running = kmode_running;
	for (i = 0; i < rt.nslots; i++) {
		o = atomic_load_explicit(&rt.slots[i].owner, memory_order_relaxed);
		h = OWNER_WORKER(o);
		if (h && !(o & (OWNER_BUSY | OWNER_STEALING)) && running(h)) {
			__usched_preempt_worker(h);
			return;
		}
	}
}

/*
 * Park a spare until it is handed a slot (or, the standby, until a holder
 * blocks).  One spare at a time, the timer watcher, sleeps only until the
 * earliest deadline: then it takes an idle slot to fire the timers, or, if
 * none is idle, preempts a holder (the holders fire due timers first thing
 * at their next scheduling point).
 */
static void spare_wait(struct usched_worker *w)
{
	struct usched_worker *none = NULL;
	uint64_t deadline = USCHED_NEVER;
	bool watcher = false;
	int r = -ETIMEDOUT;

	if (atomic_load_explicit(&rt.stopping, memory_order_acquire) == 2)
		return;
	if (__usched_timers_next() != USCHED_NEVER &&
	    atomic_compare_exchange_strong(&rt.timer_watcher, &none, w)) {
		uint64_t now = __usched_now();

		watcher = true;
		deadline = __usched_timers_next();
		/*
		 * Already due, and every slot busy: the holders fire it at
		 * their next scheduling point; look again (to preempt one, or
		 * to take a slot that went idle) a little later rather than
		 * spin.
		 */
		if (deadline <= now) {
			/* An idle slot can fire it at once: no sleep at all. */
			if (atomic_load_explicit(&rt.nidle, memory_order_acquire))
				goto due;
			deadline = now + (rt.mode == USCHED_MODE_KERNEL ?
					  TIMER_RETRY_NS : TIMER_RETRY_FB_NS);
		}
	}
	atomic_fetch_add_explicit(&rt.st_parks, 1, memory_order_relaxed);
	r = __usched_worker_park(w, deadline);
due:
	if (watcher)
		atomic_store(&rt.timer_watcher, NULL);
	if (rt.mode == USCHED_MODE_KERNEL) {
		__usched_kmode_standby_scan(w);
	}
	if (!watcher || __usched_timers_next() > __usched_now())
		return;
	(void)r;
	usched_lock(&rt.lock);
	if (w->role == ROLE_SPARE && !w->next_slot && rt.idle_slots &&
	    spare_remove_locked(w)) {
		w->next_slot = slot_take_idle_locked(w);
		w->role = ROLE_HOLDER;
	}
	usched_unlock(&rt.lock);
	if (w->next_slot || w->role != ROLE_SPARE)
		return;
	/* The standby (off the spare list) hands the idle slot on instead. */
	if (atomic_load_explicit(&rt.nidle, memory_order_acquire))
		__usched_wakep();
	else
		__usched_preempt_for_timer(NULL);
}

/* Kernel mode: whether @w still holds @s (waits out a take-over in flight). */
static bool still_holder(struct usched_worker *w, struct usched_slot *s)
{
	uintptr_t o;

	while ((o = atomic_load_explicit(&s->owner, memory_order_acquire)) &
	       OWNER_STEALING)
		cpu_relax();
	return OWNER_WORKER(o) == w;
}

static struct usched_task *find_runnable(struct usched_worker *w)
{
	struct usched_slot *s;
	struct usched_task *t;

	for (;;) {
		s = w->slot;
		if (!s)
			return NULL;
		/*
		 * Kernel mode: the slot may have been taken over while this
		 * worker was blocked in task code that came back here (the
		 * scheduler runs busy, so __usched_enter() does not look):
		 * the owner word says.  Without this check the old holder
		 * went on with the slot beside its new holder, and both put
		 * it on the idle list.
		 */
		if (w->kslot && !still_holder(w, s)) {
			w->slot = NULL;
			return NULL;
		}
		s->sched_tick++;
		/*
		 * Kernel mode: the worker this slot was taken from waits at
		 * the gate to come back: give it the slot back first (its
		 * task has been stuck since its syscall returned).
		 */
		if (s->stolen_from && __usched_kmode_give_back(w, s)) {
			drop_spinning(w);
			return NULL;
		}


		/* Due timers first: their tasks go to runnext, ahead of the rest. */
		if (__usched_timers_next() != USCHED_NEVER)
			__usched_timers_run(__usched_now());
		/* Completions too (an empty ring costs a few loads, no syscall). */
		if (s->io && __usched_io_inflight(s))
			__usched_io_poll(s);
		if (!(s->sched_tick % 61) && (t = __usched_globq_get()))
			goto found;
		if ((t = __usched_runq_get(s)))
			goto found;
		if ((t = __usched_globq_get()))
			goto found;
		if ((t = steal_work(w)))
			goto found;
		if (atomic_load_explicit(&rt.stopping, memory_order_acquire) == 2)
			return NULL;

		/* Nothing to run. */
		drop_spinning(w);
		if (s->io && __usched_io_inflight(s)) {
			/* Keep the slot: its ring has completions to come. */
			atomic_store_explicit(&s->io_waiting, 1,
					      memory_order_seq_cst);
			atomic_fetch_add_explicit(&rt.nio_waiting, 1,
						  memory_order_seq_cst);
			if (!work_anywhere()) {
				/* Not a block: no standby, no take-over. */
				if (w->kslot)
					__atomic_store_n(&w->kslot->claim,
							 USCHED_CLAIM_IDLE,
							 __ATOMIC_RELAXED);
				__usched_io_wait(s, __usched_timers_next());
				/* The module ends it only if we slept. */
				if (w->kslot && (__atomic_load_n(&w->kslot->claim,
						__ATOMIC_RELAXED) &
						USCHED_CLAIM_STATE) ==
						USCHED_CLAIM_IDLE)
					__atomic_store_n(&w->kslot->claim,
							 USCHED_CLAIM_RUNNING,
							 __ATOMIC_RELAXED);
			}
			atomic_fetch_sub_explicit(&rt.nio_waiting, 1,
						  memory_order_relaxed);
			atomic_store_explicit(&s->io_waiting, 0,
					      memory_order_relaxed);
			continue;
		}
		release_slot(w);
		/* Published idle; look once more before sleeping (wakep's pair). */
		if (work_anywhere()) {
			usched_lock(&rt.lock);
			if (w->role == ROLE_SPARE && !w->next_slot &&
			    rt.idle_slots && spare_remove_locked(w)) {
				w->next_slot = slot_take_idle_locked(w);
				w->role = ROLE_HOLDER;
			}
			usched_unlock(&rt.lock);
		}
		return NULL;
	}
found:
	reset_spinning(w);
	return t;
}

/* ---- running a task ------------------------------------------------------ */

static void run_task(struct usched_worker *w, struct usched_task *t)
{
	if (!t->sp) {
		t->stack = __usched_stack_get(t->stack_size);
		if (!t->stack)
			__usched_die("out of memory for the stack of task %llu (%s)",
				     (unsigned long long)t->id, t->name);
		t->sp = __usched_ctx_init(t->stack->lo, t->stack->hi);
	}
	w->cur = t;
	t->last_worker = w;
	atomic_store_explicit(&t->state, TASK_RUNNING, memory_order_relaxed);
	errno = t->saved_errno;
	__usched_note_switch(w);
	if (w->slot)	/* per slot: no cache line shared between workers */
		atomic_store_explicit(&w->slot->switches,
			atomic_load_explicit(&w->slot->switches,
					     memory_order_relaxed) + 1,
			memory_order_relaxed);
	/*
	 * Into task code: the slot may be taken over if the task blocks.  The
	 * nopreempt word keeps the scheduler's count until the task is on its
	 * own stack (it sets its own count there): a preemption between here
	 * and the switch would save this scheduler context as the task's.
	 */
	w->busy = 1;
	__usched_leave(w);
	__usched_san_switch(&w->sched_sp, t->sp, t, NULL);
	/* Back: the task switched out, after its __usched_enter(). */
	t->saved_errno = errno;
	t->nopreempt = __usched_np_get(w);
	__usched_np_set(w, NP_RUNTIME);
	w->cur = NULL;
	__usched_stack_check(t);

	switch (t->yield_kind) {
	case YIELD_LOCAL:
		atomic_store_explicit(&t->state, TASK_RUNNABLE, memory_order_relaxed);
		if (!w->slot || !__usched_runq_put(w->slot, t))
			__usched_globq_put(t);
		break;
	case YIELD_GLOBAL:
		atomic_store_explicit(&t->state, TASK_RUNNABLE, memory_order_relaxed);
		__usched_globq_put(t);
		__usched_wakep();
		break;
	case YIELD_PARK:
		atomic_store_explicit(&t->state, TASK_WAITING, memory_order_relaxed);
		__usched_park_commit(t);
		break;
	case YIELD_EXIT:
		__usched_task_exit(t, t->result);
		break;
	default:
		__usched_die("task %llu switched out with kind %u",
			     (unsigned long long)t->id, t->yield_kind);
	}
}

void __usched_switch_out(uint32_t kind)
{
	struct usched_worker *w = this_worker();
	struct usched_task *t = w->cur;

	__usched_enter(w);	/* may find the slot taken: the loop copes */
	t->yield_kind = kind;
	__usched_san_switch(&t->sp, w->sched_sp, NULL, t);
	/* Resumed, maybe on another worker: the task's nopreempt count. */
	__usched_np_set(this_worker(), t->nopreempt);
}

/* A new task's first instructions (from __usched_task_entry). */
void __usched_task_start(void)
{
	struct usched_worker *w;
	struct usched_task *t;
	int r;

	__usched_san_started(NULL);
	w = this_worker();
	t = w->cur;
	__usched_np_set(w, t->nopreempt);	/* 0: preemptible */
	r = t->fn(t->arg);
	/* Still on the task: key destructors and the group may block. */
	__usched_tls_destroy(t);
	/* Members, and owners of groups (taskgroup.c disowns them). */
	if (t->group || __atomic_load_n(&t->owned, __ATOMIC_ACQUIRE))
		__usched_group_member_exit(t, r);
	w = this_worker();
	__usched_np_inc(w);
	t->result = r;
	__usched_switch_out(YIELD_EXIT);
	__builtin_unreachable();
}

/* ---- the worker's loop -------------------------------------------------- */

void __usched_worker_loop(struct usched_worker *w)
{
	struct usched_task *t;

	/* The scheduler runs with preemption off and the slot busy. */
	__usched_np_set(w, NP_RUNTIME);
	w->busy = 1;
	for (;;) {
		if (atomic_load_explicit(&rt.stopping, memory_order_acquire) == 2)
			break;
		if (!w->slot && !acquire_slot(w)) {
			spare_wait(w);
			continue;
		}
		t = find_runnable(w);
		if (t)
			run_task(w, t);
	}
	w->busy = 0;
}

void __usched_slot_make_idle(struct usched_slot *s)
{
	usched_lock(&rt.lock);
	slot_idle_locked(s);
	usched_unlock(&rt.lock);
	__usched_wakep();
}

/*
 * Make an idle worker look again: a holder waiting on its ring, or the
 * spare that sleeps until the next timer (a new earliest one was armed).
 */
void __usched_kick_idle(void)
{
	struct usched_worker *w;

	if (kick_io_waiter())
		return;
	/* The timer watcher re-plans; without one, a spare becomes it. */
	w = atomic_load(&rt.timer_watcher);
	if (!w) {
		usched_lock(&rt.lock);
		w = rt.spares ? rt.spares : rt.standby;
		usched_unlock(&rt.lock);
	}
	if (w)
		__usched_worker_wake(w);
}

/* ---- stopping ------------------------------------------------------------ */

/* Wake every parked worker so that it sees rt.stopping (usched_stop()). */
void __usched_wake_all(void)
{
	struct usched_worker *w;
	uint32_t i;

	usched_lock(&rt.lock);
	for (i = 0; i < rt.nworkers; i++) {
		w = rt.workers[i];
		if (w)
			__usched_worker_wake(w);
	}
	usched_unlock(&rt.lock);
	for (i = 0; i < rt.nslots; i++)
		if (rt.slots[i].io)
			__usched_io_kick(&rt.slots[i]);
}
