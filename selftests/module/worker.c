// SPDX-License-Identifier: GPL-2.0
/*
 * worker.c - registration of worker threads: ids, limits, double
 * registration, ownership of a worker id, and the slot state.
 */
#include <pthread.h>

#include "kselftest_harness.h"
#include "usched_test.h"

FIXTURE(worker) {
	int fd;
	struct ut_map m;
};

FIXTURE_SETUP(worker)
{
	self->fd = ut_group(2, 16, 0, 0, 0, &self->m);
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(worker)
{
	munmap(self->m.base, self->m.size);
	close(self->fd);
}

TEST_F(worker, register_gives_first_free_id_and_running_slot)
{
	uint32_t id = 99;

	ASSERT_EQ(0, ut_register(self->fd, &id));
	EXPECT_EQ(0, id);
	EXPECT_EQ(USCHED_W_RUNNING, ut_kstate(&self->m, 0));
	EXPECT_EQ(USCHED_W_FREE, ut_kstate(&self->m, 1));
	EXPECT_EQ(0, ut_unregister(self->fd, id));
	EXPECT_EQ(USCHED_W_FREE, ut_kstate(&self->m, 0));
}

TEST_F(worker, register_twice_ebusy)
{
	uint32_t id;

	ASSERT_EQ(0, ut_register(self->fd, &id));
	EXPECT_EQ(-EBUSY, ut_register(self->fd, &id));
	EXPECT_EQ(0, ut_unregister(self->fd, 0));
}

TEST_F(worker, register_in_two_groups_ebusy)
{
	int fd2 = ut_group(2, 16, 0, 0, 0, NULL);
	uint32_t id;

	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, ut_register(self->fd, &id));
	EXPECT_EQ(-EBUSY, ut_register(fd2, &id));
	EXPECT_EQ(0, ut_unregister(self->fd, 0));
	EXPECT_EQ(0, ut_register(fd2, &id));
	EXPECT_EQ(0, ut_unregister(fd2, id));
	close(fd2);
}

TEST_F(worker, register_flags_and_reserved_einval)
{
	struct usched_register r = { .size = sizeof(r), .flags = 1 };

	EXPECT_EQ(-EINVAL, ut_err(ioctl(self->fd, USCHED_IOC_REGISTER, &r)));
	r.flags = 0;
	r.__reserved = 1;
	EXPECT_EQ(-EINVAL, ut_err(ioctl(self->fd, USCHED_IOC_REGISTER, &r)));
	r.__reserved = 0;
	r.worker = 3;	/* output field */
	EXPECT_EQ(-EINVAL, ut_err(ioctl(self->fd, USCHED_IOC_REGISTER, &r)));
	EXPECT_EQ(-EFAULT, ut_err(ioctl(self->fd, USCHED_IOC_REGISTER, NULL)));
}

struct reg_arg {
	int fd;
	int ret;
	uint32_t id;
	int hold;		/* wait for release before unregistering */
	volatile int release;
	volatile int registered;
};

static void *reg_thread(void *p)
{
	struct reg_arg *a = p;

	a->ret = ut_register(a->fd, &a->id);
	__atomic_store_n(&a->registered, 1, __ATOMIC_RELEASE);
	while (a->hold && !__atomic_load_n(&a->release, __ATOMIC_ACQUIRE))
		usleep(1000);
	if (!a->ret)
		ut_unregister(a->fd, a->id);
	return NULL;
}

TEST_F(worker, register_full_group_enospc)
{
	struct reg_arg a = { .fd = self->fd, .hold = 1 }, b = a, c = a;
	pthread_t ta, tb, tc;

	ASSERT_EQ(0, pthread_create(&ta, NULL, reg_thread, &a));
	ASSERT_EQ(0, pthread_create(&tb, NULL, reg_thread, &b));
	while (!a.registered || !b.registered)
		usleep(1000);
	ASSERT_EQ(0, pthread_create(&tc, NULL, reg_thread, &c));
	while (!c.registered)
		usleep(1000);
	EXPECT_EQ(0, a.ret);
	EXPECT_EQ(0, b.ret);
	EXPECT_EQ(-ENOSPC, c.ret);
	EXPECT_NE(a.id, b.id);
	a.release = b.release = c.release = 1;
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	pthread_join(tc, NULL);
}

TEST_F(worker, another_threads_id_eperm)
{
	struct reg_arg a = { .fd = self->fd, .hold = 1 };
	pthread_t t;

	ASSERT_EQ(0, pthread_create(&t, NULL, reg_thread, &a));
	while (!a.registered)
		usleep(1000);
	ASSERT_EQ(0, a.ret);
	EXPECT_EQ(-EPERM, ut_unregister(self->fd, a.id));
	EXPECT_EQ(-EPERM, ut_park(self->fd, a.id, 1));
	a.release = 1;
	pthread_join(t, NULL);
}

TEST_F(worker, unknown_or_out_of_range_id)
{
	EXPECT_EQ(-ESRCH, ut_unregister(self->fd, 1));
	EXPECT_EQ(-EINVAL, ut_unregister(self->fd, 2));
	EXPECT_EQ(-EINVAL, ut_unregister(self->fd, 0xffffffffu));
	EXPECT_EQ(-ESRCH, ut_park(self->fd, 0, 1));
	EXPECT_EQ(-ESRCH, ut_wake(self->fd, 1));
	EXPECT_EQ(-EINVAL, ut_wake(self->fd, 2));
}

TEST_F(worker, unregister_twice_esrch)
{
	uint32_t id;

	ASSERT_EQ(0, ut_register(self->fd, &id));
	EXPECT_EQ(0, ut_unregister(self->fd, id));
	EXPECT_EQ(-ESRCH, ut_unregister(self->fd, id));
}

TEST_F(worker, ids_are_reused_after_unregister)
{
	uint32_t id, id2;

	ASSERT_EQ(0, ut_register(self->fd, &id));
	ASSERT_EQ(0, ut_unregister(self->fd, id));
	ASSERT_EQ(0, ut_register(self->fd, &id2));
	EXPECT_EQ(id, id2);
	ASSERT_EQ(0, ut_unregister(self->fd, id2));
}

TEST_F(worker, worker_objects_counted_in_debugfs)
{
	long base;
	uint32_t id;

	/* The earlier tests' workers are freed after an RCU grace period. */
	base = ut_stat_wait("workers", 0, 2000);
	ASSERT_LE(0, base);
	ASSERT_EQ(0, ut_register(self->fd, &id));
	EXPECT_EQ(base + 1, ut_stat("workers"));
	ASSERT_EQ(0, ut_unregister(self->fd, id));
	EXPECT_EQ(base, ut_stat_wait("workers", base, 1000));
}

TEST_HARNESS_MAIN
