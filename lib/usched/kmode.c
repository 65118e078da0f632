// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * kmode.c - kernel mode: what libusched asks of usched.ko.
 *
 * One group (one open of /dev/usched) per runtime, set up with
 * USCHED_SETUP_GATE_STOLEN and mapped.  Every worker thread registers
 * itself; parked workers sleep in USCHED_IOC_PARK and are woken with
 * USCHED_IOC_WAKE.
 *
 * Syscall detachment.  One spare worker is the standby: every other worker
 * names it with USCHED_IOC_SET_STANDBY.  When a slot holder blocks in the
 * kernel (in any syscall, page fault or lock), the module marks the
 * holder's claim word BLOCKED and wakes the standby, which takes the slot
 * over (__usched_kmode_standby_scan): a compare-and-swap of the claim word
 * from BLOCKED to STOLEN (the sequence in it makes a stale one fail), then
 * of the slot's owner from the holder to itself.  It runs the slot's tasks
 * at once, and names a new standby.  When the blocked syscall completes,
 * the module sees STOLEN and holds the old holder at the gate, before it
 * returns to user mode, and wakes the standby that worker names (ABI
 * 1.3).  The slot's new holder gives it back at its next scheduling point
 * (__usched_kmode_give_back(): a GRANT to exactly that worker), and
 * becomes a spare again.  (If the slot went idle meanwhile, its new
 * holder having run out of work, the old holder waits out the gate's
 * bound: library.md, section 24.)
 * The old holder carries on as if nothing happened, even if its task
 * never calls the runtime again.  A
 * holder whose slot nobody took returns at once, without a syscall.  The
 * gate fails open after its bound (100 ms) and when no other worker is
 * left: the worker then runs without a slot until its task's next switch
 * (sched.c), when it looks for an idle slot or becomes a spare.
 *
 * A holder blocked inside runtime code (the runtime part of its nopreempt
 * word set, as while it holds a runtime lock) is not taken over: runtime
 * code only blocks briefly (a contended lock), and taken over it would
 * wait at the gate with the lock held.  ABI 1.2 at least: the redirect
 * sets nopreempt until the trampoline clears it.
 */
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"

#define RING_ENTRIES	64	/* the event ring is not read: counters suffice */

static int kioctl(unsigned long cmd, void *arg)
{
	return ioctl(rt.kfd, cmd, arg) ? -errno : 0;
}

int __usched_kmode_open(void)
{
	struct usched_version v = { .size = sizeof(v) };
	struct usched_setup s = { .size = sizeof(s) };
	uint32_t maxw;
	void *m;
	int fd, r;

	fd = open("/dev/usched", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	rt.kfd = fd;
	r = kioctl(USCHED_IOC_VERSION, &v);
	if (r)
		goto fail;
	if (v.abi_major != USCHED_ABI_MAJOR || v.abi_minor < 2 ||
	    !(v.features & USCHED_FEAT_CLAIM) ||
	    !(v.features & USCHED_FEAT_STANDBY) ||
	    !(v.features & USCHED_FEAT_GRANT_WORKER) ||
	    !(v.features & USCHED_FEAT_PREEMPT_NOW)) {
		r = -EPROTONOSUPPORT;
		goto fail;
	}
	maxw = rt.cfg.max_workers;
	if (maxw > v.max_workers)
		maxw = v.max_workers;
	if (maxw < rt.nslots + 1) {
		r = -E2BIG;
		goto fail;
	}
	s.flags = USCHED_SETUP_GATE_STOLEN;
	s.max_workers = maxw;
	s.ring_entries = RING_ENTRIES;
	s.gate_slots = 0;
	s.gate_timeout_ns = 0;	/* the module's default bound */
	r = kioctl(USCHED_IOC_SETUP, &s);
	if (r)
		goto fail;
	m = mmap(NULL, s.mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED) {
		r = -errno;
		goto fail;
	}
	rt.kshm = m;
	rt.kshm_size = s.mmap_size;
	rt.khdr = m;
	rt.kslots = (struct usched_worker_slot *)((char *)m + s.slots_offset);
	rt.cfg.max_workers = maxw;	/* only once kernel mode is certain */
	return 0;
fail:
	close(fd);
	rt.kfd = -1;
	return r;
}

void __usched_kmode_close(void)
{
	if (rt.kshm)
		munmap(rt.kshm, rt.kshm_size);
	rt.kshm = NULL;
	rt.khdr = NULL;
	rt.kslots = NULL;
	if (rt.kfd >= 0)
		close(rt.kfd);
	rt.kfd = -1;
}

int __usched_kmode_register(struct usched_worker *w)
{
	struct usched_register r = { .size = sizeof(r) };
	int ret = kioctl(USCHED_IOC_REGISTER, &r);

	if (ret)
		return ret;
	w->kid = r.worker;
	w->kslot = &rt.kslots[r.worker];
	return 0;
}

void __usched_kmode_unregister(struct usched_worker *w)
{
	struct usched_register r = { .size = sizeof(r), .worker = w->kid };

	kioctl(USCHED_IOC_UNREGISTER, &r);
}

int __usched_kmode_park(struct usched_worker *w, uint64_t deadline)
{
	struct usched_park p = { .size = sizeof(p), .worker = w->kid };

	if (deadline != USCHED_NEVER) {
		p.flags = USCHED_PARK_DEADLINE;
		p.deadline_ns = deadline;
	}
	return kioctl(USCHED_IOC_PARK, &p);
}

int __usched_kmode_wake(struct usched_worker *w)
{
	struct usched_target t = { .size = sizeof(t), .worker = w->kid };

	if (w->kid == USCHED_NO_WORKER)
		return -ESRCH;
	return kioctl(USCHED_IOC_WAKE, &t);
}

int __usched_kmode_set_standby(struct usched_worker *holder, uint32_t kid)
{
	struct usched_target t = { .size = sizeof(t), .worker = holder->kid,
				   .arg = kid };

	return kioctl(USCHED_IOC_SET_STANDBY, &t);
}

int __usched_kmode_preempt(struct usched_worker *w)
{
	struct usched_target t = { .size = sizeof(t), .worker = w->kid };

	return kioctl(USCHED_IOC_PREEMPT, &t);
}

int __usched_kmode_set_slice(struct usched_worker *w)
{
	struct usched_slice s = {
		.size = sizeof(s), .worker = w->kid,
		.mode = USCHED_PREEMPT_REDIRECT,
		.slice_ns = rt.cfg.slice_ns,
		.trampoline = (uintptr_t)__usched_preempt_tramp,
		.trampoline_len = (uintptr_t)__usched_preempt_tramp_end -
				  (uintptr_t)__usched_preempt_tramp,
	};

	return kioctl(USCHED_IOC_SET_SLICE, &s);
}

/*
 * Name the standby for every registered worker that has not named it yet.
 * Runs rarely: when a worker registers and when the standby changes.
 */
void __usched_standby_update(void)
{
	struct usched_worker *sb, *w;
	uint32_t i, kid;

	usched_lock(&rt.lock);
	rt.standby_changed = false;
	sb = rt.standby;
	kid = sb ? sb->kid : USCHED_NO_WORKER;
	for (i = 0; i < rt.nworkers; i++) {
		w = rt.workers[i];
		if (!w || w == sb || w->kid == USCHED_NO_WORKER ||
		    w->standby_named == kid)
			continue;
		if (!__usched_kmode_set_standby(w, kid))
			w->standby_named = kid;
	}
	usched_unlock(&rt.lock);
}

/* Does @s look taken-over-able: its holder blocked in task code? */
static struct usched_worker *blocked_holder(struct usched_slot *s, uint32_t *claim)
{
	uintptr_t o = atomic_load_explicit(&s->owner, memory_order_acquire);
	struct usched_worker *h = OWNER_WORKER(o);

	if (!h || (o & (OWNER_BUSY | OWNER_STEALING)) || !h->kslot)
		return NULL;
	*claim = __atomic_load_n(&h->kslot->claim, __ATOMIC_ACQUIRE);
	if ((*claim & USCHED_CLAIM_STATE) != USCHED_CLAIM_BLOCKED)
		return NULL;
	/*
	 * Blocked in a runtime section (runtime code holding a lock): keep
	 * its slot, or it would come back gated with the lock held.  The word cannot change
	 * while it stays blocked in this episode (the claim's sequence).
	 */
	if (__atomic_load_n(&h->kslot->nopreempt, __ATOMIC_ACQUIRE) &
	    NP_RUNTIME_MASK)
		return NULL;
	/* The claim first, then the owner (see the file comment). */
	o = atomic_load_explicit(&s->owner, memory_order_acquire);
	if (o != (uintptr_t)h)
		return NULL;
	return h;
}

static bool steal(struct usched_slot *s, struct usched_worker *thief)
{
	struct usched_worker *h;
	uint32_t c, stolen;
	uintptr_t o;

	h = blocked_holder(s, &c);
	if (!h)
		return false;
	/*
	 * Mark the slot first: should h come back between the claim and the
	 * owner updates (let through the gate by another slot's grant), its
	 * __usched_enter() waits for the outcome instead of taking the slot
	 * for its own.
	 */
	o = (uintptr_t)h;
	if (!atomic_compare_exchange_strong_explicit(&s->owner, &o,
			(uintptr_t)thief | OWNER_STEALING, memory_order_acq_rel,
			memory_order_relaxed))
		return false;
	stolen = (c & ~USCHED_CLAIM_STATE) | USCHED_CLAIM_STOLEN;
	if (!__atomic_compare_exchange_n(&h->kslot->claim, &c, stolen, false,
					 __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
		/* It came back, or blocked again since: the slot stays its. */
		atomic_store_explicit(&s->owner, (uintptr_t)h,
				      memory_order_release);
		return false;
	}
	s->stolen_from = h;
	atomic_store_explicit(&s->owner, OWNER_TAKEN(thief),
			      memory_order_release);
	return true;
}

void __usched_kmode_standby_scan(struct usched_worker *w)
{
	struct usched_worker *nsb = NULL;
	struct usched_slot *s = NULL;
	bool more = false;
	uint32_t i, c;

	if (rt.standby != w || w->next_slot)
		return;
	for (i = 0; i < rt.nslots; i++)
		if (steal(&rt.slots[i], w)) {
			s = &rt.slots[i];
			break;
		}
	if (!s)
		return;
	atomic_fetch_add_explicit(&rt.st_handovers, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&rt.st_blocks, 1, memory_order_relaxed);
	usched_lock(&rt.lock);
	/* This worker holds s now; a spare becomes the next standby. */
	w->role = ROLE_HOLDER;
	w->next_slot = s;
	/* The standby is kept off the spare list, out of wakep()'s reach. */
	nsb = rt.spares;
	if (nsb) {
		rt.spares = nsb->spare_next;
		rt.nspares--;
	}
	rt.standby = nsb;
	usched_unlock(&rt.lock);
	__usched_standby_update();
	if (!nsb) {
		/* Registration makes the new thread the standby. */
		__usched_worker_spawn_with(NULL, false);
		return;
	}
	/* Another holder may have blocked while we were the busy standby. */
	for (i = 0; i < rt.nslots && !more; i++)
		more = &rt.slots[i] != s && blocked_holder(&rt.slots[i], &c);
	if (more)
		__usched_worker_wake(nsb);
}

static int grant_worker(struct usched_worker *h)
{
	struct usched_target t = { .size = sizeof(t),
				   .flags = USCHED_GRANT_WORKER,
				   .worker = h->kid };

	return kioctl(USCHED_IOC_GRANT, &t);
}

/*
 * Let @h, the worker @s was taken from, through the gate with @s: mark
 * the owner word (its __usched_enter() waits), grant exactly it, settle
 * the word.  False, with @s left to @fallback, when it is not at the gate
 * (it left on its own: time bound).  The caller holds @s, or took it off
 * the idle list.
 */
static bool hand_back(struct usched_slot *s, struct usched_worker *h,
		      struct usched_worker *fallback)
{
	atomic_store_explicit(&s->owner, (uintptr_t)h | OWNER_STEALING,
			      memory_order_release);
	if (grant_worker(h)) {
		atomic_store_explicit(&s->owner, (uintptr_t)fallback,
				      memory_order_release);
		s->stolen_from = NULL;
		return false;
	}
	s->stolen_from = NULL;
	atomic_store_explicit(&s->owner, (uintptr_t)h, memory_order_release);
	atomic_fetch_add_explicit(&rt.st_gate_waits, 1, memory_order_relaxed);
	return true;
}

/*
 * @w holds @s, taken from s->stolen_from while it was blocked.  If that
 * worker now waits at the gate (its syscall returned) and still counts @s
 * as its slot, hand @s back: mark the owner word (its __usched_enter()
 * waits), let exactly it through the gate, and settle the word.  It then
 * carries on as the holder, even if its task never calls the runtime
 * again.  True when @w no longer holds @s.
 */
bool __usched_kmode_give_back(struct usched_worker *w, struct usched_slot *s)
{
	struct usched_worker *h = s->stolen_from;

	if (!__atomic_load_n(&rt.khdr->gate_waiting, __ATOMIC_ACQUIRE))
		return false;
	if (__atomic_load_n(&h->kslot->kstate, __ATOMIC_ACQUIRE) !=
	    USCHED_W_GATED)
		return false;
	/* Not running (gated): its own fields are stable to read. */
	if (h->slot != s) {
		s->stolen_from = NULL;
		return false;
	}
	if (!hand_back(s, h, w))
		return false;	/* it left the gate on its own: it will cope */
	w->slot = NULL;
	return true;
}
