/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * preempt_x86_64_sysv_elf_gas.S - the preemption trampoline for x86-64,
 * System V ABI, ELF, GNU as.
 *
 * Entered asynchronously: by the module's register redirect (it sets the
 * user IP to __usched_preempt_tramp just before the thread returns to user
 * mode, with the interrupted IP in resume_ip, at %gs:0: each worker
 * thread's %gs base is its per-worker page, see preempt.c; the module also
 * sets the nopreempt word at %gs:8 until the trampoline has copied
 * resume_ip, so no other preemption can overwrite it first), or by the
 * SIGURG handler, which rewrites the interrupted context's IP to
 * __usched_preempt_tramp_sig and leaves the interrupted IP in the worker
 * (see there).  Every register still holds the interrupted code's value.
 *
 * Frame built on the task's stack (grows down from the interrupted rsp):
 *
 *   interrupted rsp - 128    red zone of the interrupted leaf function,
 *                            never touched
 *   then                     rflags, rax, rcx, rdx, rsi, rdi, r8-r11,
 *                            rbx, rbp (14 words)
 *   then                     resume IP (copied from %gs:0)  <- %rbp
 *   then, 64-byte aligned    XSAVE area (__usched_xsave_size bytes, every
 *                            enabled component), or FXSAVE (512 bytes)
 *
 * The C part, __usched_preempt_entry(ip), declines (returns at once) when
 * the IP is not in code that is safe to switch away from, else switches to
 * the scheduler; the task may resume later on another worker.  Then every
 * register is restored, the resume IP is put in the *current* worker's
 * %gs:0 and reached with `jmp *%gs:0`: no `ret`, so user shadow stacks stay
 * balanced, and nothing is left on the stack.  The module never redirects a
 * thread whose IP is inside [__usched_preempt_tramp, _end), and the signal
 * handler declines there too: %gs:0 cannot be overwritten between the store
 * and the jump.
 */
	.text

	.globl	__usched_preempt_tramp
	.hidden	__usched_preempt_tramp
	.globl	__usched_preempt_tramp_sig
	.hidden	__usched_preempt_tramp_sig
	.globl	__usched_preempt_tramp_end
	.hidden	__usched_preempt_tramp_end
	.type	__usched_preempt_tramp, @function
	.p2align 6
__usched_preempt_tramp:
	leaq	-128(%rsp), %rsp	/* skip the red zone (lea keeps rflags) */
	pushfq
	pushq	%rax
	pushq	%rcx
	pushq	%rdx
	pushq	%rsi
	pushq	%rdi
	pushq	%r8
	pushq	%r9
	pushq	%r10
	pushq	%r11
	pushq	%rbx
	pushq	%rbp
	movq	%gs:0, %rax		/* the module's redirect left it here */
	movl	$0, %gs:8		/* nopreempt: consumed, redirects may come */
	jmp	.Lsaved

/*
 * The signal path's entry.  The handler cannot use %gs:0: between its
 * return and this entry (its epilogue, libc's restorer, rt_sigreturn) the
 * module may redirect the thread and overwrite %gs:0.  It leaves the
 * resume IP in the first word of the worker (struct usched_worker), which
 * nothing else writes, and which no other preemption can reach before it
 * is read here: SIGURG stays blocked until rt_sigreturn lands here.
 */
__usched_preempt_tramp_sig:
	leaq	-128(%rsp), %rsp
	pushfq
	pushq	%rax
	pushq	%rcx
	pushq	%rdx
	pushq	%rsi
	pushq	%rdi
	pushq	%r8
	pushq	%r9
	pushq	%r10
	pushq	%r11
	pushq	%rbx
	pushq	%rbp
	movq	__usched_worker@gottpoff(%rip), %rax
	movq	%fs:(%rax), %rax	/* this thread's struct usched_worker */
	movq	(%rax), %rax		/* its sig_resume_ip */
.Lsaved:
	pushq	%rax			/* resume IP, now owned by this frame */
	movq	%rsp, %rbp		/* the frame, for the way back */
	andq	$-64, %rsp
	movl	__usched_xsave_size(%rip), %ecx
	testl	%ecx, %ecx
	jz	1f
	subq	%rcx, %rsp
	xorl	%eax, %eax		/* XSAVE wants a zeroed header */
	movq	%rax, 512(%rsp)
	movq	%rax, 520(%rsp)
	movq	%rax, 528(%rsp)
	movq	%rax, 536(%rsp)
	movq	%rax, 544(%rsp)
	movq	%rax, 552(%rsp)
	movq	%rax, 560(%rsp)
	movq	%rax, 568(%rsp)
	movl	$-1, %eax		/* every enabled component */
	movl	$-1, %edx
	xsave64	(%rsp)
	jmp	2f
1:	subq	$512, %rsp
	fxsave64 (%rsp)
	/*
	 * Saving does not clear: the interrupted code's x87 stack may still
	 * hold values, and C code (and the tasks it switches to) assumes the
	 * ABI's state at a call: an empty x87 stack, the default control
	 * words.  xrstor/fxrstor below bring the interrupted state back.
	 */
2:	fninit
	ldmxcsr	.Lmxcsr_default(%rip)
	cmpb	$0, __usched_have_avx(%rip)
	je	5f
	vzeroupper			/* no AVX-SSE transition penalties */
5:	movq	(%rbp), %rdi		/* __usched_preempt_entry(resume IP) */
	cld
	call	__usched_preempt_entry
	movl	__usched_xsave_size(%rip), %ecx
	testl	%ecx, %ecx
	jz	3f
	movl	$-1, %eax
	movl	$-1, %edx
	xrstor64 (%rsp)
	jmp	4f
3:	fxrstor64 (%rsp)
4:	movq	%rbp, %rsp
	popq	%rax
	movq	%rax, %gs:0		/* this worker's slot: maybe not the first */
	popq	%rbp
	popq	%rbx
	popq	%r11
	popq	%r10
	popq	%r9
	popq	%r8
	popq	%rdi
	popq	%rsi
	popq	%rdx
	popq	%rcx
	popq	%rax
	popfq
	leaq	128(%rsp), %rsp
	jmp	*%gs:0
__usched_preempt_tramp_end:
	.size	__usched_preempt_tramp, .-__usched_preempt_tramp

	.section .rodata
	.p2align 2
.Lmxcsr_default:
	.long	0x1f80			/* SysV ABI: all exceptions masked */

	.section .note.GNU-stack, "", @progbits
