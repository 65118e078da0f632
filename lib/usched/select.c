// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * select.c - usched_select(): wait for the first of several channel
 * operations, as Go's select statement (runtime/select.go's selectgo).
 *
 *   1. Validate: at most 64 cases, each op SEND or RECV, a SEND on a
 *      channel has an element (-EINVAL; nothing is done).
 *   2. Shuffle the cases (the poll order), so that when several are
 *      ready each is chosen with the same chance.
 *   3. Lock every channel involved, in address order, each once (two
 *      selects over the same channels cannot deadlock, and a channel that
 *      appears in several cases is locked once).
 *   4. Poll pass, in the shuffled order: the first case that can complete
 *      at once (chan.h's *_locked operations: a parked partner, room or
 *      elements in the ring, or a closed channel, which completes with
 *      -EPIPE) is done; unlock, unpark the partner it completed, return
 *      its index.  A nil channel (NULL) is never ready.
 *   5. Nothing ready: a deadline already past (0 polls: Go's `default:`)
 *      gives -ETIMEDOUT, a cancelled task -ECANCELED.  Otherwise queue one
 *      waiter per case, all for this task and sharing one select context
 *      (chan.h), on the case's sendq or recvq, and park with all the locks
 *      held: __usched_park_multi() (park.c) releases them all once the
 *      task is off its stack, so a partner on any of the channels finds
 *      it PARKED.
 *   6. The first partner (or close) on any channel claims the task with
 *      the case's index as the claim result, completes the operation
 *      through that waiter (copies the element, sets ->result to 0 or
 *      -EPIPE) and unparks it; partners on the other channels then fail
 *      their claim and drop those waiters.  The task wakes with the
 *      index, or -ETIMEDOUT / -ECANCELED when its timer or a canceller won
 *      (then no case was done), locks every channel again and unlinks its
 *      waiters that are still queued, and returns.
 *
 * The waiters live on this task's stack (64 bytes each, 4 KiB for 64
 * cases) until step 6 has unlinked them all.
 */
#include <string.h>

#include "chan.h"

#define SELECT_MAX	64

_Static_assert(SELECT_MAX <= USCHED_PARK_MULTI_MAX,
	       "a select parks with one lock per case at most");

/* The poll order's random numbers: per thread (xorshift64*), seeded lazily. */
static __thread uint64_t select_rand;

static __attribute__((noinline)) void select_shuffle(uint8_t *order,
						      unsigned int n)
{
	uint64_t x = select_rand;
	unsigned int i, j;
	uint8_t tmp;

	if (!x)
		x = (__usched_now() ^ (uintptr_t)&select_rand) | 1;
	for (i = 0; i < n; i++)
		order[i] = (uint8_t)i;
	for (i = n; i > 1; i--) {
		x ^= x >> 12;
		x ^= x << 25;
		x ^= x >> 27;
		j = (unsigned int)(((x * 0x2545f4914f6cdd1dull) >> 32) % i);
		tmp = order[i - 1];
		order[i - 1] = order[j];
		order[j] = tmp;
	}
	select_rand = x;
}

/* The distinct channels of @cases, sorted by address: the lock order. */
static unsigned int select_lockorder(const struct usched_select_case *cases,
				     unsigned int n, usched_lock_t **locks)
{
	unsigned int i, j, nl = 0;
	usched_lock_t *lk;

	for (i = 0; i < n; i++) {
		if (!cases[i].chan)
			continue;
		lk = &cases[i].chan->lock;
		for (j = nl; j > 0 && (uintptr_t)locks[j - 1] > (uintptr_t)lk;
		     j--)
			;
		if (j > 0 && locks[j - 1] == lk)
			continue;	/* already there */
		memmove(&locks[j + 1], &locks[j], (nl - j) * sizeof(*locks));
		locks[j] = lk;
		nl++;
	}
	return nl;
}

static void select_lock(usched_lock_t *const *locks, unsigned int nl)
{
	unsigned int i;

	for (i = 0; i < nl; i++)
		usched_lock(locks[i]);
}

static void select_unlock(usched_lock_t *const *locks, unsigned int nl)
{
	unsigned int i;

	for (i = nl; i > 0; i--)
		usched_unlock(locks[i - 1]);
}

static struct usched_waitq *select_queue(const struct usched_select_case *sc)
{
	return sc->op == USCHED_SELECT_SEND ? &sc->chan->sendq :
					      &sc->chan->recvq;
}

/*
 * Steps 5 and 6: called with every lock held, returns with none.  Kept
 * out of usched_select() so that the waiters' 4 KiB of stack are only
 * used when the select really waits.
 */
static __attribute__((noinline)) int
select_wait(struct usched_select_case *cases, unsigned int n,
	    usched_lock_t *const *locks, unsigned int nl, uint64_t deadline)
{
	struct usched_waiter ws[SELECT_MAX];
	struct usched_select_ctx ctx = { .task = __usched_self(), .ncases = n };
	unsigned int i;
	int r;

	if (atomic_load_explicit(&ctx.task->cancelled, memory_order_relaxed)) {
		select_unlock(locks, nl);
		return -ECANCELED;
	}
	if (deadline != USCHED_NEVER && deadline <= __usched_now()) {
		select_unlock(locks, nl);
		return -ETIMEDOUT;
	}
	for (i = 0; i < n; i++) {
		if (!cases[i].chan)
			continue;
		ws[i] = (struct usched_waiter){
			.task = ctx.task,
			.data = cases[i].elem,
			.sel = &ctx,
			.case_idx = i,
		};
		__usched_waitq_push(select_queue(&cases[i]), &ws[i]);
	}
	/* No channel at all (every case nil): wait for the deadline or cancel. */
	r = __usched_park_multi(locks, nl, deadline, PARK_CANCELLABLE);

	select_lock(locks, nl);
	for (i = 0; i < n; i++)
		if (cases[i].chan)
			__usched_waitq_remove(select_queue(&cases[i]), &ws[i]);
	select_unlock(locks, nl);
	if (r >= 0) {
		if ((unsigned int)r >= n || !cases[r].chan)
			__usched_die("usched_select: woken for case %d of %u",
				     r, n);
		cases[r].result = ws[r].result;
	}
	return r;
}

int usched_select(struct usched_select_case *cases, unsigned int n,
		  uint64_t deadline)
{
	usched_lock_t *locks[SELECT_MAX];
	uint8_t order[SELECT_MAX];
	struct usched_select_case *sc;
	struct usched_task *wake;
	unsigned int i, k, nl;
	int r;

	if (n > SELECT_MAX || (n && !cases))
		return -EINVAL;
	for (i = 0; i < n; i++) {
		sc = &cases[i];
		if (sc->op != USCHED_SELECT_SEND && sc->op != USCHED_SELECT_RECV)
			return -EINVAL;
		if (sc->chan && sc->op == USCHED_SELECT_SEND && !sc->elem)
			return -EINVAL;
	}
	sync_np_enter();
	select_shuffle(order, n);	/* thread-local state: not preemptible */
	nl = select_lockorder(cases, n, locks);
	select_lock(locks, nl);
	for (k = 0; k < n; k++) {
		sc = &cases[order[k]];
		if (!sc->chan)
			continue;
		wake = NULL;
		if (sc->op == USCHED_SELECT_SEND)
			r = __usched_chan_send_locked(sc->chan, sc->elem, &wake);
		else
			r = __usched_chan_recv_locked(sc->chan, sc->elem, &wake);
		if (r == -EAGAIN)
			continue;
		select_unlock(locks, nl);
		if (wake)
			__usched_unpark(wake);
		sc->result = r;
		sync_np_exit();
		return order[k];
	}
	r = select_wait(cases, n, locks, nl, deadline);
	sync_np_exit();
	return r;
}
