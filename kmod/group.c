// SPDX-License-Identifier: GPL-2.0
/*
 * group.c - groups: one per open of /dev/usched, owned by the opening
 * process, sized once by USCHED_IOC_SETUP, shut down when the owner closes
 * its last fd of it, freed when the fd and every worker are gone.
 */
#include <linux/cred.h>
#include <linux/list.h>
#include <linux/pid.h>
#include <linux/poll.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/uidgid.h>

#include "usched.h"

/* Groups open per user, for usched_max_groups_per_user. */
struct usched_user {
	struct list_head node;	/* on usched_users, under usched_users_lock */
	kuid_t uid;		/* const */
	unsigned int groups;	/* under usched_users_lock */
};

static LIST_HEAD(usched_users);
static DEFINE_MUTEX(usched_users_lock);

static int usched_user_charge(kuid_t uid)
{
	struct usched_user *u;
	unsigned int max = READ_ONCE(usched_max_groups_per_user);
	int ret = 0;

	mutex_lock(&usched_users_lock);
	list_for_each_entry(u, &usched_users, node) {
		if (uid_eq(u->uid, uid))
			goto found;
	}
	u = kzalloc(sizeof(*u), GFP_KERNEL_ACCOUNT);
	if (!u) {
		ret = -ENOMEM;
		goto out;
	}
	u->uid = uid;
	list_add(&u->node, &usched_users);
found:
	if (max && u->groups >= max)
		ret = -EMFILE;
	else
		u->groups++;
	if (!u->groups) {
		list_del(&u->node);
		kfree(u);
	}
out:
	mutex_unlock(&usched_users_lock);
	return ret;
}

static void usched_user_uncharge(kuid_t uid)
{
	struct usched_user *u;

	mutex_lock(&usched_users_lock);
	list_for_each_entry(u, &usched_users, node) {
		if (!uid_eq(u->uid, uid))
			continue;
		if (!--u->groups) {
			list_del(&u->node);
			kfree(u);
		}
		break;
	}
	mutex_unlock(&usched_users_lock);
}

static void usched_poll_iw_fn(struct irq_work *iw)
{
	struct usched_group *g = container_of(iw, struct usched_group, poll_iw);

	wake_up_interruptible_poll(&g->poll_wq, EPOLLIN | EPOLLRDNORM);
}

struct usched_group *usched_group_create(void)
{
	struct usched_group *g;
	kuid_t uid = current_uid();
	int ret;

	if (!current->mm)
		return ERR_PTR(-EINVAL);
	ret = usched_user_charge(uid);
	if (ret)
		return ERR_PTR(ret);

	g = kzalloc(sizeof(*g), GFP_KERNEL_ACCOUNT);
	if (!g) {
		usched_user_uncharge(uid);
		return ERR_PTR(-ENOMEM);
	}
	kref_init(&g->ref);
	mmgrab(current->mm);
	g->mm = current->mm;
	g->tgid = get_pid(task_tgid(current));
	g->user = get_uid(current_user());
	mutex_init(&g->lock);
	raw_spin_lock_init(&g->ring_lock);
	init_waitqueue_head(&g->poll_wq);
	/* Not HARD: wake_up() takes a spinlock_t, which sleeps on PREEMPT_RT. */
	init_irq_work(&g->poll_iw, usched_poll_iw_fn);
	spin_lock_init(&g->gate_lock);
	init_waitqueue_head(&g->gate_wq);
	atomic_set(&g->nr_workers, 0);
	usched_stat_inc(USCHED_STAT_GROUPS);
	return g;
}

static void usched_group_release(struct kref *ref)
{
	struct usched_group *g = container_of(ref, struct usched_group, ref);

	irq_work_sync(&g->poll_iw);
	usched_shm_free(g);
	kfree(g->workers);
	usched_user_uncharge(g->user->uid);
	free_uid(g->user);
	put_pid(g->tgid);
	mmdrop(g->mm);
	kfree(g);
	usched_stat_dec(USCHED_STAT_GROUPS);
}

void usched_group_put(struct usched_group *g)
{
	kref_put(&g->ref, usched_group_release);
}

/* Only threads of the owning process may act on a group. */
int usched_group_check_caller(struct usched_group *g)
{
	if (current->mm != g->mm || task_tgid(current) != g->tgid)
		return -EPERM;
	return 0;
}

bool usched_group_is_setup(struct usched_group *g)
{
	/* Pairs with smp_store_release() in usched_group_setup(). */
	return smp_load_acquire(&g->setup_done);
}

int usched_group_setup(struct usched_group *g, struct usched_setup *s)
{
	struct usched_worker __rcu **workers;
	int ret;

	mutex_lock(&g->lock);
	if (g->setup_done) {
		ret = -EBUSY;
		goto out;
	}
	g->flags = s->flags;
	g->max_workers = s->max_workers;
	g->ring_entries = s->ring_entries;
	g->gate_timeout_ns = s->gate_timeout_ns ?: USCHED_DEFAULT_GATE_NS;

	/* Sized by user space: fail rather than OOM-kill (see mmap.c). */
	workers = kcalloc(g->max_workers, sizeof(*workers),
			  GFP_KERNEL_ACCOUNT | __GFP_RETRY_MAYFAIL | __GFP_NOWARN);
	if (!workers) {
		ret = -ENOMEM;
		goto out;
	}
	ret = usched_shm_alloc(g);
	if (ret) {
		kfree(workers);
		goto out;
	}
	g->workers = workers;
	usched_gate_init(g, s->gate_slots);

	s->mmap_size = g->shm_size;
	s->slots_offset = g->hdr->slots_offset;
	s->ring_offset = g->hdr->ring_offset;
	/* Publishes everything above to usched_group_is_setup() readers. */
	smp_store_release(&g->setup_done, true);
out:
	mutex_unlock(&g->lock);
	return ret;
}

/*
 * The owner closed the group (or the file is being released): from now on
 * parks return -EBADF, gate waiters are let through, and ioctls fail.
 */
void usched_group_shutdown(struct usched_group *g)
{
	struct usched_worker *w;
	u32 i;

	if (READ_ONCE(g->dead))
		return;
	WRITE_ONCE(g->dead, true);
	if (!usched_group_is_setup(g))
		return;

	usched_gate_shutdown(g);
	rcu_read_lock();
	for (i = 0; i < g->max_workers; i++) {
		w = rcu_dereference(g->workers[i]);
		if (w)
			usched_kick_worker(w);
	}
	rcu_read_unlock();
	wake_up_interruptible_poll(&g->poll_wq, EPOLLHUP);
}

/* Caller holds rcu_read_lock(). */
struct usched_worker *usched_worker_get_rcu(struct usched_group *g, u32 id)
{
	struct usched_worker *w;

	if (id >= g->max_workers)
		return NULL;
	w = rcu_dereference(g->workers[id]);
	if (w && READ_ONCE(w->unregistered))
		return NULL;
	return w;
}
