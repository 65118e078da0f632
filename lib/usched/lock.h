/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * lock.h - the runtime's lock: a word that is 0 (free), 1 (locked) or 2
 * (locked, maybe with sleepers), taken with a compare-and-swap, spun on
 * briefly, then slept on with a futex (Drepper's "Futexes are tricky",
 * mutex 3).  Runtime code holds it only for short sections and never
 * switches tasks while holding it (the park path releases it after the
 * switch, on the worker's own stack).
 */
#ifndef _USCHED_LOCK_H
#define _USCHED_LOCK_H

#include <stdatomic.h>
#include <stdint.h>

typedef _Atomic uint32_t usched_lock_t;

#define USCHED_LOCK_INIT	0

void __usched_lock_slow(usched_lock_t *l) __attribute__((visibility("hidden")));
void __usched_futex_wake(_Atomic uint32_t *addr, int n) __attribute__((visibility("hidden")));
/* Sleep while *addr == val, until @deadline (CLOCK_MONOTONIC ns, or ~0). */
int __usched_futex_wait(_Atomic uint32_t *addr, uint32_t val,
			uint64_t deadline) __attribute__((visibility("hidden")));

static inline void usched_lock(usched_lock_t *l)
{
	uint32_t z = 0;

	if (__builtin_expect(atomic_compare_exchange_strong_explicit(l, &z, 1,
			memory_order_acquire, memory_order_relaxed), 1))
		return;
	__usched_lock_slow(l);
}

static inline int usched_trylock(usched_lock_t *l)
{
	uint32_t z = 0;

	return atomic_compare_exchange_strong_explicit(l, &z, 1,
			memory_order_acquire, memory_order_relaxed);
}

static inline void usched_unlock(usched_lock_t *l)
{
	/* Release: the section's writes before the lock is seen free. */
	if (atomic_exchange_explicit(l, 0, memory_order_release) == 2)
		__usched_futex_wake(l, 1);
}

/* A lock word inside a public struct (declared there as uint32_t). */
#define USCHED_LOCKP(p)		((usched_lock_t *)(void *)(p))

#endif /* _USCHED_LOCK_H */
