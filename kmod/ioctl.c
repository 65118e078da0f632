// SPDX-License-Identifier: GPL-2.0
/*
 * ioctl.c - check what comes from user space, then call the code that acts.
 *
 * Every argument struct starts with __u32 size and __u32 flags.  The size
 * the caller passes must be at least the struct's first published size
 * (*_SIZE_VER0, else -EINVAL) and at most a page; bytes beyond what this
 * module knows must be zero (-E2BIG), as copy_struct_from_user() checks.
 * Output is copied back up to the smaller of the two sizes.  Nothing here
 * sleeps with a lock held or touches user memory outside these helpers.
 */
#include <linux/fs.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/uaccess.h>

#include "usched.h"

/*
 * The size bits of an ioctl number are ignored: the struct's own size field
 * versions it, so a caller built against a newer header (a larger struct)
 * reaches the same command.
 */
#define USCHED_CMD(c)	((c) & ~(_IOC_SIZEMASK << _IOC_SIZESHIFT))

/* Copy a size-versioned struct in: size first, then the whole thing. */
static int usched_copy_in(void *dst, size_t ksize, size_t ver0,
			  void __user *src, u32 *usize)
{
	u32 size;
	int ret;

	if (get_user(size, (u32 __user *)src))
		return -EFAULT;
	if (size < ver0 || size > PAGE_SIZE)
		return -EINVAL;
	ret = copy_struct_from_user(dst, ksize, src, size);
	if (ret)
		return ret;
	*usize = size;
	return 0;
}

static int usched_copy_out(void __user *dst, const void *src, size_t ksize,
			   u32 usize)
{
	if (copy_to_user(dst, src, min_t(size_t, ksize, usize)))
		return -EFAULT;
	return 0;
}

static int usched_ioc_version(void __user *argp)
{
	struct usched_version v;
	u32 usize;
	int ret;

	ret = usched_copy_in(&v, sizeof(v), USCHED_VERSION_SIZE_VER0, argp, &usize);
	if (ret)
		return ret;
	if (v.flags || v.abi_major || v.abi_minor || v.features ||
	    v.max_workers || v.max_ring_entries || v.slot_size || v.min_slice_us)
		return -EINVAL;

	v.abi_major = USCHED_ABI_MAJOR;
	v.abi_minor = USCHED_ABI_MINOR;
	v.features = USCHED_FEAT_EVENTS | USCHED_FEAT_PARK | USCHED_FEAT_GATE |
		     USCHED_FEAT_STANDBY | USCHED_FEAT_PREEMPT_SIGNAL |
		     USCHED_FEAT_PREEMPT_REDIRECT | USCHED_FEAT_CLAIM |
		     USCHED_FEAT_GRANT_WORKER | USCHED_FEAT_PREEMPT_NOW |
		     USCHED_FEAT_GATE_WAKES_STANDBY;
	v.max_workers = READ_ONCE(usched_max_workers);
	v.max_ring_entries = READ_ONCE(usched_max_ring_entries);
	v.slot_size = USCHED_SLOT_SIZE;
	v.min_slice_us = USCHED_MIN_SLICE_NS / NSEC_PER_USEC;
	return usched_copy_out(argp, &v, sizeof(v), usize);
}

static int usched_ioc_setup(struct usched_group *g, void __user *argp)
{
	struct usched_setup s;
	u32 usize;
	int ret;

	ret = usched_copy_in(&s, sizeof(s), USCHED_SETUP_SIZE_VER0, argp, &usize);
	if (ret)
		return ret;
	if ((s.flags & ~USCHED_SETUP_FLAGS) || s.__reserved || s.mmap_size ||
	    s.slots_offset || s.ring_offset)
		return -EINVAL;
	if (s.max_workers < 1 || s.max_workers > READ_ONCE(usched_max_workers))
		return -EINVAL;
	if (s.ring_entries < USCHED_MIN_RING_ENTRIES ||
	    s.ring_entries > READ_ONCE(usched_max_ring_entries) ||
	    !is_power_of_2(s.ring_entries))
		return -EINVAL;
	if (s.gate_slots > s.max_workers || s.gate_timeout_ns > USCHED_MAX_GATE_NS)
		return -EINVAL;
	if ((s.flags & USCHED_SETUP_GATE) && (s.flags & USCHED_SETUP_GATE_STOLEN))
		return -EINVAL;

	ret = usched_group_setup(g, &s);
	if (ret)
		return ret;
	return usched_copy_out(argp, &s, sizeof(s), usize);
}

static int usched_ioc_register(struct usched_group *g, void __user *argp)
{
	struct usched_register r;
	u32 usize;
	int ret;

	ret = usched_copy_in(&r, sizeof(r), USCHED_REGISTER_SIZE_VER0, argp, &usize);
	if (ret)
		return ret;
	if (r.flags || r.worker || r.__reserved)
		return -EINVAL;
	ret = usched_worker_register(g, &r.worker);
	if (ret)
		return ret;
	ret = usched_copy_out(argp, &r, sizeof(r), usize);
	if (ret)
		usched_worker_unregister(g, r.worker);
	return ret;
}

static int usched_ioc_unregister(struct usched_group *g, void __user *argp)
{
	struct usched_register r;
	u32 usize;
	int ret;

	ret = usched_copy_in(&r, sizeof(r), USCHED_REGISTER_SIZE_VER0, argp, &usize);
	if (ret)
		return ret;
	if (r.flags || r.__reserved)
		return -EINVAL;
	return usched_worker_unregister(g, r.worker);
}

static int usched_ioc_park(struct usched_group *g, void __user *argp,
			   bool handoff)
{
	struct usched_worker *w, *t = NULL;
	struct usched_park p;
	u32 usize;
	int ret;

	ret = usched_copy_in(&p, sizeof(p), USCHED_PARK_SIZE_VER0, argp, &usize);
	if (ret)
		return ret;
	if (p.flags & ~USCHED_PARK_FLAGS)
		return -EINVAL;
	if (!(p.flags & USCHED_PARK_DEADLINE) && p.deadline_ns)
		return -EINVAL;
	if (!handoff && p.target)
		return -EINVAL;

	w = usched_worker_self(g, p.worker);
	if (IS_ERR(w))
		return PTR_ERR(w);
	if (handoff) {
		if (p.target == p.worker)
			return -EINVAL;
		if (p.target >= g->max_workers)
			return -EINVAL;
	}

	rcu_read_lock();
	if (handoff) {
		t = usched_worker_get_rcu(g, p.target);
		if (t && !kref_get_unless_zero(&t->ref))
			t = NULL;
	}
	rcu_read_unlock();
	if (handoff && !t)
		return -ESRCH;

	ret = usched_park(w, &p, t);
	if (t)
		usched_worker_put(t);
	return ret;
}

static int usched_ioc_target(struct usched_group *g, void __user *argp,
			     unsigned int cmd)
{
	struct usched_target t;
	u32 usize;
	int ret;

	ret = usched_copy_in(&t, sizeof(t), USCHED_TARGET_SIZE_VER0, argp, &usize);
	if (ret)
		return ret;
	if (t.flags && (cmd != USCHED_CMD(USCHED_IOC_GRANT) ||
			(t.flags & ~USCHED_GRANT_FLAGS)))
		return -EINVAL;

	switch (cmd) {
	case USCHED_CMD(USCHED_IOC_WAKE):
		if (t.arg)
			return -EINVAL;
		if (t.worker >= g->max_workers)
			return -EINVAL;
		return usched_wake_id(g, t.worker);
	case USCHED_CMD(USCHED_IOC_PREEMPT):
		if (t.arg || t.worker >= g->max_workers)
			return -EINVAL;
		return usched_preempt_now(g, t.worker);
	case USCHED_CMD(USCHED_IOC_SET_STANDBY):
		if (t.worker >= g->max_workers)
			return -EINVAL;
		if (t.arg != USCHED_NO_WORKER &&
		    (t.arg >= g->max_workers || t.arg == t.worker))
			return -EINVAL;
		return usched_set_standby(g, t.worker, t.arg);
	case USCHED_CMD(USCHED_IOC_GRANT):
		if (t.flags & USCHED_GRANT_WORKER) {
			if (t.arg || t.worker >= g->max_workers)
				return -EINVAL;
			return usched_gate_grant_worker(g, t.worker);
		}
		if (t.worker || t.arg > g->max_workers)
			return -EINVAL;
		return usched_gate_grant(g, t.arg);
	}
	return -ENOTTY;
}

static int usched_ioc_set_slice(struct usched_group *g, void __user *argp)
{
	struct usched_worker *w;
	struct usched_slice s;
	u32 usize;
	int ret;

	ret = usched_copy_in(&s, sizeof(s), USCHED_SLICE_SIZE_VER0, argp, &usize);
	if (ret)
		return ret;
	if (s.flags || s.__reserved)
		return -EINVAL;
	switch (s.mode) {
	case USCHED_PREEMPT_OFF:
		if (s.slice_ns || s.signo || s.trampoline || s.trampoline_len)
			return -EINVAL;
		break;
	case USCHED_PREEMPT_SIGNAL:
		if (s.slice_ns < USCHED_MIN_SLICE_NS || s.slice_ns > NSEC_PER_SEC * 60)
			return -EINVAL;
		if (!valid_signal(s.signo) || !s.signo || s.signo == SIGKILL ||
		    s.signo == SIGSTOP || s.trampoline || s.trampoline_len)
			return -EINVAL;
		break;
	case USCHED_PREEMPT_REDIRECT:
		if (s.slice_ns < USCHED_MIN_SLICE_NS || s.slice_ns > NSEC_PER_SEC * 60)
			return -EINVAL;
		if (s.signo || !s.trampoline || !s.trampoline_len ||
		    s.trampoline_len > PAGE_SIZE ||
		    s.trampoline + s.trampoline_len < s.trampoline ||
		    s.trampoline + s.trampoline_len > TASK_SIZE_MAX)
			return -EINVAL;
		break;
	default:
		return -EINVAL;
	}

	w = usched_worker_self(g, s.worker);
	if (IS_ERR(w))
		return PTR_ERR(w);
	return usched_preempt_set_slice(w, &s);
}

long usched_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct usched_group *g = file->private_data;
	void __user *argp = (void __user *)arg;
	int ret;

	if (_IOC_TYPE(cmd) != USCHED_IOC_MAGIC)
		return -ENOTTY;
	cmd = USCHED_CMD(cmd);
	/* Self-description is open to anyone who can open the device. */
	if (cmd == USCHED_CMD(USCHED_IOC_VERSION))
		return usched_ioc_version(argp);

	switch (cmd) {
	case USCHED_CMD(USCHED_IOC_SETUP):
	case USCHED_CMD(USCHED_IOC_REGISTER):
	case USCHED_CMD(USCHED_IOC_UNREGISTER):
	case USCHED_CMD(USCHED_IOC_PARK):
	case USCHED_CMD(USCHED_IOC_WAKE):
	case USCHED_CMD(USCHED_IOC_HANDOFF):
	case USCHED_CMD(USCHED_IOC_SET_STANDBY):
	case USCHED_CMD(USCHED_IOC_GRANT):
	case USCHED_CMD(USCHED_IOC_SET_SLICE):
	case USCHED_CMD(USCHED_IOC_PREEMPT):
		break;
	default:
		return -ENOTTY;
	}

	ret = usched_group_check_caller(g);
	if (ret)
		return ret;
	if (cmd == USCHED_CMD(USCHED_IOC_SETUP))
		return usched_ioc_setup(g, argp);
	if (!usched_group_is_setup(g))
		return -EBADFD;
	if (READ_ONCE(g->dead))
		return -EBADF;

	switch (cmd) {
	case USCHED_CMD(USCHED_IOC_REGISTER):
		return usched_ioc_register(g, argp);
	case USCHED_CMD(USCHED_IOC_UNREGISTER):
		return usched_ioc_unregister(g, argp);
	case USCHED_CMD(USCHED_IOC_PARK):
		return usched_ioc_park(g, argp, false);
	case USCHED_CMD(USCHED_IOC_HANDOFF):
		return usched_ioc_park(g, argp, true);
	case USCHED_CMD(USCHED_IOC_SET_SLICE):
		return usched_ioc_set_slice(g, argp);
	default:
		return usched_ioc_target(g, argp, cmd);
	}
}
