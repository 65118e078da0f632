// SPDX-License-Identifier: GPL-2.0
/*
 * stack.c - task stacks: an overflow is reported with a clear message
 * naming the task (checked in a child process: it must die of SIGABRT or
 * SIGSEGV, and its stderr must name the task and say "stack overflow");
 * a custom usched_attr.stack_size (and usched_config.stack_size) is
 * honoured; stacks are reused (10k spawn+join: RSS and mappings stay
 * flat).
 *
 * The overflow child is this program run again (USCHED_STACK_CHILD=1 in
 * its environment, caught by main() before the harness starts), so that a
 * sanitizer's own SIGSEGV handler can be switched off for it
 * (handle_segv=0) and the library's report is what we read.
 */
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "core_test.h"

extern char **environ;

#define OVERFLOW_NAME	"deep-recursor"

/* ---- the overflowing child --------------------------------------------- */

static __attribute__((noinline)) int recurse(volatile char *prev, long depth)
{
	volatile char frame[256];

	frame[0] = (char)depth;
	frame[255] = prev ? prev[0] : 0;
	/* Never: but the compiler cannot know. */
	if (depth > (1l << 40))
		return 0;
	/* Not a tail call: the frame stays live across the call. */
	return recurse(frame, depth + 1) + frame[1];
}

static int overflow_fn(void *arg)
{
	return recurse(NULL, 0);
}

static int overflow_main(void *arg)
{
	struct usched_attr a;
	usched_task_t *t;

	usched_attr_init(&a);
	a.name = OVERFLOW_NAME;
	a.stack_size = 16u << 10;
	if (usched_spawn(&t, &a, overflow_fn, NULL))
		return 1;
	usched_join(t, NULL);
	return 2;	/* not reached: the child dies first */
}

/* The child's whole life (from main(), see the end of this file). */
static int overflow_child(void)
{
	return ut_run_slots(1, overflow_main, NULL) + 100;
}

static const char *exe_path(void)
{
	static char buf[4096];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);

	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	return buf;
}

/* This environment, with @extra added and sanitizer options extended. */
static char **child_env(char *const *extra)
{
	static const char *const san[] = { "ASAN_OPTIONS=", "TSAN_OPTIONS=",
					   "UBSAN_OPTIONS=" };
	size_t n = 0, k = 0, i;
	char **env;

	while (environ[n])
		n++;
	env = calloc(n + 16, sizeof(*env));
	if (!env)
		return NULL;
	for (i = 0; i < n; i++) {
		bool skip = false;

		for (size_t j = 0; j < 3; j++)
			skip |= !strncmp(environ[i], san[j], strlen(san[j]));
		if (!skip && strncmp(environ[i], "USCHED_", 7))
			env[k++] = environ[i];
	}
	for (i = 0; i < 3; i++) {
		const char *old = getenv(strndupa(san[i], strlen(san[i]) - 1));
		char *v;

		/* The library's report, not the sanitizer's own. */
		if (asprintf(&v, "%s%s%shandle_segv=0%s", san[i],
			     old ? old : "", old && *old ? ":" : "",
			     i == 0 ? ":detect_leaks=0" : "") < 0)
			return NULL;
		env[k++] = v;
	}
	while (*extra)
		env[k++] = *extra++;
	env[k] = NULL;
	return env;
}

TEST(stack_overflow_reported_with_task_name)
{
	posix_spawn_file_actions_t fa;
	char *argv[] = { "stack-overflow-child", NULL };
	char *extra[] = { "USCHED_STACK_CHILD=1", NULL };
	char **env = child_env(extra);
	const char *exe = exe_path();
	char out[8192];
	size_t len = 0;
	ssize_t n;
	int p[2], status;
	pid_t pid;

	ASSERT_NE(NULL, env);
	ASSERT_NE(NULL, exe);
	ASSERT_EQ(0, pipe(p));
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, p[1], 2);
	posix_spawn_file_actions_adddup2(&fa, p[1], 1);
	posix_spawn_file_actions_addclose(&fa, p[0]);
	ASSERT_EQ(0, posix_spawn(&pid, exe, &fa, NULL, argv, env));
	posix_spawn_file_actions_destroy(&fa);
	close(p[1]);
	while (len < sizeof(out) - 1 &&
	       (n = read(p[0], out + len, sizeof(out) - 1 - len)) > 0)
		len += n;
	out[len] = '\0';
	close(p[0]);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	TH_LOG("child: %s, its output: %s",
	       WIFSIGNALED(status) ? strsignal(WTERMSIG(status)) : "exited",
	       out);
	ASSERT_TRUE(WIFSIGNALED(status));
	EXPECT_TRUE(WTERMSIG(status) == SIGABRT || WTERMSIG(status) == SIGSEGV);
	EXPECT_NE(NULL, strstr(out, "stack overflow"));
	EXPECT_NE(NULL, strstr(out, OVERFLOW_NAME));
}

/* ---- custom sizes are honoured ----------------------------------------- */

struct deep {
	size_t use;		/* bytes of stack to use */
	uint64_t sum;
};

/* Uses about @use bytes of stack in 4 KiB frames, touching every page. */
static __attribute__((noinline)) uint64_t use_stack(size_t use)
{
	volatile unsigned char frame[4000];
	size_t i;
	uint64_t s = 0;

	for (i = 0; i < sizeof(frame); i += 512)
		frame[i] = (unsigned char)(use >> 12);
	if (use > 4096)
		s = use_stack(use - 4096);
	for (i = 0; i < sizeof(frame); i += 512)
		s += frame[i];
	return s;
}

static int deep_fn(void *arg)
{
	struct deep *d = arg;

	d->sum = use_stack(d->use);
	return 0;
}

static int sizes_main(void *arg)
{
	static const struct {
		size_t stack, use;
	} c[] = {
		{ 1u << 20, 900u << 10 },	/* most of 1 MiB */
		{ 256u << 10, 200u << 10 },
		{ 16u << 10, 8u << 10 },	/* the smallest allowed */
		{ 0, 40u << 10 },		/* the default (64 KiB) */
	};
	struct usched_attr a;
	usched_task_t *t;
	struct deep d;
	unsigned int i, k;

	for (k = 0; k < 3; k++)		/* reused from the pool, too */
		for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
			usched_attr_init(&a);
			a.stack_size = c[i].stack;
			d.use = c[i].use;
			if (UT_ASAN)	/* redzones make frames bigger */
				d.use = d.use * 2 / 3;
			d.sum = 0;
			T_EQ(0, usched_spawn(&t, &a, deep_fn, &d));
			T_EQ(0, ut_join(t));
			T_CHECK(d.sum > 0);
		}
	return 0;
}

TEST(stack_custom_size_honoured)
{
	ASSERT_UT_OK(ut_run_slots(2, sizes_main, NULL));
}

static int cfg_size_main(void *arg)
{
	usched_task_t *t;
	struct deep d = { .use = 200u << 10 };

	if (UT_ASAN)
		d.use = d.use * 2 / 3;
	/* usched_config.stack_size is every task's default. */
	T_EQ(0, ut_spawn(&t, deep_fn, &d));
	T_EQ(0, ut_join(t));
	T_CHECK(d.sum > 0);
	return 0;
}

TEST(stack_config_default_size_honoured)
{
	struct usched_config cfg;

	usched_config_init(&cfg);
	cfg.slots = 1;
	cfg.stack_size = 256u << 10;
	ASSERT_UT_OK(usched_main(&cfg, cfg_size_main, NULL));
}

/* ---- stacks are reused ------------------------------------------------- */

struct reuse {
	long rss[3], maps[3];
	size_t stack;
};

static int touch_fn(void *arg)
{
	/* Dirty 32 KiB of the stack, like a real task would. */
	return (int)use_stack(32u << 10) & 1;
}

static int reuse_round(struct reuse *r, unsigned int n)
{
	struct usched_attr a;
	usched_task_t *t[100];
	unsigned int i, k;

	usched_attr_init(&a);
	a.stack_size = r->stack;
	/* 100 alive at a time, n in all. */
	for (i = 0; i < n; i += 100) {
		for (k = 0; k < 100; k++)
			T_EQ(0, usched_spawn(&t[k], &a, touch_fn, NULL));
		for (k = 0; k < 100; k++)
			T_CHECK(ut_join(t[k]) >= 0);
	}
	return 0;
}

static int reuse_main(void *arg)
{
	struct reuse *r = arg;
	unsigned int total = ut_vm() ? 3000 : 10000;

	T_EQ(0, reuse_round(r, 1000));
	r->rss[0] = ut_rss_bytes();
	r->maps[0] = ut_map_count();
	T_EQ(0, reuse_round(r, total / 2));
	r->rss[1] = ut_rss_bytes();
	r->maps[1] = ut_map_count();
	T_EQ(0, reuse_round(r, total / 2));
	r->rss[2] = ut_rss_bytes();
	r->maps[2] = ut_map_count();
	return 0;
}

static void check_reuse(struct __test_metadata *_metadata, struct reuse *r)
{
	TH_LOG("%zu KiB stacks: RSS %ld, %ld, %ld KiB; mappings %ld, %ld, %ld",
	       r->stack >> 10, r->rss[0] >> 10, r->rss[1] >> 10,
	       r->rss[2] >> 10, r->maps[0], r->maps[1], r->maps[2]);
	/*
	 * After the first 1000, at most 200 stacks are ever live: growth
	 * is allocator noise, far below 10k fresh stacks (>= 320 MiB).
	 */
	EXPECT_LT(r->rss[2] - r->rss[0], 16l << 20);
	EXPECT_LT(r->rss[2] - r->rss[1], 8l << 20);
	/*
	 * Mappings: the second round may still add a chunk of guarded
	 * stacks (up to 64 mappings: per-worker caches hold some) and a few
	 * workers (kernel mode spawns standbys when workers block); the
	 * third adds nothing to speak of.
	 */
	EXPECT_LE(r->maps[2], r->maps[0] + 96);
	EXPECT_LE(r->maps[2], r->maps[1] + 16);
}

TEST(stack_reused_rss_bounded)
{
	struct reuse r = { .stack = 0 };

	ASSERT_UT_OK(ut_run_slots(2, reuse_main, &r));
	check_reuse(_metadata, &r);
}

/*
 * Stacks of a size other than the default are pooled too.  Also the
 * regression test of core bug #5: __usched_stack_put() gave an odd-size
 * stack back to the pool before its MADV_DONTNEED, so another worker
 * could already run a task on it when its pages were zapped (SIGSEGV, or
 * a false "stack overflow"; 5 runs in 6 failed here).
 */
TEST(stack_reused_custom_size_rss_bounded)
{
	struct reuse r = { .stack = 128u << 10 };

	ASSERT_UT_OK(ut_run_slots(2, reuse_main, &r));
	check_reuse(_metadata, &r);
}

/* TEST_HARNESS_MAIN, with the overflow child's way in. */
int main(int argc, char **argv)
{
	const char *e = getenv("USCHED_STACK_CHILD");

	if (e && !strcmp(e, "1"))
		return overflow_child();
	return test_harness_run(argc, argv);
}
