// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * io.c - blocking I/O calls that park only the calling task: one io_uring
 * per slot.
 *
 * Each slot has a ring (struct usched_io), used only by the worker holding
 * the slot, between __usched_enter() and __usched_leave() (sched.c's slot
 * ownership: inside it, with the runtime part of the nopreempt word set,
 * the slot cannot be taken over, so nobody else touches the ring's SQ or
 * CQ).  A task's call puts one SQE on
 * the ring of the slot it runs on, with user_data pointing at a waiter on
 * the task's own stack, and parks.  Whoever holds that slot when the
 * completion arrives reaps it - the same worker, or another one after a
 * handover - and wakes the task, which may resume on yet another worker.
 *
 * READ this before changing the wake-up.  The task can only be claimed
 * once it is PARKED (park.c), but after __usched_leave() the slot, and so
 * the completion, may already be in another worker's hands.  The usual
 * park protocol closes that window: the waiter's done/parked pair is
 * guarded by the ring's lock, which the task holds into its park (park.c
 * releases it once the task is off its stack):
 *
 *   task T (worker A, slot S)               holder of S (A, or B)
 *   enter(A); SQE: op [+ LINK_TIMEOUT],
 *     user_data = &wt; submit; reap S's CQ
 *     (an inline completion: wt.done);
 *     leave(A)
 *   lock(io->lock)
 *   wt.done? unlock, return wt.res
 *   wt.parked = true
 *   park(io->lock):
 *     A: T PARKED; unlock(io->lock)         lock(io->lock)
 *                                           wt->res = cqe->res; wt->done = true
 *                                           if wt->parked: claim(T)
 *                                           unlock(io->lock); unpark(T)
 *   T runs (on any worker): lock; wt.done, wt.res; unlock
 *
 * A reaper that finds wt->parked therefore always finds T PARKED (or
 * claimed by its canceller or its deadline's timer, whose claim then wins);
 * one that comes before sees parked false and T sees done true under the
 * lock.  The waiter stays
 * valid until T has seen done, and the reaper touches it only under the
 * lock, so it may live on T's stack.
 *
 * Deadlines.  The task's I/O deadline (usched_io_deadline()) becomes an
 * IORING_OP_LINK_TIMEOUT with IORING_TIMEOUT_ABS (CLOCK_MONOTONIC, like
 * usched_now()) linked to the op.  An op cut by it completes with
 * -ECANCELED (or -EINTR when io-wq was running it): that is -ETIMEDOUT.
 * A deadline already past still lets the op complete inline at submission.
 * The park has the same deadline, for ops the linked timeout fails to cut
 * (see io_wait_done()).
 *
 * Cancellation.  When the park returns -ECANCELED the kernel still owns
 * the buffer.  The task cancels the op - with IORING_OP_ASYNC_CANCEL when it
 * resumed on the op's slot (it then owns that ring), else with the
 * synchronous IORING_REGISTER_SYNC_CANCEL (Linux 6.0), which any thread may
 * call on any ring without touching its SQ - and then waits, not
 * cancellably, for the op's own completion.  Should the cancel miss (the op
 * was not issued yet, or io-wq ignores the signal), it is sent again, with
 * back-off.  The result is the op's if it succeeded meanwhile, else
 * -ECANCELED (or -ETIMEDOUT when the park's deadline ended it).
 *
 * Kicks.  An idle holder with I/O in flight sleeps in ppoll() on the ring
 * fd (readable when CQEs wait, or when the CQ overflowed) and on the slot's
 * eventfd, which __usched_io_kick() writes - from any thread.  A ring-side
 * read of the eventfd would complete through task_work of the thread that
 * armed it, and IORING_OP_MSG_RING needs a ring of the kicker's own; a
 * plain eventfd needs neither.  The kicked/sleeping pair keeps kicks to one
 * write per sleep (see __usched_io_kick()).
 *
 * Rings are set up without SQPOLL (a thread per slot), SINGLE_ISSUER (a
 * slot moves between threads), DEFER_TASKRUN (needs SINGLE_ISSUER) and
 * COOP_TASKRUN: completions of poll-driven ops (sockets, pipes) run as
 * task_work on the thread that submitted them, and only the default
 * TWA_SIGNAL notification wakes that thread when it sleeps elsewhere (a
 * parked spare, another slot's ppoll).  For the same reason the ring fd is
 * not registered (IORING_REGISTER_RING_FDS is per thread).
 *
 * Without a ring (io_uring_setup() denied, as in many containers, or a
 * worker that lost its slot), and outside tasks, each call is the plain
 * syscall; with a deadline, fds are poll(2)ed first where that means
 * something (reads, writes, accept).
 *
 * Where the ring differs from the syscall: usched_openat() of a FIFO is
 * redone in io-wq (see there); usched_pread() and usched_pwrite() on a
 * pipe, FIFO or socket do not fail with -ESPIPE - io_uring ignores the
 * offset of a stream - since telling would cost an fstat() per call.
 */
#include <liburing.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"

#define IO_SQ_ENTRIES	256
#define IO_CQ_ENTRIES	4096	/* a CQE per parked task and then some */
#define IO_BATCH	64	/* CQEs reaped under one lock */
#define IO_UD_AUX	0ull	/* user_data of CQEs nobody waits for */
#define IO_MAX_RW	0x7ffff000u	/* MAX_RW_COUNT: what read(2) does at most */
#define IO_SUBMIT_TRIES	8
#define IO_RETRY_NS	1000000ull	/* unsubmitted SQEs: retry after 1 ms */
#define IO_CANCEL_MIN_NS 1000000ull	/* a missed cancel: again after 1 ms, */
#define IO_CANCEL_MAX_NS 100000000ull	/* doubling up to 100 ms */

/* ---- the ops ------------------------------------------------------------ */

enum io_kind {
	IO_READ,
	IO_WRITE,
	IO_PREAD,
	IO_PWRITE,
	IO_RECV,
	IO_SEND,
	IO_ACCEPT,
	IO_CONNECT,
	IO_POLL,
	IO_FSYNC,
	IO_OPENAT,
	IO_CLOSE,
	IO__NR
};

/**
 * struct io_opdef - what each op is, for both paths.
 * @opcode: IORING_OP_*
 * @plain_wait: without a ring and with a deadline, poll(2) for these first
 *              (0: the plain syscall ignores the deadline)
 */
static const struct io_opdef {
	uint8_t opcode;
	short plain_wait;
} io_opdefs[] = {
	[IO_READ]	= { IORING_OP_READ,	POLLIN },
	[IO_WRITE]	= { IORING_OP_WRITE,	POLLOUT },
	[IO_PREAD]	= { IORING_OP_READ,	0 },
	[IO_PWRITE]	= { IORING_OP_WRITE,	0 },
	[IO_RECV]	= { IORING_OP_RECV,	POLLIN },
	[IO_SEND]	= { IORING_OP_SEND,	POLLOUT },
	[IO_ACCEPT]	= { IORING_OP_ACCEPT,	POLLIN },
	[IO_CONNECT]	= { IORING_OP_CONNECT,	0 },
	[IO_POLL]	= { IORING_OP_POLL_ADD,	0 },
	[IO_FSYNC]	= { IORING_OP_FSYNC,	0 },
	[IO_OPENAT]	= { IORING_OP_OPENAT,	0 },
	[IO_CLOSE]	= { IORING_OP_CLOSE,	0 },
};
_Static_assert(sizeof(io_opdefs) / sizeof(io_opdefs[0]) == IO__NR,
	       "io_opdefs must cover every io_kind");

/* One call's arguments, for io_prep() and io_plain(). */
struct io_op {
	enum io_kind kind;
	int fd;			/* openat: dirfd */
	int flags;		/* recv/send/accept/openat flags */
	void *buf;		/* buffer; accept/connect: addr; openat: path */
	size_t len;		/* rw: bytes (<= IO_MAX_RW); connect: addrlen */
	off_t off;		/* pread/pwrite */
	void *addrlen;		/* accept: socklen_t * */
	mode_t mode;		/* openat */
	short events;		/* poll */
	bool async;		/* IOSQE_ASYNC: straight to io-wq */
	bool ring;		/* out: it went through a ring */
	uint64_t deadline;	/* absolute, or USCHED_NEVER */
};

/* ---- the ring ----------------------------------------------------------- */

/**
 * struct usched_io - a slot's ring.
 * @ring: the owner's (the worker holding the slot, BUSY)
 * @inflight: CQEs still to come (ops, their timeouts, cancels); written by
 *            the owner, read by anyone (relaxed)
 * @lock: guards every waiter's done/parked (see the top of the file)
 * @kinds: bit per enum io_kind the kernel supports; const
 * @efd: the kick eventfd; const
 * @sync_cancel: IORING_REGISTER_SYNC_CANCEL works; const
 * @sleeping: the owner is in (or about to enter) ppoll; owner writes
 * @kicked: a kick not yet seen by the owner; anyone sets, owner clears
 */
struct usched_io {
	struct io_uring ring;
	_Atomic uint32_t inflight;
	usched_lock_t lock;
	uint32_t kinds;
	int efd;
	bool sync_cancel;
	_Atomic uint32_t sleeping __cacheline;
	_Atomic uint32_t kicked;
};

/**
 * struct io_waiter - a task waiting for its op; on the task's stack.
 * @task, @io, @deadline: const once submitted
 * @res, @done: written by the reaper under io->lock
 * @parked: under io->lock: the task parks (or parked) until done
 * @ts: the linked timeout's time; the kernel reads it when the SQE is
 *      submitted, which may be after the call that queued it
 */
struct io_waiter {
	struct usched_task *task;
	struct usched_io *io;
	uint64_t deadline;
	int32_t res;
	bool done;
	bool parked;
	struct __kernel_timespec ts;
};

/* Calls on plain threads (and a worker's scheduler): their I/O deadline. */
static __thread uint64_t plain_io_deadline = USCHED_NEVER;

static uint32_t io_inflight_add(struct usched_io *io, int32_t n)
{
	return atomic_fetch_add_explicit(&io->inflight, (uint32_t)n,
					 memory_order_relaxed) + (uint32_t)n;
}

/*
 * Reap what the CQ holds, waking the waiters' tasks.  Owner only.  Returns
 * the tasks readied.
 */
static int io_reap(struct usched_io *io)
{
	struct io_uring_cqe *cqes[IO_BATCH];
	struct usched_task *wake[IO_BATCH];
	unsigned int n, i, nw, ops;
	int readied = 0;

	/* peek_batch also flushes an overflowed CQ (IORING_SQ_CQ_OVERFLOW). */
	while ((n = io_uring_peek_batch_cqe(&io->ring, cqes, IO_BATCH))) {
		nw = ops = 0;
		usched_lock(&io->lock);
		for (i = 0; i < n; i++) {
			struct io_waiter *wt = io_uring_cqe_get_data(cqes[i]);

			if (!wt)
				continue;	/* IO_UD_AUX */
			ops++;
			wt->res = cqes[i]->res;
			wt->done = true;
			/* Parked under this lock: ours unless its canceller
			 * or its deadline's timer claimed it first. */
			if (wt->parked && __usched_claim(wt->task, 0))
				wake[nw++] = wt->task;
		}
		/* From here the waiters may be gone; their tasks are ours. */
		usched_unlock(&io->lock);
		io_uring_cq_advance(&io->ring, n);
		io_inflight_add(io, -(int32_t)n);
		if (ops)
			atomic_fetch_add_explicit(&rt.st_io_ops, ops,
						  memory_order_relaxed);
		for (i = 0; i < nw; i++)
			__usched_unpark(wake[i]);
		readied += nw;
	}
	return readied;
}

/*
 * Submit what waits in the SQ.  Owner only.  The kernel may refuse for a
 * while (-EBUSY: CQ overflow backlog; -EAGAIN: out of request memory):
 * reaping helps both.  What it still refuses stays queued in the SQ for the
 * next call (__usched_io_wait() retries within IO_RETRY_NS); it never
 * blocks for long.
 */
static void io_flush(struct usched_io *io)
{
	int i, r;

	for (i = 0; i < IO_SUBMIT_TRIES && io_uring_sq_ready(&io->ring); i++) {
		r = io_uring_submit(&io->ring);
		if (r > 0 || r == -EINTR)
			continue;
		if (r == 0 || r == -EBUSY || r == -EAGAIN) {
			io_reap(io);
			continue;
		}
		__usched_log("io: submit: %s", strerror(-r));
		break;
	}
}

/* Room for @n SQEs, flushing and reaping to make it.  Owner only. */
static bool io_sq_room(struct usched_io *io, unsigned int n)
{
	int i;

	for (i = 0; i < IO_SUBMIT_TRIES; i++) {
		if (io_uring_sq_space_left(&io->ring) >= n)
			return true;
		io_flush(io);
	}
	return io_uring_sq_space_left(&io->ring) >= n;
}

static void io_prep(struct io_uring_sqe *sqe, const struct io_op *op)
{
	switch (op->kind) {
	case IO_READ:
		io_uring_prep_read(sqe, op->fd, op->buf, (unsigned int)op->len,
				   (uint64_t)-1);	/* the file position */
		break;
	case IO_WRITE:
		io_uring_prep_write(sqe, op->fd, op->buf, (unsigned int)op->len,
				    (uint64_t)-1);
		break;
	case IO_PREAD:
		io_uring_prep_read(sqe, op->fd, op->buf, (unsigned int)op->len,
				   (uint64_t)op->off);
		break;
	case IO_PWRITE:
		io_uring_prep_write(sqe, op->fd, op->buf, (unsigned int)op->len,
				    (uint64_t)op->off);
		break;
	case IO_RECV:
		io_uring_prep_recv(sqe, op->fd, op->buf, op->len, op->flags);
		break;
	case IO_SEND:
		io_uring_prep_send(sqe, op->fd, op->buf, op->len, op->flags);
		break;
	case IO_ACCEPT:
		io_uring_prep_accept(sqe, op->fd, op->buf, op->addrlen,
				     op->flags);
		break;
	case IO_CONNECT:
		io_uring_prep_connect(sqe, op->fd, op->buf,
				      (socklen_t)op->len);
		break;
	case IO_POLL:
		io_uring_prep_poll_add(sqe, op->fd, (unsigned short)op->events);
		break;
	case IO_FSYNC:
		io_uring_prep_fsync(sqe, op->fd, 0);
		break;
	case IO_OPENAT:
		io_uring_prep_openat(sqe, op->fd, op->buf, op->flags, op->mode);
		break;
	case IO_CLOSE:
		io_uring_prep_close(sqe, op->fd);
		break;
	case IO__NR:
		__builtin_unreachable();
	}
}

/* ---- the plain syscalls ------------------------------------------------- */

/* poll(2) one fd until @deadline: revents, -ETIMEDOUT, -EBADF, -errno. */
static int plain_poll(int fd, short events, uint64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = events };
	struct timespec ts, *tsp;
	uint64_t now;
	int r;

	if (fd < 0)
		return -EBADF;
	for (;;) {
		tsp = NULL;
		if (deadline != USCHED_NEVER) {
			now = __usched_now();
			now = deadline > now ? deadline - now : 0;
			ts.tv_sec = (time_t)(now / 1000000000ull);
			ts.tv_nsec = (long)(now % 1000000000ull);
			tsp = &ts;
		}
		r = ppoll(&p, 1, tsp, NULL);
		if (r > 0)
			return p.revents & POLLNVAL ? -EBADF : p.revents;
		if (r == 0 && __usched_now() >= deadline)
			return -ETIMEDOUT;
		if (r < 0 && errno != EINTR)
			return -errno;
	}
}

static long io_plain(const struct io_op *op)
{
	short wait = io_opdefs[op->kind].plain_wait;
	long r;

	if (op->kind == IO_POLL)
		return plain_poll(op->fd, op->events, op->deadline);
	if (wait && op->deadline != USCHED_NEVER) {
		r = plain_poll(op->fd, wait, op->deadline);
		if (r < 0)
			return r;
	}
	switch (op->kind) {
	case IO_READ:
		r = read(op->fd, op->buf, op->len);
		break;
	case IO_WRITE:
		r = write(op->fd, op->buf, op->len);
		break;
	case IO_PREAD:
		r = pread(op->fd, op->buf, op->len, op->off);
		break;
	case IO_PWRITE:
		r = pwrite(op->fd, op->buf, op->len, op->off);
		break;
	case IO_RECV:
		r = recv(op->fd, op->buf, op->len, op->flags);
		break;
	case IO_SEND:
		r = send(op->fd, op->buf, op->len, op->flags);
		break;
	case IO_ACCEPT:
		r = accept4(op->fd, op->buf, op->addrlen, op->flags);
		break;
	case IO_CONNECT:
		r = connect(op->fd, op->buf, (socklen_t)op->len);
		break;
	case IO_FSYNC:
		r = fsync(op->fd);
		break;
	case IO_OPENAT:
		r = openat(op->fd, op->buf, op->flags, op->mode);
		break;
	case IO_CLOSE:
		r = close(op->fd);
		break;
	default:
		__builtin_unreachable();
	}
	return r < 0 ? -errno : r;
}

/* ---- a task's op -------------------------------------------------------- */

/*
 * Queue the op (and its linked timeout) on @io and submit.  Owner only.
 * False when the SQ has no room: nothing was queued.
 */
static bool io_submit(struct usched_io *io, const struct io_op *op,
		      struct io_waiter *wt)
{
	unsigned int n = wt->deadline != USCHED_NEVER ? 2 : 1;
	struct io_uring_sqe *sqe;

	if (!io_sq_room(io, n))
		return false;
	sqe = io_uring_get_sqe(&io->ring);
	io_prep(sqe, op);
	io_uring_sqe_set_data(sqe, wt);
	if (op->async)
		sqe->flags |= IOSQE_ASYNC;
	if (n == 2) {
		sqe->flags |= IOSQE_IO_LINK;
		wt->ts.tv_sec = (int64_t)(wt->deadline / 1000000000ull);
		wt->ts.tv_nsec = (long long)(wt->deadline % 1000000000ull);
		sqe = io_uring_get_sqe(&io->ring);
		io_uring_prep_link_timeout(sqe, &wt->ts, IORING_TIMEOUT_ABS);
		io_uring_sqe_set_data64(sqe, IO_UD_AUX);
	}
	/* Counted before the submit: unsubmitted SQEs keep the slot busy too. */
	io_inflight_add(io, (int32_t)n);
	io_flush(io);
	/* Sockets and pipes often complete inline: then there is no park. */
	io_reap(io);
	return true;
}

/*
 * Cancel @wt's op.  On the op's slot, with an IORING_OP_ASYNC_CANCEL
 * through the ring this worker now owns; on another slot, synchronously,
 * without touching that ring's SQ (the timeout 0 only starts cancelling an
 * op io-wq runs: its completion comes later, as for the async cancel).
 */
static void io_cancel(struct io_waiter *wt)
{
	struct usched_worker *w = this_worker();
	struct usched_io *io = wt->io;
	struct io_uring_sqe *sqe;

	if (__usched_enter(w) && w->slot->io == io && io_sq_room(io, 1)) {
		sqe = io_uring_get_sqe(&io->ring);
		io_uring_prep_cancel64(sqe, (uint64_t)(uintptr_t)wt, 0);
		io_uring_sqe_set_data64(sqe, IO_UD_AUX);
		io_inflight_add(io, 1);
		io_flush(io);
		io_reap(io);
		__usched_leave(w);
		return;
	}
	__usched_leave(w);
	if (io->sync_cancel) {
		struct io_uring_sync_cancel_reg reg = {
			.addr = (uint64_t)(uintptr_t)wt,
			.timeout = { .tv_sec = 0, .tv_nsec = 0 },
		};

		syscall(__NR_io_uring_register, io->ring.ring_fd,
			IORING_REGISTER_SYNC_CANCEL, &reg, 1);
	}
	/* Else the retry loop sends the async cancel once back on the slot. */
}

#define IO_EINTR_RETRIES	8	/* io_run(): spurious io-wq -EINTRs retried */
#define IO_ERESTART_FIRST	512	/* ERESTARTSYS .. ERESTART_RESTARTBLOCK, */
#define IO_ERESTART_LAST	516	/* kernel-internal, leaked by io-wq ops */

static long io_result(const struct io_waiter *wt)
{
	int res = wt->res;

	/* An op io-wq ran, interrupted (6.18's openat says -ERESTARTSYS). */
	if (res <= -IO_ERESTART_FIRST && res >= -IO_ERESTART_LAST)
		res = -EINTR;

	/* Cut by the linked timeout (-EINTR: io-wq was running it). */
	if (wt->deadline != USCHED_NEVER &&
	    (res == -ECANCELED ||
	     (res == -EINTR && __usched_now() >= wt->deadline)))
		return -ETIMEDOUT;
	return res;
}

/*
 * Wait for @wt's completion (see the top of the file); its result.  The
 * park ends at the deadline too: the linked timeout cuts ops that wait on a
 * poll, but not every op io-wq runs (a blocking FIFO open, on 6.18), so the
 * task's own timer is the backstop, and the op is then cancelled like one
 * of a cancelled task.
 */
static long io_wait_done(struct io_waiter *wt)
{
	struct usched_io *io = wt->io;
	uint64_t backoff = IO_CANCEL_MIN_NS;
	int r = 0;

	usched_lock(&io->lock);
	if (!wt->done) {
		wt->parked = true;
		r = __usched_park(&io->lock, wt->deadline, PARK_CANCELLABLE);
		/* Maybe on another worker now; this_worker() is re-read below. */
		usched_lock(&io->lock);
		wt->parked = false;
	}
	if (wt->done) {
		usched_unlock(&io->lock);
		return io_result(wt);
	}
	usched_unlock(&io->lock);
	if (r != -ECANCELED && r != -ETIMEDOUT)
		__usched_die("task %llu woken with %d before its I/O completed",
			     (unsigned long long)wt->task->id, r);

	/* The kernel still owns the buffer until the op's CQE. */
	for (;;) {
		io_cancel(wt);
		usched_lock(&io->lock);
		if (wt->done)
			break;
		wt->parked = true;
		__usched_park(&io->lock, __usched_now() + backoff, 0);
		usched_lock(&io->lock);
		wt->parked = false;
		if (wt->done)
			break;
		usched_unlock(&io->lock);
		backoff = backoff * 2 < IO_CANCEL_MAX_NS ? backoff * 2 :
			  IO_CANCEL_MAX_NS;
	}
	usched_unlock(&io->lock);
	/* Done meanwhile: a result is worth more than the cancel. */
	return wt->res >= 0 ? wt->res : r;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/*
 * Run one op: through the calling task's slot ring, parking the task, or
 * as the plain syscall.  @deadline: the op's own (poll), or USCHED_NEVER;
 * the caller's I/O deadline applies too.
 */
static long io_run(struct io_op *op, uint64_t deadline)
{
	struct usched_worker *w = this_worker();
	struct usched_task *t = w ? w->cur : NULL;
	struct io_waiter wt;
	struct usched_io *io;
	int tries = 0;
	long r;

	if (!t) {
		op->deadline = min_u64(deadline, plain_io_deadline);
		return io_plain(op);
	}
	op->deadline = min_u64(deadline, t->io_deadline);
again:
	__usched_np_inc(w);
	if (atomic_load_explicit(&t->cancelled, memory_order_relaxed)) {
		__usched_np_dec(w);
		/* A close completes at once: do it, or the fd would leak. */
		if (op->kind == IO_CLOSE)
			return io_plain(op);
		return -ECANCELED;
	}
	/*
	 * A deadline already past makes this a non-blocking attempt: the
	 * plain path polls first (with a zero timeout) and does the call only
	 * if it cannot block; a linked timeout that is already due could cut
	 * even an operation that would have completed at once.
	 */
	if (op->deadline != USCHED_NEVER && op->deadline <= __usched_now() &&
	    io_opdefs[op->kind].plain_wait) {
		__usched_np_dec(w);
		return io_plain(op);
	}
	if (!__usched_enter(w) || !(io = w->slot->io) ||
	    !(io->kinds & (1u << op->kind)))
		goto plain;
	memset(&wt, 0, sizeof(wt));
	wt.task = t;
	wt.io = io;
	wt.deadline = op->deadline;
	if (!io_submit(io, op, &wt))
		goto plain;
	op->ring = true;
	__usched_leave(w);
	r = io_wait_done(&wt);
	__usched_np_dec(this_worker());
	/*
	 * -EINTR before the deadline, the task not cancelled: io-wq's own
	 * interruption of the worker that ran the op (6.1 can hand a stale
	 * cancellation of an earlier op to the next one), never a signal
	 * of this task's, and nothing was transferred: submit again, as
	 * SA_RESTART would.  Not a close (the fd is gone) nor a connect
	 * (it goes on: a second one says EALREADY).
	 */
	if (r == -EINTR && op->kind != IO_CLOSE && op->kind != IO_CONNECT &&
	    ++tries <= IO_EINTR_RETRIES &&
	    !atomic_load_explicit(&t->cancelled, memory_order_relaxed) &&
	    (op->deadline == USCHED_NEVER || __usched_now() < op->deadline)) {
		w = this_worker();
		goto again;
	}
	return r;

plain:
	/* No ring here: block this worker (the runtime detaches it). */
	__usched_leave(w);
	__usched_np_dec(w);
	return io_plain(op);
}

/* ---- the public calls --------------------------------------------------- */

static size_t io_len(size_t len)
{
	return len < IO_MAX_RW ? len : IO_MAX_RW;
}

ssize_t usched_read(int fd, void *buf, size_t len)
{
	struct io_op op = { .kind = IO_READ, .fd = fd, .buf = buf,
			    .len = io_len(len) };

	return io_run(&op, USCHED_NEVER);
}

ssize_t usched_write(int fd, const void *buf, size_t len)
{
	struct io_op op = { .kind = IO_WRITE, .fd = fd, .buf = (void *)buf,
			    .len = io_len(len) };

	return io_run(&op, USCHED_NEVER);
}

ssize_t usched_pread(int fd, void *buf, size_t len, off_t off)
{
	struct io_op op = { .kind = IO_PREAD, .fd = fd, .buf = buf,
			    .len = io_len(len), .off = off };

	/* The ring reads -1 as "the file position"; pread(2) says EINVAL. */
	if (off < 0)
		return -EINVAL;
	return io_run(&op, USCHED_NEVER);
}

ssize_t usched_pwrite(int fd, const void *buf, size_t len, off_t off)
{
	struct io_op op = { .kind = IO_PWRITE, .fd = fd, .buf = (void *)buf,
			    .len = io_len(len), .off = off };

	if (off < 0)
		return -EINVAL;
	return io_run(&op, USCHED_NEVER);
}

ssize_t usched_recv(int fd, void *buf, size_t len, int flags)
{
	struct io_op op = { .kind = IO_RECV, .fd = fd, .buf = buf,
			    .len = io_len(len), .flags = flags };

	return io_run(&op, USCHED_NEVER);
}

ssize_t usched_send(int fd, const void *buf, size_t len, int flags)
{
	struct io_op op = { .kind = IO_SEND, .fd = fd, .buf = (void *)buf,
			    .len = io_len(len), .flags = flags };

	return io_run(&op, USCHED_NEVER);
}

int usched_accept(int fd, void *addr, void *addrlen, int flags)
{
	struct io_op op = { .kind = IO_ACCEPT, .fd = fd, .buf = addr,
			    .addrlen = addrlen, .flags = flags };

	return (int)io_run(&op, USCHED_NEVER);
}

int usched_connect(int fd, const void *addr, uint32_t addrlen)
{
	struct io_op op = { .kind = IO_CONNECT, .fd = fd, .buf = (void *)addr,
			    .len = addrlen };

	return (int)io_run(&op, USCHED_NEVER);
}

int usched_poll(int fd, short events, uint64_t deadline)
{
	struct io_op op = { .kind = IO_POLL, .fd = fd, .events = events };

	return (int)io_run(&op, deadline);
}

int usched_fsync(int fd)
{
	struct io_op op = { .kind = IO_FSYNC, .fd = fd };

	return (int)io_run(&op, USCHED_NEVER);
}

/*
 * io_uring first tries an open inline, adding O_NONBLOCK (unless O_CREAT,
 * O_TRUNC or O_TMPFILE send it straight to io-wq).  For a FIFO that changes
 * the meaning: a reader opens without waiting for a writer, a writer fails
 * with ENXIO instead of waiting for a reader.  Those two cases are done
 * again in io-wq, where the open blocks as openat(2) does (and can be cut
 * by the deadline or cancelled).  The inline reader's brief open does wake
 * a writer waiting in open(2) a little early.
 */
int usched_openat(int dirfd, const char *path, int flags, mode_t mode)
{
	struct io_op op = { .kind = IO_OPENAT, .fd = dirfd,
			    .buf = (void *)path, .flags = flags, .mode = mode };
	struct stat st;
	int fd;

	fd = (int)io_run(&op, USCHED_NEVER);
	if (!op.ring || (flags & (O_NONBLOCK | O_PATH | O_CREAT | O_TRUNC)) ||
	    (flags & O_TMPFILE) == O_TMPFILE)
		return fd;
	if ((flags & O_ACCMODE) == O_RDONLY && fd >= 0) {
		if (fstat(fd, &st) || !S_ISFIFO(st.st_mode))
			return fd;
		close(fd);
	} else if ((flags & O_ACCMODE) != O_WRONLY || fd != -ENXIO) {
		return fd;
	}
	op.async = true;
	return (int)io_run(&op, USCHED_NEVER);
}

int usched_close(int fd)
{
	struct io_op op = { .kind = IO_CLOSE, .fd = fd };

	return (int)io_run(&op, USCHED_NEVER);
}

uint64_t usched_io_deadline(uint64_t deadline)
{
	struct usched_task *t = cur_task();
	uint64_t old;

	if (t) {
		old = t->io_deadline;
		t->io_deadline = deadline;
	} else {
		old = plain_io_deadline;
		plain_io_deadline = deadline;
	}
	return old;
}

/* ---- the slot hooks (sched.c) ------------------------------------------- */

/* Which ops the kernel has; the ring is useless without the two helpers. */
static int io_probe(struct usched_io *io)
{
	struct io_uring_probe *p = io_uring_get_probe_ring(&io->ring);
	struct io_uring_sync_cancel_reg reg = {
		.addr = IO_UD_AUX, .timeout = { .tv_sec = -1, .tv_nsec = -1 },
	};
	int k, r;

	if (!p)
		return -EOPNOTSUPP;
	r = -EOPNOTSUPP;
	if (!io_uring_opcode_supported(p, IORING_OP_LINK_TIMEOUT) ||
	    !io_uring_opcode_supported(p, IORING_OP_ASYNC_CANCEL))
		goto out;
	for (k = 0; k < IO__NR; k++)
		if (io_uring_opcode_supported(p, io_opdefs[k].opcode))
			io->kinds |= 1u << k;
	/* Nothing carries IO_UD_AUX yet: a kernel that knows the call says 0
	 * or -ENOENT, an older one -EINVAL. */
	r = (int)syscall(__NR_io_uring_register, io->ring.ring_fd,
			 IORING_REGISTER_SYNC_CANCEL, &reg, 1);
	io->sync_cancel = r == 0 || (r < 0 && errno == ENOENT);
	r = 0;
out:
	io_uring_free_probe(p);
	return r;
}

int __usched_io_slot_init(struct usched_slot *s)
{
	struct io_uring_params p;
	struct usched_io *io;
	int r;

	s->io = NULL;
	io = aligned_alloc(CACHELINE, (sizeof(*io) + CACHELINE - 1) &
			   ~(size_t)(CACHELINE - 1));
	if (!io)
		return -ENOMEM;
	memset(io, 0, sizeof(*io));
	memset(&p, 0, sizeof(p));
	p.flags = IORING_SETUP_CQSIZE | IORING_SETUP_CLAMP |
		  IORING_SETUP_SUBMIT_ALL;
	p.cq_entries = IO_CQ_ENTRIES;
	r = io_uring_queue_init_params(IO_SQ_ENTRIES, &io->ring, &p);
	if (r == -EINVAL) {
		/* SUBMIT_ALL is 5.18: without it a bad SQE only stops the
		 * batch, and io_flush() submits the rest next time. */
		memset(&p, 0, sizeof(p));
		p.flags = IORING_SETUP_CQSIZE | IORING_SETUP_CLAMP;
		p.cq_entries = IO_CQ_ENTRIES;
		r = io_uring_queue_init_params(IO_SQ_ENTRIES, &io->ring, &p);
	}
	if (r < 0)
		goto err_free;
	/* NODROP: no CQE is ever lost; RW_CUR_POS: offset -1 for read(2). */
	r = -EOPNOTSUPP;
	if (!(p.features & IORING_FEAT_NODROP) ||
	    !(p.features & IORING_FEAT_RW_CUR_POS))
		goto err_exit;
	r = io_probe(io);
	if (r)
		goto err_exit;
	io->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (io->efd < 0) {
		r = -errno;
		goto err_exit;
	}
	s->io = io;
	return 0;

err_exit:
	io_uring_queue_exit(&io->ring);
err_free:
	free(io);
	if (s->id == 0 && (rt.cfg.flags & USCHED_CFG_VERBOSE))
		__usched_log("no io_uring (%s): I/O calls block their worker",
			     strerror(-r));
	return r;
}

/* With the runtime stopped: no task waits, at most aux CQEs are pending. */
void __usched_io_slot_fini(struct usched_slot *s)
{
	struct usched_io *io = s->io;

	if (!io)
		return;
	s->io = NULL;
	close(io->efd);
	io_uring_queue_exit(&io->ring);
	free(io);
}

int __usched_io_poll(struct usched_slot *s)
{
	struct usched_io *io = s->io;

	if (!io)
		return 0;
	if (io_uring_sq_ready(&io->ring))
		io_flush(io);
	return io_reap(io);
}

uint32_t __usched_io_inflight(struct usched_slot *s)
{
	struct usched_io *io = s->io;

	return io ? atomic_load_explicit(&io->inflight, memory_order_relaxed) : 0;
}

/*
 * The owner sleeps until a CQE, a kick or @deadline.  The kick handshake
 * (all seq_cst):
 *
 *   owner                                  kicker (any thread)
 *   sleeping = 1                           (publishes work)
 *   kicked -> 0: was 1? do not sleep       kicked was 0 -> 1?
 *   ppoll(ring fd, eventfd)                  sleeping? write(eventfd)
 *   sleeping = 0; kicked = 0
 *
 * One of the two sees the other: either the owner finds the kick, or the
 * kicker finds it sleeping and writes.  A kick seen late makes one later
 * wait return at once; the caller looks for work after every return.
 */
int __usched_io_wait(struct usched_slot *s, uint64_t deadline)
{
	struct usched_io *io = s->io;
	struct pollfd pfd[2];
	struct timespec ts, *tsp = NULL;
	uint64_t now, v;
	int n;

	if (!io)
		return 0;
	if (io_uring_sq_ready(&io->ring))
		io_flush(io);
	n = io_reap(io);
	if (n)
		return n;
	atomic_store(&io->sleeping, 1);
	if (!atomic_exchange(&io->kicked, 0)) {
		now = __usched_now();
		if (io_uring_sq_ready(&io->ring))
			deadline = min_u64(deadline, now + IO_RETRY_NS);
		if (deadline != USCHED_NEVER) {
			now = deadline > now ? deadline - now : 0;
			ts.tv_sec = (time_t)(now / 1000000000ull);
			ts.tv_nsec = (long)(now % 1000000000ull);
			tsp = &ts;
		}
		pfd[0] = (struct pollfd){ .fd = io->ring.ring_fd, .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = io->efd, .events = POLLIN };
		/* The ring's task_work for this thread interrupts and restarts it. */
		if (ppoll(pfd, 2, tsp, NULL) > 0 && (pfd[1].revents & POLLIN) &&
		    read(io->efd, &v, sizeof(v)) < 0)
			(void)0;	/* EAGAIN: drained by a racing wait */
	}
	atomic_store(&io->sleeping, 0);
	atomic_store(&io->kicked, 0);
	if (io_uring_sq_ready(&io->ring))
		io_flush(io);
	return io_reap(io);
}

void __usched_io_kick(struct usched_slot *s)
{
	struct usched_io *io = s->io;
	uint64_t one = 1;

	if (!io)
		return;
	/* Already kicked: the owner will see that one (cheap, no write). */
	if (atomic_load(&io->kicked) || atomic_exchange(&io->kicked, 1))
		return;
	if (atomic_load(&io->sleeping) &&
	    write(io->efd, &one, sizeof(one)) < 0)
		(void)0;	/* EAGAIN: the counter is full, so it is readable */
}
