/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * usched.h - libusched: millions of cheap tasks in plain blocking C, on a few
 * OS threads, with true preemption and syscall detachment.
 *
 * Documentation/library.md is the guide; this header is the reference.  The
 * rules that hold for every function:
 *
 *   - Functions that can fail return 0 (or a count) on success and a
 *     negative errno on failure, as liburing does; they do not set errno.
 *   - "Blocking" functions park only the calling task, never its worker
 *     thread.  Every blocking function is a cancellation point: it returns
 *     -ECANCELED once the calling task was cancelled (see task groups).
 *   - Deadlines are absolute CLOCK_MONOTONIC times in nanoseconds (see
 *     usched_now()); USCHED_NEVER means no deadline, and a deadline already
 *     past makes a blocking call a non-blocking attempt (-ETIMEDOUT when it
 *     would have to wait).
 *   - A task may move to another worker thread at any blocking call, at
 *     usched_yield(), and when it is preempted (a preempted task may resume
 *     on any worker: pinning it would deadlock when its worker is blocked
 *     on something the task itself holds).  Thread-local variables
 *     therefore belong to the worker: use task-local storage (usched_key_*)
 *     instead, and never keep the address of a thread-local variable in
 *     preemptible code (or bracket that code with usched_nopreempt_begin()
 *     and _end()).  errno is saved and restored at every switch; this
 *     header makes `errno` go through a function that the compiler cannot
 *     cache across a call (define USCHED_NO_ERRNO_WRAP to keep glibc's
 *     definition).  See Documentation/library.md, "TLS and errno".
 *   - Synchronisation objects (mutex, cond, sem, wait group, once, channels)
 *     may also be used from threads that are not tasks (the thread itself
 *     then sleeps on a futex while it waits).
 */
#ifndef _USCHED_H
#define _USCHED_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define USCHED_VERSION_MAJOR	1
#define USCHED_VERSION_MINOR	0

#define USCHED_NEVER		UINT64_MAX	/* a deadline that never comes */

/* ---- the runtime ------------------------------------------------------ */

enum usched_mode {
	USCHED_MODE_AUTO = 0,		/* kernel mode if /dev/usched works, else fallback */
	USCHED_MODE_KERNEL = 1,		/* require usched.ko; usched_start() fails without it */
	USCHED_MODE_FALLBACK = 2,	/* never use the module */
};

/* usched_config.flags */
#define USCHED_CFG_NO_PREEMPT	(1u << 0)	/* never preempt a running task */
#define USCHED_CFG_NO_DETACH	(1u << 1)	/* never hand a blocked worker's slot on */
#define USCHED_CFG_VERBOSE	(1u << 2)	/* log the chosen mode and limits to stderr */
#define USCHED_CFG_FLAGS	(USCHED_CFG_NO_PREEMPT | USCHED_CFG_NO_DETACH | \
				 USCHED_CFG_VERBOSE)

/**
 * struct usched_config - how to run.  Fill it with usched_config_init(),
 * then change what you need.  Zero fields mean "the default".
 * @size: sizeof(struct usched_config), set by usched_config_init()
 * @flags: USCHED_CFG_* bits; unknown bits give -EINVAL
 * @slots: tasks running at once (0: the CPUs this process may use)
 * @max_workers: worker threads at most, slots and spares (0: 4 * slots + 8)
 * @stack_size: default task stack, bytes (0: 64 KiB; at least 16 KiB)
 * @slice_ns: time slice before a running task is preempted (0: 10 ms;
 *            at least 100 us)
 * @mode: enum usched_mode
 * @__reserved: must be 0
 */
struct usched_config {
	uint32_t size;
	uint32_t flags;
	uint32_t slots;
	uint32_t max_workers;
	uint64_t stack_size;
	uint64_t slice_ns;
	uint32_t mode;
	uint32_t __reserved;
};

/* Fill @cfg with the defaults. */
void usched_config_init(struct usched_config *cfg);

/*
 * Start the runtime (NULL @cfg: defaults).  The environment can override:
 * USCHED_MODE=auto|kernel|fallback, USCHED_SLOTS=N, USCHED_SLICE_US=N.
 * Returns -EALREADY when started, -EINVAL for a bad config, -ENODEV in
 * USCHED_MODE_KERNEL when the module cannot be used.
 */
int usched_start(const struct usched_config *cfg);

/*
 * Wait until every task has ended, then stop the worker threads.  Called
 * from a thread that is not a task (-EDEADLK from a task).  The runtime may
 * be started again afterwards.
 */
int usched_stop(void);

/*
 * usched_start(cfg), run fn(arg) as the main task, wait for it and for every
 * task it spawned, usched_stop().  Returns the main task's result, or a
 * negative errno when the runtime could not start.
 */
int usched_main(const struct usched_config *cfg, int (*fn)(void *), void *arg);

/* The mode the runtime runs in (USCHED_MODE_KERNEL or _FALLBACK), or -1. */
int usched_mode(void);

/* Name of a mode, for messages. */
const char *usched_mode_name(int mode);

/* ---- tasks ------------------------------------------------------------ */

typedef struct usched_task usched_task_t;
typedef int (*usched_fn_t)(void *arg);

/* usched_attr.flags */
#define USCHED_ATTR_DETACHED	(1u << 0)	/* nobody joins it */
#define USCHED_ATTR_FLAGS	(USCHED_ATTR_DETACHED)

/**
 * struct usched_attr - how to spawn a task (usched_attr_init() first).
 * @size: sizeof(struct usched_attr)
 * @flags: USCHED_ATTR_* bits
 * @stack_size: 0: the runtime's default; else at least 16 KiB
 * @name: copied (at most 31 characters); NULL: "task-<id>"
 */
struct usched_attr {
	uint32_t size;
	uint32_t flags;
	uint64_t stack_size;
	const char *name;
};

void usched_attr_init(struct usched_attr *attr);

/*
 * Spawn a task running fn(arg).  @out receives a handle to join or detach
 * (it may be NULL only for a detached task).  -EAGAIN when out of memory.
 */
int usched_spawn(usched_task_t **out, const struct usched_attr *attr,
		 usched_fn_t fn, void *arg);

/* Wait for @t to end and free it; *result gets fn's return value. */
int usched_join(usched_task_t *t, int *result);

/* Let @t free itself when it ends.  A handle may be joined or detached once. */
int usched_detach(usched_task_t *t);

/* Cancel @t: its current or next blocking call returns -ECANCELED. */
int usched_cancel(usched_task_t *t);

/* Let other runnable tasks run.  0, or -ECANCELED. */
int usched_yield(void);

/* The calling task, or NULL on a thread that is not a task. */
usched_task_t *usched_self(void);

/* Id of the calling task (unique in the process, never 0), or 0. */
uint64_t usched_task_id(void);

/* Name of the calling task ("" outside tasks); valid while it runs. */
const char *usched_task_name(void);

/* Rename the calling task (at most 31 characters are kept). */
int usched_task_setname(const char *name);

/* Whether the calling task was cancelled. */
int usched_cancelled(void);

/* ---- time ------------------------------------------------------------- */

/* CLOCK_MONOTONIC, nanoseconds. */
uint64_t usched_now(void);

/* Sleep for @ns / until @deadline: 0, or -ECANCELED. */
int usched_sleep(uint64_t ns);
int usched_sleep_until(uint64_t deadline);

/* ---- task-local storage ----------------------------------------------- */

typedef uint32_t usched_key_t;

#define USCHED_KEYS_MAX		128

/* A new key (-EAGAIN beyond USCHED_KEYS_MAX); @dtor runs at task end. */
int usched_key_create(usched_key_t *key, void (*dtor)(void *));
int usched_key_delete(usched_key_t key);
/* Per task; outside tasks, per thread.  -EINVAL for a bad key. */
int usched_setspecific(usched_key_t key, const void *value);
void *usched_getspecific(usched_key_t key);

/* ---- preemption ------------------------------------------------------- */

/*
 * A region that must not be preempted (it may still block).  Nests.  Code
 * in libc, the dynamic loader, the vDSO and libusched is never preempted
 * anyway; this is for the program's own lock-free or timing-critical code.
 */
void usched_nopreempt_begin(void);
void usched_nopreempt_end(void);

/* ---- synchronisation -------------------------------------------------- */

/*
 * All of these are plain structs, usable statically initialised or after
 * their _init() call, and need no destroy call.  Their fields are private.
 */
typedef struct {
	uint32_t state;		/* 0 free, 1 locked, 2 locked with waiters */
	uint32_t lock;
	void *head, *tail;
} usched_mutex_t;
#define USCHED_MUTEX_INIT	{ 0, 0, NULL, NULL }

typedef struct {
	uint32_t lock;
	uint32_t __pad;
	void *head, *tail;
} usched_cond_t;
#define USCHED_COND_INIT	{ 0, 0, NULL, NULL }

typedef struct {
	int64_t value;
	uint32_t lock;
	uint32_t __pad;
	void *head, *tail;
} usched_sem_t;
#define USCHED_SEM_INIT(n)	{ (n), 0, 0, NULL, NULL }

typedef struct {
	int64_t count;
	uint32_t lock;
	uint32_t __pad;
	void *head, *tail;
} usched_wg_t;
#define USCHED_WG_INIT		{ 0, 0, 0, NULL, NULL }

typedef struct {
	uint32_t state;		/* 0 not run, 1 running, 2 done */
	uint32_t lock;
	void *head, *tail;
} usched_once_t;
#define USCHED_ONCE_INIT	{ 0, 0, NULL, NULL }

void usched_mutex_init(usched_mutex_t *m);
/* 0, -ECANCELED, or (_until) -ETIMEDOUT. */
int usched_mutex_lock(usched_mutex_t *m);
int usched_mutex_lock_until(usched_mutex_t *m, uint64_t deadline);
/* 0, or -EBUSY. */
int usched_mutex_trylock(usched_mutex_t *m);
void usched_mutex_unlock(usched_mutex_t *m);

void usched_cond_init(usched_cond_t *c);
/*
 * Unlock @m, wait for a signal, lock @m again (also on error).  0,
 * -ECANCELED, or (_until) -ETIMEDOUT.  Spurious wake-ups do not happen, but
 * re-check the predicate anyway: another task may have run first.
 */
int usched_cond_wait(usched_cond_t *c, usched_mutex_t *m);
int usched_cond_wait_until(usched_cond_t *c, usched_mutex_t *m,
			   uint64_t deadline);
void usched_cond_signal(usched_cond_t *c);
void usched_cond_broadcast(usched_cond_t *c);

void usched_sem_init(usched_sem_t *s, int64_t value);
/* 0, -ECANCELED, or (_until) -ETIMEDOUT; trywait: 0 or -EAGAIN. */
int usched_sem_wait(usched_sem_t *s);
int usched_sem_wait_until(usched_sem_t *s, uint64_t deadline);
int usched_sem_trywait(usched_sem_t *s);
void usched_sem_post(usched_sem_t *s);

void usched_wg_init(usched_wg_t *wg);
/* Add @delta (may be negative) to the counter; -EINVAL below zero. */
int usched_wg_add(usched_wg_t *wg, int64_t delta);
void usched_wg_done(usched_wg_t *wg);
/* Wait for the counter to reach zero: 0, -ECANCELED, or -ETIMEDOUT. */
int usched_wg_wait(usched_wg_t *wg);
int usched_wg_wait_until(usched_wg_t *wg, uint64_t deadline);

/*
 * Run @fn exactly once; concurrent callers wait until it returned.
 * 0, or -ECANCELED for a waiter that was cancelled (fn still runs once).
 */
int usched_once(usched_once_t *once, void (*fn)(void));

/* ---- channels --------------------------------------------------------- */

typedef struct usched_chan usched_chan_t;

/*
 * A channel of @elem_size-byte elements (1..65536) with room for @capacity
 * buffered elements (0: unbuffered, a send waits for its receiver).
 */
int usched_chan_create(usched_chan_t **out, size_t elem_size, size_t capacity);
/* Free a channel nobody uses any more. */
void usched_chan_destroy(usched_chan_t *c);

/*
 * Send a copy of *elem: 0, -EPIPE when the channel is (or gets) closed,
 * -ECANCELED, or (_until) -ETIMEDOUT; trysend: -EAGAIN when it would wait.
 */
int usched_chan_send(usched_chan_t *c, const void *elem);
int usched_chan_send_until(usched_chan_t *c, const void *elem, uint64_t deadline);
int usched_chan_trysend(usched_chan_t *c, const void *elem);

/*
 * Receive into *elem: 0, -EPIPE once the channel is closed and drained
 * (*elem is then zeroed), -ECANCELED, or (_until) -ETIMEDOUT; tryrecv:
 * -EAGAIN when it would wait.  @elem may be NULL to drop the element.
 */
int usched_chan_recv(usched_chan_t *c, void *elem);
int usched_chan_recv_until(usched_chan_t *c, void *elem, uint64_t deadline);
int usched_chan_tryrecv(usched_chan_t *c, void *elem);

/* Close: pending and future receivers drain then get -EPIPE; senders -EPIPE. */
int usched_chan_close(usched_chan_t *c);

/* Buffered elements now, and the capacity. */
size_t usched_chan_len(usched_chan_t *c);
size_t usched_chan_cap(usched_chan_t *c);

enum usched_select_op {
	USCHED_SELECT_SEND = 1,
	USCHED_SELECT_RECV = 2,
};

/**
 * struct usched_select_case - one case of usched_select().
 * @chan: the channel (NULL: the case is never ready, as a nil channel in Go)
 * @op: USCHED_SELECT_SEND or USCHED_SELECT_RECV
 * @elem: SEND: the element to send; RECV: where to receive (or NULL)
 * @result: out: for the chosen case, 0 or -EPIPE (closed)
 */
struct usched_select_case {
	usched_chan_t *chan;
	uint32_t op;
	int32_t result;
	void *elem;
};

/*
 * Wait until one of @n cases (at most 64) can proceed, do it, and return its
 * index.  When several are ready, one is chosen at random.  A deadline of 0
 * polls (Go's `default:`).  -ETIMEDOUT, -ECANCELED, or -EINVAL.
 */
int usched_select(struct usched_select_case *cases, unsigned int n,
		  uint64_t deadline);

/* ---- task groups (structured concurrency) ----------------------------- */

typedef struct usched_group usched_group_t;

/*
 * A group of tasks that are waited for together.  The first task that
 * returns non-zero fails the group: every other member is cancelled (its
 * blocking calls return -ECANCELED).  Cancelling a task also cancels the
 * groups it created.
 */
int usched_group_create(usched_group_t **out);
/* Spawn a member; -ECANCELED when the group was already cancelled. */
int usched_group_spawn(usched_group_t *g, const struct usched_attr *attr,
		       usched_fn_t fn, void *arg);
/*
 * Wait for every member; returns the first failure's result (or
 * -ECANCELED when the group was cancelled from outside), 0 when all
 * returned 0.  Waiting is not cancellable: the members are cancelled instead
 * and waited for, so no member outlives its group.
 */
int usched_group_wait(usched_group_t *g);
/* Cancel every member, now and later. */
void usched_group_cancel(usched_group_t *g);
/* Free a group that was waited for (-EBUSY while members run). */
int usched_group_destroy(usched_group_t *g);

/* ---- I/O through io_uring --------------------------------------------- */

/*
 * Each call parks only the calling task until its io_uring completion
 * arrives, and returns what the syscall would return, as a negative errno
 * on failure (-ETIMEDOUT past the task's I/O deadline, -ECANCELED when the
 * task was cancelled: the operation is then cancelled too).  Outside tasks
 * they call the plain syscall.
 */
ssize_t usched_read(int fd, void *buf, size_t len);
ssize_t usched_write(int fd, const void *buf, size_t len);
ssize_t usched_pread(int fd, void *buf, size_t len, off_t off);
ssize_t usched_pwrite(int fd, const void *buf, size_t len, off_t off);
ssize_t usched_recv(int fd, void *buf, size_t len, int flags);
ssize_t usched_send(int fd, const void *buf, size_t len, int flags);
int usched_accept(int fd, void *addr, void *addrlen, int flags);
int usched_connect(int fd, const void *addr, uint32_t addrlen);
/* Wait for poll(2) @events on @fd; returns the revents, or -ETIMEDOUT. */
int usched_poll(int fd, short events, uint64_t deadline);
int usched_fsync(int fd);
int usched_openat(int dirfd, const char *path, int flags, mode_t mode);
int usched_close(int fd);

/*
 * Deadline of the calling task's I/O calls above (USCHED_NEVER: none).
 * Returns the previous one.
 */
uint64_t usched_io_deadline(uint64_t deadline);

/* ---- statistics ------------------------------------------------------- */

/**
 * struct usched_stats - counters since usched_start().
 * @size: in: sizeof(struct usched_stats) as the caller knows it
 * @mode: USCHED_MODE_KERNEL or USCHED_MODE_FALLBACK
 * @slots, @workers: configured slots, worker threads now
 * @tasks_live, @tasks_spawned: tasks alive now, spawned in all
 * @switches: task switches
 * @steals: tasks taken from another worker's queue
 * @preempts: preemptions taken; @preempt_deferred: ones deferred to a safe point
 * @blocks: workers seen blocked in the kernel (kernel events, or the monitor)
 * @handovers: slots given to a standby worker because their holder blocked
 * @gate_waits: workers that came back from the kernel to a taken slot
 * @io_ops: io_uring operations completed
 * @parks: worker thread parks (idle or standby)
 */
struct usched_stats {
	uint32_t size;
	uint32_t mode;
	uint32_t slots;
	uint32_t workers;
	uint64_t tasks_live;
	uint64_t tasks_spawned;
	uint64_t switches;
	uint64_t steals;
	uint64_t preempts;
	uint64_t preempt_deferred;
	uint64_t blocks;
	uint64_t handovers;
	uint64_t gate_waits;
	uint64_t io_ops;
	uint64_t parks;
};

/* Fill @st (up to st->size bytes).  -EINVAL when st->size is too small. */
int usched_stats_get(struct usched_stats *st);

/* ---- errno ------------------------------------------------------------ */

/* The calling thread's errno, looked up anew at every call. */
int *usched_errno_location(void);

#if !defined(USCHED_NO_ERRNO_WRAP) && !defined(__USCHED_INTERNAL)
#undef errno
#define errno (*usched_errno_location())
#endif

#ifdef __cplusplus
}
#endif

#endif /* _USCHED_H */
