// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * task.c - tasks (G): spawn, join, detach, cancel, yield, identity.
 *
 * A task's life: __usched_task_new() (not yet runnable, no stack yet: the
 * stack is taken when it first runs, so spawning is cheap and a task that
 * never ran costs no stack) -> runnable -> running <-> runnable / waiting
 * -> its function returns -> __usched_task_exit(), on the worker, off the
 * task's stack: the stack goes back to the pool, and the struct either
 * waits for its joiner or is freed.
 *
 * Join and detach meet the exit under the task's join_lock:
 *   joinstate NONE     a handle exists, the task has not ended
 *             DETACHED the handle was given up: the exit frees the task
 *             JOINING  a joiner parked (under join_lock, released after
 *                      the switch, so the exit always finds it PARKED)
 *             DONE     the task ended: the handle's holder frees it
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "san.h"

enum { JOIN_NONE, JOIN_DETACHED, JOIN_JOINING, JOIN_DONE };

static int join(struct usched_task *t, int *result);

void usched_attr_init(struct usched_attr *attr)
{
	memset(attr, 0, sizeof(*attr));
	attr->size = sizeof(*attr);
}

#define TASK_CACHE_MAX	256	/* per worker */

/*
 * Task structs come from the calling worker's cache when it has one (no
 * lock: only this worker's runtime code touches it, and runtime code is
 * never preempted nor switched in between), else from malloc().
 */
static struct usched_task *task_alloc(void)
{
	struct usched_worker *w = this_worker();
	struct usched_task *t;

	if (w && w->task_cache) {
		t = w->task_cache;
		w->task_cache = t->next;
		w->ntask_cache--;
		return t;
	}
	return malloc(sizeof(*t));
}

void __usched_task_cache_drain(struct usched_worker *w)
{
	struct usched_task *t;

	while ((t = w->task_cache)) {
		w->task_cache = t->next;
		free(t);
	}
	w->ntask_cache = 0;
}

struct usched_task *__usched_task_new(const struct usched_attr *attr,
				      usched_fn_t fn, void *arg)
{
	struct usched_task *t = task_alloc();

	if (!t)
		return NULL;
	memset(t, 0, offsetof(struct usched_task, name));
	t->name[0] = '\0';
	t->id = atomic_fetch_add_explicit(&rt.next_id, 1, memory_order_relaxed) + 1;
	t->fn = fn;
	t->arg = arg;
	t->io_deadline = USCHED_NEVER;
	t->park_deadline = USCHED_NEVER;
	if (attr) {
		t->stack_size = attr->stack_size;
		if (attr->flags & USCHED_ATTR_DETACHED)
			t->joinstate = JOIN_DETACHED;
		if (attr->name) {
			strncpy(t->name, attr->name, USCHED_NAME_MAX - 1);
			t->name[USCHED_NAME_MAX - 1] = '\0';
		}
	}
	__usched_san_task_new(t);
	atomic_fetch_add_explicit(&rt.ntasks, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&rt.st_spawned, 1, memory_order_relaxed);
	return t;
}

void __usched_task_free(struct usched_task *t)
{
	struct usched_worker *w = this_worker();

	__usched_san_task_free(t);
	free(t->tls);
	if (w && w->ntask_cache < TASK_CACHE_MAX) {
		t->next = w->task_cache;
		w->task_cache = t;
		w->ntask_cache++;
		return;
	}
	free(t);
}

static int check_attr(const struct usched_attr *attr)
{
	if (!attr)
		return 0;
	if (attr->size < sizeof(*attr) || (attr->flags & ~USCHED_ATTR_FLAGS))
		return -EINVAL;
	if (attr->stack_size && attr->stack_size < USCHED_MIN_STACK)
		return -EINVAL;
	if (attr->stack_size > (1ull << 30))
		return -EINVAL;
	return 0;
}

int usched_spawn(usched_task_t **out, const struct usched_attr *attr,
		 usched_fn_t fn, void *arg)
{
	struct usched_task *t;
	int r = check_attr(attr);

	if (r)
		return r;
	if (!fn || (!out && !(attr && (attr->flags & USCHED_ATTR_DETACHED))))
		return -EINVAL;
	if (!rt.started)
		return -ESRCH;
	__usched_np_enter();
	t = __usched_task_new(attr, fn, arg);
	if (t) {
		if (out)
			*out = t;
		__usched_ready(t, true);
	}
	__usched_np_exit();
	return t ? 0 : -EAGAIN;
}

/* On the worker, off @t's stack: the task returned @result. */
void __usched_task_exit(struct usched_task *t, int result)
{
	struct usched_task *joiner = NULL;
	uint32_t js;

	atomic_store_explicit(&t->state, TASK_DEAD, memory_order_relaxed);
	t->result = result;
	if (t->stack) {
		__usched_stack_put(t->stack);
		t->stack = NULL;
	}
	usched_lock(&t->join_lock);
	js = atomic_load_explicit(&t->joinstate, memory_order_relaxed);
	atomic_store_explicit(&t->joinstate, JOIN_DONE, memory_order_release);
	if (js == JOIN_JOINING) {
		joiner = t->joiner;
		if (!__usched_claim(joiner, 0))
			joiner = NULL;	/* its join was cancelled meanwhile */
	}
	usched_unlock(&t->join_lock);
	if (joiner)
		__usched_unpark(joiner);
	if (js == JOIN_DETACHED)
		__usched_task_free(t);
	/* Last: usched_stop() may return once this reaches 0. */
	if (atomic_fetch_sub_explicit(&rt.ntasks, 1, memory_order_acq_rel) == 1 &&
	    atomic_load_explicit(&rt.stopping, memory_order_acquire)) {
		atomic_fetch_add_explicit(&rt.done_futex, 1, memory_order_release);
		__usched_futex_wake(&rt.done_futex, 1);
	}
}

int usched_join(usched_task_t *t, int *result)
{
	int r;

	__usched_np_enter();
	r = join(t, result);
	__usched_np_exit();
	return r;
}

static int join(struct usched_task *t, int *result)
{
	struct usched_task *self = __usched_self();
	uint32_t js;
	int r;

	if (!t || t == self)
		return t ? -EDEADLK : -EINVAL;
	usched_lock(&t->join_lock);
	js = atomic_load_explicit(&t->joinstate, memory_order_acquire);
	if (js == JOIN_DETACHED || js == JOIN_JOINING) {
		usched_unlock(&t->join_lock);
		return -EINVAL;
	}
	if (js == JOIN_NONE) {
		t->joiner = self;
		atomic_store_explicit(&t->joinstate, JOIN_JOINING,
				      memory_order_relaxed);
		r = __usched_park(&t->join_lock, USCHED_NEVER, PARK_CANCELLABLE);
		if (r) {
			/* Cancelled: give the handle back, unless it just ended. */
			usched_lock(&t->join_lock);
			js = atomic_load_explicit(&t->joinstate,
						  memory_order_acquire);
			if (js == JOIN_JOINING) {
				atomic_store_explicit(&t->joinstate, JOIN_NONE,
						      memory_order_relaxed);
				usched_unlock(&t->join_lock);
				return r;
			}
			usched_unlock(&t->join_lock);
		}
	} else {
		usched_unlock(&t->join_lock);
	}
	if (result)
		*result = t->result;
	__usched_task_free(t);
	return 0;
}

int usched_detach(usched_task_t *t)
{
	uint32_t js;

	if (!t)
		return -EINVAL;
	__usched_np_enter();
	usched_lock(&t->join_lock);
	js = atomic_load_explicit(&t->joinstate, memory_order_acquire);
	if (js == JOIN_NONE)
		atomic_store_explicit(&t->joinstate, JOIN_DETACHED,
				      memory_order_relaxed);
	usched_unlock(&t->join_lock);
	if (js == JOIN_DONE)
		__usched_task_free(t);
	__usched_np_exit();
	return js == JOIN_NONE || js == JOIN_DONE ? 0 : -EINVAL;
}

int usched_cancel(usched_task_t *t)
{
	uint32_t w;

	if (!t)
		return -EINVAL;
	if (atomic_exchange_explicit(&t->cancelled, 1, memory_order_seq_cst))
		return 0;
	__usched_np_enter();
	/* Pairs with __usched_park_commit(): it stores PARKED, then reads. */
	w = atomic_load_explicit(&t->wait, memory_order_seq_cst);
	if ((w & WAIT_STATE) == WAIT_PARKED && (w & WAIT_CANCEL) &&
	    __usched_claim_gen(t, w, -ECANCELED))
		__usched_unpark(t);
	__usched_group_cancel_owned(t);
	__usched_np_exit();
	return 0;
}

int usched_cancelled(void)
{
	struct usched_task *t = cur_task();

	return t && atomic_load_explicit(&t->cancelled, memory_order_relaxed);
}

int usched_yield(void)
{
	struct usched_worker *w = this_worker();
	struct usched_task *t = w ? w->cur : NULL;

	if (!t) {
		sched_yield();
		return 0;
	}
	if (atomic_load_explicit(&t->cancelled, memory_order_relaxed))
		return -ECANCELED;
	__usched_np_inc(w);
	__usched_switch_out(YIELD_LOCAL);
	__usched_np_dec(this_worker());
	return 0;
}

usched_task_t *usched_self(void)
{
	return cur_task();
}

uint64_t usched_task_id(void)
{
	struct usched_task *t = cur_task();

	return t ? t->id : 0;
}

const char *usched_task_name(void)
{
	struct usched_task *t = cur_task();

	if (!t)
		return "";
	if (!t->name[0])
		snprintf(t->name, sizeof(t->name), "task-%llu",
			 (unsigned long long)t->id);
	return t->name;
}

int usched_task_setname(const char *name)
{
	struct usched_task *t = cur_task();

	if (!t)
		return -ESRCH;
	if (!name)
		return -EINVAL;
	strncpy(t->name, name, USCHED_NAME_MAX - 1);
	t->name[USCHED_NAME_MAX - 1] = '\0';
	return 0;
}
