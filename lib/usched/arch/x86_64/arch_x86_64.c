// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * arch_x86_64.c - the C side of the x86-64 port: fresh task frames, the
 * size of the vector state the preemption trampoline saves, and %gs.
 */
#include <asm/prctl.h>
#include <cpuid.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../../internal.h"

void __usched_task_entry(void) __hidden;

/* 0 when the CPU has no XSAVE: the trampoline then uses FXSAVE. */
uint32_t __usched_xsave_size __hidden;
/* AVX enabled by the OS: the trampoline may use vzeroupper. */
uint8_t __usched_have_avx __hidden;

static uint64_t xgetbv0(void)
{
	uint32_t lo, hi;

	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return (uint64_t)hi << 32 | lo;
}

void __usched_arch_init(void)
{
	unsigned int a, b, c, d;

	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_OSXSAVE))
		return;
	if ((c & bit_AVX) && (xgetbv0() & 6) == 6)
		__usched_have_avx = 1;
	/* CPUID.(EAX=0DH, ECX=0):EBX = size for the components XCR0 enables. */
	__cpuid_count(0xd, 0, a, b, c, d);
	if (b >= 576)
		__usched_xsave_size = (b + 63) & ~63u;
}

/*
 * A new context on [lo, hi): the frame __usched_ctx_switch() pops, with
 * __usched_task_entry as its return address and the default MXCSR and x87
 * control word (SysV ABI: 0x1f80, 0x037f).  After the `ret` the stack
 * pointer is 16-byte aligned, as __usched_task_entry expects.
 */
void *__usched_ctx_init(void *lo, void *hi)
{
	uintptr_t top = ((uintptr_t)hi & ~(uintptr_t)15) - 16;
	uint64_t *f = (uint64_t *)(top - 64);

	(void)lo;
	f[0] = 0x1f80 | (0x037full << 32);	/* MXCSR, x87 CW */
	f[1] = f[2] = f[3] = f[4] = f[5] = f[6] = 0;	/* r15..rbp */
	f[7] = (uintptr_t)__usched_task_entry;
	return f;
}

int __usched_arch_set_gs(void *base)
{
	if (syscall(SYS_arch_prctl, ARCH_SET_GS, (unsigned long)base))
		return -errno;
	return 0;
}

/* The trampolines address these fields directly. */
_Static_assert(offsetof(struct usched_worker, sig_resume_ip) == 0,
	       "preempt_x86_64_sysv_elf_gas.S reads sig_resume_ip at 0");
_Static_assert(offsetof(struct usched_fake_kslot, resume_ip) == 0 &&
	       offsetof(struct usched_worker_slot, resume_ip) == 0,
	       "the trampoline reads resume_ip at %gs:0");
_Static_assert(offsetof(struct usched_fake_kslot, nopreempt) == 8 &&
	       offsetof(struct usched_worker_slot, nopreempt) == 8,
	       "__usched_np_inc() and the trampoline use %gs:8");
