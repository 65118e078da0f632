// SPDX-License-Identifier: GPL-2.0
/*
 * echo-client.c - many concurrent clients of an echo server, one task each,
 * checking every echo.
 *
 * Each client task connects (usched_connect()), then for each message
 * writes one line and reads it back in full, comparing the bytes.  All
 * clients belong to one task group: the first that fails (a wrong echo, a
 * closed connection, the 10 s I/O deadline) fails the group, which cancels
 * the others, and usched_group_wait() returns that failure.
 *
 * usched_main() runs the program's main function as the first task and
 * stops the runtime when it and every task it spawned have returned.
 *
 * Usage: echo-client [-p PORT] [-c CLIENTS] [-m MESSAGES]
 *   -p PORT      port of the server on 127.0.0.1 (default 7777)
 *   -c CLIENTS   concurrent connections (default 10)
 *   -m MESSAGES  messages per connection (default 100)
 * Exit status 0 when every message came back intact, 1 otherwise.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <usched.h>

#define SEC	1000000000ull

static int port = 7777, nclients = 10, nmessages = 100;

/* Read exactly @len bytes (a TCP stream may deliver them in pieces). */
static int read_full(int fd, char *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		n = usched_read(fd, buf + got, len - got);
		if (n == 0)
			return -ECONNRESET;	/* the server closed early */
		if (n < 0)
			return (int)n;
		got += n;
	}
	return 0;
}

static int client(void *arg)
{
	int id = (int)(intptr_t)arg;
	struct sockaddr_in a = {
		.sin_family = AF_INET,
		.sin_port = htons(port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	char out[64], in[64];
	int fd, r, m, len;

	/* Every I/O call of this task fails with -ETIMEDOUT after 10 s. */
	usched_io_deadline(usched_now() + 10 * SEC);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	r = usched_connect(fd, &a, sizeof(a));
	for (m = 0; r == 0 && m < nmessages; m++) {
		len = snprintf(out, sizeof(out), "client %d message %d\n", id, m);
		r = usched_write(fd, out, len);
		if (r >= 0)
			r = r == len ? 0 : -EIO;	/* a short write: unexpected here */
		if (r == 0)
			r = read_full(fd, in, len);
		if (r == 0 && memcmp(in, out, len)) {
			fprintf(stderr, "echo-client: client %d: got \"%.*s\" for \"%.*s\"\n",
				id, len - 1, in, len - 1, out);
			r = -EBADMSG;
		}
	}
	usched_close(fd);
	if (r < 0 && r != -ECANCELED)
		fprintf(stderr, "echo-client: client %d: %s\n", id, strerror(-r));
	return r;	/* non-zero fails the group: the others are cancelled */
}

static int run(void *unused)
{
	usched_group_t *g;
	struct usched_attr attr;
	int i, r;

	r = usched_group_create(&g);
	if (r < 0)
		return r;
	usched_attr_init(&attr);
	attr.name = "client";
	for (i = 0; i < nclients && r == 0; i++)
		r = usched_group_spawn(g, &attr, client, (void *)(intptr_t)i);
	if (r < 0)
		usched_group_cancel(g);
	i = usched_group_wait(g);
	usched_group_destroy(g);
	return r < 0 ? r : i;
}

int main(int argc, char **argv)
{
	int c, r;

	while ((c = getopt(argc, argv, "p:c:m:h")) != -1) {
		switch (c) {
		case 'p':
			port = atoi(optarg);
			break;
		case 'c':
			nclients = atoi(optarg);
			break;
		case 'm':
			nmessages = atoi(optarg);
			break;
		default:
			fprintf(stderr, "usage: echo-client [-p PORT] [-c CLIENTS] [-m MESSAGES]\n");
			return c == 'h' ? 0 : 2;
		}
	}
	r = usched_main(NULL, run, NULL);
	if (r) {
		fprintf(stderr, "echo-client: FAILED: %s\n", strerror(r < 0 ? -r : r));
		return 1;
	}
	printf("echo-client: %d clients x %d messages: every echo intact\n",
	       nclients, nmessages);
	return 0;
}
