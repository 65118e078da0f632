// SPDX-License-Identifier: GPL-2.0
/*
 * group.c - groups: USCHED_IOC_SETUP's rules, the shared memory mapping,
 * poll, and isolation from other processes (fork, SCM_RIGHTS).
 */
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "usched_test.h"

static int setup_raw(int fd, struct usched_setup *s)
{
	return ut_err(ioctl(fd, USCHED_IOC_SETUP, s));
}

FIXTURE(group) {
	int fd;
};

FIXTURE_SETUP(group)
{
	self->fd = ut_open();
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(group)
{
	close(self->fd);
}

TEST_F(group, setup_reports_layout)
{
	struct usched_setup s;

	ASSERT_EQ(0, ut_setup(self->fd, 8, 64, 0, 0, 0, &s));
	EXPECT_EQ(128, s.slots_offset);
	EXPECT_EQ(128 + 8 * 64, s.ring_offset);
	EXPECT_LE(s.ring_offset + 64 * sizeof(struct usched_event), s.mmap_size);
	EXPECT_EQ(0, s.mmap_size % sysconf(_SC_PAGESIZE));
}

TEST_F(group, setup_twice_ebusy)
{
	ASSERT_EQ(0, ut_setup(self->fd, 4, 16, 0, 0, 0, NULL));
	EXPECT_EQ(-EBUSY, ut_setup(self->fd, 4, 16, 0, 0, 0, NULL));
}

TEST_F(group, setup_rejects_bad_sizes_einval)
{
	struct usched_version v = { .size = sizeof(v) };

	ASSERT_EQ(0, ioctl(self->fd, USCHED_IOC_VERSION, &v));
	EXPECT_EQ(-EINVAL, ut_setup(self->fd, 0, 16, 0, 0, 0, NULL));
	EXPECT_EQ(-EINVAL, ut_setup(self->fd, v.max_workers + 1, 16, 0, 0, 0, NULL));
	EXPECT_EQ(-EINVAL, ut_setup(self->fd, 4, 0, 0, 0, 0, NULL));
	EXPECT_EQ(-EINVAL, ut_setup(self->fd, 4, 8, 0, 0, 0, NULL));
	EXPECT_EQ(-EINVAL, ut_setup(self->fd, 4, 100, 0, 0, 0, NULL));
	EXPECT_EQ(-EINVAL, ut_setup(self->fd, 4, v.max_ring_entries * 2, 0, 0, 0, NULL));
	EXPECT_EQ(-EINVAL, ut_setup(self->fd, 4, 16, 0, 5, 0, NULL));
	EXPECT_EQ(-EINVAL, ut_setup(self->fd, 4, 16, 0, 0, 11000000000ull, NULL));
	/* None of these set the group up. */
	EXPECT_EQ(0, ut_setup(self->fd, 4, 16, 0, 0, 0, NULL));
}

TEST_F(group, setup_rejects_unknown_flags_and_reserved_einval)
{
	struct usched_setup s = { .size = sizeof(s), .max_workers = 4,
				  .ring_entries = 16 };

	s.flags = 1u << 31;
	EXPECT_EQ(-EINVAL, setup_raw(self->fd, &s));
	s.flags = 0;
	s.__reserved = 1;
	EXPECT_EQ(-EINVAL, setup_raw(self->fd, &s));
	s.__reserved = 0;
	s.mmap_size = 4096;	/* an output field */
	EXPECT_EQ(-EINVAL, setup_raw(self->fd, &s));
	s.mmap_size = 0;
	s.size = USCHED_SETUP_SIZE_VER0 - 8;
	EXPECT_EQ(-EINVAL, setup_raw(self->fd, &s));
	s.size = sizeof(s);
	EXPECT_EQ(0, setup_raw(self->fd, &s));
}

TEST_F(group, setup_nonzero_tail_e2big)
{
	struct {
		struct usched_setup s;
		uint64_t future;
	} big = { .s = { .size = sizeof(big), .max_workers = 4,
			 .ring_entries = 16 }, .future = 7 };

	EXPECT_EQ(-E2BIG, setup_raw(self->fd, &big.s));
}

TEST_F(group, ioctls_before_setup_ebadfd)
{
	uint32_t id;

	EXPECT_EQ(-EBADFD, ut_register(self->fd, &id));
	EXPECT_EQ(-EBADFD, ut_wake(self->fd, 0));
	EXPECT_EQ(-EBADFD, ut_park(self->fd, 0, 1));
	EXPECT_EQ(-EBADFD, ut_target(self->fd, USCHED_IOC_GRANT, 0, 1));
}

TEST_F(group, mmap_before_setup_ebadfd)
{
	void *p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, self->fd, 0);

	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EBADFD, errno);
}

TEST_F(group, mmap_shows_header_and_free_slots)
{
	struct usched_setup s;
	struct ut_map m = { 0 };
	uint32_t i;

	ASSERT_EQ(0, ut_setup(self->fd, 4, 32, 0, 0, 0, &s));
	ASSERT_EQ(0, ut_map(self->fd, &s, &m));
	EXPECT_EQ(USCHED_SHM_MAGIC, m.hdr->magic);
	EXPECT_EQ(USCHED_ABI_MAJOR, m.hdr->abi_major);
	EXPECT_EQ(4, m.hdr->max_workers);
	EXPECT_EQ(32, m.hdr->ring_entries);
	EXPECT_EQ(s.slots_offset, m.hdr->slots_offset);
	EXPECT_EQ(s.ring_offset, m.hdr->ring_offset);
	EXPECT_EQ(0, m.hdr->ring_tail);
	EXPECT_EQ(0, m.hdr->ring_head);
	for (i = 0; i < 4; i++)
		EXPECT_EQ(USCHED_W_FREE, m.slots[i].kstate);
	munmap(m.base, m.size);
}

TEST_F(group, mmap_rejects_offset_size_private_einval)
{
	struct usched_setup s;
	void *p;

	ASSERT_EQ(0, ut_setup(self->fd, 4, 16, 0, 0, 0, &s));
	p = mmap(NULL, s.mmap_size, PROT_READ, MAP_SHARED, self->fd, 4096);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	p = mmap(NULL, s.mmap_size + 4096, PROT_READ, MAP_SHARED, self->fd, 0);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	p = mmap(NULL, s.mmap_size, PROT_READ | PROT_WRITE, MAP_PRIVATE, self->fd, 0);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(group, mmap_cannot_grow)
{
	struct usched_setup s;
	struct ut_map m = { 0 };
	void *p;

	ASSERT_EQ(0, ut_setup(self->fd, 4, 16, 0, 0, 0, &s));
	ASSERT_EQ(0, ut_map(self->fd, &s, &m));
	p = mremap(m.base, m.size, m.size + 4096, MREMAP_MAYMOVE);
	EXPECT_EQ(MAP_FAILED, p);
	munmap(m.base, m.size);
}

TEST_F(group, poll_reports_no_event_then_event)
{
	struct pollfd pfd = { .fd = self->fd, .events = POLLIN };
	struct ut_map m = { 0 };
	struct usched_setup s;

	ASSERT_EQ(0, ut_setup(self->fd, 4, 16, 0, 0, 0, &s));
	ASSERT_EQ(0, ut_map(self->fd, &s, &m));
	EXPECT_EQ(0, poll(&pfd, 1, 0));
	munmap(m.base, m.size);
}

/* A forked child: the fd is inherited, access is not; nor is the mapping. */
TEST_F(group, fork_child_gets_eperm_and_no_mapping)
{
	struct usched_setup s;
	struct ut_map m = { 0 };
	int status;
	pid_t pid;

	ASSERT_EQ(0, ut_setup(self->fd, 4, 16, 0, 0, 0, &s));
	ASSERT_EQ(0, ut_map(self->fd, &s, &m));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		uint32_t id;
		unsigned char vec;
		struct pollfd pfd = { .fd = self->fd, .events = POLLIN };

		if (ut_register(self->fd, &id) != -EPERM)
			_exit(1);
		if (ut_wake(self->fd, 0) != -EPERM)
			_exit(2);
		if (ut_park(self->fd, 0, 1) != -EPERM)
			_exit(3);
		if (mmap(NULL, s.mmap_size, PROT_READ, MAP_SHARED, self->fd, 0)
		    != MAP_FAILED || errno != EPERM)
			_exit(4);
		/* VM_DONTCOPY: the parent's mapping is not in the child. */
		if (mincore(m.base, 4096, &vec) == 0 || errno != ENOMEM)
			_exit(5);
		if (poll(&pfd, 1, 0) != 1 || !(pfd.revents & POLLERR))
			_exit(6);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	/* The parent still has full access. */
	EXPECT_EQ(USCHED_SHM_MAGIC, m.hdr->magic);
	munmap(m.base, m.size);
}

static int send_fd(int sock, int fd)
{
	char buf[CMSG_SPACE(sizeof(int))] = { 0 }, c = 'x';
	struct iovec iov = { .iov_base = &c, .iov_len = 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = buf, .msg_controllen = sizeof(buf) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, &msg, 0) == 1 ? 0 : -errno;
}

static int recv_fd(int sock)
{
	char buf[CMSG_SPACE(sizeof(int))], c;
	struct iovec iov = { .iov_base = &c, .iov_len = 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = buf, .msg_controllen = sizeof(buf) };
	struct cmsghdr *cm;
	int fd;

	if (recvmsg(sock, &msg, 0) != 1)
		return -1;
	cm = CMSG_FIRSTHDR(&msg);
	if (!cm || cm->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

/* A process that receives the fd by SCM_RIGHTS gets errors, never access. */
TEST(group_scm_rights_receiver_gets_eperm)
{
	int sv[2], status, fd;
	struct usched_setup s;
	pid_t pid;

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		uint32_t id;
		int gfd;

		close(sv[0]);
		gfd = recv_fd(sv[1]);
		if (gfd < 0)
			_exit(10);
		if (ut_register(gfd, &id) != -EPERM)
			_exit(1);
		if (mmap(NULL, 4096, PROT_READ, MAP_SHARED, gfd, 0) != MAP_FAILED ||
		    errno != EPERM)
			_exit(2);
		if (ut_target(gfd, USCHED_IOC_GRANT, 0, 1) != -EPERM)
			_exit(3);
		_exit(0);
	}
	close(sv[1]);
	fd = ut_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ut_setup(fd, 4, 16, 0, 0, 0, &s));
	ASSERT_EQ(0, send_fd(sv[0], fd));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	close(fd);
	close(sv[0]);
}

static int write_param(const char *name, const char *val)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/module/usched/parameters/%s", name);
	return ut_write_file(path, val);
}

TEST(group_per_user_limit_emfile)
{
	int fds[4], i, extra;

	ASSERT_EQ(0, write_param("max_groups_per_user", "3"));
	for (i = 0; i < 3; i++) {
		fds[i] = ut_open();
		EXPECT_LE(0, fds[i]);
	}
	extra = ut_open();
	EXPECT_EQ(-EMFILE, extra);
	close(fds[0]);
	fds[3] = ut_open();
	EXPECT_LE(0, fds[3]);
	ASSERT_EQ(0, write_param("max_groups_per_user", "1024"));
	for (i = 1; i < 4; i++)
		close(fds[i]);
}

/*
 * Another user: a process that dropped to uid/gid 65534 (nobody) after
 * fork gets EPERM from the inherited group (no park, wake, handoff,
 * register, mapping or events), may open groups of its own (mode 0666),
 * and those count against its own uid's limit, not root's.
 */
TEST(group_other_user_gets_eperm_and_own_limit)
{
	int fds[2], status, i;
	struct usched_setup s;
	pid_t pid;

	fds[0] = ut_open();
	ASSERT_LE(0, fds[0]);
	ASSERT_EQ(0, ut_setup(fds[0], 4, 16, 0, 0, 0, &s));
	fds[1] = ut_open();
	ASSERT_LE(0, fds[1]);
	/* Root now holds its two; nobody's count is its own. */
	ASSERT_EQ(0, write_param("max_groups_per_user", "2"));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct pollfd pfd = { .fd = fds[0], .events = POLLIN };
		int mine[3];
		uint32_t id;

		if (setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534))
			_exit(20);
		if (ut_register(fds[0], &id) != -EPERM)
			_exit(1);
		if (ut_wake(fds[0], 0) != -EPERM)
			_exit(2);
		if (ut_park(fds[0], 0, 1) != -EPERM)
			_exit(3);
		if (ut_target(fds[0], USCHED_IOC_GRANT, 0, 1) != -EPERM)
			_exit(4);
		if (mmap(NULL, s.mmap_size, PROT_READ, MAP_SHARED, fds[0], 0)
		    != MAP_FAILED || errno != EPERM)
			_exit(5);
		if (poll(&pfd, 1, 0) != 1 || !(pfd.revents & POLLERR))
			_exit(6);
		mine[0] = ut_open();
		mine[1] = ut_open();
		mine[2] = ut_open();
		if (mine[0] < 0 || mine[1] < 0)
			_exit(7);
		if (mine[2] != -EMFILE)
			_exit(8);
		if (ut_setup(mine[0], 4, 16, 0, 0, 0, &s))
			_exit(9);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, write_param("max_groups_per_user", "1024"));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	for (i = 0; i < 2; i++)
		close(fds[i]);
}

TEST(group_objects_freed_after_close)
{
	long base = ut_stat("groups");
	struct ut_map m = { 0 };
	int fd;

	ASSERT_LE(0, base);
	fd = ut_group(4, 16, 0, 0, 0, &m);
	ASSERT_LE(0, fd);
	EXPECT_EQ(base + 1, ut_stat("groups"));
	close(fd);
	/* The mapping holds the file: the group lives until munmap. */
	EXPECT_EQ(base + 1, ut_stat("groups"));
	munmap(m.base, m.size);
	EXPECT_EQ(base, ut_stat_wait("groups", base, 1000));
}

TEST_HARNESS_MAIN
