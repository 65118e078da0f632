// SPDX-License-Identifier: GPL-2.0
/*
 * mmap.c - the group's shared memory: kernel-allocated pages (vmalloc)
 * that the kernel writes through their kernel addresses, never faulting,
 * even from the preempt notifier; user space maps them once with mmap(fd, 0)
 * and reads them without syscalls (the io_uring ring pattern).
 *
 * Not vmalloc_user(): its size comes from user space, and vmalloc_user()
 * cannot take __GFP_NOWARN, so a failure (memory pressure) printed a
 * stack dump and the whole Mem-Info in the kernel log on top of the
 * caller's -ENOMEM (found by selftests/module/faults.c).  __vmalloc() with
 * __GFP_NOWARN is quiet; without VM_USERMAP, remap_vmalloc_range() refuses
 * the area, so mmap inserts the pages itself, as that function does.
 *
 * __GFP_RETRY_MAYFAIL: the size is the caller's choice (up to 32 MiB a
 * group), so when the caller's memory cgroup is at its limit SETUP fails
 * with -ENOMEM after reclaim, as bpf_map_area_alloc() does, instead of
 * invoking the memcg OOM killer, which kills a task of the cgroup or,
 * with every task at oom_score_adj -1000, prints an "Out of memory and
 * no killable processes" report with a stack dump before failing anyway
 * (found by selftests/module/hotplug.c's memory-pressure test).
 *
 * Layout: struct usched_shm_header (128 bytes), then max_workers slots of
 * 64 bytes, then the event ring (ring_entries * 32 bytes), rounded up to a
 * page.  Offsets are reported by USCHED_IOC_SETUP and in the header.
 */
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/vmalloc.h>

#include "usched.h"

static_assert(sizeof(struct usched_shm_header) == 2 * 64);
static_assert(offsetof(struct usched_shm_header, ring_head) == 64);
static_assert(sizeof(struct usched_worker_slot) == USCHED_SLOT_SIZE);
static_assert(offsetof(struct usched_worker_slot, resume_ip) == 0);
static_assert(offsetof(struct usched_worker_slot, nopreempt) == 8);
static_assert(offsetof(struct usched_worker_slot, switch_seq) == 12);
static_assert(sizeof(struct usched_event) == 32);

int usched_shm_alloc(struct usched_group *g)
{
	size_t slots = sizeof(struct usched_shm_header);
	size_t ring = slots + (size_t)g->max_workers * USCHED_SLOT_SIZE;
	size_t size = PAGE_ALIGN(ring + (size_t)g->ring_entries *
				 sizeof(struct usched_event));
	u32 i;

	/*
	 * Zeroed; bounded by max_workers and max_ring_entries; charged to the
	 * caller's memory cgroup (SETUP runs in its context).
	 */
	g->shm = __vmalloc(size, GFP_KERNEL_ACCOUNT | __GFP_ZERO |
			   __GFP_RETRY_MAYFAIL | __GFP_NOWARN);
	if (!g->shm)
		return -ENOMEM;
	g->shm_size = size;
	g->hdr = g->shm;
	g->slots = g->shm + slots;
	g->ring = g->shm + ring;

	g->hdr->magic = USCHED_SHM_MAGIC;
	g->hdr->abi_major = USCHED_ABI_MAJOR;
	g->hdr->max_workers = g->max_workers;
	g->hdr->ring_entries = g->ring_entries;
	g->hdr->slots_offset = slots;
	g->hdr->ring_offset = ring;
	for (i = 0; i < g->max_workers; i++)
		g->slots[i].kstate = USCHED_W_FREE;
	return 0;
}

void usched_shm_free(struct usched_group *g)
{
	vfree(g->shm);
	g->shm = NULL;
}

int usched_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct usched_group *g = file->private_data;
	unsigned long off;
	int ret;

	ret = usched_group_check_caller(g);
	if (ret)
		return ret;
	if (!usched_group_is_setup(g))
		return -EBADFD;
	if (vma->vm_pgoff)
		return -EINVAL;
	if (vma->vm_end - vma->vm_start > g->shm_size)
		return -EINVAL;
	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;

	/* Not inherited by fork, never grown by mremap, not in core dumps. */
#ifdef USCHED_HAVE_VM_FLAGS_SET
	vm_flags_set(vma, VM_DONTCOPY | VM_DONTEXPAND | VM_DONTDUMP);
#else
	vma->vm_flags |= VM_DONTCOPY | VM_DONTEXPAND | VM_DONTDUMP;
#endif
	/*
	 * What remap_vmalloc_range() does.  On an error the caller of
	 * ->mmap unmaps the pages inserted so far.
	 */
	for (off = 0; off < vma->vm_end - vma->vm_start; off += PAGE_SIZE) {
		ret = vm_insert_page(vma, vma->vm_start + off,
				     vmalloc_to_page(g->shm + off));
		if (ret)
			return ret;
	}
	return 0;
}
