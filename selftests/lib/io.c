// SPDX-License-Identifier: GPL-2.0
/*
 * io.c - libusched's I/O calls: each call's normal path and its errors,
 * a read that parks only its task, deadlines, cancellation (the op really
 * cancelled, including one io-wq runs), plain threads, a runtime without
 * io_uring (denied by seccomp, as in many containers), and an echo test
 * with many tasks over socketpairs.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <liburing.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <poll.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "kselftest_harness.h"
#include "lib_test.h"

/* ---- helpers ------------------------------------------------------------- */

static int have_uring(void)
{
	struct io_uring r;

	if (io_uring_queue_init(2, &r, 0))
		return 0;
	io_uring_queue_exit(&r);
	return 1;
}

static uint64_t io_ops(void)
{
	struct usched_stats st = { .size = sizeof(st) };

	return usched_stats_get(&st) ? 0 : st.io_ops;
}

static uint64_t handovers(void)
{
	struct usched_stats st = { .size = sizeof(st) };

	return usched_stats_get(&st) ? 0 : st.handovers;
}

/* poll(2) @fd for @events up to @ms: 1 ready, 0 not. */
static int ready_within(int fd, short events, int ms)
{
	struct pollfd p = { .fd = fd, .events = events };

	return poll(&p, 1, ms) == 1 && (p.revents & events);
}

/* A FIFO in a fresh folder; @path gets its name. */
static int make_fifo(char *path, size_t size)
{
	char dir[] = "/tmp/usched-io-XXXXXX";

	if (!mkdtemp(dir))
		return -errno;
	snprintf(path, size, "%s/fifo", dir);
	return mkfifo(path, 0600) ? -errno : 0;
}

static void drop_fifo(const char *path)
{
	char dir[256];
	char *slash;

	unlink(path);
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash) {
		*slash = 0;
		rmdir(dir);
	}
}

/* Make io_uring_setup() fail with ENOSYS, as a container's seccomp does. */
static int deny_io_uring(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = sizeof(f) / sizeof(f[0]), .filter = f };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog))
		return -errno;
	return 0;
}

static int send_all(int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len) {
		n = usched_send(fd, buf, len, MSG_NOSIGNAL);
		if (n <= 0)
			return n ? (int)n : -EIO;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int recv_all(int fd, char *buf, size_t len)
{
	ssize_t n;

	while (len) {
		n = usched_recv(fd, buf, len, 0);
		if (n <= 0)
			return n ? (int)n : -EPIPE;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* ---- each call's normal path --------------------------------------------- */

static int t_read_write_pipe(void *arg)
{
	char buf[16] = "";
	uint64_t ops = io_ops();
	int p[2], i;

	T_EQ(0, pipe2(p, O_CLOEXEC));
	for (i = 0; i < 10; i++) {
		T_EQ(5, usched_write(p[1], "hello", 5));
		T_EQ(5, usched_read(p[0], buf, sizeof(buf)));
		T_CHECK(!memcmp(buf, "hello", 5));
	}
	T_EQ(0, usched_close(p[1]));
	T_EQ(0, usched_read(p[0], buf, sizeof(buf)));	/* EOF */
	T_EQ(0, usched_close(p[0]));
	if (*(int *)arg)
		T_CHECK(io_ops() >= ops + 23);
	return 0;
}

TEST(read_write_pipe_roundtrip)
{
	int uring = have_uring();

	ASSERT_UT_OK(ut_run(t_read_write_pipe, &uring));
}

static int t_file(void *arg)
{
	char path[] = "/tmp/usched-io-file-XXXXXX";
	char buf[32];
	int fd, tmp;

	tmp = mkstemp(path);
	T_CHECK(tmp >= 0);
	close(tmp);
	fd = usched_openat(AT_FDCWD, path, O_RDWR | O_TRUNC | O_CLOEXEC, 0600);
	T_CHECK(fd >= 0);
	T_EQ(6, usched_pwrite(fd, "abcdef", 6, 100));
	T_EQ(6, usched_pread(fd, buf, 6, 100));
	T_CHECK(!memcmp(buf, "abcdef", 6));
	T_EQ(3, usched_pread(fd, buf, 10, 103));	/* short at EOF */
	T_CHECK(!memcmp(buf, "def", 3));
	T_EQ(0, usched_pread(fd, buf, 10, 500));
	/* read/write use and move the file position; pread/pwrite do not. */
	T_EQ(2, usched_write(fd, "xy", 2));
	T_EQ(2, usched_write(fd, "zw", 2));
	T_EQ(4, usched_pread(fd, buf, 4, 0));
	T_CHECK(!memcmp(buf, "xyzw", 4));
	T_EQ(2, usched_read(fd, buf, 2));
	T_CHECK(buf[0] == 0 && buf[1] == 0);
	T_EQ(0, usched_fsync(fd));
	T_EQ(0, usched_close(fd));
	/* O_CREAT | O_EXCL through the ring. */
	T_EQ(-EEXIST, usched_openat(AT_FDCWD, path, O_RDWR | O_CREAT | O_EXCL,
				    0600));
	T_EQ(0, unlink(path));
	fd = usched_openat(AT_FDCWD, path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC,
			   0600);
	T_CHECK(fd >= 0);
	T_EQ(0, usched_close(fd));
	T_EQ(0, unlink(path));
	return 0;
}

TEST(file_pread_pwrite_fsync_openat)
{
	ASSERT_UT_OK(ut_run(t_file, NULL));
}

static int t_socketpair(void *arg)
{
	char buf[64];
	int sv[2];

	T_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	T_EQ(-EAGAIN, usched_recv(sv[0], buf, sizeof(buf), MSG_DONTWAIT));
	T_EQ(3, usched_send(sv[1], "abc", 3, 0));
	T_EQ(3, usched_recv(sv[0], buf, sizeof(buf), MSG_PEEK));
	T_EQ(3, usched_recv(sv[0], buf, sizeof(buf), 0));
	T_CHECK(!memcmp(buf, "abc", 3));
	/* A read and a write work on sockets too. */
	T_EQ(2, usched_write(sv[0], "de", 2));
	T_EQ(2, usched_read(sv[1], buf, sizeof(buf)));
	T_CHECK(!memcmp(buf, "de", 2));
	T_EQ(0, usched_close(sv[1]));
	T_EQ(0, usched_recv(sv[0], buf, sizeof(buf), 0));	/* EOF */
	T_EQ(-EPIPE, usched_send(sv[0], "x", 1, MSG_NOSIGNAL));
	T_EQ(0, usched_close(sv[0]));
	return 0;
}

TEST(recv_send_socketpair)
{
	ASSERT_UT_OK(ut_run(t_socketpair, NULL));
}

struct tcp {
	int lfd;
	struct sockaddr_in addr;
};

static int tcp_server(void *arg)
{
	struct tcp *c = arg;
	struct sockaddr_in peer;
	socklen_t len = sizeof(peer);
	char buf[8];
	int fd;

	fd = usched_accept(c->lfd, &peer, &len, SOCK_CLOEXEC);
	T_CHECK(fd >= 0);
	T_EQ(sizeof(peer), len);
	T_EQ(AF_INET, peer.sin_family);
	T_EQ(htonl(INADDR_LOOPBACK), peer.sin_addr.s_addr);
	T_EQ(4, usched_read(fd, buf, 4));
	T_CHECK(!memcmp(buf, "ping", 4));
	T_EQ(4, usched_write(fd, "pong", 4));
	T_EQ(0, usched_close(fd));
	return 0;
}

static int t_tcp(void *arg)
{
	struct tcp c = { .addr.sin_family = AF_INET };
	socklen_t len = sizeof(c.addr);
	usched_task_t *srv;
	char buf[8];
	int fd;

	c.addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	c.lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	T_CHECK(c.lfd >= 0);
	/* accept on a socket that does not listen yet: EINVAL. */
	T_EQ(-EINVAL, usched_accept(c.lfd, NULL, NULL, 0));
	T_EQ(0, bind(c.lfd, (struct sockaddr *)&c.addr, sizeof(c.addr)));
	T_EQ(0, getsockname(c.lfd, (struct sockaddr *)&c.addr, &len));
	T_EQ(0, listen(c.lfd, 16));
	/* The server parks in accept before the client connects. */
	T_EQ(0, ut_spawn(&srv, tcp_server, &c));
	T_EQ(0, usched_sleep(10 * MS));
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	T_CHECK(fd >= 0);
	T_EQ(0, usched_connect(fd, &c.addr, sizeof(c.addr)));
	T_EQ(4, usched_write(fd, "ping", 4));
	T_EQ(4, usched_read(fd, buf, 4));
	T_CHECK(!memcmp(buf, "pong", 4));
	T_EQ(0, ut_join(srv));
	T_EQ(0, usched_close(fd));
	T_EQ(0, usched_close(c.lfd));

	/* Nobody listens on the port any more. */
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	T_CHECK(fd >= 0);
	T_EQ(-ECONNREFUSED, usched_connect(fd, &c.addr, sizeof(c.addr)));
	T_EQ(0, usched_close(fd));
	return 0;
}

TEST(accept_connect_tcp)
{
	ASSERT_UT_OK(ut_run(t_tcp, NULL));
}

static int t_poll(void *arg)
{
	char c = 'p';
	uint64_t t0;
	int p[2];

	T_EQ(0, pipe2(p, O_CLOEXEC));
	t0 = ut_now();
	T_EQ(-ETIMEDOUT, usched_poll(p[0], POLLIN, t0 + 30 * MS));
	T_CHECK(ut_now() >= t0 + 30 * MS);
	T_CHECK(ut_now() < t0 + 2000 * MS);
	/* A deadline already past: a non-blocking attempt. */
	T_EQ(-ETIMEDOUT, usched_poll(p[0], POLLIN, 0));
	T_EQ(POLLOUT, usched_poll(p[1], POLLOUT, USCHED_NEVER));
	T_EQ(1, usched_write(p[1], &c, 1));
	T_EQ(POLLIN, usched_poll(p[0], POLLIN, 0));
	T_EQ(POLLIN, usched_poll(p[0], POLLIN, USCHED_NEVER));
	T_EQ(0, usched_close(p[1]));
	T_EQ(POLLIN | POLLHUP, usched_poll(p[0], POLLIN, USCHED_NEVER));
	T_EQ(0, usched_close(p[0]));
	T_EQ(-EBADF, usched_poll(p[0], POLLIN, USCHED_NEVER));
	return 0;
}

TEST(poll_revents_and_deadline)
{
	ASSERT_UT_OK(ut_run(t_poll, NULL));
}

/* A pipe a plain thread writes to after a while. */
struct late_write {
	int fd;
	unsigned int ms;
	pthread_t th;
};

static void *late_writer(void *arg)
{
	struct late_write *lw = arg;

	ut_thread_sleep_ms(lw->ms);
	if (write(lw->fd, "L", 1) != 1)
		T_NOTE(!"late write");
	return NULL;
}

static int t_poll_woken(void *arg)
{
	struct late_write lw = { .ms = 30 };
	int p[2];

	T_EQ(0, pipe2(p, O_CLOEXEC));
	lw.fd = p[1];
	T_EQ(0, pthread_create(&lw.th, NULL, late_writer, &lw));
	/* The idle worker sleeps on the ring; the completion wakes it. */
	T_EQ(POLLIN, usched_poll(p[0], POLLIN, ut_now() + 5000 * MS));
	T_EQ(0, pthread_join(lw.th, NULL));
	close(p[0]);
	close(p[1]);
	return 0;
}

TEST(poll_woken_by_other_thread)
{
	ASSERT_UT_OK(ut_run_slots(1, t_poll_woken, NULL));
}

/* ---- errors --------------------------------------------------------------- */

/* The same checks run in a task and on a plain thread. */
static int check_errors(void)
{
	char buf[8];
	int p[2], s;

	T_EQ(0, pipe2(p, O_CLOEXEC));
	s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	T_CHECK(s >= 0);
	T_EQ(-EBADF, usched_read(-1, buf, 1));
	T_EQ(-EBADF, usched_write(-1, buf, 1));
	T_EQ(-EBADF, usched_pread(-1, buf, 1, 0));
	T_EQ(-EBADF, usched_pwrite(-1, buf, 1, 0));
	T_EQ(-EINVAL, usched_pread(p[0], buf, 1, -1));
	T_EQ(-EINVAL, usched_pwrite(p[1], buf, 1, -1));
	/* Not -ESPIPE on a pipe: io_uring ignores a stream's offset (io.c). */
	T_EQ(-EBADF, usched_write(p[0], "x", 1));	/* the read end */
	T_EQ(-EBADF, usched_recv(-1, buf, 1, 0));
	T_EQ(-ENOTSOCK, usched_recv(p[0], buf, 1, 0));
	T_EQ(-ENOTSOCK, usched_send(p[1], "x", 1, 0));
	T_EQ(-ENOTSOCK, usched_accept(p[0], NULL, NULL, 0));
	T_EQ(-EINVAL, usched_accept(s, NULL, NULL, 0));	/* not listening */
	T_EQ(-EBADF, usched_connect(-1, "", 0));
	T_EQ(-EBADF, usched_poll(-1, POLLIN, USCHED_NEVER));
	T_EQ(-EBADF, usched_fsync(-1));
	T_EQ(-EINVAL, usched_fsync(p[0]));
	T_EQ(-ENOENT, usched_openat(AT_FDCWD, "/nonexistent/usched", O_RDONLY, 0));
	T_EQ(-EBADF, usched_openat(-1, "relative", O_RDONLY, 0));
	T_EQ(-EBADF, usched_close(-1));
	T_EQ(0, usched_close(s));
	T_EQ(-EBADF, usched_close(s));
	T_EQ(-EBADF, usched_read(s, buf, 1));
	T_EQ(0, usched_close(p[0]));
	T_EQ(0, usched_close(p[1]));
	return 0;
}

static int t_errors(void *arg)
{
	return check_errors();
}

TEST(errors_are_negative_errno)
{
	ASSERT_UT_OK(ut_run(t_errors, NULL));
}

/* ---- parking only the task ------------------------------------------------ */

struct parks {
	int p[2];
	atomic_int read_done;
	atomic_int ticks_before_read;
	uint64_t handovers0;
};

static int parks_reader(void *arg)
{
	struct parks *c = arg;
	char buf[4];

	T_EQ(1, usched_read(c->p[0], buf, sizeof(buf)));
	T_EQ('t', buf[0]);
	atomic_store(&c->read_done, 1);
	return 0;
}

static int parks_ticker(void *arg)
{
	struct parks *c = arg;
	int i;

	for (i = 0; i < 1000; i++) {
		if (atomic_load(&c->read_done))
			break;
		usched_yield();
	}
	atomic_store(&c->ticks_before_read, i);
	T_EQ(1, usched_write(c->p[1], "t", 1));
	return 0;
}

static int t_parks(void *arg)
{
	struct parks *c = arg;
	usched_task_t *r, *t;

	T_EQ(0, pipe2(c->p, O_CLOEXEC));
	c->handovers0 = handovers();
	T_EQ(0, ut_spawn(&r, parks_reader, c));
	T_EQ(0, usched_yield());	/* let the reader park */
	T_EQ(0, ut_spawn(&t, parks_ticker, c));
	T_EQ(0, ut_join(t));
	T_EQ(0, ut_join(r));
	/* On the one slot, the ticker ran all along while the read waited. */
	T_EQ(1000, atomic_load(&c->ticks_before_read));
	/* And no slot was handed over for it: no worker blocked (needs the
	 * ring; without it the read blocks its worker, by design). */
	if (have_uring())
		T_EQ(c->handovers0, handovers());
	close(c->p[0]);
	close(c->p[1]);
	return 0;
}

TEST(read_parks_only_its_task)
{
	struct parks c = { 0 };

	ASSERT_UT_OK(ut_run_slots(1, t_parks, &c));
}

struct starve {
	int p[2];
	atomic_int done;
	atomic_int gave_up;
};

static int starve_reader(void *arg)
{
	struct starve *c = arg;
	char buf[4];

	T_EQ(1, usched_read(c->p[0], buf, sizeof(buf)));
	atomic_store(&c->done, 1);
	return 0;
}

static int starve_spinner(void *arg)
{
	struct starve *c = arg;
	uint64_t end = ut_now() + 3000 * MS;

	while (!atomic_load(&c->done)) {
		if (ut_now() > end) {
			atomic_store(&c->gave_up, 1);
			break;
		}
		usched_yield();
	}
	return 0;
}

static int t_starve(void *arg)
{
	struct starve *c = arg;
	struct late_write lw = { .ms = 20 };
	usched_task_t *r, *s[2];

	T_EQ(0, pipe2(c->p, O_CLOEXEC));
	lw.fd = c->p[1];
	T_EQ(0, ut_spawn(&r, starve_reader, c));
	T_EQ(0, ut_spawn(&s[0], starve_spinner, c));
	T_EQ(0, ut_spawn(&s[1], starve_spinner, c));
	T_EQ(0, pthread_create(&lw.th, NULL, late_writer, &lw));
	T_EQ(0, ut_join(r));
	T_EQ(0, ut_join(s[0]));
	T_EQ(0, ut_join(s[1]));
	T_EQ(0, pthread_join(lw.th, NULL));
	/* The completion was reaped while tasks kept the slot busy. */
	T_EQ(0, atomic_load(&c->gave_up));
	close(c->p[0]);
	close(c->p[1]);
	return 0;
}

TEST(completion_reaped_while_tasks_run)
{
	struct starve c = { 0 };

	ASSERT_UT_OK(ut_run_slots(1, t_starve, &c));
}

/* ---- deadlines -------------------------------------------------------------- */

static int deadline_child(void *arg)
{
	/* Each task starts without an I/O deadline. */
	return usched_io_deadline(USCHED_NEVER) == USCHED_NEVER ? 0 : -1;
}

static int t_deadline(void *arg)
{
	usched_task_t *child;
	uint64_t t0, d;
	char buf[4];
	int p[2], sv[2];

	T_EQ(0, pipe2(p, O_CLOEXEC));
	T_EQ(USCHED_NEVER, usched_io_deadline(USCHED_NEVER));
	t0 = ut_now();
	d = t0 + 50 * MS;
	T_EQ(USCHED_NEVER, usched_io_deadline(d));
	/* Per task: a child does not inherit it. */
	T_EQ(0, ut_spawn(&child, deadline_child, NULL));
	T_EQ(0, ut_join(child));
	T_EQ(-ETIMEDOUT, usched_read(p[0], buf, sizeof(buf)));
	T_CHECK(ut_now() >= d);
	T_CHECK(ut_now() < t0 + 2000 * MS);
	/* Past the deadline the call is a non-blocking attempt. */
	T_EQ(1, usched_write(p[1], "a", 1));
	T_EQ(1, usched_read(p[0], buf, sizeof(buf)));
	T_EQ('a', buf[0]);
	T_EQ(-ETIMEDOUT, usched_read(p[0], buf, sizeof(buf)));
	T_EQ(d, usched_io_deadline(USCHED_NEVER));
	/* The timed-out reads were really cancelled: nothing eats this byte. */
	T_EQ(1, usched_write(p[1], "b", 1));
	T_EQ(1, usched_read(p[0], buf, sizeof(buf)));
	T_EQ('b', buf[0]);

	/* The same on a socket, and for usched_poll: the earlier deadline. */
	T_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	t0 = ut_now();
	usched_io_deadline(t0 + 30 * MS);
	T_EQ(-ETIMEDOUT, usched_recv(sv[0], buf, sizeof(buf), 0));
	T_CHECK(ut_now() >= t0 + 30 * MS);
	t0 = ut_now();
	usched_io_deadline(t0 + 20 * MS);
	T_EQ(-ETIMEDOUT, usched_poll(sv[0], POLLIN, USCHED_NEVER));
	T_CHECK(ut_now() >= t0 + 20 * MS);
	T_CHECK(ut_now() < t0 + 2000 * MS);
	usched_io_deadline(USCHED_NEVER);
	T_EQ(1, usched_send(sv[1], "c", 1, 0));
	T_EQ(1, usched_recv(sv[0], buf, sizeof(buf), 0));
	T_EQ('c', buf[0]);
	close(sv[0]);
	close(sv[1]);
	close(p[0]);
	close(p[1]);
	return 0;
}

TEST(io_deadline_etimedout)
{
	ASSERT_UT_OK(ut_run(t_deadline, NULL));
}

/* Opening a FIFO waits for the other end, in io-wq (not on a poll). */
static int t_deadline_iowq(void *arg)
{
	char path[256];
	uint64_t t0;
	int fd;

	T_EQ(0, make_fifo(path, sizeof(path)));
	t0 = ut_now();
	usched_io_deadline(t0 + 50 * MS);
	T_EQ(-ETIMEDOUT, usched_openat(AT_FDCWD, path, O_RDONLY | O_CLOEXEC, 0));
	T_CHECK(ut_now() >= t0 + 50 * MS);
	/* A writer waits for a reader too (the ring alone says ENXIO). */
	t0 = ut_now();
	usched_io_deadline(t0 + 50 * MS);
	T_EQ(-ETIMEDOUT, usched_openat(AT_FDCWD, path, O_WRONLY | O_CLOEXEC, 0));
	T_CHECK(ut_now() >= t0 + 50 * MS);
	/* O_CREAT goes to io-wq at once. */
	t0 = ut_now();
	usched_io_deadline(t0 + 50 * MS);
	T_EQ(-ETIMEDOUT, usched_openat(AT_FDCWD, path,
				       O_RDONLY | O_CREAT | O_CLOEXEC, 0600));
	usched_io_deadline(USCHED_NEVER);
	/* No reader waits in the FIFO's open any more: ENXIO. */
	fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	T_EQ(-1, fd);
	T_EQ(ENXIO, errno);
	drop_fifo(path);
	return 0;
}

TEST(io_deadline_cuts_blocking_open)
{
	ASSERT_UT_OK(ut_run(t_deadline_iowq, NULL));
}

struct fifo_writer {
	const char *path;
	pthread_t th;
};

/* After 30 ms, open the FIFO as soon as a reader waits, and write. */
static void *fifo_writer(void *arg)
{
	struct fifo_writer *fw = arg;
	uint64_t end = ut_now() + 5000 * MS;
	int fd;

	ut_thread_sleep_ms(30);
	while ((fd = open(fw->path, O_WRONLY | O_NONBLOCK | O_CLOEXEC)) < 0 &&
	       errno == ENXIO && ut_now() < end)
		ut_thread_sleep_ms(1);
	if (fd < 0 || write(fd, "f", 1) != 1)
		T_NOTE(!"fifo writer");
	if (fd >= 0)
		close(fd);
	return NULL;
}

static int t_fifo(void *arg)
{
	struct fifo_writer fw;
	char path[256], c = 0;
	uint64_t t0;
	int fd;

	T_EQ(0, make_fifo(path, sizeof(path)));
	fw.path = path;
	t0 = ut_now();
	T_EQ(0, pthread_create(&fw.th, NULL, fifo_writer, &fw));
	fd = usched_openat(AT_FDCWD, path, O_RDONLY | O_CLOEXEC, 0);
	T_CHECK(fd >= 0);
	T_CHECK(ut_now() >= t0 + 30 * MS);
	T_EQ(1, usched_read(fd, &c, 1));
	T_EQ('f', c);
	T_EQ(0, pthread_join(fw.th, NULL));
	T_EQ(0, usched_close(fd));
	drop_fifo(path);
	return 0;
}

TEST(openat_fifo_waits_for_writer)
{
	ASSERT_UT_OK(ut_run(t_fifo, NULL));
}

/* ---- cancellation ------------------------------------------------------------- */

FIXTURE(cancel) {
	int unused;
};

FIXTURE_VARIANT(cancel) {
	unsigned int slots;
};

FIXTURE_VARIANT_ADD(cancel, one_slot) {
	.slots = 1,
};

FIXTURE_VARIANT_ADD(cancel, four_slots) {
	.slots = 4,
};

FIXTURE_SETUP(cancel)
{
}

FIXTURE_TEARDOWN(cancel)
{
}

static int cancel_reader(void *arg)
{
	char buf[4];

	return (int)usched_read(*(int *)arg, buf, sizeof(buf));
}

static int cancel_recv(void *arg)
{
	char buf[4];

	return (int)usched_recv(*(int *)arg, buf, sizeof(buf), 0);
}

/* Cancel a task parked in @fn reading @rfd; then check nothing reads. */
static int cancel_one(int (*fn)(void *), int rfd, int wfd)
{
	usched_task_t *t;
	char c = 0;

	T_EQ(0, ut_spawn(&t, fn, &rfd));
	T_EQ(0, usched_sleep(20 * MS));
	T_EQ(0, usched_cancel(t));
	T_EQ(-ECANCELED, ut_join(t));
	/* The op was cancelled: the byte stays for us. */
	T_EQ(1, write(wfd, "k", 1));
	T_CHECK(ready_within(rfd, POLLIN, 1000));
	T_EQ(1, read(rfd, &c, 1));
	T_EQ('k', c);
	return 0;
}

static int t_cancel(void *arg)
{
	int p[2], sv[2];

	T_EQ(0, pipe2(p, O_CLOEXEC));
	T_EQ(0, cancel_one(cancel_reader, p[0], p[1]));
	T_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	T_EQ(0, cancel_one(cancel_recv, sv[0], sv[1]));
	close(p[0]);
	close(p[1]);
	close(sv[0]);
	close(sv[1]);
	return 0;
}

TEST_F(cancel, parked_read_ecanceled)
{
	ASSERT_UT_OK(ut_run_slots(variant->slots, t_cancel, NULL));
}

static int cancel_open(void *arg)
{
	return usched_openat(AT_FDCWD, arg, O_RDONLY | O_CLOEXEC, 0);
}

static int t_cancel_iowq(void *arg)
{
	char path[256];
	usched_task_t *t;
	int fd;

	T_EQ(0, make_fifo(path, sizeof(path)));
	T_EQ(0, ut_spawn(&t, cancel_open, path));
	T_EQ(0, usched_sleep(30 * MS));
	T_EQ(0, usched_cancel(t));
	T_EQ(-ECANCELED, ut_join(t));
	/* No reader waits in the FIFO's open any more: ENXIO. */
	fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	T_EQ(-1, fd);
	T_EQ(ENXIO, errno);
	drop_fifo(path);
	return 0;
}

TEST_F(cancel, blocking_open_ecanceled)
{
	ASSERT_UT_OK(ut_run_slots(variant->slots, t_cancel_iowq, NULL));
}

struct precancel {
	int p[2];
};

static int precancel_task(void *arg)
{
	struct precancel *c = arg;
	char buf[4];

	/* Cancelled while sleeping; every later call says so at once. */
	if (usched_sleep(5000 * MS) != -ECANCELED)
		return -1;
	if (usched_read(c->p[0], buf, sizeof(buf)) != -ECANCELED)
		return -2;
	if (usched_write(c->p[1], "w", 1) != -ECANCELED)
		return -3;
	return usched_poll(c->p[0], POLLIN, USCHED_NEVER);
}

static int t_precancel(void *arg)
{
	struct precancel c;
	usched_task_t *t;
	char buf[4];

	T_EQ(0, pipe2(c.p, O_CLOEXEC));
	T_EQ(1, usched_write(c.p[1], "d", 1));
	T_EQ(0, ut_spawn(&t, precancel_task, &c));
	T_EQ(0, usched_sleep(10 * MS));
	T_EQ(0, usched_cancel(t));
	T_EQ(-ECANCELED, ut_join(t));
	/* Neither the read nor the write happened. */
	T_EQ(1, usched_read(c.p[0], buf, sizeof(buf)));
	T_EQ('d', buf[0]);
	T_EQ(0, ready_within(c.p[0], POLLIN, 0));
	close(c.p[0]);
	close(c.p[1]);
	return 0;
}

TEST_F(cancel, cancelled_task_calls_ecanceled)
{
	ASSERT_UT_OK(ut_run_slots(variant->slots, t_precancel, NULL));
}

#define CANCEL_MANY	200

static int t_cancel_many(void *arg)
{
	static int p[CANCEL_MANY][2];
	static usched_task_t *t[CANCEL_MANY];
	char c;
	int i;

	for (i = 0; i < CANCEL_MANY; i++) {
		T_EQ(0, pipe2(p[i], O_CLOEXEC));
		T_EQ(0, ut_spawn(&t[i], cancel_reader, &p[i][0]));
	}
	T_EQ(0, usched_sleep(50 * MS));
	for (i = 0; i < CANCEL_MANY; i++)
		T_EQ(0, usched_cancel(t[i]));
	for (i = 0; i < CANCEL_MANY; i++)
		T_EQ(-ECANCELED, ut_join(t[i]));
	for (i = 0; i < CANCEL_MANY; i++) {
		T_EQ(1, write(p[i][1], "m", 1));
		T_CHECK(ready_within(p[i][0], POLLIN, 1000));
		T_EQ(1, read(p[i][0], &c, 1));
		close(p[i][0]);
		close(p[i][1]);
	}
	return 0;
}

TEST_F(cancel, many_parked_reads)
{
	ASSERT_UT_OK(ut_run_slots(variant->slots, t_cancel_many, NULL));
}

/*
 * Cancels racing completions: readers take a byte at a time while writers
 * write, and are cancelled at random moments.  A read that completed
 * before its cancel must report its byte, one that was cancelled must not
 * have taken one: every byte written is read exactly once, by the reader
 * or, afterwards, by the check.
 */
#define RACE_PIPES	64
#define RACE_BYTES	200

struct race {
	int p[2];
	int got;		/* bytes the reader reported */
	uint64_t seed;
};

static int race_reader(void *arg)
{
	struct race *r = arg;
	char c;
	ssize_t n;

	while ((n = usched_read(r->p[0], &c, 1)) == 1)
		r->got++;
	return n == -ECANCELED ? 0 : (int)n;
}

static int race_writer(void *arg)
{
	struct race *r = arg;
	int i;

	for (i = 0; i < RACE_BYTES; i++) {
		T_EQ(1, usched_write(r->p[1], "r", 1));
		if (ut_rand(&r->seed) % 4 == 0)
			usched_yield();
	}
	return 0;
}

static int t_cancel_race(void *arg)
{
	static struct race r[RACE_PIPES];
	static usched_task_t *rd[RACE_PIPES], *wr[RACE_PIPES];
	uint64_t seed = 42;
	char buf[RACE_BYTES];
	int i, left;

	for (i = 0; i < RACE_PIPES; i++) {
		memset(&r[i], 0, sizeof(r[i]));
		r[i].seed = (uint64_t)i * 7919 + 1;
		T_EQ(0, pipe2(r[i].p, O_CLOEXEC));
		T_EQ(0, ut_spawn(&rd[i], race_reader, &r[i]));
		T_EQ(0, ut_spawn(&wr[i], race_writer, &r[i]));
	}
	for (i = 0; i < RACE_PIPES; i++) {
		if (ut_rand(&seed) % 2)
			usched_yield();
		T_EQ(0, usched_cancel(rd[i]));
	}
	for (i = 0; i < RACE_PIPES; i++) {
		T_EQ(0, ut_join(wr[i]));
		T_EQ(0, ut_join(rd[i]));
		left = 0;
		while (ready_within(r[i].p[0], POLLIN, 0)) {
			ssize_t n = read(r[i].p[0], buf, sizeof(buf));

			T_CHECK(n > 0);
			left += (int)n;
		}
		T_EQ(RACE_BYTES, r[i].got + left);
		close(r[i].p[0]);
		close(r[i].p[1]);
	}
	return 0;
}

TEST_F(cancel, races_completions)
{
	ASSERT_UT_OK(ut_run_slots(variant->slots, t_cancel_race, NULL));
}

/* ---- outside tasks ------------------------------------------------------------- */

static int plain_calls(void)
{
	char buf[8];
	uint64_t t0;
	int p[2];

	T_EQ(0, check_errors());
	T_EQ(0, pipe2(p, O_CLOEXEC));
	T_EQ(3, usched_write(p[1], "xyz", 3));
	T_EQ(3, usched_read(p[0], buf, sizeof(buf)));
	T_CHECK(!memcmp(buf, "xyz", 3));
	t0 = ut_now();
	T_EQ(-ETIMEDOUT, usched_poll(p[0], POLLIN, t0 + 20 * MS));
	T_CHECK(ut_now() >= t0 + 20 * MS);
	/* A plain thread has a deadline of its own, too. */
	T_EQ(USCHED_NEVER, usched_io_deadline(ut_now() + 20 * MS));
	T_EQ(-ETIMEDOUT, usched_read(p[0], buf, sizeof(buf)));
	usched_io_deadline(USCHED_NEVER);
	T_EQ(0, usched_close(p[0]));
	T_EQ(0, usched_close(p[1]));
	return 0;
}

static void *plain_thread(void *arg)
{
	*(int *)arg = plain_calls();
	return NULL;
}

static int t_plain_thread(void *arg)
{
	pthread_t th;
	int r = -1;

	T_EQ(0, pthread_create(&th, NULL, plain_thread, &r));
	T_EQ(0, pthread_join(th, NULL));
	T_EQ(0, r);
	return 0;
}

TEST(plain_thread_calls_syscall)
{
	/* Before any runtime, then from a thread while one runs. */
	ASSERT_EQ(0, plain_calls());
	ASSERT_UT_OK(ut_run(t_plain_thread, NULL));
	ASSERT_EQ(0, io_ops());
}

/* ---- many tasks ------------------------------------------------------------------ */

#define ECHO_PAIRS	500
#define ECHO_ROUNDS	10
#define ECHO_MAX	3000

struct echo {
	int sv[2];
	uint32_t id;
};

struct echo_run {
	struct echo *e;
	int pairs;
	int uring;
};

static int echo_server(void *arg)
{
	struct echo *e = arg;
	char buf[4096];
	ssize_t n;

	for (;;) {
		n = usched_recv(e->sv[1], buf, sizeof(buf), 0);
		if (n == 0)
			break;
		T_CHECK(n > 0);
		T_EQ(0, send_all(e->sv[1], buf, (size_t)n));
	}
	T_EQ(0, usched_close(e->sv[1]));
	return 0;
}

static int echo_client(void *arg)
{
	struct echo *e = arg;
	char out[ECHO_MAX], in[ECHO_MAX];
	uint64_t seed = e->id * 0x9e3779b97f4a7c15ull + 1;
	size_t len, i;
	int r;

	for (r = 0; r < ECHO_ROUNDS; r++) {
		len = 1 + ut_rand(&seed) % ECHO_MAX;
		for (i = 0; i < len; i++)
			out[i] = (char)(ut_rand(&seed) >> 56);
		T_EQ(0, send_all(e->sv[0], out, len));
		T_EQ(0, recv_all(e->sv[0], in, len));
		T_CHECK(!memcmp(in, out, len));
	}
	T_EQ(0, usched_close(e->sv[0]));
	return 0;
}

static int t_echo(void *arg)
{
	struct echo_run *er = arg;
	usched_task_t **t;
	uint64_t ops = io_ops();
	int i, n = er->pairs;

	t = calloc((size_t)n * 2, sizeof(*t));
	T_CHECK(t);
	for (i = 0; i < n; i++) {
		er->e[i].id = (uint32_t)i;
		T_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
				   er->e[i].sv));
		T_EQ(0, ut_spawn(&t[2 * i], echo_server, &er->e[i]));
		T_EQ(0, ut_spawn(&t[2 * i + 1], echo_client, &er->e[i]));
	}
	for (i = 0; i < 2 * n; i++)
		T_EQ(0, ut_join(t[i]));
	free(t);
	/* Each round trip is at least a send and a recv on each side. */
	if (er->uring)
		T_CHECK(io_ops() >= ops + (uint64_t)n * ECHO_ROUNDS * 4);
	return 0;
}

/* Pairs that fit the fd limit (raised to the hard limit). */
static int echo_pairs(int want)
{
	struct rlimit rl;
	int room;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return 16;
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	room = rl.rlim_cur > 100000 ? 100000 : (int)rl.rlim_cur;
	room = (room - 128) / 2;
	return want < room ? want : room;
}

TEST(echo_many_tasks)
{
	struct echo_run er = { .pairs = echo_pairs(ECHO_PAIRS),
			       .uring = have_uring() };

	er.e = calloc((size_t)er.pairs, sizeof(*er.e));
	ASSERT_NE(NULL, er.e);
	TH_LOG("%d tasks", 2 * er.pairs);
	ASSERT_UT_OK(ut_run_slots(0, t_echo, &er));
	free(er.e);
}

TEST(echo_one_slot)
{
	struct echo_run er = { .pairs = echo_pairs(100), .uring = have_uring() };

	er.e = calloc((size_t)er.pairs, sizeof(*er.e));
	ASSERT_NE(NULL, er.e);
	ASSERT_UT_OK(ut_run_slots(1, t_echo, &er));
	free(er.e);
}

/* ---- a runtime without io_uring ----------------------------------------------------- */

static int t_no_ring(void *arg)
{
	struct echo_run *er = arg;
	uint64_t t0;
	char buf[4];
	int p[2];

	T_EQ(0, t_read_write_pipe(&er->uring));
	T_EQ(0, t_file(NULL));
	T_EQ(0, check_errors());
	T_EQ(0, pipe2(p, O_CLOEXEC));
	t0 = ut_now();
	T_EQ(-ETIMEDOUT, usched_poll(p[0], POLLIN, t0 + 20 * MS));
	T_CHECK(ut_now() >= t0 + 20 * MS);
	usched_io_deadline(ut_now() + 20 * MS);
	T_EQ(-ETIMEDOUT, usched_read(p[0], buf, sizeof(buf)));
	usched_io_deadline(USCHED_NEVER);
	close(p[0]);
	close(p[1]);
	T_EQ(0, t_echo(er));
	T_EQ(0, io_ops());
	return 0;
}

TEST(no_io_uring_falls_back)
{
	struct echo_run er = { .pairs = 8, .uring = 0 };

	ASSERT_EQ(0, deny_io_uring());
	ASSERT_EQ(0, have_uring());
	er.e = calloc((size_t)er.pairs, sizeof(*er.e));
	ASSERT_NE(NULL, er.e);
	ASSERT_UT_OK(ut_run(t_no_ring, &er));
	free(er.e);
}

TEST_HARNESS_MAIN
