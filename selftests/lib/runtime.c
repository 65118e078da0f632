// SPDX-License-Identifier: GPL-2.0
/*
 * runtime.c - the runtime itself: usched_config_init() defaults,
 * usched_start/stop/main and their errors, restarting, usched_mode() and
 * usched_mode_name(), usched_stats_get() and its size rules, and the
 * environment overrides (USCHED_SLOTS, USCHED_MODE).
 *
 * Each test runs in its own forked child (the harness does it), so each
 * starts with a runtime that was never started.
 */
#include <fcntl.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "core_test.h"

/* The environment must not change what a test configures. */
static void clean_env(void)
{
	unsetenv("USCHED_MODE");
	unsetenv("USCHED_SLOTS");
	unsetenv("USCHED_SLICE_US");
	unsetenv("USCHED_VERBOSE");
}

static int nop_main(void *arg)
{
	return 0;
}

static int main_ran;

static int count_main(void *arg)
{
	main_ran++;
	return 0;
}

/* ---- configuration ----------------------------------------------------- */

TEST(config_init_defaults)
{
	struct usched_config cfg;

	memset(&cfg, 0xa5, sizeof(cfg));
	usched_config_init(&cfg);
	EXPECT_EQ(sizeof(cfg), cfg.size);
	EXPECT_EQ(0, cfg.flags);
	EXPECT_EQ(0, cfg.slots);
	EXPECT_EQ(0, cfg.max_workers);
	EXPECT_EQ(0, cfg.stack_size);
	EXPECT_EQ(0, cfg.slice_ns);
	EXPECT_EQ(USCHED_MODE_AUTO, cfg.mode);
	EXPECT_EQ(0, cfg.__reserved);
}

TEST(config_default_slots_are_the_cpus)
{
	struct usched_config cfg;
	struct usched_stats st;
	long cpus = 0;
	cpu_set_t set;

	clean_env();
	if (!sched_getaffinity(0, sizeof(set), &set))
		cpus = CPU_COUNT(&set);
	usched_config_init(&cfg);
	ASSERT_EQ(0, usched_start(&cfg));
	st = ut_stats();
	/* slots 0: the CPUs this process may use. */
	EXPECT_EQ(cpus, st.slots);
	EXPECT_GE(st.workers, st.slots);
	EXPECT_EQ(0, usched_stop());
}

/* ---- start / stop / main errors ---------------------------------------- */

TEST(runtime_start_null_config)
{
	clean_env();
	EXPECT_EQ(-1, usched_mode());
	ASSERT_EQ(0, usched_start(NULL));
	EXPECT_NE(-1, usched_mode());
	EXPECT_EQ(0, usched_stop());
	EXPECT_EQ(-1, usched_mode());
}

TEST(runtime_start_twice_ealready)
{
	struct usched_config cfg;

	clean_env();
	usched_config_init(&cfg);
	cfg.slots = 1;
	ASSERT_EQ(0, usched_start(&cfg));
	EXPECT_EQ(-EALREADY, usched_start(&cfg));
	EXPECT_EQ(-EALREADY, usched_start(NULL));
	/* usched_main() does not run its function on a started runtime. */
	EXPECT_EQ(-EALREADY, usched_main(NULL, nop_main, NULL));
	EXPECT_EQ(0, usched_stop());
}

TEST(runtime_stop_not_started_fails)
{
	EXPECT_GT(0, usched_stop());
	EXPECT_EQ(-1, usched_mode());
}

/* One bad field at a time: -EINVAL, and the runtime stays stopped. */
TEST(runtime_start_bad_config_einval)
{
	static const struct {
		const char *what;
		int field;
		uint64_t value;
	} bad[] = {
		{ "size 0", 0, 0 },
		{ "size - 1", 0, sizeof(struct usched_config) - 1 },
		{ "size 4", 0, 4 },
		{ "unknown flag 1 << 3", 1, 1u << 3 },
		{ "unknown flag 1 << 31", 1, 1u << 31 },
		{ "slots UINT32_MAX", 2, UINT32_MAX },
		{ "stack_size 4 KiB", 4, 4096 },
		{ "stack_size 16 KiB - 1", 4, (16u << 10) - 1 },
		{ "slice_ns 1 us", 5, 1000 },
		{ "slice_ns 100 us - 1", 5, 99999 },
		{ "mode 3", 6, 3 },
		{ "mode UINT32_MAX", 6, UINT32_MAX },
		{ "__reserved 1", 7, 1 },
		{ "max_workers below slots", 3, 1 },
	};
	struct usched_config cfg;
	unsigned int i;
	int r;

	clean_env();
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		usched_config_init(&cfg);
		cfg.slots = 2;
		switch (bad[i].field) {
		case 0: cfg.size = bad[i].value; break;
		case 1: cfg.flags = bad[i].value; break;
		case 2: cfg.slots = bad[i].value; break;
		case 3: cfg.max_workers = bad[i].value; break;
		case 4: cfg.stack_size = bad[i].value; break;
		case 5: cfg.slice_ns = bad[i].value; break;
		case 6: cfg.mode = bad[i].value; break;
		case 7: cfg.__reserved = bad[i].value; break;
		}
		r = usched_start(&cfg);
		if (r != -EINVAL)
			TH_LOG("%s: usched_start() returned %d", bad[i].what, r);
		EXPECT_EQ(-EINVAL, r);
		if (!r)
			usched_stop();
		EXPECT_EQ(-1, usched_mode());
		EXPECT_EQ(-EINVAL, usched_main(&cfg, count_main, NULL));
		EXPECT_EQ(0, main_ran);
		EXPECT_EQ(-1, usched_mode());
	}
	/* The smallest valid values start. */
	usched_config_init(&cfg);
	cfg.slots = 1;
	cfg.stack_size = 16u << 10;
	cfg.slice_ns = 100000;
	cfg.flags = USCHED_CFG_FLAGS & ~USCHED_CFG_VERBOSE;
	ASSERT_EQ(0, usched_start(&cfg));
	EXPECT_EQ(0, usched_stop());
}

TEST(runtime_main_bad_config_does_not_run)
{
	struct usched_config cfg;

	clean_env();
	usched_config_init(&cfg);
	cfg.flags = 1u << 30;
	EXPECT_EQ(-EINVAL, usched_main(&cfg, count_main, NULL));
	EXPECT_EQ(0, main_ran);
	EXPECT_EQ(-1, usched_mode());
}

/*
 * USCHED_MODE_KERNEL: works where the module is loaded (the VM), else
 * -ENODEV when /dev/usched does not exist (the host).
 */
TEST(runtime_kernel_mode_needs_module)
{
	struct usched_config cfg;
	int r, auto_mode;

	clean_env();
	usched_config_init(&cfg);
	cfg.slots = 1;
	ASSERT_EQ(0, usched_start(&cfg));
	auto_mode = usched_mode();
	EXPECT_EQ(0, usched_stop());
	TH_LOG("auto picked %s mode", usched_mode_name(auto_mode));

	cfg.mode = USCHED_MODE_KERNEL;
	r = usched_start(&cfg);
	if (access("/dev/usched", F_OK) && errno == ENOENT) {
		EXPECT_EQ(USCHED_MODE_FALLBACK, auto_mode);
		EXPECT_EQ(-ENODEV, r);
		EXPECT_EQ(-1, usched_mode());
		return;
	}
	if (auto_mode == USCHED_MODE_KERNEL) {
		ASSERT_EQ(0, r);
		EXPECT_EQ(USCHED_MODE_KERNEL, usched_mode());
		EXPECT_EQ(USCHED_MODE_KERNEL, ut_stats().mode);
		EXPECT_EQ(0, usched_stop());
		return;
	}
	/* The device exists but cannot be used: an error, not fallback. */
	EXPECT_GT(0, r);
	EXPECT_EQ(-1, usched_mode());
	if (!r)
		usched_stop();
}

TEST(runtime_fallback_mode_forced)
{
	struct usched_config cfg;

	clean_env();
	usched_config_init(&cfg);
	cfg.slots = 1;
	cfg.mode = USCHED_MODE_FALLBACK;
	ASSERT_EQ(0, usched_start(&cfg));
	EXPECT_EQ(USCHED_MODE_FALLBACK, usched_mode());
	EXPECT_EQ(USCHED_MODE_FALLBACK, ut_stats().mode);
	EXPECT_EQ(0, usched_stop());
}

/* ---- restart ----------------------------------------------------------- */

static int add_one(void *arg)
{
	atomic_fetch_add((atomic_int *)arg, 1);
	return 7;
}

static int restart_main(void *arg)
{
	usched_task_t *t[10];
	struct usched_stats st;
	int i;

	for (i = 0; i < 10; i++)
		T_EQ(0, ut_spawn(&t[i], add_one, arg));
	for (i = 0; i < 10; i++)
		T_EQ(7, ut_join(t[i]));
	/* Counters start at usched_start(): main and its 10 tasks. */
	T_EQ(1, ut_settle_live(1));
	st = ut_stats();
	T_EQ(11, st.tasks_spawned);
	return 0;
}

TEST(runtime_restart_after_stop)
{
	struct usched_config cfg;
	atomic_int n = 0;
	int round;

	clean_env();
	for (round = 0; round < 3; round++) {
		usched_config_init(&cfg);
		cfg.slots = 1 + round % 2;
		ASSERT_UT_OK(usched_main(&cfg, restart_main, &n));
		EXPECT_EQ(-1, usched_mode());
		/* A plain start/stop in between, with nothing run. */
		ASSERT_EQ(0, usched_start(&cfg));
		EXPECT_EQ(cfg.slots, ut_stats().slots);
		EXPECT_EQ(0, usched_stop());
	}
	EXPECT_EQ(30, atomic_load(&n));
}

/* ---- stop -------------------------------------------------------------- */

static int stop_in_task(void *arg)
{
	T_EQ(-EDEADLK, usched_stop());
	/* Still running afterwards. */
	T_EQ(0, usched_yield());
	T_CHECK(usched_mode() >= 0);
	return 0;
}

TEST(runtime_stop_from_task_edeadlk)
{
	clean_env();
	ASSERT_UT_OK(ut_run_slots(2, stop_in_task, NULL));
}

static atomic_int late_done;

static int late_task(void *arg)
{
	usched_sleep(50 * MS);
	atomic_store(&late_done, 1);
	return 0;
}

/* usched_stop() waits for every task, detached ones included. */
TEST(runtime_stop_waits_for_tasks)
{
	struct usched_attr a;
	uint64_t t0;

	clean_env();
	ASSERT_EQ(0, usched_start(NULL));
	usched_attr_init(&a);
	a.flags = USCHED_ATTR_DETACHED;
	t0 = ut_now();
	ASSERT_EQ(0, usched_spawn(NULL, &a, late_task, NULL));
	EXPECT_EQ(0, usched_stop());
	EXPECT_EQ(1, atomic_load(&late_done));
	EXPECT_GE(ut_now() - t0, 50 * MS);
	EXPECT_EQ(-1, usched_mode());
}

static int spawner_main(void *arg)
{
	struct usched_attr a;
	int i;

	usched_attr_init(&a);
	a.flags = USCHED_ATTR_DETACHED;
	for (i = 0; i < 5; i++)
		T_EQ(0, usched_spawn(NULL, &a, late_task, NULL));
	return 42;
}

/* usched_main() returns the main task's result after all its tasks ended. */
TEST(runtime_main_returns_result_after_all_tasks)
{
	clean_env();
	EXPECT_EQ(42, ut_run_slots(2, spawner_main, NULL));
	EXPECT_EQ(1, atomic_load(&late_done));
	EXPECT_EQ(-1, usched_mode());
	/* No function: an error, and the runtime is stopped again. */
	EXPECT_GT(0, usched_main(NULL, NULL, NULL));
	EXPECT_EQ(-1, usched_mode());
}

/* ---- from a constructor ------------------------------------------------ */

/*
 * A program may start the runtime before main(): from a constructor (a
 * C++ static initialiser, a library's init).  This one runs before any
 * constructor of default priority, libusched's included, when this
 * program is run again with USCHED_CTOR_CHILD=1.  Fails until core bug #8
 * is fixed (stack.c sets page_size in a constructor of its own: before
 * it, every stack allocation fails, "out of memory for the stack of task
 * 1 (main)"; see the report).
 */
static int ctor_task(void *arg)
{
	return 42;
}

static int ctor_main(void *arg)
{
	usched_task_t *t;

	T_EQ(0, ut_spawn(&t, ctor_task, NULL));
	return ut_join(t);
}

__attribute__((constructor(101))) static void ctor_child(void)
{
	const char *e = getenv("USCHED_CTOR_CHILD");

	if (e && !strcmp(e, "1"))
		_exit(ut_run_slots(1, ctor_main, NULL));
}

TEST(runtime_usable_from_a_constructor)
{
	char *argv[] = { "ctor-child", NULL };
	char exe[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	int status;
	pid_t pid;

	ASSERT_LT(0, n);
	exe[n] = '\0';
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		setenv("USCHED_CTOR_CHILD", "1", 1);
		execv(exe, argv);
		_exit(127);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(42, WEXITSTATUS(status));
}

/* ---- mode -------------------------------------------------------------- */

static int mode_main(void *arg)
{
	int m = usched_mode();

	T_CHECK(m == USCHED_MODE_KERNEL || m == USCHED_MODE_FALLBACK);
	T_EQ(m, ut_stats().mode);
	return 0;
}

TEST(runtime_mode_and_names)
{
	EXPECT_STREQ("auto", usched_mode_name(USCHED_MODE_AUTO));
	EXPECT_STREQ("kernel", usched_mode_name(USCHED_MODE_KERNEL));
	EXPECT_STREQ("fallback", usched_mode_name(USCHED_MODE_FALLBACK));
	/* Anything else: some name, never NULL (it goes into messages). */
	ASSERT_NE(NULL, usched_mode_name(-1));
	ASSERT_NE(NULL, usched_mode_name(3));
	ASSERT_NE(NULL, usched_mode_name(1000));
	EXPECT_STRNE("kernel", usched_mode_name(-1));
	EXPECT_STRNE("fallback", usched_mode_name(3));
	clean_env();
	EXPECT_EQ(-1, usched_mode());
	ASSERT_UT_OK(ut_run_slots(1, mode_main, NULL));
	EXPECT_EQ(-1, usched_mode());
}

/* ---- stats ------------------------------------------------------------- */

static int stats_main(void *arg)
{
	struct usched_stats st, before;
	usched_task_t *t;
	union {
		struct usched_stats st;
		unsigned char b[sizeof(struct usched_stats) + 32];
	} big;
	unsigned char buf[sizeof(struct usched_stats)];
	size_t i, part = offsetof(struct usched_stats, preempts);
	atomic_int one = 0;

	before = ut_stats();
	T_EQ(0, ut_spawn(&t, add_one, &one));
	T_EQ(7, ut_join(t));
	T_EQ(0, usched_yield());
	T_EQ(1, ut_settle_live(1));

	memset(&st, 0, sizeof(st));
	st.size = sizeof(st);
	T_EQ(0, usched_stats_get(&st));
	T_EQ(sizeof(st), st.size);
	T_EQ(usched_mode(), st.mode);
	T_EQ(2, st.slots);
	T_CHECK(st.workers >= st.slots);
	T_EQ(1, st.tasks_live);
	T_EQ(before.tasks_spawned + 1, st.tasks_spawned);
	T_CHECK(st.switches >= before.switches + 2);

	/* Too small, or NULL: -EINVAL. */
	T_EQ(-EINVAL, usched_stats_get(NULL));
	st.size = 0;
	T_EQ(-EINVAL, usched_stats_get(&st));
	st.size = 4;
	T_EQ(-EINVAL, usched_stats_get(&st));

	/* An older caller's smaller struct: filled up to its size, no more. */
	memset(buf, 0xee, sizeof(buf));
	((struct usched_stats *)buf)->size = part;
	T_EQ(0, usched_stats_get((struct usched_stats *)buf));
	T_EQ(part, ((struct usched_stats *)buf)->size);
	T_EQ(2, ((struct usched_stats *)buf)->slots);
	for (i = part; i < sizeof(buf); i++)
		T_EQ(0xee, buf[i]);

	/* A newer caller's bigger struct: what this library knows, no more. */
	memset(&big, 0xee, sizeof(big));
	big.st.size = sizeof(big);
	T_EQ(0, usched_stats_get(&big.st));
	T_EQ(sizeof(struct usched_stats), big.st.size);
	T_EQ(2, big.st.slots);
	for (i = sizeof(struct usched_stats); i < sizeof(big); i++)
		T_EQ(0xee, big.b[i]);
	return 0;
}

TEST(stats_get_size_rules)
{
	clean_env();
	ASSERT_UT_OK(ut_run_slots(2, stats_main, NULL));
}

/* After a stop, live tasks are 0 and nothing crashes. */
TEST(stats_get_not_started)
{
	struct usched_stats st;

	clean_env();
	memset(&st, 0, sizeof(st));
	st.size = sizeof(st);
	EXPECT_EQ(0, usched_stats_get(&st));
	EXPECT_EQ(0, st.tasks_live);
	EXPECT_EQ(-EINVAL, usched_stats_get(NULL));
	ASSERT_UT_OK(ut_run_slots(1, nop_main, NULL));
	st.size = sizeof(st);
	EXPECT_EQ(0, usched_stats_get(&st));
	EXPECT_EQ(0, st.tasks_live);
}

/* ---- environment overrides --------------------------------------------- */

TEST(env_slots_overrides_config)
{
	struct usched_config cfg;

	clean_env();
	setenv("USCHED_SLOTS", "3", 1);
	usched_config_init(&cfg);
	cfg.slots = 1;
	ASSERT_EQ(0, usched_start(&cfg));
	EXPECT_EQ(3, ut_stats().slots);
	EXPECT_EQ(0, usched_stop());

	/* Not a number: ignored (with a message), the config's value holds. */
	setenv("USCHED_SLOTS", "three", 1);
	ASSERT_EQ(0, usched_start(&cfg));
	EXPECT_EQ(1, ut_stats().slots);
	EXPECT_EQ(0, usched_stop());

	/* Empty: ignored. */
	setenv("USCHED_SLOTS", "", 1);
	ASSERT_EQ(0, usched_start(&cfg));
	EXPECT_EQ(1, ut_stats().slots);
	EXPECT_EQ(0, usched_stop());
	clean_env();
}

TEST(env_mode_overrides_config)
{
	struct usched_config cfg;

	clean_env();
	/* fallback overrides even an explicit KERNEL request. */
	setenv("USCHED_MODE", "fallback", 1);
	usched_config_init(&cfg);
	cfg.slots = 1;
	cfg.mode = USCHED_MODE_KERNEL;
	ASSERT_EQ(0, usched_start(&cfg));
	EXPECT_EQ(USCHED_MODE_FALLBACK, usched_mode());
	EXPECT_EQ(0, usched_stop());

	/* kernel: what a KERNEL config does (here or in the VM). */
	setenv("USCHED_MODE", "kernel", 1);
	cfg.mode = USCHED_MODE_FALLBACK;
	if (access("/dev/usched", F_OK) && errno == ENOENT) {
		EXPECT_EQ(-ENODEV, usched_start(&cfg));
		EXPECT_EQ(-1, usched_mode());
	} else if (usched_start(&cfg) == 0) {
		EXPECT_EQ(USCHED_MODE_KERNEL, usched_mode());
		EXPECT_EQ(0, usched_stop());
	}

	/* Unknown value: ignored (with a message), the config's mode holds. */
	setenv("USCHED_MODE", "turbo", 1);
	cfg.mode = USCHED_MODE_FALLBACK;
	ASSERT_EQ(0, usched_start(&cfg));
	EXPECT_EQ(USCHED_MODE_FALLBACK, usched_mode());
	EXPECT_EQ(0, usched_stop());

	/* auto: kernel where the module works, else fallback. */
	setenv("USCHED_MODE", "auto", 1);
	ASSERT_EQ(0, usched_start(&cfg));
	if (access("/dev/usched", F_OK) && errno == ENOENT) {
		EXPECT_EQ(USCHED_MODE_FALLBACK, usched_mode());
	} else {
		TH_LOG("auto: %s mode", usched_mode_name(usched_mode()));
	}
	EXPECT_EQ(0, usched_stop());
	clean_env();
}

TEST_HARNESS_MAIN
