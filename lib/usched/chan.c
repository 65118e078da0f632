// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * chan.c - Go-style channels: buffered (a ring) and unbuffered (a direct
 * handoff between a sender and a receiver).
 *
 * Everything about a channel is under its one lock (struct usched_chan,
 * chan.h).  An operation first tries to complete at once:
 *
 *   send   closed: -EPIPE.  A receiver waiting: claim it and copy the
 *          element straight into its buffer (so an element never sits in
 *          the ring while a receiver waits).  Room in the ring: append.
 *   recv   A sender waiting: claim it; unbuffered, copy its element out;
 *          buffered (the ring is full), take the oldest element and
 *          append the sender's in its place, so elements stay in order.
 *          Elements in the ring: take the oldest.  Closed (and drained):
 *          zero *elem, -EPIPE.
 *
 * and otherwise queues a waiter (chan.h describes its fields) FIFO on the
 * sendq or recvq and parks with the channel's lock; park.c releases it
 * once the task is off its stack, so the side that later completes the
 * operation always finds the waiter PARKED.  That side claims the waiter
 * before it copies the element into or out of the waiter's buffer, and
 * unparks it only after the copy and after dropping the lock.  A waiter
 * ended by its deadline or a cancel was not claimed by anyone, so nothing
 * was copied: it unlinks itself and returns -ETIMEDOUT / -ECANCELED, and
 * the element stays the caller's.
 *
 * Invariants (under the lock, counting only waiters not yet claimed):
 * receivers wait only while the ring is empty, senders only while it is
 * full (for an unbuffered channel: always), so both queues are never
 * live at once - except for usched_select()'s waiters, which may sit on
 * both queues of one channel for one task; only one of them can be
 * claimed, the other is dropped.
 *
 * Close wakes every waiter with -EPIPE: receivers (the ring is empty, or
 * they would not wait) get a zeroed element, senders keep theirs.  Later
 * sends fail with -EPIPE; receivers drain the ring, then get -EPIPE.
 * Closing twice returns -EPIPE.
 *
 * Elements are copied under the lock: a copy is at most 64 KiB, and it
 * keeps the ring and the handoff one simple rule.
 */
#include <stdlib.h>
#include <string.h>

#include "chan.h"

static inline unsigned char *chan_slot(struct usched_chan *c, size_t i)
{
	return c->buf + i * c->elem_size;
}

static inline size_t chan_count(struct usched_chan *c)
{
	return atomic_load_explicit(&c->count, memory_order_relaxed);
}

static inline void chan_set_count(struct usched_chan *c, size_t n)
{
	atomic_store_explicit(&c->count, n, memory_order_relaxed);
}

/*
 * Pop waiters of @q until one whose task we claim: the claim result is
 * the case index for a select's waiter (select.c learns which case fired
 * from it) and 0 for chan.c's.  ->result gets @result.  NULL: none.
 */
static struct usched_waiter *chan_claim(struct usched_waitq *q, int result)
{
	struct usched_waiter *w;

	while ((w = __usched_waitq_pop(q))) {
		if (__usched_claim(w->task, w->sel ? (int)w->case_idx : 0)) {
			w->result = result;
			return w;
		}
		/* Its timer, a canceller, or another select case won: drop. */
	}
	return NULL;
}

int __usched_chan_send_locked(struct usched_chan *c, const void *elem,
			      struct usched_task **wake)
{
	struct usched_waiter *w;
	size_t n;

	if (c->closed)
		return -EPIPE;
	w = chan_claim(&c->recvq, 0);
	if (w) {
		if (w->data)
			memcpy(w->data, elem, c->elem_size);
		*wake = w->task;
		return 0;
	}
	n = chan_count(c);
	if (n < c->cap) {
		memcpy(chan_slot(c, (c->head + n) % c->cap), elem,
		       c->elem_size);
		chan_set_count(c, n + 1);
		return 0;
	}
	return -EAGAIN;
}

int __usched_chan_recv_locked(struct usched_chan *c, void *elem,
			      struct usched_task **wake)
{
	struct usched_waiter *w;
	size_t n;

	w = chan_claim(&c->sendq, 0);
	if (w) {
		if (!c->cap) {
			if (elem)
				memcpy(elem, w->data, c->elem_size);
		} else {
			/* Full ring: its oldest out, the sender's in at the tail. */
			if (elem)
				memcpy(elem, chan_slot(c, c->head),
				       c->elem_size);
			memcpy(chan_slot(c, c->head), w->data, c->elem_size);
			c->head = (c->head + 1) % c->cap;
		}
		*wake = w->task;
		return 0;
	}
	n = chan_count(c);
	if (n) {
		if (elem)
			memcpy(elem, chan_slot(c, c->head), c->elem_size);
		c->head = (c->head + 1) % c->cap;
		chan_set_count(c, n - 1);
		return 0;
	}
	if (c->closed) {
		if (elem)
			memset(elem, 0, c->elem_size);
		return -EPIPE;
	}
	return -EAGAIN;
}

int usched_chan_create(usched_chan_t **out, size_t elem_size, size_t capacity)
{
	struct usched_chan *c;
	size_t bytes;

	if (!out || !elem_size || elem_size > USCHED_CHAN_ELEM_MAX)
		return -EINVAL;
	if (__builtin_mul_overflow(elem_size, capacity, &bytes) ||
	    __builtin_add_overflow(bytes, sizeof(*c), &bytes) ||
	    bytes > (SIZE_MAX >> 1))
		return -EINVAL;
	c = calloc(1, bytes);
	if (!c)
		return -ENOMEM;
	c->elem_size = elem_size;
	c->cap = capacity;
	*out = c;
	return 0;
}

void usched_chan_destroy(usched_chan_t *c)
{
	if (!c)
		return;
	if (c->recvq.head || c->sendq.head)
		__usched_die("usched_chan_destroy: channel %p still has waiters",
			     (void *)c);
	free(c);
}

/*
 * The blocking operations.  @deadline: USCHED_NEVER, or a time (0 and
 * past times: poll, -ETIMEDOUT); @try: -EAGAIN instead of waiting.
 */
static int chan_send(struct usched_chan *c, const void *elem,
		     uint64_t deadline, bool try)
{
	struct usched_task *wake = NULL;
	struct usched_waiter w;
	int r;

	if (!c || !elem)
		return -EINVAL;
	sync_np_enter();
	usched_lock(&c->lock);
	r = __usched_chan_send_locked(c, elem, &wake);
	if (r != -EAGAIN || try) {
		usched_unlock(&c->lock);
		if (wake)
			__usched_unpark(wake);
		sync_np_exit();
		return r;
	}
	sync_waiter_init(&w);
	w.data = (void *)elem;	/* only read, by the receiver */
	r = sync_wait(&c->sendq, &c->lock, &w, deadline, PARK_CANCELLABLE);
	if (!r)
		r = w.result;	/* 0: received; -EPIPE: closed meanwhile */
	sync_np_exit();
	return r;
}

static int chan_recv(struct usched_chan *c, void *elem, uint64_t deadline,
		     bool try)
{
	struct usched_task *wake = NULL;
	struct usched_waiter w;
	int r;

	if (!c)
		return -EINVAL;
	sync_np_enter();
	usched_lock(&c->lock);
	r = __usched_chan_recv_locked(c, elem, &wake);
	if (r != -EAGAIN || try) {
		usched_unlock(&c->lock);
		if (wake)
			__usched_unpark(wake);
		sync_np_exit();
		return r;
	}
	sync_waiter_init(&w);
	w.data = elem;
	r = sync_wait(&c->recvq, &c->lock, &w, deadline, PARK_CANCELLABLE);
	if (!r)
		r = w.result;	/* 0: *elem filled; -EPIPE: zeroed by close */
	sync_np_exit();
	return r;
}

int usched_chan_send(usched_chan_t *c, const void *elem)
{
	return chan_send(c, elem, USCHED_NEVER, false);
}

int usched_chan_send_until(usched_chan_t *c, const void *elem,
			   uint64_t deadline)
{
	return chan_send(c, elem, deadline, false);
}

int usched_chan_trysend(usched_chan_t *c, const void *elem)
{
	return chan_send(c, elem, USCHED_NEVER, true);
}

int usched_chan_recv(usched_chan_t *c, void *elem)
{
	return chan_recv(c, elem, USCHED_NEVER, false);
}

int usched_chan_recv_until(usched_chan_t *c, void *elem, uint64_t deadline)
{
	return chan_recv(c, elem, deadline, false);
}

int usched_chan_tryrecv(usched_chan_t *c, void *elem)
{
	return chan_recv(c, elem, USCHED_NEVER, true);
}

int usched_chan_close(usched_chan_t *c)
{
	struct usched_waiter *list = NULL, **tail = &list, *w;

	if (!c)
		return -EINVAL;
	sync_np_enter();
	usched_lock(&c->lock);
	if (c->closed) {
		usched_unlock(&c->lock);
		sync_np_exit();
		return -EPIPE;
	}
	c->closed = true;
	/* Receivers wait only on an empty ring: they get nothing, zeroed. */
	while ((w = chan_claim(&c->recvq, -EPIPE))) {
		if (w->data)
			memset(w->data, 0, c->elem_size);
		w->next = NULL;
		*tail = w;
		tail = &w->next;
	}
	/* Senders keep their element. */
	while ((w = chan_claim(&c->sendq, -EPIPE))) {
		w->next = NULL;
		*tail = w;
		tail = &w->next;
	}
	usched_unlock(&c->lock);
	sync_unpark_all(list);
	sync_np_exit();
	return 0;
}

size_t usched_chan_len(usched_chan_t *c)
{
	return c ? chan_count(c) : 0;
}

size_t usched_chan_cap(usched_chan_t *c)
{
	return c ? c->cap : 0;
}
