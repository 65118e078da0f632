// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * preempt.c - true preemption of a task that runs past its time slice.
 *
 * Delivery.  Kernel mode: the module's slice timer sees that the worker's
 * switch_seq did not move for a whole slice and redirects the thread's
 * user registers to the trampoline (arch/x86_64/preempt_*.S) on its way
 * back to user mode.  Fallback mode: the monitor thread (monitor.c) sends
 * SIGURG to the worker, and the handler below rewrites the interrupted
 * context the same way, so both paths end in the same trampoline, which
 * saves every register and the vector state and calls
 * __usched_preempt_entry().
 *
 * Safe points.  A task stopped inside libc (holding a malloc arena lock),
 * the dynamic loader, the vDSO or any other shared object must not be
 * switched away from: another task on the same worker could need that lock
 * and deadlock the worker.  Nor inside this library's own code (see
 * usched_text below).  So a preemption is taken only when the interrupted
 * IP is in the main program's own code, the task is not in a
 * usched_nopreempt region, and the worker is not in runtime code.  Else it
 * is declined (counted in preempt_deferred): switch_seq stays, so the
 * module retries a grace period later (a quarter slice), and the monitor
 * at its next tick.  A statically linked program cannot tell its libc from
 * its own code: async preemption is then off (tasks still switch at every
 * blocking call and yield).
 *
 * A preempted task goes to the back of the global queue and may resume on
 * another worker (see Documentation/library.md, "TLS and errno").
 *
 * Stack overflow.  If the program has no SIGSEGV handler of its own, one is
 * installed that, on an alternate stack, recognises a fault in the guard
 * page of the running task's stack and reports the task by name.
 */
#include <link.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "internal.h"
#include "san.h"

#define MAX_SAFE_RANGES	16
#define ALTSTACK_SIZE	(64u << 10)

/*
 * All of the library's code: never preempted.  The Makefile gathers it into
 * this one section (lib/usched/usched.lds), so it is told apart even when
 * the library is linked into the program, whose code is preemptible.  Its
 * code caches per-worker pointers (this_worker(), the nopreempt word, the
 * errno location) between instructions: a task preempted there and resumed
 * on another worker would use the first worker's, as a redirect landing
 * in the signal handler would switch the task away mid-handler.
 */
extern char __start_usched_text[], __stop_usched_text[] __hidden;

static struct { uintptr_t lo, hi; } safe[MAX_SAFE_RANGES];
static int nsafe;
static bool async_ok;		/* const after init */
static bool segv_installed;
static struct sigaction old_segv, old_preempt;

static int collect_ranges(struct dl_phdr_info *info, size_t size, void *data)
{
	int *seen_libc = data;
	int i;

	if (info->dlpi_name && strstr(info->dlpi_name, "libc.so"))
		*seen_libc = 1;
	/* The first object is the program itself (dlpi_name ""). */
	if (info->dlpi_name && info->dlpi_name[0])
		return 0;
	if (nsafe)
		return 0;
	for (i = 0; i < info->dlpi_phnum && nsafe < MAX_SAFE_RANGES; i++) {
		const ElfW(Phdr) *p = &info->dlpi_phdr[i];

		if (p->p_type != PT_LOAD || !(p->p_flags & PF_X))
			continue;
		safe[nsafe].lo = info->dlpi_addr + p->p_vaddr;
		safe[nsafe].hi = safe[nsafe].lo + p->p_memsz;
		nsafe++;
	}
	return 0;
}

bool __usched_preempt_safe_ip(uintptr_t ip)
{
	int i;

	if (ip >= (uintptr_t)__usched_preempt_tramp &&
	    ip < (uintptr_t)__usched_preempt_tramp_end)
		return false;
	if (ip >= (uintptr_t)__start_usched_text &&
	    ip < (uintptr_t)__stop_usched_text)
		return false;
	for (i = 0; i < nsafe; i++)
		if (ip >= safe[i].lo && ip < safe[i].hi)
			return true;
	return false;
}

static bool preempt_now_ok(struct usched_worker *w, uintptr_t ip)
{
	return w && w->cur && !w->busy && !__usched_np_get(w) &&
	       __usched_preempt_safe_ip(ip);
}

/* Called by the trampoline, on the task's stack, with every register saved. */
void __usched_preempt_entry(uintptr_t ip) __hidden;
void __usched_preempt_entry(uintptr_t ip)
{
	struct usched_worker *w = this_worker();
	int saved = errno;

	if (!preempt_now_ok(w, ip)) {
		atomic_fetch_add_explicit(&rt.st_preempt_deferred, 1,
					  memory_order_relaxed);
		errno = saved;
		return;
	}
	atomic_fetch_add_explicit(&rt.st_preempts, 1, memory_order_relaxed);
	__usched_np_inc(w);
	__usched_switch_out(YIELD_GLOBAL);
	/* Maybe another worker now: the scheduler restored our errno there. */
	__usched_np_dec(this_worker());
}

static void on_preempt_signal(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	struct usched_worker *w = this_worker();
	uintptr_t ip = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
	int saved = errno;

	(void)sig;
	(void)si;
	if (!async_ok || !preempt_now_ok(w, ip)) {
		if (w)
			atomic_fetch_add_explicit(&rt.st_preempt_deferred, 1,
						  memory_order_relaxed);
		errno = saved;
		return;
	}
	/* Not %gs:0: see __usched_preempt_tramp_sig. */
	w->sig_resume_ip = ip;
	uc->uc_mcontext.gregs[REG_RIP] =
		(greg_t)(uintptr_t)__usched_preempt_tramp_sig;
	errno = saved;
}

static void on_segv(int sig, siginfo_t *si, void *ucv)
{
	struct usched_worker *w = this_worker();
	struct usched_task *t = w ? w->cur : NULL;
	char msg[256];
	int n;

	(void)ucv;
	if (t && __usched_stack_guard_hit(t, (uintptr_t)si->si_addr)) {
		n = snprintf(msg, sizeof(msg),
			     "usched: stack overflow in task %llu (%s): its "
			     "%zu-byte stack is too small (raise "
			     "usched_attr.stack_size)\n",
			     (unsigned long long)t->id,
			     t->name[0] ? t->name : "unnamed", t->stack->size);
		if (write(2, msg, n) < 0)
			_exit(134);
		abort();
	}
	/* Not ours: the default action, by re-running the faulting access. */
	sigaction(sig, &old_segv, NULL);
}

int __usched_preempt_init(void)
{
	struct sigaction sa, cur;
	int seen_libc = 0;

	nsafe = 0;
	dl_iterate_phdr(collect_ranges, &seen_libc);
	async_ok = nsafe > 0 && seen_libc &&
		   !(rt.cfg.flags & USCHED_CFG_NO_PREEMPT);
#ifdef USCHED_SAN_NO_ASYNC_PREEMPT
	async_ok = false;
#endif
	if (!seen_libc && (rt.cfg.flags & USCHED_CFG_VERBOSE))
		__usched_log("statically linked program: libc cannot be told "
			     "from program code, asynchronous preemption is off");
	rt.preempt_signo = SIGURG;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_preempt_signal;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigfillset(&sa.sa_mask);
	if (sigaction(rt.preempt_signo, &sa, &old_preempt))
		return -errno;

	/* Guard-page reports, only where the program did not claim SIGSEGV. */
	if (!sigaction(SIGSEGV, NULL, &cur) && cur.sa_handler == SIG_DFL &&
	    !(cur.sa_flags & SA_SIGINFO)) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_sigaction = on_segv;
		sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESETHAND;
		sigemptyset(&sa.sa_mask);
		if (!sigaction(SIGSEGV, &sa, &old_segv))
			segv_installed = true;
	}
	return 0;
}

void __usched_preempt_fini(void)
{
	/* Every worker has exited: no SIGURG can still be aimed at one. */
	sigaction(rt.preempt_signo, &old_preempt, NULL);
	if (segv_installed)
		sigaction(SIGSEGV, &old_segv, NULL);
	segv_installed = false;
}

/* On the worker's own thread, as it exits. */
void __usched_preempt_worker_fini(struct usched_worker *w)
{
	stack_t ss = { .ss_flags = SS_DISABLE }, old;

	/* Only ours: a sanitizer may have set up its own. */
	if (!w->altstack || sigaltstack(NULL, &old) || old.ss_sp != w->altstack)
		return;
	if (!sigaltstack(&ss, NULL))
		free(w->altstack);
	w->altstack = NULL;
}

/*
 * Preempt @w now.  Kernel mode: the module queues the same redirect its
 * slice timer would, at @w's next return to user mode, and never makes a
 * system call of @w fail with EINTR.  Fallback mode: SIGURG (the monitor
 * only aims it at a thread it saw running: nanosleep, poll and the like
 * fail with EINTR when a handler interrupts them).
 */
void __usched_preempt_worker(struct usched_worker *w)
{
	pid_t tid = __atomic_load_n(&w->tid, __ATOMIC_ACQUIRE);

	if (!async_ok || !tid)
		return;
	if (w->kslot)
		__usched_kmode_preempt(w);
	else
		syscall(SYS_tgkill, getpid(), tid, rt.preempt_signo);
}

bool __usched_preempt_async(void)
{
	return async_ok;
}

/* On the worker's own thread, before it runs any task. */
int __usched_preempt_worker_init(struct usched_worker *w)
{
	sigset_t set;
	stack_t ss;
	int r;

	r = __usched_arch_set_gs(w->kslot ? (void *)w->kslot : (void *)&w->fslot);
	if (r)
		return r;
	if (segv_installed) {
		ss.ss_sp = malloc(ALTSTACK_SIZE);
		ss.ss_size = ALTSTACK_SIZE;
		ss.ss_flags = 0;
		if (ss.ss_sp && sigaltstack(&ss, NULL))
			free(ss.ss_sp);
		else
			w->altstack = ss.ss_sp;
	}
	sigemptyset(&set);
	sigaddset(&set, rt.preempt_signo);
	sigaddset(&set, SIGSEGV);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	if (w->kslot && async_ok)
		return __usched_kmode_set_slice(w);
	return 0;
}

void usched_nopreempt_begin(void)
{
	struct usched_worker *w = this_worker();
	uint32_t *np;

	if (!w || !w->cur)
		return;
	np = __usched_nopreempt_word(w);
	__atomic_store_n(np, *np + 1, __ATOMIC_RELAXED);
	atomic_signal_fence(memory_order_seq_cst);
}

void usched_nopreempt_end(void)
{
	struct usched_worker *w = this_worker();
	uint32_t *np;

	if (!w || !w->cur)
		return;
	np = __usched_nopreempt_word(w);
	atomic_signal_fence(memory_order_seq_cst);
	if (*np & ~NP_RUNTIME_MASK)
		__atomic_store_n(np, *np - 1, __ATOMIC_RELAXED);
}
