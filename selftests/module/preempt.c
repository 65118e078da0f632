// SPDX-License-Identifier: GPL-2.0
/*
 * preempt.c - time slices: USCHED_IOC_SET_SLICE's rules; delivery by
 * signal; delivery by register redirect to a trampoline that must resume
 * the spinning code with every register intact; no preemption while tasks
 * switch, under nopreempt, inside the trampoline, or while parked.
 */
#include <asm/prctl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>

#include "kselftest_harness.h"
#include "usched_test.h"

#define MS	1000000ull

/*
 * The test trampoline.  Entered by the kernel's redirect with every register
 * as the interrupted code left it and the interrupted IP in %gs:0 (this
 * thread's slot).  It skips the red zone, saves all GPRs, the flags and the
 * FPU/SSE state, counts, clobbers registers on purpose (a restore bug would
 * show), optionally spins inside itself (to provoke nested preemption
 * attempts), restores everything, clears the slot's nopreempt word (the
 * kernel set it at the redirect: the resume IP is consumed; with
 * tramp_keep_np it leaves it set) and returns with an indirect jump.
 */
unsigned long tramp_count, tramp_spin, tramp_keep_np;

asm(
"	.text\n"
"	.globl	test_tramp\n"
"	.globl	test_tramp_end\n"
"	.p2align 4\n"
"test_tramp:\n"
"	lea	-128(%rsp), %rsp\n"	/* the interrupted code's red zone */
"	pushfq\n"
"	push	%rax\n	push	%rbx\n	push	%rcx\n	push	%rdx\n"
"	push	%rsi\n	push	%rdi\n	push	%rbp\n	push	%r8\n"
"	push	%r9\n	push	%r10\n	push	%r11\n	push	%r12\n"
"	push	%r13\n	push	%r14\n	push	%r15\n"
"	mov	%rsp, %rbx\n"
"	and	$-64, %rsp\n"
"	sub	$512, %rsp\n"
"	fxsave64 (%rsp)\n"
"	lock incq tramp_count(%rip)\n"
"	mov	tramp_spin(%rip), %rcx\n"
"1:	test	%rcx, %rcx\n"
"	jz	2f\n"
"	dec	%rcx\n"
"	jmp	1b\n"
"2:	mov	$0x5a5a5a5a, %r8d\n"	/* clobber on purpose */
"	mov	%r8, %r9\n	mov	%r8, %r12\n	mov	%r8, %r15\n	mov	%r8, %rbp\n"
"	movq	%r8, %xmm0\n	movq	%r8, %xmm7\n	movq	%r8, %xmm15\n"
"	fxrstor64 (%rsp)\n"
"	cmpq	$0, tramp_keep_np(%rip)\n"	/* popfq restores the flags */
"	jne	3f\n"
"	movl	$0, %gs:8\n"		/* nopreempt: the redirect is consumed */
"3:	mov	%rbx, %rsp\n"
"	pop	%r15\n	pop	%r14\n	pop	%r13\n	pop	%r12\n"
"	pop	%r11\n	pop	%r10\n	pop	%r9\n	pop	%r8\n"
"	pop	%rbp\n	pop	%rdi\n	pop	%rsi\n	pop	%rdx\n"
"	pop	%rcx\n	pop	%rbx\n	pop	%rax\n"
"	popfq\n"
"	lea	128(%rsp), %rsp\n"	/* lea: the flags stay restored */
"	jmp	*%gs:0\n"		/* resume_ip: no ret, no stack write */
"test_tramp_end:\n"
);
extern char test_tramp[], test_tramp_end[];
#define TRAMP_LEN	((uintptr_t)test_tramp_end - (uintptr_t)test_tramp)

/*
 * Spin for @iters loop turns with known values in r8-r15, rbx, rbp, the red
 * zone and xmm0-xmm15; return the number of registers found changed.
 */
unsigned long spin_check(unsigned long iters);
asm(
"	.text\n"
"	.globl	spin_check\n"
"spin_check:\n"
"	push	%rbx\n	push	%rbp\n	push	%r12\n	push	%r13\n	push	%r14\n	push	%r15\n"
"	mov	$0x1111111111111111, %r8\n	mov	$0x2222222222222222, %r9\n"
"	mov	$0x3333333333333333, %r10\n	mov	$0x4444444444444444, %r11\n"
"	mov	$0x5555555555555555, %r12\n	mov	$0x6666666666666666, %r13\n"
"	mov	$0x7777777777777777, %r14\n	mov	$0x1234567812345678, %r15\n"
"	mov	$0x0abcdef00abcdef0, %rbx\n	mov	$0x0fedcba90fedcba9, %rbp\n"
"	movq	%r8, %xmm0\n	movq	%r9, %xmm1\n	movq	%r10, %xmm2\n	movq	%r11, %xmm3\n"
"	movq	%r12, %xmm4\n	movq	%r13, %xmm5\n	movq	%r14, %xmm6\n	movq	%r15, %xmm7\n"
"	movq	%r8, %xmm8\n	movq	%r9, %xmm15\n"
"	mov	%r15, -8(%rsp)\n	mov	%rbx, -120(%rsp)\n"	/* red zone */
"1:	dec	%rdi\n"
"	jnz	1b\n"
"	xor	%eax, %eax\n"
"	mov	$0x1111111111111111, %rcx\n	cmp	%rcx, %r8\n	setne %dl\n	movzbl %dl, %edx\n	add %rdx, %rax\n"
"	mov	$0x2222222222222222, %rcx\n	cmp	%rcx, %r9\n	setne %dl\n	add %rdx, %rax\n"
"	mov	$0x3333333333333333, %rcx\n	cmp	%rcx, %r10\n	setne %dl\n	add %rdx, %rax\n"
"	mov	$0x4444444444444444, %rcx\n	cmp	%rcx, %r11\n	setne %dl\n	add %rdx, %rax\n"
"	mov	$0x5555555555555555, %rcx\n	cmp	%rcx, %r12\n	setne %dl\n	add %rdx, %rax\n"
"	mov	$0x6666666666666666, %rcx\n	cmp	%rcx, %r13\n	setne %dl\n	add %rdx, %rax\n"
"	mov	$0x7777777777777777, %rcx\n	cmp	%rcx, %r14\n	setne %dl\n	add %rdx, %rax\n"
"	mov	$0x1234567812345678, %rcx\n	cmp	%rcx, %r15\n	setne %dl\n	add %rdx, %rax\n"
"	cmp	%rcx, -8(%rsp)\n	setne %dl\n	add %rdx, %rax\n"
"	mov	$0x0abcdef00abcdef0, %rcx\n	cmp	%rcx, %rbx\n	setne %dl\n	add %rdx, %rax\n"
"	cmp	%rcx, -120(%rsp)\n	setne %dl\n	add %rdx, %rax\n"
"	mov	$0x0fedcba90fedcba9, %rcx\n	cmp	%rcx, %rbp\n	setne %dl\n	add %rdx, %rax\n"
"	movq	%xmm0, %rcx\n	cmp	%rcx, %r8\n	setne %dl\n	add %rdx, %rax\n"
"	movq	%xmm3, %rcx\n	cmp	%rcx, %r11\n	setne %dl\n	add %rdx, %rax\n"
"	movq	%xmm7, %rcx\n	cmp	%rcx, %r15\n	setne %dl\n	add %rdx, %rax\n"
"	movq	%xmm8, %rcx\n	cmp	%rcx, %r8\n	setne %dl\n	add %rdx, %rax\n"
"	movq	%xmm15, %rcx\n	cmp	%rcx, %r9\n	setne %dl\n	add %rdx, %rax\n"
"	pop	%r15\n	pop	%r14\n	pop	%r13\n	pop	%r12\n	pop	%rbp\n	pop	%rbx\n"
"	ret\n"
);

static int set_slice(int fd, uint32_t id, uint32_t mode, uint64_t ns,
		     uint32_t signo, void *tramp, uint64_t len)
{
	struct usched_slice s = {
		.size = sizeof(s), .worker = id, .mode = mode, .slice_ns = ns,
		.signo = signo, .trampoline = (uintptr_t)tramp,
		.trampoline_len = len,
	};

	return ut_err(ioctl(fd, USCHED_IOC_SET_SLICE, &s));
}

static volatile unsigned long sig_count;
/* When set, the handler takes the preemption as the library does: a switch. */
static volatile uint32_t *take_seq;

static void on_preempt_signal(int sig)
{
	sig_count++;
	if (take_seq)
		__atomic_fetch_add(take_seq, 1, __ATOMIC_RELAXED);
}

static void spin_ms(uint64_t ms)
{
	uint64_t end = ut_now_ns() + ms * MS;

	while (ut_now_ns() < end)
		;
}

FIXTURE(preempt) {
	int fd;
	struct ut_map m;
	uint32_t id;
};

FIXTURE_SETUP(preempt)
{
	struct sigaction sa = { .sa_handler = on_preempt_signal };

	self->fd = ut_group(2, 64, 0, 0, 0, &self->m);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, ut_register(self->fd, &self->id));
	ASSERT_EQ(0, sigaction(SIGUSR2, &sa, NULL));
	sig_count = 0;
	take_seq = NULL;
}

FIXTURE_TEARDOWN(preempt)
{
	set_slice(self->fd, self->id, USCHED_PREEMPT_OFF, 0, 0, NULL, 0);
	ut_unregister(self->fd, self->id);
	munmap(self->m.base, self->m.size);
	close(self->fd);
}

TEST_F(preempt, set_slice_rejects_bad_arguments)
{
	int fd = self->fd, id = self->id;

	EXPECT_EQ(-EINVAL, set_slice(fd, id, 7, 1 * MS, SIGUSR2, NULL, 0));
	EXPECT_EQ(-EINVAL, set_slice(fd, id, USCHED_PREEMPT_SIGNAL, 49000, SIGUSR2, NULL, 0));
	EXPECT_EQ(-EINVAL, set_slice(fd, id, USCHED_PREEMPT_SIGNAL, 1 * MS, 0, NULL, 0));
	EXPECT_EQ(-EINVAL, set_slice(fd, id, USCHED_PREEMPT_SIGNAL, 1 * MS, SIGKILL, NULL, 0));
	EXPECT_EQ(-EINVAL, set_slice(fd, id, USCHED_PREEMPT_SIGNAL, 1 * MS, SIGSTOP, NULL, 0));
	EXPECT_EQ(-EINVAL, set_slice(fd, id, USCHED_PREEMPT_SIGNAL, 1 * MS, 65, NULL, 0));
	EXPECT_EQ(-EINVAL, set_slice(fd, id, USCHED_PREEMPT_REDIRECT, 1 * MS, 0, NULL, 16));
	EXPECT_EQ(-EINVAL, set_slice(fd, id, USCHED_PREEMPT_REDIRECT, 1 * MS, 0, test_tramp, 0));
	EXPECT_EQ(-EINVAL, set_slice(fd, id, USCHED_PREEMPT_REDIRECT, 1 * MS, 0, test_tramp, 8192));
	EXPECT_EQ(-EINVAL, set_slice(fd, id, USCHED_PREEMPT_REDIRECT, 1 * MS, SIGUSR2, test_tramp, 64));
	EXPECT_EQ(-EINVAL, set_slice(fd, id, USCHED_PREEMPT_REDIRECT, 1 * MS, 0,
				     (void *)0xfffffffffffff000ull, 64));
	EXPECT_EQ(-EINVAL, set_slice(fd, id, USCHED_PREEMPT_OFF, 1 * MS, 0, NULL, 0));
	EXPECT_EQ(-ESRCH, set_slice(fd, id ? 0 : 1, USCHED_PREEMPT_OFF, 0, 0, NULL, 0));
	EXPECT_EQ(0, set_slice(fd, id, USCHED_PREEMPT_SIGNAL, 50000, SIGUSR2, NULL, 0));
	EXPECT_EQ(0, set_slice(fd, id, USCHED_PREEMPT_OFF, 0, 0, NULL, 0));
}

TEST_F(preempt, signal_delivered_after_slice)
{
	take_seq = &self->m.slots[self->id].switch_seq;
	ASSERT_EQ(0, set_slice(self->fd, self->id, USCHED_PREEMPT_SIGNAL,
			       2 * MS, SIGUSR2, NULL, 0));
	spin_ms(300);
	ASSERT_EQ(0, set_slice(self->fd, self->id, USCHED_PREEMPT_OFF, 0, 0, NULL, 0));
	EXPECT_LE(5, sig_count);
	/* Not sent again while one is pending: nothing coalesces. */
	EXPECT_GE(self->m.slots[self->id].preempts, sig_count);
	EXPECT_LE(self->m.slots[self->id].preempts, sig_count + 1);
	EXPECT_GE(300 / 2 + 20, sig_count);	/* at most one per slice */
}

/* A preemption the library declines (no switch) comes again a grace later. */
TEST_F(preempt, declined_preemption_retried_after_grace)
{
	ASSERT_EQ(0, set_slice(self->fd, self->id, USCHED_PREEMPT_SIGNAL,
			       8 * MS, SIGUSR2, NULL, 0));
	spin_ms(400);
	ASSERT_EQ(0, set_slice(self->fd, self->id, USCHED_PREEMPT_OFF, 0, 0, NULL, 0));
	/* Grace = min(slice / 4, 250 us): far more than one per 8 ms slice. */
	EXPECT_LE(400 / 8 + 20, sig_count);
	EXPECT_GE(400 * 4 + 100, sig_count);
}

TEST_F(preempt, no_preemption_while_tasks_switch)
{
	uint64_t end;

	/* A slice far above the switch period, for TCG's stalls. */
	ASSERT_EQ(0, set_slice(self->fd, self->id, USCHED_PREEMPT_SIGNAL,
			       20 * MS, SIGUSR2, NULL, 0));
	end = ut_now_ns() + 300 * MS;
	while (ut_now_ns() < end) {
		/* What the library does at every task switch. */
		__atomic_add_fetch(&self->m.slots[self->id].switch_seq, 1,
				   __ATOMIC_RELEASE);
		spin_ms(1);
	}
	ASSERT_EQ(0, set_slice(self->fd, self->id, USCHED_PREEMPT_OFF, 0, 0, NULL, 0));
	EXPECT_EQ(0, sig_count);
}

TEST_F(preempt, deferred_while_nopreempt)
{
	struct usched_worker_slot *slot = &self->m.slots[self->id];

	__atomic_store_n(&slot->nopreempt, 1, __ATOMIC_RELAXED);
	ASSERT_EQ(0, set_slice(self->fd, self->id, USCHED_PREEMPT_SIGNAL,
			       2 * MS, SIGUSR2, NULL, 0));
	spin_ms(200);
	EXPECT_EQ(0, sig_count);
	EXPECT_LE(1, slot->deferrals);
	/* Taken soon after the no-preempt region ends. */
	__atomic_store_n(&slot->nopreempt, 0, __ATOMIC_RELEASE);
	spin_ms(100);
	ASSERT_EQ(0, set_slice(self->fd, self->id, USCHED_PREEMPT_OFF, 0, 0, NULL, 0));
	EXPECT_LE(1, sig_count);
}

TEST_F(preempt, no_preemption_while_parked)
{
	/* A slice long enough that none ends before the park starts. */
	ASSERT_EQ(0, set_slice(self->fd, self->id, USCHED_PREEMPT_SIGNAL,
			       20 * MS, SIGUSR2, NULL, 0));
	EXPECT_EQ(-ETIMEDOUT, ut_park(self->fd, self->id, ut_now_ns() + 100 * MS));
	ASSERT_EQ(0, set_slice(self->fd, self->id, USCHED_PREEMPT_OFF, 0, 0, NULL, 0));
	EXPECT_EQ(0, sig_count);
}

static int set_gs(void *base)
{
	return ut_err(syscall(SYS_arch_prctl, ARCH_SET_GS, base));
}

TEST_F(preempt, redirect_resumes_exact_state)
{
	unsigned long bad = 0, before = __atomic_load_n(&tramp_count, __ATOMIC_RELAXED);
	uint64_t end = ut_now_ns() + 1000 * MS;

	tramp_spin = 0;
	ASSERT_EQ(0, set_gs(&self->m.slots[self->id]));
	ASSERT_EQ(0, set_slice(self->fd, self->id, USCHED_PREEMPT_REDIRECT, 1 * MS, 0,
			       test_tramp, TRAMP_LEN));
	while (ut_now_ns() < end && tramp_count - before < 50)
		bad += spin_check(2000000);
	ASSERT_EQ(0, set_slice(self->fd, self->id, USCHED_PREEMPT_OFF, 0, 0, NULL, 0));
	EXPECT_EQ(0, bad);
	EXPECT_LE(10, tramp_count - before);
	EXPECT_EQ(tramp_count - before, self->m.slots[self->id].preempts);
}

/*
 * A redirect sets nopreempt until the trampoline has consumed resume_ip: a
 * trampoline that never clears it gets no second redirect (only deferrals).
 */
TEST_F(preempt, redirect_pending_until_trampoline_clears_nopreempt)
{
	unsigned long before = __atomic_load_n(&tramp_count, __ATOMIC_RELAXED);
	struct usched_worker_slot *slot = &self->m.slots[self->id];

	tramp_spin = 0;
	tramp_keep_np = 1;
	ASSERT_EQ(0, set_gs(slot));
	ASSERT_EQ(0, set_slice(self->fd, self->id, USCHED_PREEMPT_REDIRECT, 1 * MS, 0,
			       test_tramp, TRAMP_LEN));
	spin_ms(200);
	ASSERT_EQ(0, set_slice(self->fd, self->id, USCHED_PREEMPT_OFF, 0, 0, NULL, 0));
	tramp_keep_np = 0;
	EXPECT_EQ(1, tramp_count - before);
	EXPECT_EQ(1, slot->preempts);
	EXPECT_EQ(1, slot->nopreempt);
	EXPECT_LE(10, slot->deferrals);
	slot->nopreempt = 0;
}

/* USCHED_IOC_PREEMPT: now, from another thread, long before the slice. */
struct kicker {
	int fd;
	uint32_t id;
	int rounds, ret;
	volatile int stop;
};

static int preempt_now(int fd, uint32_t id)
{
	struct usched_target t = { .size = sizeof(t), .worker = id };

	return ut_err(ioctl(fd, USCHED_IOC_PREEMPT, &t));
}

static void *kicker_fn(void *p)
{
	struct kicker *k = p;
	int i;

	for (i = 0; i < k->rounds && !k->stop; i++) {
		usleep(20000);
		k->ret |= preempt_now(k->fd, k->id);
	}
	return NULL;
}

TEST_F(preempt, preempt_now_redirects_a_running_worker)
{
	unsigned long bad = 0, before = __atomic_load_n(&tramp_count, __ATOMIC_RELAXED);
	struct kicker k = { .fd = self->fd, .id = self->id, .rounds = 10 };
	uint64_t end = ut_now_ns() + 3000 * MS;
	pthread_t t;

	tramp_spin = 0;
	ASSERT_EQ(0, set_gs(&self->m.slots[self->id]));
	/* Off: nothing to deliver. */
	EXPECT_EQ(-EINVAL, preempt_now(self->fd, self->id));
	EXPECT_EQ(-EINVAL, preempt_now(self->fd, 2));
	EXPECT_EQ(-ESRCH, preempt_now(self->fd, self->id ? 0 : 1));
	/* A 10 s slice: every delivery here comes from the ioctl. */
	ASSERT_EQ(0, set_slice(self->fd, self->id, USCHED_PREEMPT_REDIRECT,
			       10000 * MS, 0, test_tramp, TRAMP_LEN));
	ASSERT_EQ(0, pthread_create(&t, NULL, kicker_fn, &k));
	while (ut_now_ns() < end && tramp_count - before < 5)
		bad += spin_check(200000);
	k.stop = 1;
	pthread_join(t, NULL);
	ASSERT_EQ(0, set_slice(self->fd, self->id, USCHED_PREEMPT_OFF, 0, 0, NULL, 0));
	EXPECT_EQ(0, k.ret);
	EXPECT_EQ(0, bad);
	EXPECT_LE(5, tramp_count - before);
}

/* A parked worker is not woken by it, and sees no EINTR. */
TEST_F(preempt, preempt_now_leaves_a_sleeper_asleep)
{
	ASSERT_EQ(0, set_slice(self->fd, self->id, USCHED_PREEMPT_SIGNAL,
			       10000 * MS, SIGUSR2, NULL, 0));
	struct kicker k = { .fd = self->fd, .id = self->id, .rounds = 3 };
	pthread_t t;

	ASSERT_EQ(0, pthread_create(&t, NULL, kicker_fn, &k));
	EXPECT_EQ(-ETIMEDOUT, ut_park(self->fd, self->id, ut_now_ns() + 200 * MS));
	pthread_join(t, NULL);
	ASSERT_EQ(0, set_slice(self->fd, self->id, USCHED_PREEMPT_OFF, 0, 0, NULL, 0));
	EXPECT_EQ(0, k.ret);
}

TEST_F(preempt, redirect_never_nested_inside_trampoline)
{
	unsigned long bad = 0, before = __atomic_load_n(&tramp_count, __ATOMIC_RELAXED);
	struct usched_worker_slot *slot = &self->m.slots[self->id];
	uint64_t end = ut_now_ns() + 1000 * MS;

	/* Each trampoline visit spins inside itself across several slices. */
	tramp_spin = 20000000;
	ASSERT_EQ(0, set_gs(slot));
	ASSERT_EQ(0, set_slice(self->fd, self->id, USCHED_PREEMPT_REDIRECT, 1 * MS, 0,
			       test_tramp, TRAMP_LEN));
	while (ut_now_ns() < end && tramp_count - before < 5)
		bad += spin_check(2000000);
	ASSERT_EQ(0, set_slice(self->fd, self->id, USCHED_PREEMPT_OFF, 0, 0, NULL, 0));
	tramp_spin = 0;
	EXPECT_EQ(0, bad);
	EXPECT_LE(1, tramp_count - before);
	EXPECT_LE(1, slot->deferrals);	/* attempts inside were deferred */
	EXPECT_EQ(tramp_count - before, slot->preempts);
}

TEST_HARNESS_MAIN
