// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * tls.c - task-local storage and errno.
 *
 * Thread-local variables belong to the worker thread, and a task may move
 * to another worker at any blocking call, at usched_yield() and after a
 * preemption.  Task-local storage is the task's own: keys are global (up
 * to USCHED_KEYS_MAX, like pthread keys), values live in an array the task
 * allocates on its first usched_setspecific().  Destructors run on the
 * task itself when its function returns, for each non-NULL value, up to
 * four rounds (a destructor may set values again), as pthread keys do.
 * Plain threads get their own array, freed when the thread exits.
 *
 * errno: the scheduler saves the task's errno when it switches out and
 * restores it into the worker that resumes it.  usched.h makes `errno` read
 * through usched_errno_location(), an out-of-line call the compiler cannot
 * cache across a switch (glibc's __errno_location() is declared const).
 */
#include <pthread.h>
#include <stdlib.h>

#include "internal.h"

#define DTOR_ROUNDS	4

static usched_lock_t keys_lock;
static void (*key_dtor[USCHED_KEYS_MAX])(void *);	/* under keys_lock */
static bool key_used[USCHED_KEYS_MAX];			/* under keys_lock */

int *usched_errno_location(void)
{
	return __errno_location();
}

int usched_key_create(usched_key_t *key, void (*dtor)(void *))
{
	uint32_t i;

	if (!key)
		return -EINVAL;
	__usched_np_enter();
	usched_lock(&keys_lock);
	for (i = 0; i < USCHED_KEYS_MAX; i++)
		if (!key_used[i]) {
			key_used[i] = true;
			key_dtor[i] = dtor;
			break;
		}
	usched_unlock(&keys_lock);
	__usched_np_exit();
	if (i == USCHED_KEYS_MAX)
		return -EAGAIN;
	*key = i;
	return 0;
}

int usched_key_delete(usched_key_t key)
{
	int r = -EINVAL;

	__usched_np_enter();
	usched_lock(&keys_lock);
	if (key < USCHED_KEYS_MAX && key_used[key]) {
		key_used[key] = false;
		key_dtor[key] = NULL;
		r = 0;
	}
	usched_unlock(&keys_lock);
	__usched_np_exit();
	return r;
}

/* Plain threads: their values, freed by a pthread key at thread exit. */
static pthread_key_t thread_values;
static pthread_once_t thread_values_once = PTHREAD_ONCE_INIT;

static void thread_values_init(void)
{
	pthread_key_create(&thread_values, free);
}

static void ***values_of(struct usched_task *t)
{
	static __thread void **tv;

	if (t)
		return &t->tls;
	pthread_once(&thread_values_once, thread_values_init);
	tv = pthread_getspecific(thread_values);
	return &tv;
}

int usched_setspecific(usched_key_t key, const void *value)
{
	struct usched_task *t = cur_task();
	void ***vp, **v;

	if (key >= USCHED_KEYS_MAX || !key_used[key])
		return -EINVAL;
	vp = values_of(t);
	v = *vp;
	if (!v) {
		v = calloc(USCHED_KEYS_MAX, sizeof(*v));
		if (!v)
			return -ENOMEM;
		*vp = v;
		if (!t)
			pthread_setspecific(thread_values, v);
	}
	v[key] = (void *)value;
	return 0;
}

void *usched_getspecific(usched_key_t key)
{
	struct usched_task *t = cur_task();
	void **v;

	if (key >= USCHED_KEYS_MAX)
		return NULL;
	v = *values_of(t);
	return v ? v[key] : NULL;
}

void __usched_tls_destroy(struct usched_task *t)
{
	void (*dtor)(void *);
	bool again = true;
	int round, i;
	void *val;

	if (!t->tls)
		return;
	for (round = 0; round < DTOR_ROUNDS && again; round++) {
		again = false;
		for (i = 0; i < USCHED_KEYS_MAX; i++) {
			val = t->tls[i];
			if (!val)
				continue;
			t->tls[i] = NULL;
			__usched_np_enter();
			usched_lock(&keys_lock);
			dtor = key_used[i] ? key_dtor[i] : NULL;
			usched_unlock(&keys_lock);
			__usched_np_exit();
			if (dtor) {
				dtor(val);
				again = true;
			}
		}
	}
}
