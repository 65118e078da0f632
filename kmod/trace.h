/* SPDX-License-Identifier: GPL-2.0 */
/*
 * trace.h - the usched:* tracepoints, for perf and trace-cmd:
 *   perf record -e 'usched:*' ...   /sys/kernel/tracing/events/usched/
 * usched_block runs in the preempt notifier (runqueue lock held, irqs off),
 * like sched_switch itself: its fields are plain values.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM usched

#if !defined(_USCHED_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _USCHED_TRACE_H

#include <linux/tracepoint.h>

TRACE_EVENT(usched_register,
	    TP_PROTO(u32 worker, pid_t tid),
	    TP_ARGS(worker, tid),
	    TP_STRUCT__entry(__field(u32, worker)
			     __field(pid_t, tid)),
	    TP_fast_assign(__entry->worker = worker;
			   __entry->tid = tid;),
	    TP_printk("worker=%u tid=%d", __entry->worker, __entry->tid)
);

TRACE_EVENT(usched_unregister,
	    TP_PROTO(u32 worker, u32 state),
	    TP_ARGS(worker, state),
	    TP_STRUCT__entry(__field(u32, worker)
			     __field(u32, state)),
	    TP_fast_assign(__entry->worker = worker;
			   __entry->state = state;),
	    TP_printk("worker=%u end=%s", __entry->worker,
		      __entry->state == USCHED_W_DEAD ? "dead" : "unregistered")
);

TRACE_EVENT(usched_park,
	    TP_PROTO(u32 worker, int ret),
	    TP_ARGS(worker, ret),
	    TP_STRUCT__entry(__field(u32, worker)
			     __field(int, ret)),
	    TP_fast_assign(__entry->worker = worker;
			   __entry->ret = ret;),
	    TP_printk("worker=%u ret=%d", __entry->worker, __entry->ret)
);

TRACE_EVENT(usched_wake,
	    TP_PROTO(u32 worker, bool was_parked),
	    TP_ARGS(worker, was_parked),
	    TP_STRUCT__entry(__field(u32, worker)
			     __field(bool, was_parked)),
	    TP_fast_assign(__entry->worker = worker;
			   __entry->was_parked = was_parked;),
	    TP_printk("worker=%u parked=%d", __entry->worker, __entry->was_parked)
);

TRACE_EVENT(usched_handoff,
	    TP_PROTO(u32 from, u32 to, bool spin_hit),
	    TP_ARGS(from, to, spin_hit),
	    TP_STRUCT__entry(__field(u32, from)
			     __field(u32, to)
			     __field(bool, spin_hit)),
	    TP_fast_assign(__entry->from = from;
			   __entry->to = to;
			   __entry->spin_hit = spin_hit;),
	    TP_printk("from=%u to=%u spin_hit=%d", __entry->from, __entry->to,
		      __entry->spin_hit)
);

TRACE_EVENT(usched_block,
	    TP_PROTO(u32 worker, u16 reason, s32 syscall, u32 seq),
	    TP_ARGS(worker, reason, syscall, seq),
	    TP_STRUCT__entry(__field(u32, worker)
			     __field(u16, reason)
			     __field(s32, syscall)
			     __field(u32, seq)),
	    TP_fast_assign(__entry->worker = worker;
			   __entry->reason = reason;
			   __entry->syscall = syscall;
			   __entry->seq = seq;),
	    TP_printk("worker=%u reason=%s syscall=%d seq=%u", __entry->worker,
		      __print_symbolic(__entry->reason,
				       { USCHED_BLOCK_SYSCALL, "syscall" },
				       { USCHED_BLOCK_FAULT, "fault" },
				       { USCHED_BLOCK_OTHER, "other" }),
		      __entry->syscall, __entry->seq)
);

TRACE_EVENT(usched_unblock,
	    TP_PROTO(u32 worker, u32 seq),
	    TP_ARGS(worker, seq),
	    TP_STRUCT__entry(__field(u32, worker)
			     __field(u32, seq)),
	    TP_fast_assign(__entry->worker = worker;
			   __entry->seq = seq;),
	    TP_printk("worker=%u seq=%u", __entry->worker, __entry->seq)
);

TRACE_EVENT(usched_grant,
	    TP_PROTO(u32 n, u32 free),
	    TP_ARGS(n, free),
	    TP_STRUCT__entry(__field(u32, n)
			     __field(u32, free)),
	    TP_fast_assign(__entry->n = n;
			   __entry->free = free;),
	    TP_printk("granted=%u free=%u", __entry->n, __entry->free)
);

TRACE_EVENT(usched_gate,
	    TP_PROTO(u32 worker, int open_reason),
	    TP_ARGS(worker, open_reason),
	    TP_STRUCT__entry(__field(u32, worker)
			     __field(int, open_reason)),
	    TP_fast_assign(__entry->worker = worker;
			   __entry->open_reason = open_reason;),
	    TP_printk("worker=%u passed=%s", __entry->worker,
		      __print_symbolic(__entry->open_reason,
				       { 0, "slot" }, { 1, "timeout" },
				       { 2, "group-gone" }, { 3, "lone-worker" }))
);

TRACE_EVENT(usched_preempt,
	    TP_PROTO(u32 worker, u32 mode, bool deferred, unsigned long ip),
	    TP_ARGS(worker, mode, deferred, ip),
	    TP_STRUCT__entry(__field(u32, worker)
			     __field(u32, mode)
			     __field(bool, deferred)
			     __field(unsigned long, ip)),
	    TP_fast_assign(__entry->worker = worker;
			   __entry->mode = mode;
			   __entry->deferred = deferred;
			   __entry->ip = ip;),
	    TP_printk("worker=%u mode=%s deferred=%d ip=%#lx", __entry->worker,
		      __entry->mode == USCHED_PREEMPT_SIGNAL ? "signal" : "redirect",
		      __entry->deferred, __entry->ip)
);

#endif /* _USCHED_TRACE_H */

/* Out of tree: found through ccflags' -I$(src)/kmod. */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
