# SPDX-License-Identifier: GPL-2.0
"""usched-gdb.py - gdb commands for programs that use libusched.

Load it into gdb (the program must have the library's debug information:
the Makefile builds it with -g):

    (gdb) source tools/gdb/usched-gdb.py

or automatically, from ~/.gdbinit:  add-auto-load-safe-path ... and
source this file.  Then, with the program stopped:

    usched tasks            every task the runtime can find, with its id,
                            name, state and where it was found
    usched bt ID|NAME|ADDR  the backtrace of a task that is switched out
                            (runnable or parked), as if it were running:
                            the registers saved by its last context switch
                            are put into the selected thread for the time
                            of the `bt`, then restored.  A running task:
                            the backtrace of the worker thread running it.
    usched workers          the worker threads, their slots and tasks

How tasks are found (lib/usched/internal.h has the structures):
  * running: each worker's current task (__usched_rt.workers[i]->cur);
  * runnable: each slot's runnext and run queue ring (runq[head..tail)),
    and the global queue (gq_head, linked through task->next);
  * parked with a deadline: the timer heap (timer.c's `heap`);
  * parked without one (a channel, a mutex, a join...): no list holds
    them, so the stacks in use are searched (stack.c's chunks, minus the
    free pools and the workers' stack caches): a parked task's own stack
    holds its task pointer (the
    frames of __usched_task_start keep it), and a word counts as a task
    only if that task's `stack` field points back at this very stack and
    its saved stack pointer lies inside it.
Tasks that never ran have no stack and are always on a queue.

A switched-out task's context is its saved stack pointer, task->sp, which
points at the frame of lib/usched/arch/x86_64/switch_x86_64_sysv_elf_gas.S:
  +0 MXCSR and x87 control word, +8 r15, +16 r14, +24 r13, +32 r12,
  +40 rbx, +48 rbp, +56 the return address into the switch's caller.
`usched bt` needs a live process (a core file's registers cannot be set);
`usched tasks` also works on a core file.
"""

import struct

import gdb

# usched_task.state and the low bits of usched_task.wait (internal.h).
TASK_STATES = {0: "runnable", 1: "running", 2: "waiting", 3: "dead"}
WAIT_STATES = {0: "running", 1: "parking", 2: "parked", 3: "claimed"}
TASK_F_FOREIGN = 2

# The switch frame, as offsets from task->sp.
FRAME = {"r15": 8, "r14": 16, "r13": 24, "r12": 32, "rbx": 40, "rbp": 48}
FRAME_RET = 56
FRAME_SIZE = 64


def _lookup(expr):
    """The value of a global or a file-static ('file.c'::name), or None."""
    try:
        return gdb.parse_and_eval(expr)
    except gdb.error:
        return None


def _static(filename, name):
    v = _lookup("'%s'::%s" % (filename, name))
    if v is None:
        for sym in gdb.lookup_static_symbols(name) if hasattr(gdb, "lookup_static_symbols") else []:
            if sym.symtab and sym.symtab.filename.endswith(filename):
                return sym.value()
    return v


def _u64(mem, off):
    return struct.unpack_from("<Q", mem, off)[0]


def _rt():
    rt = _lookup("__usched_rt")
    if rt is None:
        raise gdb.GdbError("no __usched_rt: is this a libusched program, "
                           "with the library's debug information?")
    return rt


class Task:
    """A task found somewhere, with the first place it was found."""

    def __init__(self, ptr, where):
        self.ptr = ptr
        self.addr = int(ptr)
        self.where = [where]

    @property
    def t(self):
        return self.ptr.dereference()

    def id(self):
        return int(self.t["id"])

    def name(self):
        try:
            return self.t["name"].string(length=32).split("\0")[0]
        except (gdb.error, UnicodeDecodeError):
            return "?"

    def state(self):
        s = int(self.t["state"])
        desc = TASK_STATES.get(s, "state %d" % s)
        if s == 2:
            w = int(self.t["wait"])
            desc += " (%s%s)" % (WAIT_STATES.get(w & 3, "?"),
                                 ", cancellable" if w & 4 else "")
        if int(self.t["cancelled"]):
            desc += " cancelled"
        return desc


def find_tasks(scan_stacks=True):
    """Every task the runtime can find: {address: Task}, in discovery order."""
    rt = _rt()
    task_ptr = gdb.lookup_type("struct usched_task").pointer()
    found = {}

    def add(ptr, where):
        if ptr is None or int(ptr) == 0:
            return
        a = int(ptr)
        if a in found:
            found[a].where.append(where)
        else:
            found[a] = Task(ptr.cast(task_ptr), where)

    if not bool(rt["started"]):
        return found
    # Running: each worker's current task.
    for i in range(int(rt["nworkers"])):
        w = rt["workers"][i]
        if int(w) == 0:
            continue
        cur = w["cur"]
        if int(cur) and not int(cur["flags"]) & TASK_F_FOREIGN:
            add(cur, "worker %d (tid %d)" % (i, int(w["tid"])))
    # Runnable: per slot, runnext and the ring.
    for s in range(int(rt["nslots"])):
        slot = rt["slots"][s]
        add(slot["runnext"], "slot %d runnext" % s)
        size = slot["runq"].type.range()[1] + 1
        head, tail = int(slot["runq_head"]), int(slot["runq_tail"])
        for k in range(head, tail if tail - head <= size else head + size):
            add(slot["runq"][k % size], "slot %d run queue" % s)
    # Runnable: the global queue.
    t, n = rt["gq_head"], 0
    while int(t) and n < 1000000:
        add(t, "global queue")
        t, n = t["next"], n + 1
    # Parked with a deadline: the timer heap.
    heap, heap_len = _static("timer.c", "heap"), _static("timer.c", "heap_len")
    if heap is not None and heap_len is not None and int(heap):
        for i in range(int(heap_len)):
            add(heap[i], "timer heap")
    if scan_stacks:
        for ptr in scan_task_stacks(set(found)):
            add(ptr, "stack scan")
    return found


def scan_task_stacks(known):
    """Task pointers found on the stacks in use (see the module docstring)."""
    chunks = _static("stack.c", "chunks")
    page = _static("stack.c", "page_size")
    if chunks is None or page is None:
        return []
    inf = gdb.selected_inferior()
    task_t = gdb.lookup_type("struct usched_task")
    off_stack = next(f.bitpos // 8 for f in task_t.fields() if f.name == "stack")
    off_sp = next(f.bitpos // 8 for f in task_t.fields() if f.name == "sp")
    task_ptr = task_t.pointer()

    # Free stacks: the shared pools, and each worker's own cache.
    heads = [_static("stack.c", pool) for pool in ("pool", "odd_pool")]
    rt = _rt()
    for i in range(int(rt["nworkers"])):
        w = rt["workers"][i]
        try:
            if int(w):
                heads.append(w["stack_cache"])
        except gdb.error:
            break           # a library without per-worker caches
    free = set()
    for s in heads:
        n = 0
        while s is not None and int(s) and n < 10000000:
            free.add(int(s))
            s, n = s["next"], n + 1

    # Candidate word -> (its stack field, its sp field), or None when it
    # cannot be read: a word may appear on several stacks (a spawner keeps
    # its children's pointers), so only the memory reads are cached.
    out, cache = [], {}
    c = chunks
    while int(c):
        first = c["stacks"][0]
        per = int(first["size"]) + int(page)
        count = int(c["len"]) // per if per else 0
        for i in range(count):
            s = c["stacks"][i]
            saddr = int(s.address)
            if saddr in free:
                continue
            lo, hi = int(s["lo"]), int(s["hi"])
            try:
                mem = inf.read_memory(lo, hi - lo)
            except gdb.MemoryError:
                continue
            # From the top: the task pointer sits in the first frames.
            for off in range(hi - lo - 8, -8, -8):
                v = _u64(mem, off)
                if v in known or v & 7 or v < 4096 or lo <= v < hi:
                    continue
                if v not in cache:
                    try:
                        hdr = inf.read_memory(v, max(off_stack, off_sp) + 8)
                        cache[v] = (_u64(hdr, off_stack), _u64(hdr, off_sp))
                    except gdb.MemoryError:
                        cache[v] = None
                if cache[v] and cache[v][0] == saddr and lo <= cache[v][1] < hi:
                    out.append(gdb.Value(v).cast(task_ptr))
                    break
        c = c["next"]
    return out


def find_task(arg):
    """A task by id, name, or address (0x... or any gdb expression)."""
    arg = arg.strip()
    if not arg:
        raise gdb.GdbError("usched bt: which task? (an id, a name, or an address)")
    tasks = find_tasks()
    if arg.isdigit():
        for t in tasks.values():
            if t.id() == int(arg):
                return t
        raise gdb.GdbError("no task with id %s among the %d found (usched tasks)"
                           % (arg, len(tasks)))
    for t in tasks.values():
        if t.name() == arg:
            return t
    try:
        v = gdb.parse_and_eval(arg)
    except gdb.error:
        raise gdb.GdbError("no task named %s" % arg)
    ptr = v.cast(gdb.lookup_type("struct usched_task").pointer())
    t = tasks.get(int(ptr)) or Task(ptr, "given address")
    return t


class UschedPrefix(gdb.Command):
    """Commands for libusched's tasks: usched tasks, usched bt, usched workers."""

    def __init__(self):
        super().__init__("usched", gdb.COMMAND_STACK, gdb.COMPLETE_NONE, True)


class UschedTasks(gdb.Command):
    """List the tasks of the libusched runtime: usched tasks [-q]

-q: do not search the stacks for tasks parked without a deadline (faster
with very many tasks; those tasks are then not listed)."""

    def __init__(self):
        super().__init__("usched tasks", gdb.COMMAND_STACK)

    def invoke(self, arg, from_tty):
        rt = _rt()
        if not bool(rt["started"]):
            print("the runtime is not started")
            return
        tasks = find_tasks(scan_stacks="-q" not in arg.split())
        print("%6s  %-18s  %-30s  %-16s  %s" % ("ID", "ADDRESS", "STATE", "NAME", "FOUND IN"))
        for t in sorted(tasks.values(), key=lambda x: x.id()):
            print("%6d  %#-18x  %-30s  %-16s  %s" % (t.id(), t.addr, t.state(),
                                                     t.name() or "-", ", ".join(t.where)))
        live = int(rt["ntasks"])
        print("%d task(s) found; the runtime counts %d not yet ended "
              "(the difference: tasks switching right now, or parked "
              "without a stack to search)" % (len(tasks), live)
              if len(tasks) < live else
              "%d task(s) found; the runtime counts %d not yet ended" % (len(tasks), live))


def _switch_site():
    """The address in __usched_ctx_switch where rsp is the saved context."""
    try:
        sym = gdb.lookup_global_symbol("__usched_ctx_switch")
        start = int(sym.value().address) if sym else int(
            gdb.parse_and_eval("&__usched_ctx_switch"))
    except (gdb.error, TypeError):
        try:
            start = int(gdb.parse_and_eval("(long)&__usched_ctx_switch"))
        except gdb.error:
            return None
    arch = gdb.selected_frame().architecture()
    for insn in arch.disassemble(start, count=16):
        # movq %rsp, (%rdi): *from_sp = this context.  Before it runs, the
        # registers are pushed and the CFI says so: gdb unwinds from here.
        if insn["asm"].replace(" ", "").startswith("mov%rsp,(%rdi)"):
            return insn["addr"]
    return None


class UschedBt(gdb.Command):
    """Backtrace of a task: usched bt ID|NAME|ADDRESS [bt options...]

The task's saved registers (its switch frame) are put into the selected
thread, `bt` runs, and the registers are restored.  For a running task, the
backtrace of the worker thread that runs it."""

    def __init__(self):
        super().__init__("usched bt", gdb.COMMAND_STACK)

    def invoke(self, arg, from_tty):
        words = arg.split()
        if not words:
            raise gdb.GdbError("usched bt ID|NAME|ADDRESS [bt options]")
        task = find_task(words[0])
        btargs = " ".join(words[1:])
        t = task.t
        print("task %d (%s): %s; found in %s" % (task.id(), task.name() or "-",
                                                task.state(), ", ".join(task.where)))
        state = int(t["state"])
        if state == 1:
            self.running(task, btargs)
            return
        if state == 3:
            raise gdb.GdbError("the task has ended: no stack")
        if int(t["stack"]) == 0:
            print("it has not run yet: no stack, no backtrace (it starts in its function %s)"
                  % t["fn"])
            return
        sp = int(t["sp"])
        thread = gdb.selected_thread()
        if thread is None:
            raise gdb.GdbError("no thread selected (is the program running?)")
        inf = gdb.selected_inferior()
        mem = inf.read_memory(sp, FRAME_SIZE)
        saved = {r: _u64(mem, o) for r, o in FRAME.items()}
        site = _switch_site()
        if site is not None:
            regs = dict(saved, rsp=sp, rip=site)
        else:
            regs = dict(saved, rsp=sp + FRAME_SIZE, rip=_u64(mem, FRAME_RET))

        gdb.execute("frame 0", to_string=True)
        names = list(regs)
        old = {r: int(gdb.parse_and_eval("$" + r)) for r in names}
        try:
            for r in names:
                gdb.execute("set $%s = %#x" % (r, regs[r]), to_string=True)
            gdb.execute("bt " + btargs)
        except gdb.error as e:
            if "core" in str(e).lower() or "registers" in str(e).lower():
                raise gdb.GdbError("cannot set registers here (%s): usched bt needs "
                                   "a live process" % e)
            raise
        finally:
            for r in names:
                try:
                    gdb.execute("set $%s = %#x" % (r, old[r]), to_string=True)
                except gdb.error:
                    pass
            gdb.execute("frame 0", to_string=True)

    @staticmethod
    def running(task, btargs):
        rt = _rt()
        for i in range(int(rt["nworkers"])):
            w = rt["workers"][i]
            if int(w) and int(w["cur"]) == task.addr:
                tid = int(w["tid"])
                for th in gdb.selected_inferior().threads():
                    if th.ptid[1] == tid:
                        cur = gdb.selected_thread()
                        print("running on worker %d, thread %d (LWP %d):" % (i, th.num, tid))
                        th.switch()
                        try:
                            gdb.execute("bt " + btargs)
                        finally:
                            cur.switch()
                        return
                print("running on worker %d (LWP %d), a thread gdb does not list" % (i, tid))
                return
        print("running, but on no worker now (it is being switched)")


class UschedWorkers(gdb.Command):
    """The worker threads of the libusched runtime: usched workers"""

    def __init__(self):
        super().__init__("usched workers", gdb.COMMAND_STACK)

    def invoke(self, arg, from_tty):
        rt = _rt()
        if not bool(rt["started"]):
            print("the runtime is not started")
            return
        mode = {1: "kernel", 2: "fallback"}.get(int(rt["mode"]), "?")
        print("mode %s, %d slots, %d workers, %d spares" % (
            mode, int(rt["nslots"]), int(rt["nworkers"]), int(rt["nspares"])))
        slot0 = int(rt["slots"])
        slot_size = rt["slots"].dereference().type.sizeof
        print("%4s  %8s  %6s  %-8s  %s" % ("W", "LWP", "SLOT", "ROLE", "CURRENT TASK"))
        roles = {0: "holder", 1: "spare", 2: "exiting"}
        for i in range(int(rt["nworkers"])):
            w = rt["workers"][i]
            if not int(w):
                continue
            s = int(w["slot"])
            slot = str((s - slot0) // slot_size) if s else "-"
            cur = w["cur"]
            what = "-"
            if int(cur):
                tk = Task(cur, "")
                what = "%d (%s)" % (tk.id(), tk.name() or "-")
            print("%4d  %8d  %6s  %-8s  %s" % (i, int(w["tid"]), slot,
                                               roles.get(int(w["role"]), "?"), what))


UschedPrefix()
UschedTasks()
UschedBt()
UschedWorkers()
