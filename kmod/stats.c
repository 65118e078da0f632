// SPDX-License-Identifier: GPL-2.0
/*
 * stats.c - global counters in debugfs: /sys/kernel/debug/usched/stats.
 *
 * "groups" and "workers" count live objects (back to zero when everything
 * is closed and exited: the leak tests read them); the rest are totals.
 * Any context may count (atomic_long_t): the preempt notifier does.
 */
#include <linux/atomic.h>
#include <linux/debugfs.h>
#include <linux/seq_file.h>

#include "usched.h"

static atomic_long_t usched_stats[USCHED_NR_STATS];
static struct dentry *usched_debugfs;

static const char * const usched_stat_names[USCHED_NR_STATS] = {
	[USCHED_STAT_GROUPS]		= "groups",
	[USCHED_STAT_WORKERS]		= "workers",
	[USCHED_STAT_BLOCKS]		= "blocks",
	[USCHED_STAT_UNBLOCKS]		= "unblocks",
	[USCHED_STAT_EVENTS_LOST]	= "events_lost",
	[USCHED_STAT_PARKS]		= "parks",
	[USCHED_STAT_WAKES]		= "wakes",
	[USCHED_STAT_HANDOFFS]		= "handoffs",
	[USCHED_STAT_SPIN_HITS]		= "handoff_spin_hits",
	[USCHED_STAT_STANDBY_WAKES]	= "standby_wakes",
	[USCHED_STAT_GATE_WAITS]	= "gate_waits",
	[USCHED_STAT_GATE_OPENS]	= "gate_opens",
	[USCHED_STAT_PREEMPT_SIGNALS]	= "preempt_signals",
	[USCHED_STAT_PREEMPT_REDIRECTS]	= "preempt_redirects",
	[USCHED_STAT_PREEMPT_DEFERRALS]	= "preempt_deferrals",
	[USCHED_STAT_DEAD_CLEANUPS]	= "dead_worker_cleanups",
};

void usched_stat_inc(enum usched_stat s)
{
	atomic_long_inc(&usched_stats[s]);
}

void usched_stat_dec(enum usched_stat s)
{
	atomic_long_dec(&usched_stats[s]);
}

static int usched_stats_show(struct seq_file *m, void *v)
{
	int i;

	for (i = 0; i < USCHED_NR_STATS; i++)
		seq_printf(m, "%s %ld\n", usched_stat_names[i],
			   atomic_long_read(&usched_stats[i]));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(usched_stats);

int usched_stats_init(void)
{
	BUILD_BUG_ON(ARRAY_SIZE(usched_stat_names) != USCHED_NR_STATS);
	/* debugfs is optional: a failure leaves the module working. */
	usched_debugfs = debugfs_create_dir("usched", NULL);
	debugfs_create_file("stats", 0444, usched_debugfs, NULL,
			    &usched_stats_fops);
	return 0;
}

void usched_stats_exit(void)
{
	debugfs_remove_recursive(usched_debugfs);
}
