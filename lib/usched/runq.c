// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * runq.c - a slot's run queue: a bounded ring with one producer (the slot's
 * owner, at the tail) and many consumers (the owner and thieves, at the
 * head, with a compare-and-swap), plus runnext, a one-task LIFO slot.
 *
 * Why not a Chase-Lev deque, whose owner pops its newest task (LIFO): a
 * task that yields would be popped right back and never yield.  The ring is
 * FIFO for everyone, which is fair; runnext gives the cache locality of
 * LIFO where it matters, to the task just woken by the running one (a
 * channel partner, a spawned child).  This is Go's runq design.
 *
 * Ordering: the owner writes an entry, then publishes it with a release
 * store of tail; consumers load tail with acquire, read entries [head,
 * tail), then claim them with a CAS of head (release, so the owner sees the
 * entries consumed before it reuses them).  An entry read by a thief whose
 * CAS then fails may have been overwritten meanwhile: it is discarded.
 */
#include "internal.h"

#define RUNQ_MASK	(USCHED_RUNQ_SIZE - 1)

uint32_t __usched_runq_len(struct usched_slot *s)
{
	uint32_t h = atomic_load_explicit(&s->runq_head, memory_order_acquire);
	uint32_t t = atomic_load_explicit(&s->runq_tail, memory_order_acquire);

	return t - h + (atomic_load_explicit(&s->runnext,
					     memory_order_relaxed) != NULL);
}

/*
 * The ring is full: move half of it and @t to the global queue in one go,
 * so that the next many puts are cheap again.  False when the ring changed
 * meanwhile (a thief took some): the caller retries.
 */
static bool runq_put_slow(struct usched_slot *s, struct usched_task *t,
			  uint32_t h, uint32_t tl)
{
	struct usched_task *batch[USCHED_RUNQ_SIZE / 2 + 1];
	uint32_t n = (tl - h) / 2, i;

	for (i = 0; i < n; i++)
		batch[i] = atomic_load_explicit(&s->runq[(h + i) & RUNQ_MASK],
						memory_order_relaxed);
	if (!atomic_compare_exchange_strong_explicit(&s->runq_head, &h, h + n,
			memory_order_release, memory_order_relaxed))
		return false;
	batch[n] = t;
	for (i = 0; i <= n; i++)
		__usched_globq_put(batch[i]);
	return true;
}

/* Owner only.  Always succeeds (overflow goes to the global queue). */
bool __usched_runq_put(struct usched_slot *s, struct usched_task *t)
{
	uint32_t h, tl;

	for (;;) {
		h = atomic_load_explicit(&s->runq_head, memory_order_acquire);
		tl = atomic_load_explicit(&s->runq_tail, memory_order_relaxed);
		if (tl - h < USCHED_RUNQ_SIZE) {
			atomic_store_explicit(&s->runq[tl & RUNQ_MASK], t,
					      memory_order_relaxed);
			/* Release: the entry before the new tail. */
			atomic_store_explicit(&s->runq_tail, tl + 1,
					      memory_order_release);
			return true;
		}
		if (runq_put_slow(s, t, h, tl))
			return true;
	}
}

/* Owner only: runnext first, then the head of the ring. */
struct usched_task *__usched_runq_get(struct usched_slot *s)
{
	struct usched_task *t = atomic_load_explicit(&s->runnext,
						     memory_order_relaxed);
	uint32_t h, tl;

	if (t && atomic_compare_exchange_strong_explicit(&s->runnext, &t, NULL,
			memory_order_acquire, memory_order_relaxed))
		return t;
	for (;;) {
		h = atomic_load_explicit(&s->runq_head, memory_order_acquire);
		tl = atomic_load_explicit(&s->runq_tail, memory_order_relaxed);
		if (h == tl)
			return NULL;
		t = atomic_load_explicit(&s->runq[h & RUNQ_MASK],
					 memory_order_relaxed);
		if (atomic_compare_exchange_weak_explicit(&s->runq_head, &h,
				h + 1, memory_order_release,
				memory_order_relaxed))
			return t;
	}
}

/*
 * Take half of @from's ring into @to's ring (whose owner is the caller);
 * returns one task to run now.  With @stealnext, also @from's runnext when
 * its ring is empty.
 */
struct usched_task *__usched_runq_steal(struct usched_slot *to,
					struct usched_slot *from,
					bool stealnext)
{
	uint32_t h, tl, n, i, mytail;
	struct usched_task *t;

	for (;;) {
		h = atomic_load_explicit(&from->runq_head, memory_order_acquire);
		tl = atomic_load_explicit(&from->runq_tail, memory_order_acquire);
		n = tl - h;
		n = n - n / 2;
		if (!n) {
			if (!stealnext)
				return NULL;
			t = atomic_load_explicit(&from->runnext,
						 memory_order_relaxed);
			if (t && atomic_compare_exchange_strong_explicit(
					&from->runnext, &t, NULL,
					memory_order_acquire,
					memory_order_relaxed))
				return t;
			return NULL;
		}
		if (n > USCHED_RUNQ_SIZE / 2)
			continue;	/* read head and tail apart: retry */
		/* Copy into our own ring past its tail (we are its owner). */
		mytail = atomic_load_explicit(&to->runq_tail, memory_order_relaxed);
		for (i = 0; i < n; i++)
			atomic_store_explicit(&to->runq[(mytail + i) & RUNQ_MASK],
				atomic_load_explicit(&from->runq[(h + i) & RUNQ_MASK],
						     memory_order_relaxed),
				memory_order_relaxed);
		if (atomic_compare_exchange_strong_explicit(&from->runq_head, &h,
				h + n, memory_order_acq_rel,
				memory_order_relaxed))
			break;
	}
	/* Run the last one; publish the others. */
	n--;
	t = atomic_load_explicit(&to->runq[(mytail + n) & RUNQ_MASK],
				 memory_order_relaxed);
	if (n)
		atomic_store_explicit(&to->runq_tail, mytail + n,
				      memory_order_release);
	return t;
}
