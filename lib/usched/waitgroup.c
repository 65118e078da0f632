// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * waitgroup.c - usched_wg_t: wait for a counter to reach zero (Go's
 * sync.WaitGroup).
 *
 * usched_wg_t.count changes only under the internal lock
 * (usched_wg_t.lock).  The change that brings it to zero claims every
 * waiter queued on (head, tail) and unparks them once the lock is
 * dropped.  A waiter checks the counter under the same lock before it
 * queues, and holds the lock until it is PARKED (park.c), so the change
 * to zero either happened before (the waiter returns at once) or finds it
 * queued: no wake-up is lost.  The counter may go up again afterwards;
 * waiters queued later wait for the next zero.
 *
 * usched_wg_wait() reads the counter without the lock first (acquire,
 * pairing with the release store that made it zero): a wait on a finished
 * group costs one load.
 *
 * Who touches what: count is stored under the lock, loaded by anyone;
 * head, tail under the lock.
 */
#include "sync.h"

void usched_wg_init(usched_wg_t *wg)
{
	if (!wg)
		return;
	*wg = (usched_wg_t)USCHED_WG_INIT;
}

int usched_wg_add(usched_wg_t *wg, int64_t delta)
{
	struct usched_waiter *list = NULL;
	usched_lock_t *lk;
	int64_t v;

	if (!wg)
		return -EINVAL;
	lk = SYNC_LOCK(wg);
	sync_np_enter();
	usched_lock(lk);
	if (__builtin_add_overflow(__atomic_load_n(&wg->count,
						   __ATOMIC_RELAXED),
				   delta, &v) || v < 0) {
		usched_unlock(lk);
		sync_np_exit();
		return -EINVAL;
	}
	/* Release: the work done before this done() to the waiters. */
	__atomic_store_n(&wg->count, v, __ATOMIC_RELEASE);
	if (v == 0)
		list = sync_claim_all(SYNC_WAITQ(wg), 0);
	usched_unlock(lk);
	sync_unpark_all(list);
	sync_np_exit();
	return 0;
}

void usched_wg_done(usched_wg_t *wg)
{
	usched_wg_add(wg, -1);
}

int usched_wg_wait_until(usched_wg_t *wg, uint64_t deadline)
{
	usched_lock_t *lk;
	struct usched_waiter w;
	int r;

	if (!wg)
		return -EINVAL;
	if (!__atomic_load_n(&wg->count, __ATOMIC_ACQUIRE))
		return 0;
	lk = SYNC_LOCK(wg);
	sync_np_enter();
	sync_waiter_init(&w);
	usched_lock(lk);
	if (!__atomic_load_n(&wg->count, __ATOMIC_RELAXED)) {
		usched_unlock(lk);
		sync_np_exit();
		return 0;
	}
	r = sync_wait(SYNC_WAITQ(wg), lk, &w, deadline, PARK_CANCELLABLE);
	sync_np_exit();
	return r;
}

int usched_wg_wait(usched_wg_t *wg)
{
	return usched_wg_wait_until(wg, USCHED_NEVER);
}
