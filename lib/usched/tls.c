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
/* Bumped (under keys_lock) when a key is deleted: older values are stale. */
static uint32_t key_gen[USCHED_KEYS_MAX];

/* One value, with the generation of the key it was set under. */
struct usched_tlsv {
	void *v;
	uint32_t gen;
};

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
			__atomic_store_n(&key_used[i], true, __ATOMIC_RELAXED);
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
		__atomic_store_n(&key_used[key], false, __ATOMIC_RELAXED);
		key_dtor[key] = NULL;
		/* Values set under it read as NULL, even if the number returns. */
		__atomic_store_n(&key_gen[key], key_gen[key] + 1, __ATOMIC_RELEASE);
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

static struct usched_tlsv **values_of(struct usched_task *t)
{
	static __thread struct usched_tlsv *tv;

	if (t)
		return &t->tls;
	pthread_once(&thread_values_once, thread_values_init);
	tv = pthread_getspecific(thread_values);
	return &tv;
}

int usched_setspecific(usched_key_t key, const void *value)
{
	struct usched_task *t = cur_task();
	struct usched_tlsv **vp, *v;

	if (key >= USCHED_KEYS_MAX || !__atomic_load_n(&key_used[key],
						       __ATOMIC_RELAXED))
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
	v[key].v = (void *)value;
	v[key].gen = __atomic_load_n(&key_gen[key], __ATOMIC_ACQUIRE);
	return 0;
}

void *usched_getspecific(usched_key_t key)
{
	struct usched_task *t = cur_task();
	struct usched_tlsv *v;

	if (key >= USCHED_KEYS_MAX)
		return NULL;
	v = *values_of(t);
	if (!v || v[key].gen != __atomic_load_n(&key_gen[key], __ATOMIC_ACQUIRE))
		return NULL;
	return v[key].v;
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
			val = t->tls[i].v;
			if (!val)
				continue;
			t->tls[i].v = NULL;
			__usched_np_enter();
			usched_lock(&keys_lock);
			dtor = key_used[i] && t->tls[i].gen == key_gen[i] ?
			       key_dtor[i] : NULL;
			usched_unlock(&keys_lock);
			__usched_np_exit();
			if (dtor) {
				dtor(val);
				again = true;
			}
		}
	}
}
