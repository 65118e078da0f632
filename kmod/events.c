// SPDX-License-Identifier: GPL-2.0
/*
 * events.c - the event ring: a single-producer-at-a-time (ring_lock),
 * single-consumer ring in the shared memory.
 *
 * Barrier contract (see also Documentation/abi.md):
 *   kernel: write the entry, then smp_store_release(hdr->ring_tail)
 *   user:   load-acquire ring_tail, read entries [ring_head, ring_tail),
 *           then store-release ring_head
 *   kernel: READ_ONCE(hdr->ring_head) to see free space.  A ring_head that
 *           user space corrupted only costs it its own events: indices are
 *           masked, the kernel never trusts them further.
 * A full ring never blocks or drops silently: ring_overflow is set and
 * overflow_count counts the event, and the per-worker block_seq and
 * unblock_seq let user space resynchronise.
 */
#include <linux/irq_work.h>
#include <linux/poll.h>
#include <linux/timekeeping.h>

#include "usched.h"

/*
 * Post one event.  @atomic: the caller may not take sleeping locks or wake
 * tasks directly (the preempt notifier runs with the runqueue lock held and
 * interrupts off): poll waiters are then woken through irq_work.
 */
void usched_post_event(struct usched_group *g, u16 type, u16 reason,
		       u32 worker, u32 seq, s32 syscall, u64 arg, bool atomic)
{
	struct usched_shm_header *hdr = g->hdr;
	struct usched_event *ev;
	unsigned long flags;
	u32 tail, head;
	bool posted = false;

	raw_spin_lock_irqsave(&g->ring_lock, flags);
	tail = hdr->ring_tail;		/* only written under ring_lock */
	head = READ_ONCE(hdr->ring_head);
	if (tail - head < g->ring_entries) {
		ev = &g->ring[tail & (g->ring_entries - 1)];
		ev->type = type;
		ev->reason = reason;
		ev->worker = worker;
		ev->seq = seq;
		ev->syscall = syscall;
		ev->time_ns = ktime_get_ns();
		ev->arg = arg;
		/* Pairs with user space's load-acquire of ring_tail. */
		smp_store_release(&hdr->ring_tail, tail + 1);
		posted = true;
	} else {
		WRITE_ONCE(hdr->ring_overflow, 1);
		WRITE_ONCE(hdr->overflow_count, hdr->overflow_count + 1);
	}
	raw_spin_unlock_irqrestore(&g->ring_lock, flags);

	if (!posted)
		usched_stat_inc(USCHED_STAT_EVENTS_LOST);
	if (atomic)
		irq_work_queue(&g->poll_iw);
	else
		wake_up_interruptible_poll(&g->poll_wq, EPOLLIN | EPOLLRDNORM);
}

__poll_t usched_poll_events(struct usched_group *g)
{
	__poll_t mask = 0;

	/* Pairs with smp_store_release() of ring_tail above. */
	if (smp_load_acquire(&g->hdr->ring_tail) != READ_ONCE(g->hdr->ring_head))
		mask |= EPOLLIN | EPOLLRDNORM;
	if (READ_ONCE(g->dead))
		mask |= EPOLLHUP;
	return mask;
}
