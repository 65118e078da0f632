/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * switch_x86_64_sysv_elf_gas.S - task context switch for x86-64, System V
 * ABI, ELF, GNU as.
 *
 * A switched-out context is its stack pointer; the stack holds (from the
 * saved sp upwards):
 *
 *   +------+------------------------------------------------+
 *   |  +0  | MXCSR (4 bytes), x87 control word (2), pad (2) |
 *   |  +8  | r15                                            |
 *   | +16  | r14                                            |
 *   | +24  | r13                                            |
 *   | +32  | r12                                            |
 *   | +40  | rbx                                            |
 *   | +48  | rbp                                            |
 *   | +56  | return address                                 |
 *   +------+------------------------------------------------+
 *
 * Only the callee-saved state is kept: a switch is a function call, so the
 * caller already assumes every other register is clobbered.  MXCSR and the
 * x87 control word are callee-saved too (SysV ABI 3.2.1: "control bits").
 * The return uses `ret`: a context is only ever resumed where it called
 * __usched_ctx_switch (or at __usched_task_entry for a new one).
 */
	.text

/* void __usched_ctx_switch(void **from_sp, void *to_sp) */
	.globl	__usched_ctx_switch
	.hidden	__usched_ctx_switch
	.type	__usched_ctx_switch, @function
	.p2align 4
__usched_ctx_switch:
	.cfi_startproc
	pushq	%rbp			/* callee-saved registers ... */
	.cfi_adjust_cfa_offset 8
	pushq	%rbx
	.cfi_adjust_cfa_offset 8
	pushq	%r12
	.cfi_adjust_cfa_offset 8
	pushq	%r13
	.cfi_adjust_cfa_offset 8
	pushq	%r14
	.cfi_adjust_cfa_offset 8
	pushq	%r15
	.cfi_adjust_cfa_offset 8
	subq	$8, %rsp		/* ... and the FP control words */
	.cfi_adjust_cfa_offset 8
	stmxcsr	(%rsp)
	fnstcw	4(%rsp)
	movq	%rsp, (%rdi)		/* *from_sp = this context */
	movq	%rsi, %rsp		/* now on the other stack */
	ldmxcsr	(%rsp)
	fldcw	4(%rsp)
	addq	$8, %rsp
	.cfi_adjust_cfa_offset -8
	popq	%r15
	.cfi_adjust_cfa_offset -8
	popq	%r14
	.cfi_adjust_cfa_offset -8
	popq	%r13
	.cfi_adjust_cfa_offset -8
	popq	%r12
	.cfi_adjust_cfa_offset -8
	popq	%rbx
	.cfi_adjust_cfa_offset -8
	popq	%rbp
	.cfi_adjust_cfa_offset -8
	ret				/* into the other context */
	.cfi_endproc
	.size	__usched_ctx_switch, .-__usched_ctx_switch

/*
 * First instruction of every task: __usched_ctx_init() leaves this as the
 * return address of a fresh frame, with the stack 16-byte aligned here, so
 * the call below enters C with the alignment the ABI wants.
 */
	.globl	__usched_task_entry
	.hidden	__usched_task_entry
	.type	__usched_task_entry, @function
	.p2align 4
__usched_task_entry:
	.cfi_startproc
	.cfi_undefined rip		/* the outermost frame: unwinders stop */
	xorl	%ebp, %ebp
	call	__usched_task_start	/* never returns */
	ud2
	.cfi_endproc
	.size	__usched_task_entry, .-__usched_task_entry

	.section .note.GNU-stack, "", @progbits
