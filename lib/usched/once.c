// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * once.c - usched_once(): run a function exactly once.
 *
 * usched_once_t.state: ONCE_NEW (not run), ONCE_RUNNING, ONCE_DONE.  The
 * first caller moves NEW -> RUNNING under the internal lock
 * (usched_once_t.lock), drops the lock and runs fn (user code: outside
 * the no-preemption bracket, and it may block), then stores DONE and
 * claims every waiter under the lock.  Later callers that find RUNNING
 * queue on (head, tail) and park until then; a caller that finds DONE
 * returns at once (an acquire load, pairing with the release store of
 * DONE, so it sees everything fn did).
 *
 * A waiter that is cancelled returns -ECANCELED at once; fn is not
 * affected and still completes once, in the task that runs it.  A caller
 * that runs fn itself is not waiting, so it is not a cancellation point.
 * fn calling usched_once() on the same object waits for itself forever
 * (until cancelled), as pthread_once() would.
 *
 * Who touches what: state is stored under the lock and loaded by anyone;
 * head, tail under the lock.
 */
#include "sync.h"

enum {
	ONCE_NEW,
	ONCE_RUNNING,
	ONCE_DONE,
};

int usched_once(usched_once_t *once, void (*fn)(void))
{
	_Atomic uint32_t *st;
	usched_lock_t *lk;
	struct usched_waiter w, *list;
	uint32_t s;
	int r;

	if (!once || !fn)
		return -EINVAL;
	st = SYNC_ATOMIC32(&once->state);
	if (atomic_load_explicit(st, memory_order_acquire) == ONCE_DONE)
		return 0;

	lk = SYNC_LOCK(once);
	sync_np_enter();
	sync_waiter_init(&w);
	usched_lock(lk);
	s = atomic_load_explicit(st, memory_order_relaxed);
	if (s == ONCE_RUNNING) {
		/* 0: fn completed; or -ECANCELED. */
		r = sync_wait(SYNC_WAITQ(once), lk, &w, USCHED_NEVER,
			      PARK_CANCELLABLE);
		sync_np_exit();
		return r;
	}
	if (s == ONCE_DONE) {
		usched_unlock(lk);
		sync_np_exit();
		return 0;
	}
	atomic_store_explicit(st, ONCE_RUNNING, memory_order_relaxed);
	usched_unlock(lk);
	sync_np_exit();

	fn();

	sync_np_enter();
	usched_lock(lk);
	/* Release: what fn did, to every caller that sees DONE. */
	atomic_store_explicit(st, ONCE_DONE, memory_order_release);
	list = sync_claim_all(SYNC_WAITQ(once), 0);
	usched_unlock(lk);
	sync_unpark_all(list);
	sync_np_exit();
	return 0;
}
