/* SPDX-License-Identifier: GPL-2.0 */
/*
 * usched_test.h - small helpers shared by the module selftests: open and
 * set up a group, map it, register, park, read events and debugfs stats.
 * Every helper returns 0 or -errno, like the ioctls they wrap.
 */
#ifndef USCHED_TEST_H
#define USCHED_TEST_H

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <linux/usched.h>

#define USCHED_DEV	"/dev/usched"
#define USCHED_KO	"/usched/usched.ko"
#define USCHED_STATS	"/sys/kernel/debug/usched/stats"

struct ut_map {
	void *base;
	size_t size;
	struct usched_shm_header *hdr;
	struct usched_worker_slot *slots;
	struct usched_event *ring;
};

static inline int ut_err(int ret)
{
	return ret < 0 ? -errno : ret;
}

static inline uint64_t ut_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static inline int ut_module_loaded(void)
{
	return access(USCHED_DEV, F_OK) == 0;
}

static inline int ut_insmod(const char *params)
{
	int fd = open(USCHED_KO, O_RDONLY | O_CLOEXEC);
	int ret;

	if (fd < 0)
		return -errno;
	ret = ut_err(syscall(SYS_finit_module, fd, params ? params : "", 0));
	close(fd);
	return ret;
}

static inline int ut_rmmod(void)
{
	return ut_err(syscall(SYS_delete_module, "usched", O_NONBLOCK));
}

static inline int ut_open(void)
{
	int fd = open(USCHED_DEV, O_RDWR | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

static inline int ut_setup(int fd, uint32_t workers, uint32_t ring,
			   uint32_t flags, uint32_t gate_slots,
			   uint64_t gate_ns, struct usched_setup *out)
{
	struct usched_setup s = {
		.size = sizeof(s), .flags = flags, .max_workers = workers,
		.ring_entries = ring, .gate_slots = gate_slots,
		.gate_timeout_ns = gate_ns,
	};
	int ret = ut_err(ioctl(fd, USCHED_IOC_SETUP, &s));

	if (out)
		*out = s;
	return ret;
}

static inline int ut_map(int fd, const struct usched_setup *s, struct ut_map *m)
{
	void *p = mmap(NULL, s->mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		       fd, 0);

	if (p == MAP_FAILED)
		return -errno;
	m->base = p;
	m->size = s->mmap_size;
	m->hdr = p;
	m->slots = (void *)((char *)p + s->slots_offset);
	m->ring = (void *)((char *)p + s->ring_offset);
	return 0;
}

/* Open, set up and map a group in one go; returns the fd or -errno. */
static inline int ut_group(uint32_t workers, uint32_t ring, uint32_t flags,
			   uint32_t gate_slots, uint64_t gate_ns,
			   struct ut_map *m)
{
	struct usched_setup s;
	int fd = ut_open(), ret;

	if (fd < 0)
		return fd;
	ret = ut_setup(fd, workers, ring, flags, gate_slots, gate_ns, &s);
	if (!ret && m)
		ret = ut_map(fd, &s, m);
	if (ret) {
		close(fd);
		return ret;
	}
	return fd;
}

static inline int ut_register(int fd, uint32_t *id)
{
	struct usched_register r = { .size = sizeof(r) };
	int ret = ut_err(ioctl(fd, USCHED_IOC_REGISTER, &r));

	if (!ret && id)
		*id = r.worker;
	return ret;
}

static inline int ut_unregister(int fd, uint32_t id)
{
	struct usched_register r = { .size = sizeof(r), .worker = id };

	return ut_err(ioctl(fd, USCHED_IOC_UNREGISTER, &r));
}

/* deadline_ns == 0: no deadline. */
static inline int ut_park(int fd, uint32_t id, uint64_t deadline_ns)
{
	struct usched_park p = {
		.size = sizeof(p), .worker = id, .deadline_ns = deadline_ns,
		.flags = deadline_ns ? USCHED_PARK_DEADLINE : 0,
	};

	return ut_err(ioctl(fd, USCHED_IOC_PARK, &p));
}

static inline int ut_handoff(int fd, uint32_t id, uint32_t target,
			     uint64_t deadline_ns)
{
	struct usched_park p = {
		.size = sizeof(p), .worker = id, .target = target,
		.deadline_ns = deadline_ns,
		.flags = deadline_ns ? USCHED_PARK_DEADLINE : 0,
	};

	return ut_err(ioctl(fd, USCHED_IOC_HANDOFF, &p));
}

static inline int ut_target(int fd, unsigned long cmd, uint32_t worker,
			    uint32_t arg)
{
	struct usched_target t = { .size = sizeof(t), .worker = worker,
				   .arg = arg };

	return ut_err(ioctl(fd, cmd, &t));
}

static inline int ut_wake(int fd, uint32_t id)
{
	return ut_target(fd, USCHED_IOC_WAKE, id, 0);
}

/* Next event, or 0 when the ring is empty (1 when one was read). */
static inline int ut_next_event(struct ut_map *m, struct usched_event *ev)
{
	uint32_t head = m->hdr->ring_head;
	uint32_t tail = __atomic_load_n(&m->hdr->ring_tail, __ATOMIC_ACQUIRE);

	if (head == tail)
		return 0;
	*ev = m->ring[head & (m->hdr->ring_entries - 1)];
	__atomic_store_n(&m->hdr->ring_head, head + 1, __ATOMIC_RELEASE);
	return 1;
}

/* Wait up to @ms for an event of @type from @worker; 1 found, 0 not. */
static inline int ut_wait_event(struct ut_map *m, uint16_t type,
				uint32_t worker, struct usched_event *out,
				int ms)
{
	uint64_t end = ut_now_ns() + (uint64_t)ms * 1000000;
	struct usched_event ev;

	do {
		while (ut_next_event(m, &ev)) {
			if (ev.type == type && ev.worker == worker) {
				if (out)
					*out = ev;
				return 1;
			}
		}
		usleep(1000);
	} while (ut_now_ns() < end);
	return 0;
}

/* A counter from debugfs, or -1 when it cannot be read. */
/* Write @val to the file @path (sysfs, debugfs, cgroupfs, procfs): 0 or -errno. */
static inline int ut_write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

static inline long ut_stat(const char *name)
{
	char key[64];
	long val, ret = -1;
	FILE *f = fopen(USCHED_STATS, "r");

	if (!f)
		return -1;
	while (fscanf(f, "%63s %ld", key, &val) == 2) {
		if (!strcmp(key, name)) {
			ret = val;
			break;
		}
	}
	fclose(f);
	return ret;
}

/* Wait up to @ms for a debugfs counter to reach @want; returns its value. */
static inline long ut_stat_wait(const char *name, long want, int ms)
{
	long v;
	int i;

	for (i = 0; i <= ms / 10; i++) {
		v = ut_stat(name);
		if (v == want)
			return v;
		usleep(10000);
	}
	return ut_stat(name);
}

static inline uint32_t ut_kstate(struct ut_map *m, uint32_t id)
{
	return __atomic_load_n(&m->slots[id].kstate, __ATOMIC_ACQUIRE);
}

/* Wait up to @ms for worker @id to reach @state; 1 reached, 0 not. */
static inline int ut_wait_kstate(struct ut_map *m, uint32_t id,
				 uint32_t state, int ms)
{
	int i;

	for (i = 0; i <= ms; i++) {
		if (ut_kstate(m, id) == state)
			return 1;
		usleep(1000);
	}
	return 0;
}

#endif /* USCHED_TEST_H */
