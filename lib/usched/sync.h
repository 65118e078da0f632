/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sync.h - what the synchronisation objects (mutex.c, cond.c, sema.c,
 * waitgroup.c, once.c, chan.c, select.c, taskgroup.c) share: the
 * no-preemption bracket of their runtime sections, the view of a public
 * struct's private fields as runtime types, and waiting on a wait queue.
 *
 * Every object follows park.c's protocol: a waiter is published on the
 * object's struct usched_waitq under the object's usched_lock_t and parks
 * with that lock held (park.c releases it once the task is off its stack);
 * a waker claims a waiter under the same lock before it touches the
 * waiter's data, and unparks it after dropping the lock.  A waiter's park
 * that ends with -ETIMEDOUT or -ECANCELED (its timer or a canceller won
 * the claim, or the park did not even start) unlinks its own waiter under
 * the lock if a waker has not popped it yet: see sync_wait().
 *
 * Cancellation and deadlines follow one rule throughout: a call that can
 * complete at once does so, even for a cancelled task or with a deadline
 * in the past; only a call that would have to wait returns -ECANCELED
 * (the task was cancelled) or -ETIMEDOUT (the deadline passed).  That is
 * how __usched_park() behaves, and it lets a cancelled task still take a
 * free mutex or drain a channel while it cleans up.
 */
#ifndef _USCHED_SYNC_H
#define _USCHED_SYNC_H

#include "internal.h"

/*
 * Runtime sections must not be preempted (a task preempted while holding
 * an object's lock would make every other user spin, then sleep, on it).
 * Outside tasks (plain threads) there is nothing to bracket.  The count is
 * the task's (saved and restored at every switch), so sync_np_exit() after
 * a park re-reads this_worker(): the task may have moved to another worker.
 *
 * Enter the bracket before anything that reads the worker's state, such
 * as __usched_self() (this_worker()->cur).  The library's own code is
 * never preempted anyway (usched_text, preempt.c), and __usched_np_inc()
 * is a single %gs-relative instruction, so the count always lands on the
 * word of the worker the task runs on.
 */
static inline void sync_np_enter(void)
{
	__usched_np_enter();	/* internal.h: this_worker(), if any, inc */
}

static inline void sync_np_exit(void)
{
	__usched_np_exit();
}

/*
 * The public structs declare their private fields with plain types (so
 * that usched.h needs no runtime header): the lock word is a uint32_t,
 * the wait queue two void pointers.  These are the runtime's views.
 */
#define SYNC_LOCK(obj)		USCHED_LOCKP(&(obj)->lock)
#define SYNC_WAITQ(obj)		((struct usched_waitq *)(void *)&(obj)->head)
#define SYNC_ATOMIC32(p)	((_Atomic uint32_t *)(void *)(p))

_Static_assert(sizeof(struct usched_waitq) == 2 * sizeof(void *),
	       "struct usched_waitq must be the public head and tail");
_Static_assert(offsetof(struct usched_waitq, tail) == sizeof(void *),
	       "struct usched_waitq must be the public head and tail");
_Static_assert(offsetof(usched_mutex_t, tail) ==
	       offsetof(usched_mutex_t, head) + sizeof(void *),
	       "usched_mutex_t: head and tail adjacent");

/* A waiter for the calling task (or this thread's stand-in): inside np. */
static inline void sync_waiter_init(struct usched_waiter *w)
{
	*w = (struct usched_waiter){ .task = __usched_self() };
}

/* Whether the calling task was cancelled (never for plain threads). */
static inline bool sync_cancelled(const struct usched_waiter *w)
{
	return atomic_load_explicit(&w->task->cancelled, memory_order_relaxed);
}

/*
 * Wait on @q: called with @lk (the queue's lock) held; returns with it
 * released.  The result is the waker's claim result (0 unless the object
 * says otherwise), or -ECANCELED / -ETIMEDOUT, in which case @w is no
 * longer on @q: the park was ended by a canceller or a timer, and no waker
 * can have claimed it (one claim per park), so nothing was handed to it.
 * @flags: PARK_CANCELLABLE, or 0 for a wait that cancellation must not
 * end (cond_wait's relock, group_wait once cancelled).
 */
static inline int sync_wait(struct usched_waitq *q, usched_lock_t *lk,
			    struct usched_waiter *w, uint64_t deadline,
			    uint32_t flags)
{
	int r;

	/* Would wait: fail now rather than publish and unpublish. */
	if ((flags & PARK_CANCELLABLE) && sync_cancelled(w)) {
		usched_unlock(lk);
		return -ECANCELED;
	}
	if (deadline != USCHED_NEVER && deadline <= __usched_now()) {
		usched_unlock(lk);
		return -ETIMEDOUT;
	}
	__usched_waitq_push(q, w);
	r = __usched_park(lk, deadline, flags);
	if (r == -ETIMEDOUT || r == -ECANCELED) {
		/* A waker may have popped it and failed its claim: linked says. */
		usched_lock(lk);
		__usched_waitq_remove(q, w);	/* no-op when not linked */
		usched_unlock(lk);
	}
	return r;
}

/*
 * Claim every waiter of @q with @result (under the queue's lock) into a
 * private FIFO list, linked through ->next: they are ours once popped.
 */
static inline struct usched_waiter *sync_claim_all(struct usched_waitq *q,
						   int result)
{
	struct usched_waiter *list = NULL, **tail = &list, *w;

	while ((w = __usched_waitq_claim(q, result))) {
		w->next = NULL;
		*tail = w;
		tail = &w->next;
	}
	return list;
}

/*
 * Unpark a list from sync_claim_all() after the lock was dropped.  A
 * waiter lives on its task's stack: read ->next and ->task before the
 * unpark, never after.
 */
static inline void sync_unpark_all(struct usched_waiter *list)
{
	struct usched_waiter *next;
	struct usched_task *t;

	for (; list; list = next) {
		next = list->next;
		t = list->task;
		__usched_unpark(t);
	}
}

/* mutex.c: lock with explicit park flags (cond.c relocks with 0). */
int __usched_mutex_lock_flags(usched_mutex_t *m, uint64_t deadline,
			      uint32_t flags) __hidden;

#endif /* _USCHED_SYNC_H */
