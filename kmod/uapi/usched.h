/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * usched.h - the contract between usched.ko and user space.
 *
 * Documentation/abi.md explains every rule below; this header is the
 * reference.  The rules that hold for every ioctl:
 *
 *   - Each argument struct starts with __u32 size (the size the caller
 *     knows, at least the struct's *_SIZE_VER0) and __u32 flags (unknown
 *     bits give -EINVAL).  A caller built against a newer header may pass a
 *     larger size: the bytes the module does not know must be zero, or the
 *     call fails with -E2BIG (the clone_args/openat2 pattern).  Output
 *     fields are written up to the smaller of the two sizes.
 *   - Reserved fields ("__u32 __reserved") must be zero: -EINVAL.
 *   - An unknown command gives -ENOTTY; a bad pointer -EFAULT.
 *   - Only threads of the process that opened the device may use the fd:
 *     any other process gets -EPERM (fork, SCM_RIGHTS).
 *
 * Opening /dev/usched creates a group owned by the opening process.
 * USCHED_IOC_SETUP fixes its sizes; then mmap(fd, 0) maps its shared
 * memory: a header, one 64-byte slot per worker, and the event ring.
 */
#ifndef _UAPI_LINUX_USCHED_H
#define _UAPI_LINUX_USCHED_H

#include <linux/const.h>
#include <linux/ioctl.h>
#include <linux/types.h>

#define USCHED_ABI_MAJOR	1
#define USCHED_ABI_MINOR	3

/* ioctl type, free in Documentation/userspace-api/ioctl/ioctl-number.rst */
#define USCHED_IOC_MAGIC	0xD5

/* Feature bits reported by USCHED_IOC_VERSION. */
#define USCHED_FEAT_EVENTS	_BITULL(0)	/* BLOCKED/UNBLOCKED event ring */
#define USCHED_FEAT_PARK	_BITULL(1)	/* park, wake, handoff */
#define USCHED_FEAT_GATE	_BITULL(2)	/* return-to-user gating */
#define USCHED_FEAT_PREEMPT_SIGNAL	_BITULL(3)	/* slice timer, signal */
#define USCHED_FEAT_PREEMPT_REDIRECT	_BITULL(4)	/* slice timer, trampoline */
#define USCHED_FEAT_STANDBY	_BITULL(5)	/* wake a standby on block */
#define USCHED_FEAT_CLAIM	_BITULL(6)	/* slot claim word, GATE_STOLEN */
#define USCHED_FEAT_GRANT_WORKER	_BITULL(7)	/* GRANT to one worker */
#define USCHED_FEAT_PREEMPT_NOW	_BITULL(8)	/* USCHED_IOC_PREEMPT */
#define USCHED_FEAT_GATE_WAKES_STANDBY	_BITULL(9)	/* gate wait wakes standby */

/**
 * struct usched_version - USCHED_IOC_VERSION: what this module implements.
 * @size: in: sizeof(struct usched_version) as the caller knows it
 * @flags: in: must be 0
 * @abi_major: out: USCHED_ABI_MAJOR; a different major is incompatible
 * @abi_minor: out: USCHED_ABI_MINOR; minors only add
 * @features: out: USCHED_FEAT_* bits
 * @max_workers: out: largest USCHED_IOC_SETUP.max_workers allowed
 * @max_ring_entries: out: largest USCHED_IOC_SETUP.ring_entries allowed
 * @slot_size: out: size of one worker slot in the shared memory (64)
 * @min_slice_us: out: smallest preemption slice, microseconds
 */
struct usched_version {
	__u32 size;
	__u32 flags;
	__u32 abi_major;
	__u32 abi_minor;
	__u64 features;
	__u32 max_workers;
	__u32 max_ring_entries;
	__u32 slot_size;
	__u32 min_slice_us;
};

#define USCHED_VERSION_SIZE_VER0	40

/*
 * USCHED_IOC_SETUP flags.  GATE: every worker whose blocking call completed
 * takes a gate slot before it returns to user space.  GATE_STOLEN: only a
 * worker whose claim word user space moved to USCHED_CLAIM_STOLEN while it
 * was blocked does (the others kept their slot).  At most one of the two.
 */
#define USCHED_SETUP_GATE	_BITUL(0)
#define USCHED_SETUP_GATE_STOLEN	_BITUL(1)
#define USCHED_SETUP_FLAGS	(USCHED_SETUP_GATE | USCHED_SETUP_GATE_STOLEN)

/**
 * struct usched_setup - USCHED_IOC_SETUP: size the group, once.
 * @size: in: sizeof(struct usched_setup)
 * @flags: in: USCHED_SETUP_* bits
 * @max_workers: in: 1..usched_version.max_workers
 * @ring_entries: in: a power of two, 16..usched_version.max_ring_entries
 * @gate_slots: in: initial free slots of the gate (<= max_workers)
 * @__reserved: must be 0
 * @gate_timeout_ns: in: bound of one gate wait (fail open), 0: 100 ms
 * @mmap_size: out: length to pass to mmap (offset 0)
 * @slots_offset: out: offset of worker slot 0 in the mapping
 * @ring_offset: out: offset of the first event in the mapping
 */
struct usched_setup {
	__u32 size;
	__u32 flags;
	__u32 max_workers;
	__u32 ring_entries;
	__u32 gate_slots;
	__u32 __reserved;
	__u64 gate_timeout_ns;
	__u64 mmap_size;
	__u32 slots_offset;
	__u32 ring_offset;
};

#define USCHED_SETUP_SIZE_VER0	48

/**
 * struct usched_register - USCHED_IOC_REGISTER: the calling thread becomes
 * a worker of the group.
 * @size: in: sizeof(struct usched_register)
 * @flags: in: must be 0
 * @worker: REGISTER: out: the worker id (index of its slot), 0 on input;
 *          UNREGISTER: in: the caller's own worker id
 * @__reserved: must be 0
 */
struct usched_register {
	__u32 size;
	__u32 flags;
	__u32 worker;
	__u32 __reserved;
};

#define USCHED_REGISTER_SIZE_VER0	16

/* USCHED_IOC_PARK flags */
#define USCHED_PARK_DEADLINE	_BITUL(0)	/* deadline_ns is valid */
#define USCHED_PARK_FLAGS	(USCHED_PARK_DEADLINE)

/**
 * struct usched_park - USCHED_IOC_PARK and USCHED_IOC_HANDOFF.
 * @size: in: sizeof(struct usched_park)
 * @flags: in: USCHED_PARK_* bits
 * @worker: in: the caller's own worker id
 * @target: in: HANDOFF only: the worker to wake (not the caller); else 0
 * @deadline_ns: in: absolute CLOCK_MONOTONIC time, with USCHED_PARK_DEADLINE
 *
 * Returns 0 when woken (the wake permit was consumed), -ETIMEDOUT at the
 * deadline, -EINTR on a signal (the permit is kept: simply park again; the
 * call is not restarted because the deadline is absolute), -EBADF when the
 * group was shut down.
 */
struct usched_park {
	__u32 size;
	__u32 flags;
	__u32 worker;
	__u32 target;
	__u64 deadline_ns;
};

#define USCHED_PARK_SIZE_VER0	24

/**
 * struct usched_target - USCHED_IOC_WAKE, USCHED_IOC_SET_STANDBY,
 * USCHED_IOC_GRANT, USCHED_IOC_PREEMPT.
 *
 * PREEMPT: deliver a preemption to @worker now, as its slice timer would
 * (same mode, same checks), at its next return to user mode: a running
 * worker is interrupted (an IPI), a sleeping one is not woken, and no
 * system call sees EINTR.  -EINVAL when it has no slice set (mode OFF).
 * @size: in: sizeof(struct usched_target)
 * @flags: in: GRANT: USCHED_GRANT_* bits; others: must be 0
 * @worker: in: WAKE: the worker to wake; PREEMPT: the worker to preempt;
 *          SET_STANDBY: the worker whose
 *          blocking wakes @arg; GRANT: 0, or with USCHED_GRANT_WORKER
 *          the gated worker to let through
 * @arg: in: SET_STANDBY: the standby worker id, or USCHED_NO_WORKER;
 *       GRANT: gate slots to add (0: none, only wake a waiter), 0 with
 *       USCHED_GRANT_WORKER; WAKE, PREEMPT: 0
 */
struct usched_target {
	__u32 size;
	__u32 flags;
	__u32 worker;
	__u32 arg;
};

#define USCHED_TARGET_SIZE_VER0	16
#define USCHED_NO_WORKER	0xffffffffU

/*
 * USCHED_IOC_GRANT flags.  GRANT_WORKER: let exactly @worker through the
 * gate, if it waits there now (else -EAGAIN), without touching gate_free:
 * a scheduler gives a worker back the very slot that was taken from it.
 */
#define USCHED_GRANT_WORKER	_BITUL(0)
#define USCHED_GRANT_FLAGS	(USCHED_GRANT_WORKER)

/* USCHED_IOC_SET_SLICE modes */
#define USCHED_PREEMPT_OFF	0
#define USCHED_PREEMPT_SIGNAL	1	/* send @signo to the worker thread */
#define USCHED_PREEMPT_REDIRECT	2	/* redirect user registers to the trampoline */

/**
 * struct usched_slice - USCHED_IOC_SET_SLICE: preemption of the caller.
 * @size: in: sizeof(struct usched_slice)
 * @flags: in: must be 0
 * @worker: in: the caller's own worker id
 * @mode: in: USCHED_PREEMPT_*
 * @slice_ns: in: the time slice, >= usched_version.min_slice_us (unless OFF)
 * @signo: in: SIGNAL mode: the signal, 1..SIGRTMAX except SIGKILL/SIGSTOP
 * @__reserved: must be 0
 * @trampoline: in: REDIRECT mode: user address of the trampoline
 * @trampoline_len: in: REDIRECT mode: its length in bytes (1..4096); the
 *                  kernel never redirects a thread whose IP is inside it
 */
struct usched_slice {
	__u32 size;
	__u32 flags;
	__u32 worker;
	__u32 mode;
	__u64 slice_ns;
	__u32 signo;
	__u32 __reserved;
	__u64 trampoline;
	__u64 trampoline_len;
};

#define USCHED_SLICE_SIZE_VER0	48

#define USCHED_IOC_VERSION	_IOWR(USCHED_IOC_MAGIC, 0x00, struct usched_version)
#define USCHED_IOC_SETUP	_IOWR(USCHED_IOC_MAGIC, 0x01, struct usched_setup)
#define USCHED_IOC_REGISTER	_IOWR(USCHED_IOC_MAGIC, 0x02, struct usched_register)
#define USCHED_IOC_UNREGISTER	_IOW(USCHED_IOC_MAGIC, 0x03, struct usched_register)
#define USCHED_IOC_PARK		_IOW(USCHED_IOC_MAGIC, 0x04, struct usched_park)
#define USCHED_IOC_WAKE		_IOW(USCHED_IOC_MAGIC, 0x05, struct usched_target)
#define USCHED_IOC_HANDOFF	_IOW(USCHED_IOC_MAGIC, 0x06, struct usched_park)
#define USCHED_IOC_SET_STANDBY	_IOW(USCHED_IOC_MAGIC, 0x07, struct usched_target)
#define USCHED_IOC_GRANT	_IOW(USCHED_IOC_MAGIC, 0x08, struct usched_target)
#define USCHED_IOC_SET_SLICE	_IOW(USCHED_IOC_MAGIC, 0x09, struct usched_slice)
#define USCHED_IOC_PREEMPT	_IOW(USCHED_IOC_MAGIC, 0x0a, struct usched_target)

/*
 * Shared memory.  Single-copy atomic fields; "K" = written by the kernel
 * only, "U" = written by user space only.  User space reads K fields with
 * acquire loads where noted; the kernel reads U fields with READ_ONCE and
 * never trusts them for memory safety (a wrong value only misreports).
 */

/**
 * struct usched_shm_header - at offset 0 of the mapping (two cache lines).
 * @magic: K: USCHED_SHM_MAGIC, written once at setup
 * @abi_major: K: USCHED_ABI_MAJOR
 * @max_workers: K: number of worker slots
 * @ring_entries: K: number of events in the ring (a power of two)
 * @slots_offset: K: offset of worker slot 0
 * @ring_offset: K: offset of event 0
 * @ring_tail: K: index one past the newest event (free-running); written
 *             with release semantics after the event: load it with acquire,
 *             then read events [ring_head, ring_tail)
 * @ring_overflow: U/K: set to 1 by the kernel when an event did not fit;
 *                 cleared by user space, which should then resync from
 *                 the worker slots
 * @overflow_count: K: events that did not fit, total
 * @gate_free: U/K: free slots of the gate.  Both sides change it only with
 *             atomic read-modify-write: a gated worker takes one on its way
 *             back to user space, USCHED_IOC_GRANT adds, and user space may
 *             take (compare-and-swap above zero) and add too.  User space
 *             that adds must then, after a full barrier, read gate_waiting
 *             and call USCHED_IOC_GRANT with 0 to wake a waiter it may
 *             have missed (or add through USCHED_IOC_GRANT directly)
 * @gate_waiting: K: workers waiting at the gate now (incremented, then a
 *                full barrier, then gate_free is tried)
 * @grants: K: slots granted to gate waiters, total
 * @gate_timeouts: K: gate waits that failed open on their time bound
 * @ring_head: U: index of the oldest unread event (free-running); store it
 *             with release semantics after reading the events
 * @__pad1: zero
 */
struct usched_shm_header {
	__u32 magic;
	__u32 abi_major;
	__u32 max_workers;
	__u32 ring_entries;
	__u32 slots_offset;
	__u32 ring_offset;
	__u32 ring_tail;
	__u32 ring_overflow;
	__u64 overflow_count;
	__u32 gate_free;
	__u32 gate_waiting;
	__u64 grants;
	__u64 gate_timeouts;
	/* second cache line: written by user space */
	__u32 ring_head;
	__u8  __pad1[60];
};

#define USCHED_SHM_MAGIC	0x75736368U	/* "usch" */

/* usched_worker_slot.kstate */
#define USCHED_W_FREE		0	/* no worker in this slot */
#define USCHED_W_RUNNING	1	/* running (user or kernel, not blocked) */
#define USCHED_W_BLOCKED	2	/* blocked in the kernel */
#define USCHED_W_PARKED		3	/* in USCHED_IOC_PARK/HANDOFF */
#define USCHED_W_GATED		4	/* waiting at the gate for a slot */
#define USCHED_W_DEAD		5	/* thread exited or exec'd; id reusable */

/**
 * struct usched_worker_slot - one per worker, 64 bytes, cache-line aligned.
 * The first three fields are addressed by the library's trampoline through
 * %gs (each worker thread's %gs base points at its slot): never move them.
 * @resume_ip: K: the user IP interrupted by a register redirect; the
 *             trampoline reads it (in fallback mode the library writes it)
 * @nopreempt: U: non-zero: do not preempt now (the kernel retries later).
 *             K too: a register redirect sets it to 1; the trampoline
 *             resets it to 0 once it has copied resume_ip
 * @switch_seq: U: incremented on every task switch; the kernel compares it
 *              across a slice to tell whether the same task still runs
 * @kstate: K: USCHED_W_*
 * @cpu: K: CPU the worker last ran on
 * @block_seq: K: incremented at each BLOCKED event (even when it could not
 *             be queued), so an overflowed ring can be resynchronised
 * @unblock_seq: K: incremented at each UNBLOCKED event
 * @blocks: K: times blocked, total
 * @preempts: K: preemptions delivered, total
 * @deferrals: K: preemptions deferred (nopreempt, inside the trampoline,
 *             not in user mode, a system call about to restart, the last
 *             signal still pending)
 * @gate_waits: K: times this worker waited at the gate
 * @claim: U/K: who owns the worker's scheduling slot while it is blocked:
 *         USCHED_CLAIM_SEQ(block_seq) | USCHED_CLAIM_* state.  The kernel
 *         stores BLOCKED (with the new block_seq) when it posts BLOCKED,
 *         and exchanges it for RUNNING before the worker returns to user
 *         space; user space may compare-and-swap BLOCKED to STOLEN (same
 *         sequence) to take the slot, and STOLEN back to BLOCKED to give it
 *         back before the worker returns.  With USCHED_SETUP_GATE_STOLEN a
 *         worker that finds STOLEN waits at the gate.  The sequence makes a
 *         stale compare-and-swap fail.  User space may store IDLE while
 *         the worker runs, before a wait that is not a block (an idle
 *         worker sleeping on its own I/O): the kernel then leaves the
 *         word alone and wakes no standby (it still posts BLOCKED), until
 *         the exchange to RUNNING on the way back.
 * @__pad: zero
 */
struct usched_worker_slot {
	__u64 resume_ip;
	__u32 nopreempt;
	__u32 switch_seq;
	__u32 kstate;
	__u32 cpu;
	__u32 block_seq;
	__u32 unblock_seq;
	__u64 blocks;
	__u64 preempts;
	__u32 deferrals;
	__u32 gate_waits;
	__u32 claim;
	__u32 __pad;
};

#define USCHED_SLOT_SIZE	64

/* usched_worker_slot.claim */
#define USCHED_CLAIM_RUNNING	0	/* not blocked: the slot is its own */
#define USCHED_CLAIM_BLOCKED	1	/* blocked: user space may steal */
#define USCHED_CLAIM_STOLEN	2	/* stolen: gate it on return */
/* Set by user space before an idle wait: no standby, no steal. */
#define USCHED_CLAIM_IDLE	3
#define USCHED_CLAIM_STATE	3U	/* mask of the state */
#define USCHED_CLAIM_SEQ(seq)	((__u32)(seq) << 2)

/* usched_event.type */
#define USCHED_EV_BLOCKED	1	/* worker blocked in the kernel */
#define USCHED_EV_UNBLOCKED	2	/* its kernel work completed; about to return */
#define USCHED_EV_GATE_OPEN	3	/* gate failed open (timeout or group gone) */
#define USCHED_EV_EXITED	4	/* a worker thread exited or exec'd */

/* usched_event.reason for USCHED_EV_BLOCKED */
#define USCHED_BLOCK_SYSCALL	1	/* in a system call: @syscall is its number */
#define USCHED_BLOCK_FAULT	2	/* in an exception (a page fault) */
#define USCHED_BLOCK_OTHER	3	/* elsewhere in the kernel */

/**
 * struct usched_event - one entry of the event ring (32 bytes).
 * @type: USCHED_EV_*
 * @reason: BLOCKED: USCHED_BLOCK_*; GATE_OPEN: 1 timeout, 2 group gone,
 *          3 no other worker; else 0
 * @worker: worker id
 * @seq: BLOCKED/UNBLOCKED: the worker's block_seq/unblock_seq after the
 *       event, so an UNBLOCKED names the BLOCKED it ends
 * @syscall: BLOCKED with USCHED_BLOCK_SYSCALL: the syscall number; else -1
 * @time_ns: CLOCK_MONOTONIC time of the event
 * @arg: BLOCKED/UNBLOCKED: the CPU; else 0
 */
struct usched_event {
	__u16 type;
	__u16 reason;
	__u32 worker;
	__u32 seq;
	__s32 syscall;
	__u64 time_ns;
	__u64 arg;
};

#endif /* _UAPI_LINUX_USCHED_H */
