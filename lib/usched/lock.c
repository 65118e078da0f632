// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * lock.c - futex helpers and the slow path of the runtime lock (lock.h).
 */
#include <limits.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

void __usched_futex_wake(_Atomic uint32_t *addr, int n)
{
	syscall(SYS_futex, addr, FUTEX_WAKE_PRIVATE, n, NULL, NULL, 0);
}

/* 0 when woken (or the value changed), -ETIMEDOUT, -EINTR. */
int __usched_futex_wait(_Atomic uint32_t *addr, uint32_t val, uint64_t deadline)
{
	struct timespec ts, *tp = NULL;
	long r;

	if (deadline != USCHED_NEVER) {
		ts.tv_sec = deadline / 1000000000ull;
		ts.tv_nsec = deadline % 1000000000ull;
		tp = &ts;
	}
	/* FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC deadline. */
	r = syscall(SYS_futex, addr, FUTEX_WAIT_BITSET_PRIVATE, val, tp, NULL,
		    FUTEX_BITSET_MATCH_ANY);
	if (r == 0 || errno == EAGAIN)
		return 0;
	return -errno;
}

void __usched_lock_slow(usched_lock_t *l)
{
	uint32_t c;
	int i;

	/* Short spin: runtime sections are a few hundred nanoseconds. */
	for (i = 0; i < 100; i++) {
		c = atomic_load_explicit(l, memory_order_relaxed);
		if (c == 0 && atomic_compare_exchange_weak_explicit(l, &c, 1,
				memory_order_acquire, memory_order_relaxed))
			return;
		cpu_relax();
	}
	/* Mark contended; sleep until the holder's unlock wakes us. */
	while (atomic_exchange_explicit(l, 2, memory_order_acquire) != 0)
		__usched_futex_wait(l, 2, USCHED_NEVER);
}
