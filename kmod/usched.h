/* SPDX-License-Identifier: GPL-2.0 */
/*
 * usched.h - the module's internal objects: groups and workers.
 *
 * Documentation/module.md has the big picture (contexts, locks, the worker
 * state machine, the park/wake and block/unblock/gate timelines).  Each
 * field below says who may touch it, under which lock, in which context.
 * "task" means the worker's own thread (its ioctls, its notifier callbacks
 * and its task_work callbacks all run on that thread, so they never race
 * with each other except where noted).
 */
#ifndef _USCHED_H
#define _USCHED_H

#include <linux/hrtimer.h>
#include <linux/irq_work.h>
#include <linux/kref.h>
#include <linux/mutex.h>
#include <linux/preempt.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <uapi/usched.h>

struct file;
struct mm_struct;
struct pid;
struct task_struct;

/* Module parameters (main.c). */
extern unsigned int usched_max_workers;
extern unsigned int usched_max_ring_entries;
extern unsigned int usched_max_groups_per_user;
extern unsigned int usched_handoff_spin_ns;

#define USCHED_MIN_RING_ENTRIES	16
#define USCHED_MIN_SLICE_NS	(50 * NSEC_PER_USEC)
#define USCHED_DEFAULT_GATE_NS	(100 * NSEC_PER_MSEC)
#define USCHED_MAX_GATE_NS	(10ULL * NSEC_PER_SEC)

/* Stats (stats.c): live object counts and event totals, for debugfs. */
enum usched_stat {
	USCHED_STAT_GROUPS,		/* live groups */
	USCHED_STAT_WORKERS,		/* live workers */
	USCHED_STAT_BLOCKS,
	USCHED_STAT_UNBLOCKS,
	USCHED_STAT_EVENTS_LOST,
	USCHED_STAT_PARKS,
	USCHED_STAT_WAKES,
	USCHED_STAT_HANDOFFS,
	USCHED_STAT_SPIN_HITS,
	USCHED_STAT_STANDBY_WAKES,
	USCHED_STAT_GATE_WAITS,
	USCHED_STAT_GATE_OPENS,
	USCHED_STAT_PREEMPT_SIGNALS,
	USCHED_STAT_PREEMPT_REDIRECTS,
	USCHED_STAT_PREEMPT_DEFERRALS,
	USCHED_STAT_DEAD_CLEANUPS,
	USCHED_NR_STATS,
};

struct usched_worker;

/**
 * struct usched_group - one per open of /dev/usched.
 *
 * Lifetime: a kref held by the open file and by each registered worker;
 * freed (shared memory included) when the last one is dropped.
 */
struct usched_group {
	struct kref ref;		/* fd + each worker */
	struct mm_struct *mm;		/* owner's mm (mmgrab); const after open */
	struct pid *tgid;		/* owner process; const after open */
	struct user_struct *user;	/* for the per-user group limit; const */

	struct mutex lock;		/* setup, register/unregister, standby */
	bool setup_done;		/* under lock; read with smp_load_acquire */
	u32 flags;			/* USCHED_SETUP_*; const after setup */
	u32 max_workers;		/* const after setup */
	u32 ring_entries;		/* const after setup; power of two */
	u64 gate_timeout_ns;		/* const after setup */

	void *shm;			/* vmalloc (mmap.c); const after setup */
	size_t shm_size;		/* const after setup */
	struct usched_shm_header *hdr;	/* in shm; K fields written as documented */
	struct usched_worker_slot *slots; /* in shm */
	struct usched_event *ring;	/* in shm; written under ring_lock */

	/* Written under lock, read under RCU (wake, handoff, standby). */
	struct usched_worker __rcu **workers;
	atomic_t nr_workers;		/* registered, not yet torn down */

	/* Events: any context, the preempt notifier included (irqs off). */
	raw_spinlock_t ring_lock;	/* ring entries, hdr->ring_tail, overflow */
	wait_queue_head_t poll_wq;	/* poll/epoll waiters */
	struct irq_work poll_iw;	/* wakes poll_wq from atomic contexts */

	/* The gate: free slots are hdr->gate_free (cmpxchg only, shared). */
	spinlock_t gate_lock;		/* process context: hdr's gate counters */
	wait_queue_head_t gate_wq;	/* workers waiting for a slot */

	bool dead;			/* WRITE_ONCE at shutdown; READ_ONCE anywhere */
};

/**
 * struct usched_worker - a registered thread.
 *
 * Lifetime: a kref held by the registration (dropped at unregister, at
 * exec, or by the cleanup that follows the thread's death) and by each
 * queued task_work callback; freed with kfree_rcu so that RCU readers of
 * group->workers[] (wake, handoff, standby) stay safe.
 */
struct usched_worker {
	struct kref ref;
	/* On task's list: added/removed by task with preemption off, or by
	 * the cleanup after the task died (it never runs again).
	 */
	struct preempt_notifier pn;
	struct usched_group *g;		/* ref held; const */
	struct task_struct *task;	/* ref held; const */
	struct usched_worker_slot *slot; /* kernel address of the slot; const */
	u32 id;				/* const */

	/* Park: permit set by wakers (any context), consumed by task. */
	atomic_t permit;
	bool parked;			/* task writes; wakers READ_ONCE */
	wait_queue_head_t park_wq;	/* task sleeps here in park */
	u32 spin_ns;			/* task only: adaptive handoff spin */

	/* Block/unblock: written by task (notifier, task_work, ioctls). */
	bool in_kernel_wait;		/* task: in park or gate, not a "block" */
	bool blocked;			/* task: BLOCKED posted, UNBLOCKED not yet */
	bool unblock_queued;		/* task: unblock_tw queued */
	bool detached;			/* task: mm changed (exec): ignore events */
	struct callback_head unblock_tw;/* runs on return to user */
	bool gate_waiting;		/* under g->gate_lock: in the gate wait */
	atomic_t grant;			/* set under gate_lock; task consumes */
	u32 standby;			/* WRITE_ONCE under g->lock; READ_ONCE */
	struct irq_work standby_iw;	/* HARD: wakes the standby */

	/* Death: the notifier sees TASK_DEAD, cleanup runs in a workqueue. */
	struct irq_work death_iw;	/* HARD: queues death_work */
	struct work_struct death_work;
	struct work_struct free_work;	/* frees the worker: last reference */
	bool unregistered;		/* WRITE_ONCE at teardown; READ_ONCE */

	/* Preemption (sched/preempt.c). */
	struct hrtimer slice_timer;	/* hard irq; pinned to the arming CPU */
	u32 preempt_mode;		/* USCHED_PREEMPT_*; task writes */
	u32 signo;			/* task writes */
	u64 slice_ns;			/* task writes */
	unsigned long tramp_start;	/* task writes */
	unsigned long tramp_end;	/* task writes */
	u32 seen_seq;			/* whoever won timer_state OFF -> ON */
	bool timer_stopped;		/* task: preemption being disabled */
	bool sleeping;			/* notifier sched_out/in; timer reads */
	bool slept;			/* sched_in sets; timer consumes (xchg) */
	atomic_t timer_state;		/* USCHED_TIMER_*: who starts the timer */
	unsigned long preempt_flags;	/* bit 0: preempt_tw queued */
	struct callback_head preempt_tw;

	struct rcu_head rcu;
};

/* usched_worker.timer_state */
#define USCHED_TIMER_OFF	0	/* not queued by its callback: may start */
#define USCHED_TIMER_ON		1	/* the callback keeps it going */

/* group.c */
struct usched_group *usched_group_create(void);
void usched_group_put(struct usched_group *g);
int usched_group_setup(struct usched_group *g, struct usched_setup *s);
bool usched_group_is_setup(struct usched_group *g);
void usched_group_shutdown(struct usched_group *g);
int usched_group_check_caller(struct usched_group *g);
struct usched_worker *usched_worker_get_rcu(struct usched_group *g, u32 id);

/* mmap.c */
int usched_shm_alloc(struct usched_group *g);
void usched_shm_free(struct usched_group *g);
int usched_mmap(struct file *file, struct vm_area_struct *vma);

/* events.c */
void usched_post_event(struct usched_group *g, u16 type, u16 reason,
		       u32 worker, u32 seq, s32 syscall, u64 arg, bool atomic);
__poll_t usched_poll_events(struct usched_group *g);

/* worker.c */
int usched_worker_register(struct usched_group *g, u32 *id);
int usched_worker_unregister(struct usched_group *g, u32 id);
struct usched_worker *usched_worker_self(struct usched_group *g, u32 id);
void usched_worker_put(struct usched_worker *w);
void usched_worker_detach_self(struct usched_worker *w);
int usched_set_standby(struct usched_group *g, u32 id, u32 standby);
void usched_worker_init_death(struct usched_worker *w);

/* sched/notifier.c */
extern struct preempt_ops usched_preempt_ops;
bool usched_current_is_worker(void);

/* sched/park.c */
int usched_park(struct usched_worker *w, struct usched_park *p,
		struct usched_worker *target);
void usched_wake_worker(struct usched_worker *w, bool sync);
void usched_kick_worker(struct usched_worker *w);
int usched_wake_id(struct usched_group *g, u32 id);

/* sched/gate.c */
void usched_gate_init(struct usched_group *g, u32 slots);
void usched_unblock_tw_fn(struct callback_head *cb);
int usched_gate_grant(struct usched_group *g, u32 n);
int usched_gate_grant_worker(struct usched_group *g, u32 id);
void usched_gate_shutdown(struct usched_group *g);

/* sched/preempt.c */
void usched_preempt_init(struct usched_worker *w);
void usched_preempt_exit(struct usched_worker *w);
void usched_preempt_sched_in(struct usched_worker *w);
void usched_preempt_sched_out(struct usched_worker *w, bool blocking);
int usched_preempt_set_slice(struct usched_worker *w, struct usched_slice *s);
int usched_preempt_now(struct usched_group *g, u32 id);

/* stats.c */
void usched_stat_inc(enum usched_stat s);
void usched_stat_dec(enum usched_stat s);
int usched_stats_init(void);
void usched_stats_exit(void);

/* main.c */
extern struct workqueue_struct *usched_wq;

/* ioctl.c */
long usched_ioctl(struct file *file, unsigned int cmd, unsigned long arg);

#endif /* _USCHED_H */
