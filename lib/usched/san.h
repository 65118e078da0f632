/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * san.h - tell AddressSanitizer and ThreadSanitizer about stack switches.
 *
 * ASan keeps "fake stacks" per context and must know the bounds of the
 * stack it runs on; TSan keeps a shadow call stack and clock per fiber.
 * Every switch goes through __usched_san_switch(); without a sanitizer it
 * is the bare __usched_ctx_switch().
 */
#ifndef _USCHED_SAN_H
#define _USCHED_SAN_H

#include "internal.h"

#if defined(__SANITIZE_ADDRESS__)
#define USCHED_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define USCHED_ASAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define USCHED_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define USCHED_TSAN 1
#endif
#endif

#ifdef USCHED_ASAN
#include <sanitizer/common_interface_defs.h>
#endif
#ifdef USCHED_TSAN
#include <sanitizer/tsan_interface.h>
#endif

/*
 * Switch from the context saved in *@from to @to.  @to_task: the task
 * switched to (NULL: the worker's scheduler); @from_task: the task switched
 * from (NULL: the scheduler), which never comes back once it exited.
 */
static inline void __usched_san_switch(void **from, void *to,
				       struct usched_task *to_task,
				       struct usched_task *from_task)
{
#ifdef USCHED_ASAN
	struct usched_worker *w = this_worker();
	void *fake = NULL;
	bool dying = from_task && from_task->yield_kind == YIELD_EXIT;

	if (to_task)
		__sanitizer_start_switch_fiber(dying ? NULL : &fake,
					       to_task->stack->lo,
					       to_task->stack->size);
	else
		__sanitizer_start_switch_fiber(dying ? NULL : &fake,
					       w->sched_stack_lo,
					       w->sched_stack_size);
#endif
#ifdef USCHED_TSAN
	__tsan_switch_to_fiber(to_task ? to_task->san_fiber :
			       this_worker()->sched_fiber, 0);
#endif
	(void)to_task;
	(void)from_task;
	__usched_ctx_switch(from, to);
#ifdef USCHED_ASAN
	__sanitizer_finish_switch_fiber(fake, NULL, NULL);
#endif
}

/* First thing on a new task's stack. */
static inline void __usched_san_started(void *unused)
{
	(void)unused;
#ifdef USCHED_ASAN
	__sanitizer_finish_switch_fiber(NULL, NULL, NULL);
#endif
}

static inline void __usched_san_task_new(struct usched_task *t)
{
#ifdef USCHED_TSAN
	t->san_fiber = __tsan_create_fiber(0);
#else
	(void)t;
#endif
}

static inline void __usched_san_task_free(struct usched_task *t)
{
#ifdef USCHED_TSAN
	if (t->san_fiber)
		__tsan_destroy_fiber(t->san_fiber);
	t->san_fiber = NULL;
#else
	(void)t;
#endif
}

/* On a worker thread, before its first switch. */
static inline void __usched_san_worker_init(struct usched_worker *w)
{
#ifdef USCHED_TSAN
	w->sched_fiber = __tsan_get_current_fiber();
#else
	(void)w;
#endif
}

/* Asynchronous preemption is off under TSan (its signal handling defers). */
#ifdef USCHED_TSAN
#define USCHED_SAN_NO_ASYNC_PREEMPT 1
#endif

#endif /* _USCHED_SAN_H */
