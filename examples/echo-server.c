// SPDX-License-Identifier: GPL-2.0
/*
 * echo-server.c - a TCP echo server written in plain blocking style: one
 * task per connection.
 *
 * Each connection gets its own task, which reads and writes as if it had
 * a thread to itself: a loop of usched_read() and usched_write().  Those
 * calls park only the calling task while io_uring does the I/O, so ten
 * thousand idle connections cost ten thousand small stacks, not ten
 * thousand threads, and a handful of worker threads serve them all.
 *
 * Every task - the acceptor and one per connection - is a member of one
 * task group.  The program's main thread is not a task: it waits for
 * SIGINT or SIGTERM, then cancels the group, which makes each member's
 * pending call return -ECANCELED, and waits for the members to return
 * (structured concurrency: no task outlives the server).
 *
 * Usage: echo-server [-p PORT]
 *   -p PORT   port on 127.0.0.1 to listen on (default 7777; 0: any free
 *             port).  The first line of output says which one.
 *
 * Try it: build/examples/echo-server -p 7777 &  then
 *         build/examples/echo-client -p 7777 -c 100 -m 10
 */
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <usched.h>

static usched_group_t *group;		/* every task of the server */
static uint64_t nconns, nbytes;		/* totals, updated atomically */

/* One connection: echo until the peer closes it or the server stops. */
static int serve_connection(void *arg)
{
	int fd = (int)(intptr_t)arg;
	char buf[4096];
	ssize_t n, done, w;

	for (;;) {
		n = usched_read(fd, buf, sizeof(buf));
		if (n <= 0)		/* 0: closed; <0: error or cancelled */
			break;
		for (done = 0; done < n; done += w) {
			w = usched_write(fd, buf + done, n - done);
			if (w <= 0)
				goto out;
		}
		__atomic_add_fetch(&nbytes, n, __ATOMIC_RELAXED);
	}
out:
	usched_close(fd);
	/*
	 * Return 0 even after an error: a non-zero result would fail the
	 * group, and so cancel every other connection.  One client's broken
	 * connection is not the server's failure.
	 */
	return 0;
}

/* The acceptor: a task per accepted connection, in the same group. */
static int acceptor(void *arg)
{
	int lfd = (int)(intptr_t)arg;
	struct usched_attr attr;
	int fd, r;

	usched_attr_init(&attr);
	attr.name = "connection";
	for (;;) {
		fd = usched_accept(lfd, NULL, NULL, 0);
		if (fd == -ECANCELED)
			break;			/* the server is stopping */
		if (fd < 0) {
			/* E.g. EMFILE: say so, breathe, keep serving. */
			fprintf(stderr, "echo-server: accept: %s\n", strerror(-fd));
			usched_sleep(100 * 1000 * 1000);
			continue;
		}
		__atomic_add_fetch(&nconns, 1, __ATOMIC_RELAXED);
		r = usched_group_spawn(group, &attr, serve_connection,
				       (void *)(intptr_t)fd);
		if (r < 0) {
			close(fd);	/* out of memory, or cancelled */
			if (r == -ECANCELED)
				break;
		}
	}
	return 0;
}

static int listen_on(int port)
{
	struct sockaddr_in a = {
		.sin_family = AF_INET,
		.sin_port = htons(port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	int one = 1;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 1024)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The port @fd is bound to (the one the kernel picked for port 0). */
static int bound_port(int fd)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);

	if (getsockname(fd, (struct sockaddr *)&a, &len))
		return -1;
	return ntohs(a.sin_port);
}

int main(int argc, char **argv)
{
	struct usched_attr attr;
	sigset_t stop_signals;
	int port = 7777, lfd, sig, r, c;

	while ((c = getopt(argc, argv, "p:h")) != -1) {
		if (c != 'p') {
			fprintf(stderr, "usage: echo-server [-p PORT]\n");
			return c == 'h' ? 0 : 2;
		}
		port = atoi(optarg);
	}
	lfd = listen_on(port);
	if (lfd < 0) {
		perror("echo-server: listen");
		return 1;
	}

	/*
	 * Block the stop signals before any thread exists: the worker threads
	 * inherit the mask, so only sigwait() below ever sees them.
	 */
	sigemptyset(&stop_signals);
	sigaddset(&stop_signals, SIGINT);
	sigaddset(&stop_signals, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);

	r = usched_start(NULL);
	if (r == 0)
		r = usched_group_create(&group);
	usched_attr_init(&attr);
	attr.name = "acceptor";
	if (r == 0)
		r = usched_group_spawn(group, &attr, acceptor, (void *)(intptr_t)lfd);
	if (r < 0) {
		fprintf(stderr, "echo-server: cannot start: %s\n", strerror(-r));
		return 1;
	}

	printf("echo-server: listening on 127.0.0.1:%d (%s mode)\n",
	       bound_port(lfd), usched_mode_name(usched_mode()));
	fflush(stdout);

	/* The main thread is not a task: it may wait like any thread. */
	sigwait(&stop_signals, &sig);
	printf("echo-server: %s: stopping\n", strsignal(sig));

	usched_group_cancel(group);
	r = usched_group_wait(group);	/* -ECANCELED: cancelled, as asked */
	usched_group_destroy(group);
	close(lfd);
	usched_stop();
	printf("echo-server: %llu connections, %llu bytes echoed\n",
	       (unsigned long long)nconns, (unsigned long long)nbytes);
	return r == 0 || r == -ECANCELED ? 0 : 1;
}
