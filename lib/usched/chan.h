/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * chan.h - channels, as chan.c and select.c share them: the channel
 * object, its non-blocking operations under its lock, and how a waiter
 * is claimed.
 *
 * Waiters.  Both blocking operations (chan.c) and usched_select()
 * (select.c) queue a struct usched_waiter on a channel's sendq or recvq:
 *   ->task     the parked task (or a plain thread's stand-in)
 *   ->data     SEND: the element to send (the sender's buffer);
 *              RECV: where to receive it (NULL: drop it)
 *   ->sel      NULL for chan.c; select.c's context, shared by the waiters
 *              of one usched_select() (one per case, one task)
 *   ->case_idx select: the index of the case
 *   ->result   written by the side that completes the operation, before
 *              the unpark: 0, or -EPIPE when the channel was closed
 * The completing side claims the waiter's task with chan_claim() before
 * it touches ->data, with the claim result 0 for chan.c's waiters and the
 * case index for a select's (so the woken select learns which case fired
 * from its park result); a waiter whose task is already claimed (its
 * timer, a canceller, or another channel of the same select won) is
 * dropped.  The element is copied into or out of ->data while the waiter
 * is claimed and not yet unparked: it cannot run, and its buffer stays
 * where it is.
 */
#ifndef _USCHED_CHAN_H
#define _USCHED_CHAN_H

#include "sync.h"

#define USCHED_CHAN_ELEM_MAX	65536u

/**
 * struct usched_chan - a channel.
 * @lock: protects everything below but the const fields
 * @closed: set once by usched_chan_close(), under @lock
 * @elem_size: const: bytes per element
 * @cap: const: buffered elements at most (0: unbuffered)
 * @head: under @lock: ring index of the oldest buffered element
 * @count: buffered elements: written under @lock, read by
 *         usched_chan_len() without it (relaxed: a snapshot)
 * @recvq: under @lock: receivers waiting; only while @count is 0
 * @sendq: under @lock: senders waiting; only while @count is @cap
 * @buf: the ring, @cap elements
 */
struct usched_chan {
	usched_lock_t lock;
	bool closed;
	size_t elem_size;
	size_t cap;
	size_t head;
	_Atomic size_t count;
	struct usched_waitq recvq;
	struct usched_waitq sendq;
	unsigned char buf[] __attribute__((aligned(16)));
};

/**
 * struct usched_select_ctx - what the waiters of one usched_select() share.
 * @task: the selecting task
 * @ncases: its number of cases (case_idx is below it)
 */
struct usched_select_ctx {
	struct usched_task *task;
	uint32_t ncases;
};

/*
 * Under c->lock: send *elem, or receive into *elem (NULL: drop), without
 * waiting.  0: done; -EPIPE: closed (a receive only once drained, and it
 * zeroes *elem); -EAGAIN: the operation would have to wait.  When done by
 * completing a parked waiter's operation, *wake is that waiter's task, to
 * __usched_unpark() once the lock is dropped; else it is left alone.
 */
int __usched_chan_send_locked(struct usched_chan *c, const void *elem,
			      struct usched_task **wake) __hidden;
int __usched_chan_recv_locked(struct usched_chan *c, void *elem,
			      struct usched_task **wake) __hidden;

#endif /* _USCHED_CHAN_H */
