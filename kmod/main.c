// SPDX-License-Identifier: GPL-2.0
/*
 * main.c - module init and exit, the misc device and its file operations.
 *
 * Each open of /dev/usched creates a group (group.c) owned by the opening
 * process.  ioctl.c checks what comes from user space, mmap.c maps the
 * group's shared memory, events.c feeds poll.
 */
#include <linux/fdtable.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/poll.h>
#include <linux/preempt.h>
#include <linux/sched.h>
#include <linux/workqueue.h>

#include "usched.h"

#define CREATE_TRACE_POINTS
#include "trace.h"

#define USCHED_VERSION_STRING "1.2"

unsigned int usched_max_workers = 256;
module_param_named(max_workers, usched_max_workers, uint, 0644);
MODULE_PARM_DESC(max_workers, "Largest number of workers per group (1..4096, default 256)");

unsigned int usched_max_ring_entries = 65536;
module_param_named(max_ring_entries, usched_max_ring_entries, uint, 0644);
MODULE_PARM_DESC(max_ring_entries, "Largest event ring per group, entries (16..1048576, default 65536)");

unsigned int usched_max_groups_per_user = 1024;
module_param_named(max_groups_per_user, usched_max_groups_per_user, uint, 0644);
MODULE_PARM_DESC(max_groups_per_user, "Largest number of open groups per user (default 1024; 0: no limit)");

unsigned int usched_handoff_spin_ns = 20000;
module_param_named(handoff_spin_ns, usched_handoff_spin_ns, uint, 0644);
MODULE_PARM_DESC(handoff_spin_ns, "Longest spin of a handoff waiting for its partner on another CPU, ns (0: never spin; default 20000)");

struct workqueue_struct *usched_wq;

static int usched_open(struct inode *inode, struct file *file)
{
	struct usched_group *g;

	g = usched_group_create();
	if (IS_ERR(g))
		return PTR_ERR(g);
	file->private_data = g;
	return 0;
}

/*
 * ->flush runs at every close() of an fd of this file.  The group's
 * workers may be parked inside an ioctl on the same file, and an ioctl in
 * progress holds a reference to the file, so ->release cannot be the
 * signal that the owner closed the group.  When the owner process closes
 * its last fd of the group, shut the group down: parked and gated workers
 * return.  A close in another process (a forked child) changes nothing.
 */
static int usched_match_file(const void *f, struct file *file, unsigned int fd)
{
	return file == f;
}

static int usched_flush(struct file *file, fl_owner_t id)
{
	struct usched_group *g = file->private_data;

	/* Not a vfork child or other CLONE_VM process: the owner itself. */
	if (usched_group_check_caller(g) || !current->files)
		return 0;
	if (iterate_fd(current->files, 0, usched_match_file, file))
		return 0;
	usched_group_shutdown(g);
	return 0;
}

static int usched_release(struct inode *inode, struct file *file)
{
	struct usched_group *g = file->private_data;

	usched_group_shutdown(g);
	usched_group_put(g);
	return 0;
}

static __poll_t usched_poll(struct file *file, struct poll_table_struct *pt)
{
	struct usched_group *g = file->private_data;

	if (usched_group_check_caller(g))
		return EPOLLERR;
	if (!usched_group_is_setup(g))
		return EPOLLERR;
	poll_wait(file, &g->poll_wq, pt);
	return usched_poll_events(g);
}

static const struct file_operations usched_fops = {
	.owner		= THIS_MODULE,
	.open		= usched_open,
	.flush		= usched_flush,
	.release	= usched_release,
	.unlocked_ioctl	= usched_ioctl,
	.mmap		= usched_mmap,
	.poll		= usched_poll,
	.llseek		= noop_llseek,
};

static struct miscdevice usched_misc = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "usched",
	.fops	= &usched_fops,
	.mode	= 0666,
};

static int __init usched_init(void)
{
	int ret;

	if (usched_max_workers < 1 || usched_max_workers > 4096 ||
	    usched_max_ring_entries < USCHED_MIN_RING_ENTRIES ||
	    usched_max_ring_entries > (1U << 20) ||
	    !is_power_of_2(usched_max_ring_entries)) {
		pr_err("usched: max_workers must be 1..4096 and max_ring_entries a power of two in 16..1048576\n");
		return -EINVAL;
	}

	usched_wq = alloc_workqueue("usched", WQ_UNBOUND, 0);
	if (!usched_wq)
		return -ENOMEM;

	ret = usched_stats_init();
	if (ret)
		goto err_wq;

	/* Must precede any registration; may sleep (static key). */
	preempt_notifier_inc();

	ret = misc_register(&usched_misc);
	if (ret)
		goto err_notifier;

	pr_info("usched: version %s, ABI %u.%u\n", USCHED_VERSION_STRING,
		USCHED_ABI_MAJOR, USCHED_ABI_MINOR);
	return 0;

err_notifier:
	preempt_notifier_dec();
	usched_stats_exit();
err_wq:
	destroy_workqueue(usched_wq);
	return ret;
}

static void __exit usched_exit(void)
{
	misc_deregister(&usched_misc);
	preempt_notifier_dec();
	usched_stats_exit();
	/* Waits for the cleanup of dead workers still running. */
	destroy_workqueue(usched_wq);
	/* kfree_rcu() of workers and groups must finish before the text goes. */
	rcu_barrier();
}

module_init(usched_init);
module_exit(usched_exit);

MODULE_DESCRIPTION("usched: kernel assistance for M:N userspace task schedulers");
MODULE_AUTHOR("The usched developers");
MODULE_LICENSE("GPL");
MODULE_VERSION(USCHED_VERSION_STRING);
