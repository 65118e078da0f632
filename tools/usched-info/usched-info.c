// SPDX-License-Identifier: GPL-2.0
/*
 * usched-info - what usched.ko says about itself, and what libusched makes
 * of it.
 *
 * Opens /dev/usched (which creates a group, closed again at once), asks
 * USCHED_IOC_VERSION and prints the module's ABI version, its feature bits
 * by name and its limits; then the module parameters (the files of
 * /sys/module/usched/parameters) and the global counters
 * (/sys/kernel/debug/usched/stats), where they can be read.  Last, the
 * library's view: usched_start() in USCHED_MODE_AUTO, the mode it chose,
 * its slots and workers, usched_stop().
 *
 * Usage: usched-info
 *
 * Exit status: 0; 1 when the module is not loaded ("usched.ko is not
 * loaded (no /dev/usched)"), cannot be used, speaks another ABI major than
 * this tool was built for, or the library fails to start.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/usched.h>

#include "usched.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

#define PARAMS_DIR	"/sys/module/usched/parameters"
#define STATS_FILE	"/sys/kernel/debug/usched/stats"

static const struct {
	uint64_t bit;
	const char *name;
	const char *what;
} features[] = {
	{ USCHED_FEAT_EVENTS, "EVENTS", "BLOCKED/UNBLOCKED event ring" },
	{ USCHED_FEAT_PARK, "PARK", "park, wake, handoff" },
	{ USCHED_FEAT_GATE, "GATE", "return-to-user gating" },
	{ USCHED_FEAT_PREEMPT_SIGNAL, "PREEMPT_SIGNAL", "slice timer, signal" },
	{ USCHED_FEAT_PREEMPT_REDIRECT, "PREEMPT_REDIRECT",
	  "slice timer, register redirect to a trampoline" },
	{ USCHED_FEAT_STANDBY, "STANDBY", "wake a standby worker on block" },
	{ USCHED_FEAT_CLAIM, "CLAIM", "slot claim word, GATE_STOLEN" },
};

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char * const *)a, *(char * const *)b);
}

/* One line of a sysfs or debugfs file, without its newline. */
static int read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");

	if (!f)
		return -errno;
	if (!fgets(buf, len, f))
		buf[0] = '\0';
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

static void print_params(void)
{
	char *names[64], path[512], val[256];
	struct dirent *de;
	int i, n = 0;
	DIR *d;

	d = opendir(PARAMS_DIR);
	if (!d) {
		printf("module parameters: %s: %s\n", PARAMS_DIR, strerror(errno));
		return;
	}
	while ((de = readdir(d)) && n < (int)ARRAY_SIZE(names)) {
		if (de->d_name[0] == '.')
			continue;
		names[n] = strdup(de->d_name);
		if (names[n])
			n++;
	}
	closedir(d);
	qsort(names, n, sizeof(names[0]), name_cmp);
	printf("module parameters (%s):\n", PARAMS_DIR);
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", PARAMS_DIR, names[i]);
		if (read_line(path, val, sizeof(val)))
			snprintf(val, sizeof(val), "(unreadable: %s)",
				 strerror(errno));
		printf("  %-24s %s\n", names[i], val);
		free(names[i]);
	}
	if (!n)
		printf("  (none)\n");
}

static void print_stats(void)
{
	char line[256], name[128];
	long long v;
	FILE *f;

	f = fopen(STATS_FILE, "r");
	if (!f) {
		printf("module counters: %s: %s%s\n", STATS_FILE, strerror(errno),
		       errno == ENOENT ? " (debugfs not mounted?)" : "");
		return;
	}
	printf("module counters (%s):\n", STATS_FILE);
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%127s %lld", name, &v) == 2)
			printf("  %-24s %lld\n", name, v);
		else
			printf("  %s", line);
	}
	fclose(f);
}

/* The module's self-description; 0, or 1 on an error (printed). */
static int module_info(void)
{
	struct usched_version v = { .size = sizeof(v) };
	char srcver[128];
	uint64_t rest;
	unsigned int i;
	int fd;

	fd = open("/dev/usched", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			fprintf(stderr, "usched-info: usched.ko is not loaded (no /dev/usched)\n");
		else
			fprintf(stderr, "usched-info: cannot open /dev/usched: %s\n",
				strerror(errno));
		return 1;
	}
	if (ioctl(fd, USCHED_IOC_VERSION, &v)) {
		fprintf(stderr, "usched-info: USCHED_IOC_VERSION: %s\n", strerror(errno));
		close(fd);
		return 1;
	}
	close(fd);

	printf("module: /dev/usched\n");
	if (!read_line("/sys/module/usched/srcversion", srcver, sizeof(srcver)))
		printf("  srcversion               %s\n", srcver);
	printf("  ABI version              %u.%u (this tool: %u.%u)\n",
	       v.abi_major, v.abi_minor, USCHED_ABI_MAJOR, USCHED_ABI_MINOR);
	if (v.abi_major != USCHED_ABI_MAJOR) {
		fprintf(stderr, "usched-info: ABI major differs: the module speaks %u.%u, this tool %u.%u\n",
			v.abi_major, v.abi_minor, USCHED_ABI_MAJOR, USCHED_ABI_MINOR);
		return 1;
	}
	printf("  features                 0x%" PRIx64 "\n", (uint64_t)v.features);
	rest = v.features;
	for (i = 0; i < ARRAY_SIZE(features); i++) {
		if (!(v.features & features[i].bit))
			continue;
		printf("    %-22s %s\n", features[i].name, features[i].what);
		rest &= ~features[i].bit;
	}
	if (rest)
		printf("    unknown bits           0x%" PRIx64 " (newer module)\n",
		       rest);
	for (i = 0; i < ARRAY_SIZE(features); i++)
		if (!(v.features & features[i].bit))
			printf("    (missing)              %s\n", features[i].name);
	printf("  limits\n");
	printf("    max workers            %u per group\n", v.max_workers);
	printf("    max ring entries       %u\n", v.max_ring_entries);
	printf("    slot size              %u bytes\n", v.slot_size);
	printf("    min slice              %u us\n", v.min_slice_us);
	print_params();
	print_stats();
	return 0;
}

/* The library's view: which mode USCHED_MODE_AUTO picks here. */
static int library_info(void)
{
	struct usched_stats st = { .size = sizeof(st) };
	struct usched_config cfg;
	int r, mode;

	usched_config_init(&cfg);
	cfg.mode = USCHED_MODE_AUTO;
	r = usched_start(&cfg);
	if (r) {
		fprintf(stderr, "usched-info: usched_start(auto): %s\n", strerror(-r));
		return 1;
	}
	mode = usched_mode();
	r = usched_stats_get(&st);
	printf("library: libusched %d.%d\n", USCHED_VERSION_MAJOR,
	       USCHED_VERSION_MINOR);
	printf("  usched_start(auto)       %s mode\n", usched_mode_name(mode));
	if (!r)
		printf("  slots, workers           %u, %u\n", st.slots, st.workers);
	r = usched_stop();
	if (r) {
		fprintf(stderr, "usched-info: usched_stop: %s\n", strerror(-r));
		return 1;
	}
	printf("  usched_stop()            ok\n");
	return 0;
}

int main(int argc, char **argv)
{
	int rc;

	if (argc > 1) {
		fprintf(stderr, "usage: usched-info\n");
		return 2;
	}
	rc = module_info();
	fflush(stdout);
	/* The library's view helps most when the module is missing. */
	if (library_info())
		rc = 1;
	return rc;
}
