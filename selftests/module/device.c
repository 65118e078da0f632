// SPDX-License-Identifier: GPL-2.0
/*
 * device.c - the misc device, module load/unload and the version ioctl:
 * the size-versioned struct rules, every errno, and unloading.
 */
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "kselftest_harness.h"
#include "usched_test.h"

TEST(device_node_is_a_char_device)
{
	struct stat st;

	ASSERT_EQ(0, stat(USCHED_DEV, &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(10, major(st.st_rdev));	/* misc */
}

TEST(device_open_close)
{
	int fd = ut_open(), fd2;

	ASSERT_LE(0, fd);
	fd2 = ut_open();
	ASSERT_LE(0, fd2);
	EXPECT_EQ(0, close(fd2));
	EXPECT_EQ(0, close(fd));
}

FIXTURE(version) {
	int fd;
};

FIXTURE_SETUP(version)
{
	self->fd = ut_open();
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(version)
{
	close(self->fd);
}

TEST_F(version, version_reports_abi_and_limits)
{
	struct usched_version v = { .size = sizeof(v) };

	ASSERT_EQ(0, ioctl(self->fd, USCHED_IOC_VERSION, &v));
	EXPECT_EQ(sizeof(v), v.size);
	EXPECT_EQ(USCHED_ABI_MAJOR, v.abi_major);
	EXPECT_EQ(USCHED_ABI_MINOR, v.abi_minor);
	EXPECT_TRUE(v.features & USCHED_FEAT_EVENTS);
	EXPECT_TRUE(v.features & USCHED_FEAT_PARK);
	EXPECT_TRUE(v.features & USCHED_FEAT_GATE);
	EXPECT_TRUE(v.features & USCHED_FEAT_CLAIM);
	EXPECT_LE(1, v.max_workers);
	EXPECT_LE(16, v.max_ring_entries);
	EXPECT_EQ(USCHED_SLOT_SIZE, v.slot_size);
	EXPECT_EQ(50, v.min_slice_us);
}

TEST_F(version, version_size_below_ver0_einval)
{
	struct usched_version v = { .size = USCHED_VERSION_SIZE_VER0 - 1 };

	EXPECT_EQ(-EINVAL, ut_err(ioctl(self->fd, USCHED_IOC_VERSION, &v)));
	v.size = 0;
	EXPECT_EQ(-EINVAL, ut_err(ioctl(self->fd, USCHED_IOC_VERSION, &v)));
}

TEST_F(version, version_size_above_page_einval)
{
	struct usched_version v = { .size = 4097 };

	EXPECT_EQ(-EINVAL, ut_err(ioctl(self->fd, USCHED_IOC_VERSION, &v)));
}

TEST_F(version, version_larger_struct_zero_tail_accepted)
{
	struct {
		struct usched_version v;
		uint64_t future[4];
	} big;

	memset(&big, 0, sizeof(big));
	big.v.size = sizeof(big);
	ASSERT_EQ(0, ioctl(self->fd, USCHED_IOC_VERSION, &big));
	EXPECT_EQ(USCHED_ABI_MAJOR, big.v.abi_major);
	/* Nothing is written beyond what the module knows. */
	EXPECT_EQ(0, big.future[0]);
	EXPECT_EQ(0, big.future[3]);
}

TEST_F(version, version_larger_struct_nonzero_tail_e2big)
{
	struct {
		struct usched_version v;
		uint64_t future[4];
	} big;

	memset(&big, 0, sizeof(big));
	big.v.size = sizeof(big);
	big.future[2] = 1;
	EXPECT_EQ(-E2BIG, ut_err(ioctl(self->fd, USCHED_IOC_VERSION, &big)));
}

TEST_F(version, version_flags_nonzero_einval)
{
	struct usched_version v = { .size = sizeof(v), .flags = 1 };

	EXPECT_EQ(-EINVAL, ut_err(ioctl(self->fd, USCHED_IOC_VERSION, &v)));
	v.flags = 0x80000000u;
	EXPECT_EQ(-EINVAL, ut_err(ioctl(self->fd, USCHED_IOC_VERSION, &v)));
}

TEST_F(version, version_output_fields_must_be_zero_einval)
{
	struct usched_version v = { .size = sizeof(v), .features = 1 };

	EXPECT_EQ(-EINVAL, ut_err(ioctl(self->fd, USCHED_IOC_VERSION, &v)));
}

TEST_F(version, version_bad_pointer_efault)
{
	EXPECT_EQ(-EFAULT, ut_err(ioctl(self->fd, USCHED_IOC_VERSION, NULL)));
	EXPECT_EQ(-EFAULT, ut_err(ioctl(self->fd, USCHED_IOC_VERSION, (void *)8)));
	EXPECT_EQ(-EFAULT, ut_err(ioctl(self->fd, USCHED_IOC_VERSION,
					(void *)0xffffffffffff0000ull)));
}

TEST_F(version, version_struct_crossing_into_unmapped_page_efault)
{
	long pg = sysconf(_SC_PAGESIZE);
	char *p = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct usched_version *v;

	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, munmap(p + pg, pg));
	v = (void *)(p + pg - 8);	/* size and flags readable, rest not */
	v->size = sizeof(*v);
	v->flags = 0;
	EXPECT_EQ(-EFAULT, ut_err(ioctl(self->fd, USCHED_IOC_VERSION, v)));
	munmap(p, pg);
}

TEST_F(version, ioctl_unknown_command_enotty)
{
	struct usched_version v = { .size = sizeof(v) };

	/* Unknown number in our range, and another driver's type. */
	EXPECT_EQ(-ENOTTY, ut_err(ioctl(self->fd, _IOWR(USCHED_IOC_MAGIC, 0x7f,
							struct usched_version), &v)));
	EXPECT_EQ(-ENOTTY, ut_err(ioctl(self->fd, _IOWR('T', 0x00,
							struct usched_version), &v)));
	EXPECT_EQ(-ENOTTY, ut_err(ioctl(self->fd, 0, 0)));
}

TEST_F(version, ioctl_number_size_bits_ignored)
{
	struct {
		struct usched_version v;
		uint64_t future;
	} big;

	/* A newer header's larger struct changes the ioctl number's size bits. */
	memset(&big, 0, sizeof(big));
	big.v.size = sizeof(big);
	EXPECT_EQ(0, ioctl(self->fd, _IOWR(USCHED_IOC_MAGIC, 0x00, typeof(big)),
			   &big));
	EXPECT_EQ(USCHED_ABI_MAJOR, big.v.abi_major);
}

/*
 * Unloading: fails while a file is open, succeeds after the close; the node
 * disappears with the module and comes back with it.  Runs last and leaves
 * the module loaded.
 */
TEST(module_unload_busy_while_open_then_reload)
{
	int fd, ret;

	ASSERT_TRUE(ut_module_loaded());
	fd = ut_open();
	ASSERT_LE(0, fd);
	ret = ut_rmmod();
	EXPECT_TRUE(ret == -EWOULDBLOCK || ret == -EBUSY) {
		TH_LOG("rmmod with an open fd returned %d", ret);
	}
	EXPECT_TRUE(ut_module_loaded());
	ASSERT_EQ(0, close(fd));

	ASSERT_EQ(0, ut_rmmod());
	EXPECT_FALSE(ut_module_loaded());
	EXPECT_EQ(-ENOENT, ut_open());

	ASSERT_EQ(0, ut_insmod(NULL));
	EXPECT_TRUE(ut_module_loaded());
	fd = ut_open();
	ASSERT_LE(0, fd);
	close(fd);
}

TEST(module_load_rejects_bad_parameters)
{
	ASSERT_TRUE(ut_module_loaded());
	/* Already loaded: a second load is refused. */
	EXPECT_EQ(-EEXIST, ut_insmod(NULL));
	ASSERT_EQ(0, ut_rmmod());
	EXPECT_EQ(-EINVAL, ut_insmod("max_ring_entries=1000"));
	EXPECT_EQ(-EINVAL, ut_insmod("max_workers=0"));
	EXPECT_FALSE(ut_module_loaded());
	ASSERT_EQ(0, ut_insmod(NULL));
	EXPECT_TRUE(ut_module_loaded());
}

TEST_HARNESS_MAIN
