// SPDX-License-Identifier: GPL-2.0
/*
 * preempt.c - time slices: a per-worker hrtimer, and delivery of a
 * preemption to that exact thread by a signal or by redirecting its user
 * registers to the library's trampoline.
 *
 * The library increments its slot's switch_seq on every task switch, with
 * no syscall.  The timer (hard irq, every slice while the worker runs)
 * compares switch_seq with what it saw one slice earlier: unchanged means
 * one task ran for a whole slice.  It then queues preempt_tw (TWA_RESUME),
 * which runs in process context just before the thread returns to user
 * mode and does the delivery:
 *
 *  - SIGNAL: send the library's signal to the thread (not while the last
 *    one is still pending: that one will do);
 *  - REDIRECT: write the user IP into the slot's resume_ip (a kernel
 *    address of the shared page: no fault possible) and set the IP to the
 *    trampoline.  The trampoline saves every register and the FPU state
 *    below the red zone, yields, restores, and returns with
 *    `jmp *%gs:0` (resume_ip): nothing is written to the user stack.
 *
 * Never redirect a thread whose IP is inside the trampoline (a nested
 * redirect would overwrite resume_ip before the trampoline consumed it),
 * nor one whose system call is about to be restarted (task_work also runs
 * inside get_signal(), before the restart moves the IP back two bytes),
 * nor one whose previous redirect the trampoline has not consumed yet (a
 * signal handler may run first, and its own preemption would overwrite
 * resume_ip): a redirect sets the slot's nopreempt word, which the
 * trampoline clears once it has copied resume_ip,
 * nor one whose slot says nopreempt, nor one not returning to user mode:
 * then re-arm for a grace period (a quarter slice, 20 to 250 us) and
 * count a deferral.
 *
 * After a delivery the timer looks again a grace period later, not a whole
 * slice: the library declines (does not switch, so switch_seq stays) a
 * preemption that landed in code where switching is unsafe (libc, the
 * loader), and the retry then comes soon.
 *
 * The timer stops itself at its first expiry while the worker sleeps
 * (sched_out with blocking only sets a flag: the timer is pinned to the CPU
 * that armed it, and touching it from the notifier would race with its
 * callback there), and restarts at the worker's next sched_in: a parked or
 * blocked worker is never preempted, and the slice restarts when it comes
 * back.  timer_state (OFF/ON, cmpxchg) decides who may start it again, so
 * it is never forwarded by its callback while someone else queued it.
 */
#include <linux/hrtimer.h>
#include <linux/ptrace.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/sched/task_stack.h>
#include <linux/task_work.h>

#include "usched.h"
#include "trace.h"

#define USCHED_PREEMPT_QUEUED	0	/* bit in preempt_flags */
#define USCHED_GRACE_MIN_NS	(20 * NSEC_PER_USEC)
#define USCHED_GRACE_MAX_NS	(250 * NSEC_PER_USEC)

static void usched_slice_start(struct usched_worker *w, u64 ns)
{
	hrtimer_start(&w->slice_timer, ns_to_ktime(ns),
		      HRTIMER_MODE_REL_PINNED_HARD);
}

/* A quarter slice, within [20 us, 250 us]: retries of a declined one. */
static u64 usched_grace_ns(u64 slice)
{
	return clamp_t(u64, slice / 4, USCHED_GRACE_MIN_NS, USCHED_GRACE_MAX_NS);
}

static void usched_preempt_request(struct usched_worker *w)
{
	if (test_and_set_bit(USCHED_PREEMPT_QUEUED, &w->preempt_flags))
		return;
	kref_get(&w->ref);	/* dropped by the callback */
	if (task_work_add(w->task, &w->preempt_tw, TWA_RESUME)) {
		clear_bit(USCHED_PREEMPT_QUEUED, &w->preempt_flags);
		usched_worker_put(w);
	}
}

/*
 * Stop ticking (the worker sleeps, or preemption was turned off).  The
 * state goes OFF first; then, if the worker woke up meanwhile, this
 * callback or its sched_in (whichever wins the OFF -> ON exchange) starts
 * the timer again.  Only the winner touches the timer, so it is never
 * forwarded while queued by someone else.
 */
static enum hrtimer_restart usched_slice_off(struct usched_worker *w,
					     struct hrtimer *t, u64 slice)
{
	atomic_set(&w->timer_state, USCHED_TIMER_OFF);
	smp_mb();	/* pairs with the one in usched_preempt_sched_in() */
	if (READ_ONCE(w->sleeping) || READ_ONCE(w->timer_stopped) ||
	    READ_ONCE(w->preempt_mode) == USCHED_PREEMPT_OFF || !slice ||
	    atomic_cmpxchg(&w->timer_state, USCHED_TIMER_OFF,
			   USCHED_TIMER_ON) != USCHED_TIMER_OFF)
		return HRTIMER_NORESTART;
	w->seen_seq = READ_ONCE(w->slot->switch_seq);
	hrtimer_forward_now(t, ns_to_ktime(slice));
	return HRTIMER_RESTART;
}

/* Hard irq context, on the CPU that armed it. */
static enum hrtimer_restart usched_slice_fn(struct hrtimer *t)
{
	struct usched_worker *w = container_of(t, struct usched_worker,
					       slice_timer);
	u64 slice = READ_ONCE(w->slice_ns);
	u32 seq;

	if (READ_ONCE(w->unregistered) || READ_ONCE(w->timer_stopped) ||
	    READ_ONCE(w->preempt_mode) == USCHED_PREEMPT_OFF || !slice ||
	    READ_ONCE(w->sleeping))
		return usched_slice_off(w, t, slice);

	seq = READ_ONCE(w->slot->switch_seq);
	if (xchg(&w->slept, false) || seq != w->seen_seq) {
		/* It slept, or a switch happened: a new slice began. */
		w->seen_seq = seq;
	} else {
		usched_preempt_request(w);
		/*
		 * The library takes a preemption by switching (which bumps
		 * switch_seq) and declines one that landed where it is not
		 * safe to switch: look again after a grace period, not a
		 * whole slice, so a declined preemption is retried soon.
		 */
		slice = usched_grace_ns(slice);
	}
	hrtimer_forward_now(t, ns_to_ktime(slice));
	return HRTIMER_RESTART;
}

static void usched_preempt_defer(struct usched_worker *w)
{
	/* The timer already looks again a grace period later. */
	WRITE_ONCE(w->slot->deferrals, w->slot->deferrals + 1);
	usched_stat_inc(USCHED_STAT_PREEMPT_DEFERRALS);
}

/*
 * A system call that the signal code is about to restart (it moves the IP
 * back onto the syscall instruction after task_work ran inside
 * get_signal()): a redirect now would be moved back with it.  Defer.
 */
static bool usched_in_restart(struct pt_regs *regs)
{
	long ret = regs->ax;

	if ((long)regs->orig_ax < 0)
		return false;
	return ret == -ERESTARTSYS || ret == -ERESTARTNOINTR ||
	       ret == -ERESTARTNOHAND || ret == -ERESTART_RESTARTBLOCK;
}

/* task_work: process context, the worker's own thread, before user mode. */
static void usched_preempt_tw_fn(struct callback_head *cb)
{
	struct usched_worker *w = container_of(cb, struct usched_worker,
					       preempt_tw);
	struct usched_worker_slot *slot = w->slot;
	struct pt_regs *regs = task_pt_regs(current);
	unsigned long ip;

	clear_bit(USCHED_PREEMPT_QUEUED, &w->preempt_flags);
	if (READ_ONCE(w->unregistered) || w->detached ||
	    current->mm != w->g->mm || (current->flags & PF_EXITING))
		goto put;

	switch (w->preempt_mode) {
	case USCHED_PREEMPT_SIGNAL:
		/* Still pending from the last one: it would only coalesce. */
		if (!user_mode(regs) || READ_ONCE(slot->nopreempt) ||
		    sigismember(&current->pending.signal, w->signo)) {
			usched_preempt_defer(w);
			trace_usched_preempt(w->id, w->preempt_mode, true,
					     instruction_pointer(regs));
			break;
		}
		trace_usched_preempt(w->id, w->preempt_mode, false,
				     instruction_pointer(regs));
		send_sig_info(w->signo, SEND_SIG_PRIV, current);
		WRITE_ONCE(slot->preempts, slot->preempts + 1);
		usched_stat_inc(USCHED_STAT_PREEMPT_SIGNALS);
		break;
	case USCHED_PREEMPT_REDIRECT:
		ip = instruction_pointer(regs);
		if (!user_mode(regs) || READ_ONCE(slot->nopreempt) ||
		    usched_in_restart(regs) ||
		    (ip >= w->tramp_start && ip < w->tramp_end)) {
			usched_preempt_defer(w);
			trace_usched_preempt(w->id, w->preempt_mode, true, ip);
			break;
		}
		trace_usched_preempt(w->id, w->preempt_mode, false, ip);
		/*
		 * Published before the thread can run the trampoline, which
		 * copies resume_ip and then clears nopreempt: until then no
		 * other redirect (nor the library's signal path) may reuse
		 * resume_ip.  nopreempt was 0: user space is not running.
		 */
		WRITE_ONCE(slot->resume_ip, ip);
		WRITE_ONCE(slot->nopreempt, 1);
		instruction_pointer_set(regs, w->tramp_start);
		WRITE_ONCE(slot->preempts, slot->preempts + 1);
		usched_stat_inc(USCHED_STAT_PREEMPT_REDIRECTS);
		break;
	default:
		break;
	}
put:
	usched_worker_put(w);
}

void usched_preempt_init(struct usched_worker *w)
{
	hrtimer_init(&w->slice_timer, CLOCK_MONOTONIC,
		     HRTIMER_MODE_REL_PINNED_HARD);
	w->slice_timer.function = usched_slice_fn;
	w->preempt_tw.func = usched_preempt_tw_fn;
	w->preempt_mode = USCHED_PREEMPT_OFF;
	w->timer_stopped = true;
	atomic_set(&w->timer_state, USCHED_TIMER_OFF);
}

/* Process context; may sleep (waits for a running callback). */
void usched_preempt_exit(struct usched_worker *w)
{
	WRITE_ONCE(w->timer_stopped, true);
	hrtimer_cancel(&w->slice_timer);
	atomic_set(&w->timer_state, USCHED_TIMER_OFF);
}

/* Preemption off, interrupts on, no runqueue lock. */
void usched_preempt_sched_in(struct usched_worker *w)
{
	if (!READ_ONCE(w->sleeping))
		return;
	WRITE_ONCE(w->slept, true);
	WRITE_ONCE(w->sleeping, false);
	smp_mb();	/* pairs with the one in usched_slice_off() */
	if (READ_ONCE(w->timer_stopped) ||
	    READ_ONCE(w->preempt_mode) == USCHED_PREEMPT_OFF ||
	    atomic_cmpxchg(&w->timer_state, USCHED_TIMER_OFF,
			   USCHED_TIMER_ON) != USCHED_TIMER_OFF)
		return;
	/* Won OFF -> ON: the callback is not forwarding it (see above). */
	w->seen_seq = READ_ONCE(w->slot->switch_seq);
	WRITE_ONCE(w->slept, false);
	usched_slice_start(w, READ_ONCE(w->slice_ns));
}

/*
 * Runqueue lock held, interrupts off: only a flag.  The timer stops itself
 * at its next expiry (a sleeping worker is never preempted, and its slice
 * restarts when it wakes); touching it from here would race with its
 * callback on the CPU that armed it.
 */
void usched_preempt_sched_out(struct usched_worker *w, bool blocking)
{
	if (blocking)
		WRITE_ONCE(w->sleeping, true);
}

/*
 * USCHED_IOC_PREEMPT, from any thread of the process: the task_work the
 * slice timer would queue, and a kick (an IPI if it runs on another CPU)
 * so a running worker goes through its return to user mode soon.  A
 * sleeping worker is not woken (TWA_RESUME): no EINTR, unlike a signal.
 */
int usched_preempt_now(struct usched_group *g, u32 id)
{
	struct usched_worker *w;
	int ret = 0;

	rcu_read_lock();
	w = usched_worker_get_rcu(g, id);
	if (!w)
		ret = -ESRCH;
	else if (READ_ONCE(w->preempt_mode) == USCHED_PREEMPT_OFF ||
		 READ_ONCE(w->timer_stopped))
		ret = -EINVAL;
	else
		usched_preempt_request(w);
	if (!ret)
		kick_process(w->task);
	rcu_read_unlock();
	return ret;
}

/* USCHED_IOC_SET_SLICE, on the worker's own thread; checked by ioctl.c. */
int usched_preempt_set_slice(struct usched_worker *w, struct usched_slice *s)
{
	usched_preempt_exit(w);
	WRITE_ONCE(w->preempt_mode, s->mode);
	WRITE_ONCE(w->slice_ns, s->slice_ns);
	w->signo = s->signo;
	w->tramp_start = s->trampoline;
	w->tramp_end = s->trampoline + s->trampoline_len;
	if (s->mode == USCHED_PREEMPT_OFF)
		return 0;
	w->seen_seq = READ_ONCE(w->slot->switch_seq);
	WRITE_ONCE(w->slept, false);
	WRITE_ONCE(w->timer_stopped, false);
	/* The callback is cancelled (above): nobody else starts it now. */
	atomic_set(&w->timer_state, USCHED_TIMER_ON);
	usched_slice_start(w, s->slice_ns);
	return 0;
}
