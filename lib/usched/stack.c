// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * stack.c - task stacks: allocated in chunks, pooled, guarded.
 *
 * A million tasks must fit in the default vm.max_map_count (65530 maps).
 * So stacks are cut from chunks of STACKS_PER_CHUNK (one mapping each, with
 * MAP_NORESERVE: only the pages a task touches cost memory), and a stack
 * that ends is kept in a pool for the next task instead of being unmapped.
 *
 * Overflow: below each stack sits a guard page.  On kernels with
 * MADV_GUARD_INSTALL (6.13+) a guard does not split the mapping; elsewhere
 * it is an mprotect(PROT_NONE) page, which splits it in two, so those are
 * only used while the process stays well under max_map_count (a quarter of
 * the remaining maps).  Every stack also carries a canary word at its
 * lowest address, checked each time its task switches out: an overflow
 * that a guard did not catch still stops the program, with a message that
 * names the task.  A guard-page fault is reported the same way by the
 * SIGSEGV handler (preempt.c), when the program has none of its own.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"
#include "san.h"

#ifdef USCHED_ASAN
#include <sanitizer/asan_interface.h>
#endif

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL	102
#endif

#define STACKS_PER_CHUNK	32
#define STACK_CANARY		0x7573636865645f21ull	/* "usched_!" */
#define POOL_KEEP_HOT		4096	/* pooled stacks kept resident */

static usched_lock_t pool_lock;
static struct usched_stack *pool;	/* default-size stacks, under pool_lock */
static size_t pool_len;			/* under pool_lock; unlocked: a hint */
static size_t pool_size;		/* the default size; under pool_lock */
static long guard_budget = -1;		/* mprotect guards left; under pool_lock */
static int guard_madv = -1;		/* MADV_GUARD_INSTALL works: 1, 0, -1 ? */
static long page_size;

/* Every chunk ever mapped, for usched_stop(): under pool_lock. */
struct chunk {
	struct chunk *next;
	void *base;
	size_t len;
	struct usched_stack stacks[];
};
static struct chunk *chunks;
/* Stacks of other sizes, free, under pool_lock (rare: searched linearly). */
static struct usched_stack *odd_pool;

static long map_count_room(void)
{
	long max = 65530, used = 0;
	char buf[4096];
	FILE *f;
	size_t n;

	f = fopen("/proc/sys/vm/max_map_count", "r");
	if (f) {
		if (fscanf(f, "%ld", &max) != 1)
			max = 65530;
		fclose(f);
	}
	f = fopen("/proc/self/maps", "r");
	if (f) {
		while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
			for (size_t i = 0; i < n; i++)
				used += buf[i] == '\n';
		fclose(f);
	}
	return max > used ? (max - used) / 4 : 0;
}

static void guard(struct usched_stack *s, void *page)
{
	s->guard = false;
	if (guard_madv != 0) {
		if (!madvise(page, page_size, MADV_GUARD_INSTALL)) {
			guard_madv = 1;
			s->guard = true;
			return;
		}
		guard_madv = 0;
	}
	if (guard_budget < 0)
		guard_budget = map_count_room() / 2;
	if (guard_budget > 0 && !mprotect(page, page_size, PROT_NONE)) {
		guard_budget--;
		s->guard = true;
	}
}

/* Map a chunk of @n stacks of @size (page multiple); under pool_lock. */
static struct chunk *chunk_new(size_t size, int n)
{
	size_t per = size + page_size, len = per * n;
	struct chunk *c = malloc(sizeof(*c) + n * sizeof(c->stacks[0]));
	char *base;
	int i;

	if (!c)
		return NULL;
	base = mmap(NULL, len, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (base == MAP_FAILED) {
		free(c);
		return NULL;
	}
	c->base = base;
	c->len = len;
	for (i = 0; i < n; i++) {
		struct usched_stack *s = &c->stacks[i];
		char *g = base + (size_t)i * per;

		s->lo = g + page_size;
		s->hi = g + per;
		s->size = size;
		guard(s, g);
	}
	c->next = chunks;
	chunks = c;
	return c;
}

/*
 * From usched_start(), before any worker exists: not lazily (two workers
 * would race), and not in a constructor (the program's own constructors
 * may start the runtime before this library's run).
 */
void __usched_stack_init(void)
{
	page_size = sysconf(_SC_PAGESIZE);
}

static size_t round_size(size_t size)
{
	if (!size)
		size = rt.cfg.stack_size ? rt.cfg.stack_size : USCHED_DEF_STACK;
	return (size + page_size - 1) & ~(size_t)(page_size - 1);
}

#define STACK_CACHE_MAX	64	/* per worker: default-size stacks, hot */

struct usched_stack *__usched_stack_get(size_t size)
{
	struct usched_worker *w = this_worker();
	struct usched_stack *s = NULL;
	struct chunk *c;
	int i;

	size = round_size(size);
	/* The worker's own cache first: no lock, and still warm. */
	if (w && w->stack_cache && size == w->stack_cache->size) {
		s = w->stack_cache;
		w->stack_cache = s->next;
		w->nstack_cache--;
		goto got;
	}
	usched_lock(&pool_lock);
	if (!pool_size)
		__atomic_store_n(&pool_size, round_size(0), __ATOMIC_RELAXED);
	if (size == pool_size && pool) {
		s = pool;
		pool = s->next;
		__atomic_store_n(&pool_len, pool_len - 1, __ATOMIC_RELAXED);
	} else if (size != pool_size) {
		struct usched_stack **pp;

		for (pp = &odd_pool; *pp; pp = &(*pp)->next)
			if ((*pp)->size == size) {
				s = *pp;
				*pp = s->next;
				break;
			}
		if (!s && (c = chunk_new(size, 1)))
			s = &c->stacks[0];
	} else if ((c = chunk_new(size, STACKS_PER_CHUNK))) {
		s = &c->stacks[0];
		/* The rest of the chunk goes to the pool. */
		for (i = 1; i < STACKS_PER_CHUNK; i++) {
			struct usched_stack *o = &c->stacks[i];

			o->next = pool;
			pool = o;
			__atomic_store_n(&pool_len, pool_len + 1, __ATOMIC_RELAXED);
		}
	}
	usched_unlock(&pool_lock);
got:
#ifdef USCHED_ASAN
	/* A reused stack may hold the poison of the frames it last ran. */
	if (s)
		__asan_unpoison_memory_region(s->lo, s->size);
#endif
	/* Only unguarded stacks carry it (writing it costs a page each). */
	if (s && !s->guard)
		*(volatile uint64_t *)s->lo = STACK_CANARY;
	return s;
}

/*
 * Give the pages back (the mapping stays) before the stack is published:
 * once in the pool another worker may start a task on it at once.
 */
void __usched_stack_put(struct usched_stack *s)
{
	struct usched_worker *w = this_worker();
	/* pool_size is set before any stack exists and never changes then. */
	bool odd = s->size != __atomic_load_n(&pool_size, __ATOMIC_RELAXED);

	/* Called on the worker, off the stack: keep a few warm ones here. */
	if (!odd && w && w->nstack_cache < STACK_CACHE_MAX) {
		s->next = w->stack_cache;
		w->stack_cache = s;
		w->nstack_cache++;
		return;
	}

	/* Odd sizes always; default ones beyond the pool's hot set. */
	if (odd || __atomic_load_n(&pool_len, __ATOMIC_RELAXED) >= POOL_KEEP_HOT)
		madvise(s->lo, s->size - page_size, MADV_DONTNEED);
	usched_lock(&pool_lock);
	if (odd) {
		s->next = odd_pool;
		odd_pool = s;
	} else {
		s->next = pool;
		pool = s;
		__atomic_store_n(&pool_len, pool_len + 1, __ATOMIC_RELAXED);
	}
	usched_unlock(&pool_lock);
}

void __usched_stack_check(struct usched_task *t)
{
	/* A guard page catches an overflow at once; the canary is for the rest. */
	if (!t->stack || t->stack->guard)
		return;
	if (*(volatile uint64_t *)t->stack->lo != STACK_CANARY)
		__usched_die("stack overflow in task %llu (%s): its %zu-byte stack "
			     "is too small (raise usched_attr.stack_size or "
			     "usched_config.stack_size)",
			     (unsigned long long)t->id,
			     t->name[0] ? t->name : "unnamed", t->stack->size);
}

/* Is @addr in the guard page of @t's stack? (the SIGSEGV handler) */
bool __usched_stack_guard_hit(struct usched_task *t, uintptr_t addr)
{
	uintptr_t lo;

	if (!t || !t->stack || !t->stack->guard)
		return false;
	lo = (uintptr_t)t->stack->lo;
	return addr < lo && addr >= lo - (uintptr_t)page_size;
}

void __usched_stack_pool_drain(void)
{
	struct chunk *c, *n;

	usched_lock(&pool_lock);
	for (c = chunks; c; c = n) {
		n = c->next;
		munmap(c->base, c->len);
		free(c);
	}
	chunks = NULL;
	odd_pool = NULL;
	pool = NULL;
	pool_len = 0;
	pool_size = 0;
	guard_budget = -1;
	usched_unlock(&pool_lock);
}
