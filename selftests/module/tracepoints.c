// SPDX-License-Identifier: GPL-2.0
/*
 * tracepoints.c - the usched:* tracepoints exist and fire: register, block,
 * unblock, park, wake, handoff, grant, gate, preempt, unregister.
 */
#include <pthread.h>
#include <signal.h>

#include "kselftest_harness.h"
#include "usched_test.h"

#define TRACING	"/sys/kernel/tracing"
#define MS	1000000ull

static int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_TRUNC), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, s, strlen(s)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

static char trace_buf[1 << 20];

static int read_trace(void)
{
	int fd = open(TRACING "/trace", O_RDONLY);
	ssize_t n, len = 0;

	if (fd < 0)
		return -errno;
	while ((n = read(fd, trace_buf + len, sizeof(trace_buf) - 1 - len)) > 0)
		len += n;
	trace_buf[len] = 0;
	close(fd);
	return 0;
}

static void on_sig(int sig)
{
}

TEST(tracepoints_fire_for_each_operation)
{
	const char *names[] = { "usched_register", "usched_block", "usched_unblock",
				"usched_park", "usched_wake", "usched_grant",
				"usched_gate", "usched_preempt", "usched_unregister" };
	struct sigaction sa = { .sa_handler = on_sig };
	struct usched_slice sl = { .size = sizeof(sl), .mode = USCHED_PREEMPT_SIGNAL,
				   .slice_ns = MS, .signo = SIGUSR1 };
	struct timespec ts = { 0, 2 * MS };
	uint64_t end;
	uint32_t id;
	unsigned int i;
	int fd;

	if (access(TRACING "/events/usched", F_OK))
		SKIP(return, "no tracefs or no usched events (tracefs mounted?)");
	ASSERT_EQ(0, write_str(TRACING "/trace", ""));
	ASSERT_EQ(0, write_str(TRACING "/events/usched/enable", "1"));

	fd = ut_group(2, 64, USCHED_SETUP_GATE, 0, 1 * MS, NULL);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ut_register(fd, &id));
	nanosleep(&ts, NULL);				/* block, unblock, gate */
	ASSERT_EQ(0, ut_wake(fd, id));			/* wake */
	ASSERT_EQ(0, ut_park(fd, id, ut_now_ns() + 100 * MS));	/* park */
	ASSERT_EQ(0, ut_target(fd, USCHED_IOC_GRANT, 0, 1));	/* grant */
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	sl.worker = id;
	ASSERT_EQ(0, ioctl(fd, USCHED_IOC_SET_SLICE, &sl));
	end = ut_now_ns() + 50 * MS;
	while (ut_now_ns() < end)			/* preempt */
		;
	sl.mode = USCHED_PREEMPT_OFF;
	sl.slice_ns = 0;
	sl.signo = 0;
	ASSERT_EQ(0, ioctl(fd, USCHED_IOC_SET_SLICE, &sl));
	ASSERT_EQ(0, ut_unregister(fd, id));		/* unregister */
	close(fd);

	ASSERT_EQ(0, write_str(TRACING "/events/usched/enable", "0"));
	ASSERT_EQ(0, read_trace());
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const char *name = names[i];

		EXPECT_NE(NULL, strstr(trace_buf, name)) {
			TH_LOG("no %s in the trace", name);
		}
	}
	EXPECT_NE(NULL, strstr(trace_buf, "reason=syscall"));
}

TEST_HARNESS_MAIN
