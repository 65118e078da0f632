/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * internal.h - libusched's objects and the interfaces between its files.
 *
 * Documentation/library.md has the big picture.  The glossary, as in Go's
 * runtime (G, M, P):
 *
 *   task   (G) a user-mode context with its own stack: struct usched_task.
 *   worker (M) an OS thread that runs tasks: struct usched_worker.
 *   slot   (P) the right to run tasks on a CPU, with its run queue and its
 *              io_uring: struct usched_slot.  At most cfg.slots workers
 *              hold a slot at once, so at most that many run task code.
 *
 * A worker without a slot is a spare: it sleeps (parked in the module, or
 * on a futex) until it is handed a slot, or - as the standby - until a slot
 * holder blocks in the kernel and its slot can be taken over.
 *
 * Every field says who may touch it: "owner" is the worker holding the
 * slot, "self" the worker's own thread, "sched.lock" the runtime lock.
 */
#ifndef _USCHED_INTERNAL_H
#define _USCHED_INTERNAL_H

#define __USCHED_INTERNAL 1

#include <errno.h>
#include <linux/usched.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "usched.h"
#include "lock.h"

#define __hidden	__attribute__((visibility("hidden")))
#define likely(x)	__builtin_expect(!!(x), 1)
#define unlikely(x)	__builtin_expect(!!(x), 0)
#define CACHELINE	64
#define __cacheline	__attribute__((aligned(CACHELINE)))

#define USCHED_NAME_MAX		32
#define USCHED_MIN_STACK	(16u << 10)
#define USCHED_DEF_STACK	(64u << 10)
#define USCHED_DEF_SLICE_NS	10000000ull
#define USCHED_MIN_SLICE_NS	100000ull
#define USCHED_MAX_SLOTS	256
#define USCHED_RUNQ_SIZE	256	/* per slot, a power of two */

struct usched_slot;
struct usched_tlsv;
struct usched_worker;
struct usched_stack;
struct usched_waiter;

/* ---- tasks -------------------------------------------------------------- */

/* usched_task.state: who owns the task now. */
enum {
	TASK_RUNNABLE,		/* on a run queue; the stack is not owned */
	TASK_RUNNING,		/* on a worker; that worker owns it */
	TASK_WAITING,		/* parked; whoever claims task->wait owns it */
	TASK_DEAD,		/* returned; only the joiner (or nobody) touches it */
};

/*
 * usched_task.wait: the park protocol (park.c), one word:
 *   gen << WAIT_GEN_SHIFT | WAIT_CANCEL (the park is cancellable) | state
 * RUNNING -> PARKING (the task, having published itself on a wait
 * structure, bumps gen) -> PARKED (its worker, after the switch, when the
 * task's stack is no longer in use) -> CLAIMED (exactly one waker, timer or
 * canceller wins the CAS from PARKED of the same gen) -> RUNNING (the task,
 * when it runs again).  The generation makes a late timer or canceller of
 * an earlier park fail its CAS.
 */
enum {
	WAIT_RUNNING,
	WAIT_PARKING,
	WAIT_PARKED,
	WAIT_CLAIMED,
};
#define WAIT_STATE	3u
#define WAIT_CANCEL	4u
#define WAIT_GEN_SHIFT	3

/* usched_task.flags: written before the task is published, then const. */
#define TASK_F_DETACHED	(1u << 0)	/* frees itself at the end (atomic, see join) */
#define TASK_F_FOREIGN	(1u << 1)	/* a plain thread's stand-in, not a task */
#define TASK_F_MAIN	(1u << 2)	/* usched_main()'s task */

struct usched_task {
	void *sp;			/* saved stack pointer while switched out */
	struct usched_stack *stack;	/* NULL for foreign */
	uint64_t id;			/* const */
	usched_fn_t fn;			/* const */
	size_t stack_size;		/* const: 0 for the runtime's default */
	void *arg;			/* const */
	int result;			/* set once at the end, read by the joiner */
	uint32_t flags;			/* TASK_F_*; const after spawn */

	_Atomic uint32_t state;		/* TASK_*; see above */
	_Atomic uint32_t wait;		/* gen | WAIT_*; park.c */
	_Atomic uint32_t committing;	/* park.c: its worker still commits */
	int wake_result;		/* written by the claimer, read after wake */
	_Atomic uint32_t cancelled;	/* set once, by anyone; read anywhere */
	_Atomic uint32_t joinstate;	/* task.c: NONE, DETACHED, JOINING, DONE */
	usched_lock_t join_lock;	/* joinstate, joiner: join vs exit */
	struct usched_task *joiner;	/* set before JOINING is published */

	struct usched_task *next;	/* run-queue link: under the queue's lock */
	struct usched_worker *last_worker; /* stats only */

	/* Post-switch work, done by the worker after the task left the CPU. */
	usched_lock_t *park_unlock;	/* task: released once PARKED */
	uint64_t park_deadline;		/* task: USCHED_NEVER or a timer to arm */
	uint32_t park_flags;		/* task: PARK_* (park.c) */
	uint32_t yield_kind;		/* task: YIELD_* for the scheduler */

	/* Saved per-task CPU-thread state, restored at every switch-in. */
	int saved_errno;		/* task, at switch */
	uint32_t nopreempt;		/* task: nesting of nopreempt regions */

	struct usched_tlsv *tls;	/* task: usched_key_* values, or NULL */
	uint64_t io_deadline;		/* task: usched_io_deadline() */

	/* Task groups (taskgroup.c): under the group's lock. */
	struct usched_group *group;	/* the group it was spawned into */
	struct usched_task *group_next;	/* member list */
	struct usched_group *owned;	/* groups it created (cascade cancel) */

	/* Timer of a timed park (timer.c): under the timer lock. */
	uint64_t timer_when;
	uint32_t timer_idx;		/* heap index + 1; 0: not in the heap */
	uint32_t timer_wait;		/* the wait word (gen) the timer ends */

	/* Foreign threads park on this futex word instead of switching. */
	_Atomic uint32_t futex;

	void *san_fiber;		/* TSan fiber, or NULL */
	void *san_fake_stack;		/* ASan fake-stack save across a switch */
	char name[USCHED_NAME_MAX];	/* task: usched_task_setname */
};

/* ---- slots (P) ---------------------------------------------------------- */

/*
 * usched_slot.owner: the worker holding the slot.  A slot whose holder is
 * blocked in task code may be taken over (handover): by the standby after a
 * compare-and-swap of the holder's kernel claim word (kernel mode), or by
 * the monitor after a compare-and-swap of this word (fallback mode).
 * Fallback mode: OWNER_BUSY is set while the holder runs runtime code; it
 * enters the runtime with a compare-and-swap (owner -> owner|BUSY), which
 * fails once the slot was taken: then it knows it lost its slot.  Kernel
 * mode: the module arbitrates (the claim word, the gate), and a holder in
 * runtime code has its nopreempt word set, which the standby respects: a
 * plain load of this word tells the holder whether the slot is still its.
 * The standby marks the word OWNER_STEALING before its claim CAS and
 * settles it after, so a holder that came back meanwhile waits to know.
 */
#define OWNER_BUSY	1ul
#define OWNER_STEALING	2ul	/* kernel mode: a take-over is being decided */
#define OWNER_WORKER(o)	((struct usched_worker *)((o) & ~3ul))

/* The owner word of a slot handed to @w, in runtime code (see above). */
#define OWNER_TAKEN(w)	((uintptr_t)(w) | \
			 (rt.mode == USCHED_MODE_KERNEL ? 0 : OWNER_BUSY))

struct usched_slot {
	/* Run queue (runq.c): the owner pushes at tail; owner and thieves take
	 * at head with a CAS.  runnext is a LIFO slot for the task just woken. */
	_Atomic uint32_t runq_head __cacheline;
	_Atomic uint32_t runq_tail;
	_Atomic(struct usched_task *) runnext;
	_Atomic(struct usched_task *) runq[USCHED_RUNQ_SIZE];

	_Atomic uintptr_t owner __cacheline;	/* worker | OWNER_BUSY, or 0 */
	uint32_t id;				/* const */
	uint32_t sched_tick;			/* owner: schedules, for fairness */
	struct usched_slot *idle_next;		/* under sched.lock */
	bool idle;				/* under sched.lock */

	struct usched_io *io;			/* io.c; used by the owner */
	/* Kernel mode: the holder it was last taken from (owner writes). */
	struct usched_worker *stolen_from;
	_Atomic uint32_t io_waiting;		/* owner waits on the ring */
	_Atomic uint64_t switches, steals;	/* stats, relaxed */
};

/* ---- workers (M) -------------------------------------------------------- */

/* usched_worker.role */
enum {
	ROLE_HOLDER,		/* holds a slot and runs tasks */
	ROLE_SPARE,		/* parked without a slot */
	ROLE_EXITING,
};

/*
 * The per-worker page that %gs points at (so the preemption trampoline can
 * find the interrupted IP at %gs:0): the module's worker slot in kernel
 * mode, this stand-in with the same first fields in fallback mode.
 */
struct usched_fake_kslot {
	uint64_t resume_ip;
	uint32_t nopreempt;
	uint32_t switch_seq;
	uint8_t pad[48];
};

struct usched_worker {
	/* First: the signal path's trampoline entry reads it at offset 0. */
	uint64_t sig_resume_ip;		/* self: set by the SIGURG handler */
	struct usched_slot *slot;	/* self (and the stealer, see owner) */
	struct usched_task *cur;	/* self: the task running, or NULL */
	void *sched_sp;			/* self: the scheduler loop's saved sp */
	void *sched_fiber;		/* TSan fiber of the scheduler loop */
	const void *sched_stack_lo;	/* ASan: the thread's stack */
	size_t sched_stack_size;

	uint32_t id;			/* const: index in rt.workers */
	pid_t tid;			/* const once started */
	pthread_t thread;		/* const once started */
	uint32_t role;			/* under sched.lock */
	struct usched_worker *spare_next; /* under sched.lock */
	bool spinning;			/* self: looking for work */
	uint32_t busy;			/* self: runtime-code depth (owner BUSY) */

	/* Handed over while parked: set under sched.lock, read by self. */
	struct usched_slot *next_slot;

	/* Kernel mode: the module's view of this worker. */
	uint32_t kid;			/* const: module worker id */
	struct usched_worker_slot *kslot; /* %gs base; K/U fields per ABI */
	/* Fallback mode: %gs base, and the futex a parked worker sleeps on. */
	struct usched_fake_kslot fslot __cacheline;
	_Atomic uint32_t permit;	/* fallback park permit (futex word) */


	uint64_t rand;			/* self: xorshift state for stealing */
	void *altstack;			/* self: our sigaltstack, or NULL */

	/* Self, in runtime code: recently freed tasks and stacks, for reuse. */
	struct usched_task *task_cache;
	uint32_t ntask_cache;
	uint32_t nstack_cache;
	struct usched_stack *stack_cache;
	uint32_t standby_named;		/* kernel mode: standby kid we named */
};

/* ---- the runtime -------------------------------------------------------- */

struct usched_rt {
	bool started;
	uint32_t mode;			/* USCHED_MODE_KERNEL or _FALLBACK */
	struct usched_config cfg;	/* const while started */
	uint32_t nslots;
	struct usched_slot *slots;	/* [nslots], const while started */

	usched_lock_t lock;		/* workers, spares, idle slots, below */
	struct usched_worker **workers;	/* [cfg.max_workers] */
	uint32_t nworkers;		/* under lock */
	struct usched_worker *spares;	/* under lock: parked, no slot */
	uint32_t nspares;		/* under lock */
	struct usched_slot *idle_slots;	/* under lock: no holder */
	_Atomic uint32_t nidle;		/* idle slots; written under lock */
	_Atomic uint32_t nspinning;	/* workers looking for work */
	_Atomic uint32_t nio_waiting;	/* holders waiting on their ring */
	_Atomic(struct usched_worker *) timer_watcher; /* spare asleep till a timer */
	struct usched_worker *standby;	/* under lock: kernel-mode standby */
	bool standby_changed;		/* under lock: needs naming */

	/* Global run queue: tasks readied from outside or without a slot. */
	usched_lock_t gq_lock;
	struct usched_task *gq_head, *gq_tail;	/* under gq_lock */
	_Atomic uint32_t gq_len;

	_Atomic uint64_t ntasks;	/* tasks that have not ended yet */
	_Atomic uint64_t next_id;
	_Atomic uint32_t stopping;	/* 1: stop waits for tasks; 2: workers exit */
	_Atomic uint32_t started_all;	/* the first workers are up */
	_Atomic uint32_t done_futex;	/* bumped when ntasks reaches 0 */

	/* Kernel mode. */
	int kfd;
	void *kshm;
	size_t kshm_size;
	struct usched_shm_header *khdr;
	struct usched_worker_slot *kslots;

	/* Fallback mode. */
	pthread_t monitor;
	bool monitor_running;
	_Atomic uint32_t monitor_stop;
	int preempt_signo;

	/* Stats. */
	_Atomic uint64_t st_spawned, st_switches, st_preempts, st_preempt_deferred,
		st_blocks, st_handovers, st_gate_waits, st_io_ops, st_parks;
};

extern struct usched_rt __usched_rt __hidden;
#define rt __usched_rt

/*
 * The worker this thread is (NULL on other threads).  Initial-exec TLS, read
 * through this_worker() only: a task may resume on another thread after any
 * switch, and the compiler would otherwise keep the first thread's TLS
 * address across the call (the asm volatile load is redone every time).
 */
extern __thread struct usched_worker *__usched_worker
	__attribute__((tls_model("initial-exec"))) __hidden;

static inline struct usched_worker *this_worker(void)
{
	struct usched_worker *w;

	__asm__ volatile("movq __usched_worker@gottpoff(%%rip), %0\n\t"
			 "movq %%fs:(%0), %0" : "=r"(w));
	return w;
}

static inline struct usched_task *cur_task(void)
{
	struct usched_worker *w = this_worker();

	return w ? w->cur : NULL;
}

static inline void cpu_relax(void)
{
	__builtin_ia32_pause();
}

/* ---- arch (arch/<arch>/...) -------------------------------------------- */

/* Switch from the context whose sp is saved in *from to the one in *to. */
void __usched_ctx_switch(void **from, void *to) __hidden;
/* Build a fresh context on [lo, hi) that starts __usched_task_start(). */
void *__usched_ctx_init(void *lo, void *hi) __hidden;
/* The preemption trampoline and its length. */
extern char __usched_preempt_tramp[], __usched_preempt_tramp_sig[],
	__usched_preempt_tramp_end[] __hidden;
extern uint32_t __usched_xsave_size __hidden;	/* 0: fxsave */
void __usched_arch_init(void) __hidden;
/* Point %gs at this thread's per-worker page. */
int __usched_arch_set_gs(void *base) __hidden;

/* ---- scheduler (sched.c) ----------------------------------------------- */

/* yield_kind: what the scheduler does with the task it switched from. */
enum {
	YIELD_NONE,		/* nothing: it parked or died */
	YIELD_LOCAL,		/* usched_yield(): back of the slot's queue */
	YIELD_GLOBAL,		/* preempted: back of the global queue */
	YIELD_PARK,		/* park: finish the park protocol */
	YIELD_EXIT,		/* the task returned */
};

/* Make @t runnable (it must be owned by the caller). */
void __usched_ready(struct usched_task *t, bool next) __hidden;
/* Switch from the current task to the scheduler with @kind. */
void __usched_switch_out(uint32_t kind) __hidden;
/* Entered (from arch code) on a new task's stack. */
void __usched_task_start(void) __attribute__((noreturn)) __hidden;
/* Wake a spare to take an idle slot if work may be waiting. */
void __usched_wakep(void) __hidden;
/* Worker thread body. */
void *__usched_worker_main(void *arg) __hidden;
/* Enter / leave runtime code on a worker (owner BUSY protocol). */
bool __usched_enter(struct usched_worker *w) __hidden;
void __usched_leave(struct usched_worker *w) __hidden;
void __usched_globq_put(struct usched_task *t) __hidden;
struct usched_task *__usched_globq_get(void) __hidden;
void __usched_kick_idle(void) __hidden;
void __usched_wake_all(void) __hidden;
void __usched_worker_loop(struct usched_worker *w) __hidden;

/* runq.c: owner-only put, any-thread get/steal. */
bool __usched_runq_put(struct usched_slot *s, struct usched_task *t) __hidden;
struct usched_task *__usched_runq_get(struct usched_slot *s) __hidden;
struct usched_task *__usched_runq_steal(struct usched_slot *to,
					struct usched_slot *from,
					bool stealnext) __hidden;
uint32_t __usched_runq_len(struct usched_slot *s) __hidden;

/* ---- workers: OS-level park/wake (worker.c) ---------------------------- */

/*
 * Start a worker thread: a spare, or the holder of @s; @spinning: it
 * takes over the caller's count in rt.nspinning (wakep()).
 */
int __usched_worker_spawn_with(struct usched_slot *s, bool spinning) __hidden;
/* Park this worker until woken (or @deadline): 0, -ETIMEDOUT, -EINTR. */
int __usched_worker_park(struct usched_worker *w, uint64_t deadline) __hidden;
void __usched_worker_wake(struct usched_worker *w) __hidden;
/* Name the head spare as the standby of every holder (kernel mode). */
void __usched_standby_update(void) __hidden;

/* ---- task park protocol (park.c) --------------------------------------- */

/* park_flags */
#define PARK_CANCELLABLE	(1u << 0)	/* a cancel ends the park */

/*
 * Park the calling task (or foreign thread).  Call it with @lk held (or
 * NULL) after publishing the task on a wait structure; @lk is released once
 * the task is off its stack, so a waker that needs @lk to find the task can
 * never see it half-parked.  Returns the claimer's result: 0 (or what the
 * waker passed), -ETIMEDOUT at @deadline, -ECANCELED when cancelled.
 */
int __usched_park(usched_lock_t *lk, uint64_t deadline, uint32_t flags) __hidden;
/*
 * The same, releasing @n locks (at most USCHED_PARK_MULTI_MAX) after the
 * switch: usched_select() parks with every channel lock of its cases held.
 */
#define USCHED_PARK_MULTI_MAX	64
int __usched_park_multi(usched_lock_t *const *locks, unsigned int n,
			uint64_t deadline, uint32_t flags) __hidden;
/* Claim a PARKED task: true when the caller won and must __usched_unpark it. */
bool __usched_claim(struct usched_task *t, int result) __hidden;
/* The same, only if the park is still the one whose wait word is @w. */
bool __usched_claim_gen(struct usched_task *t, uint32_t w, int result) __hidden;
/* Make a claimed task run again (any thread). */
void __usched_unpark(struct usched_task *t) __hidden;
/* Claim + unpark; false when someone else claimed it first. */
bool __usched_wake(struct usched_task *t, int result) __hidden;
/* Called by the worker right after a task switched out with YIELD_PARK. */
void __usched_park_commit(struct usched_task *t) __hidden;
/* The calling task, or this thread's foreign stand-in. */
struct usched_task *__usched_self(void) __hidden;

/*
 * Wait queues: a FIFO of waiters under the owner's lock.  A waiter lives on
 * the waiting task's stack until its park returns.
 */
struct usched_waiter {
	struct usched_waiter *next, *prev;
	struct usched_task *task;
	void *data;			/* op-specific (channel element, ...) */
	int result;			/* op-specific, written by the waker */
	uint32_t flags;			/* op-specific */
	bool linked;			/* under the queue's lock */
	struct usched_select_ctx *sel;	/* select: shared by its waiters */
	uint32_t case_idx;		/* select: which case */
};

struct usched_waitq {
	struct usched_waiter *head, *tail;
};

void __usched_waitq_push(struct usched_waitq *q, struct usched_waiter *w) __hidden;
struct usched_waiter *__usched_waitq_pop(struct usched_waitq *q) __hidden;
void __usched_waitq_remove(struct usched_waitq *q, struct usched_waiter *w) __hidden;
/*
 * Pop waiters until one whose task this caller claims (with @result); NULL
 * when none.  Waiters whose task was claimed by a timer or a canceller are
 * dropped on the way.  The caller then does the op and __usched_unpark().
 */
struct usched_waiter *__usched_waitq_claim(struct usched_waitq *q, int result) __hidden;

/* ---- timers (timer.c) --------------------------------------------------- */

uint64_t __usched_now(void) __hidden;
/* Arm the park timer of a PARKED task (called by the worker). */
void __usched_timer_arm(struct usched_task *t) __hidden;
/* Disarm it (after the task ran again). */
void __usched_timer_disarm(struct usched_task *t) __hidden;
/* Fire due timers: returns how many tasks it readied. */
int __usched_timers_run(uint64_t now) __hidden;
/* The earliest deadline, or USCHED_NEVER. */
uint64_t __usched_timers_next(void) __hidden;

/* ---- stacks (stack.c) --------------------------------------------------- */

struct usched_stack {
	void *lo, *hi;			/* usable range */
	size_t size;			/* usable bytes */
	bool guard;			/* a guard page sits below lo */
	struct usched_stack *next;	/* pool link */
};

struct usched_stack *__usched_stack_get(size_t size) __hidden;
void __usched_stack_put(struct usched_stack *s) __hidden;
/* Abort with a message naming @t if its stack canary was overwritten. */
void __usched_stack_check(struct usched_task *t) __hidden;
void __usched_stack_init(void) __hidden;
void __usched_stack_pool_drain(void) __hidden;
bool __usched_stack_guard_hit(struct usched_task *t, uintptr_t addr) __hidden;

/* ---- tasks (task.c) ----------------------------------------------------- */

void __usched_task_exit(struct usched_task *t, int result) __hidden;
void __usched_task_free(struct usched_task *t) __hidden;
/* Free a worker's cached tasks (usched_stop(), workers gone). */
void __usched_task_cache_drain(struct usched_worker *w) __hidden;
struct usched_task *__usched_task_new(const struct usched_attr *attr,
				      usched_fn_t fn, void *arg) __hidden;

/* ---- task-local storage and errno (tls.c) ------------------------------ */

void __usched_tls_destroy(struct usched_task *t) __hidden;

/* ---- preemption (preempt.c) --------------------------------------------- */

int __usched_preempt_init(void) __hidden;
void __usched_preempt_fini(void) __hidden;
/* Per worker, on its thread: %gs, and (kernel mode) the slice. */
int __usched_preempt_worker_init(struct usched_worker *w) __hidden;
void __usched_preempt_worker_fini(struct usched_worker *w) __hidden;
/* Whether an interrupted IP is in code that may be preempted. */
bool __usched_preempt_safe_ip(uintptr_t ip) __hidden;
/* Ask @w to switch now (SIGURG; it declines where that is unsafe). */
void __usched_preempt_worker(struct usched_worker *w) __hidden;
/* Due timers and no idle slot: preempt a holder running task code. */
void __usched_preempt_for_timer(bool (*running)(struct usched_worker *w)) __hidden;
/* The word the module (or the monitor) reads as "switch happened". */
static inline void __usched_note_switch(struct usched_worker *w)
{
	uint32_t *seq = w->kslot ? &w->kslot->switch_seq : &w->fslot.switch_seq;

	__atomic_store_n(seq, *seq + 1, __ATOMIC_RELAXED);
}

static inline uint32_t *__usched_nopreempt_word(struct usched_worker *w)
{
	return w->kslot ? &w->kslot->nopreempt : &w->fslot.nopreempt;
}

/*
 * The nopreempt word holds two counts: the runtime's sections, in units of
 * NP_RUNTIME, and the program's usched_nopreempt regions, in units of 1.
 * Any non-zero value defers a preemption (the module and preempt.c look at
 * the whole word).  Only the runtime's part keeps a blocked holder's slot
 * from being taken over (it may hold a runtime lock, and would come back
 * gated with it); a program's region that blocks is detached as usual.
 */
#define NP_RUNTIME	0x10000u
#define NP_RUNTIME_MASK	0xffff0000u

/* The whole nopreempt word of @w (atomic: the monitor reads it too). */
static inline uint32_t __usched_np_get(struct usched_worker *w)
{
	return __atomic_load_n(__usched_nopreempt_word(w), __ATOMIC_RELAXED);
}

static inline void __usched_np_set(struct usched_worker *w, uint32_t v)
{
	__atomic_store_n(__usched_nopreempt_word(w), v, __ATOMIC_RELAXED);
}

/*
 * Runtime code must not be preempted: bracket it (nests).  One instruction
 * on the word at %gs:8 (the nopreempt word of this thread's per-worker
 * page in both modes, see struct usched_fake_kslot): nothing can come
 * between finding the word and changing it, so a count can never land on
 * another worker's word.  @w is this thread's worker.
 */
static inline void __usched_np_inc(struct usched_worker *w)
{
	(void)w;
	__asm__ volatile("addl %0, %%gs:8" : : "i"(NP_RUNTIME) : "memory", "cc");
}

static inline void __usched_np_dec(struct usched_worker *w)
{
	(void)w;
	__asm__ volatile("subl %0, %%gs:8" : : "i"(NP_RUNTIME) : "memory", "cc");
}

/*
 * A runtime section on any thread: on a worker, not preemptible (no-op on
 * other threads).  The count belongs to the task, so the exit re-reads the
 * worker: the task may have parked and moved in between.
 */
static inline void __usched_np_enter(void)
{
	struct usched_worker *w = this_worker();

	if (w)
		__usched_np_inc(w);
}

static inline void __usched_np_exit(void)
{
	struct usched_worker *w = this_worker();

	if (w)
		__usched_np_dec(w);
}

/* ---- kernel mode (kmode.c) ---------------------------------------------- */

int __usched_kmode_open(void) __hidden;
void __usched_kmode_close(void) __hidden;
int __usched_kmode_register(struct usched_worker *w) __hidden;
void __usched_kmode_unregister(struct usched_worker *w) __hidden;
int __usched_kmode_park(struct usched_worker *w, uint64_t deadline) __hidden;
int __usched_kmode_wake(struct usched_worker *w) __hidden;
int __usched_kmode_set_standby(struct usched_worker *holder, uint32_t kid) __hidden;
/* A spare woke: if it is the standby, take over a blocked holder's slot. */
void __usched_kmode_standby_scan(struct usched_worker *w) __hidden;
/* Give @s back to the worker it was taken from, if it waits at the gate. */
bool __usched_kmode_give_back(struct usched_worker *w, struct usched_slot *s) __hidden;
int __usched_kmode_set_slice(struct usched_worker *w) __hidden;
int __usched_kmode_preempt(struct usched_worker *w) __hidden;

/* ---- fallback monitor (monitor.c) --------------------------------------- */

int __usched_monitor_start(void) __hidden;
void __usched_monitor_stop(void) __hidden;
bool __usched_preempt_async(void) __hidden;
void __usched_slot_make_idle(struct usched_slot *s) __hidden;

/* ---- I/O (io.c) ----------------------------------------------------------- */

/* Per slot ring; NULL when io_uring is unavailable (calls fall back). */
int __usched_io_slot_init(struct usched_slot *s) __hidden;
void __usched_io_slot_fini(struct usched_slot *s) __hidden;
/* Reap completions on the owner's slot: how many tasks it readied. */
int __usched_io_poll(struct usched_slot *s) __hidden;
/* Operations in flight on @s. */
uint32_t __usched_io_inflight(struct usched_slot *s) __hidden;
/*
 * An idle owner with I/O in flight waits here for a completion, a kick
 * (__usched_io_kick) or @deadline; returns completions reaped.
 */
int __usched_io_wait(struct usched_slot *s, uint64_t deadline) __hidden;
void __usched_io_kick(struct usched_slot *s) __hidden;

/* ---- task groups (taskgroup.c) ------------------------------------------ */

/* A member task ended with @result (called by task.c before it is freed). */
void __usched_group_member_exit(struct usched_task *t, int result) __hidden;
/* Cascade a task's cancellation into the groups it created. */
void __usched_group_cancel_owned(struct usched_task *t) __hidden;

/* ---- misc --------------------------------------------------------------- */

void __usched_die(const char *fmt, ...)
	__attribute__((noreturn, format(printf, 1, 2))) __hidden;
void __usched_log(const char *fmt, ...)
	__attribute__((format(printf, 1, 2))) __hidden;

#endif /* _USCHED_INTERNAL_H */
