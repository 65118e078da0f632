# SPDX-License-Identifier: GPL-2.0
#
# usched: build, test and run.  See README for the two commands a newcomer
# needs (`make demo`, `make check`); `make help` lists every target.
#
# The module is built out of tree, once per kernel, in build/<kernel-id>/
# (a tree of symlinks to kmod/ and Kbuild), so that builds for 6.1 and 6.12
# never share objects.  A kernel id names a folder of the cache that holds
# `vmlinuz` (booted by QEMU) and `build` (the KDIR); tools/deps.sh fills it
# for Debian's kernels, tools/debug-kernel/build.sh for the debug kernel.

USCHED_CACHE ?= $(HOME)/.cache/usched
export USCHED_CACHE

# Kernels to test: the Debian kernels resolved by tools/deps.sh, newest first.
KERNELS ?= $(shell cat $(USCHED_CACHE)/kernels.list 2>/dev/null)
# Default: the newest supported Debian kernel whose headers are installed.
KVER ?= $(shell ls -d /usr/src/linux-headers-*-cloud-amd64 2>/dev/null | \
		sed 's|.*/linux-headers-||' | sort -V | tail -1)
KDIR ?= $(firstword $(wildcard $(USCHED_CACHE)/kernels/$(KVER)/build) \
		    $(wildcard /usr/src/linux-headers-$(KVER)) \
		    /lib/modules/$(KVER)/build)
# Module warnings: W=1 by default (the module must stay clean under it).
W ?= 1
C ?= 0

# Userspace: SAN=asan or SAN=tsan builds everything into build/<san>/.
CC ?= gcc
SAN ?=
ifeq ($(SAN),)
B := build
SANFLAGS :=
else ifeq ($(SAN),asan)
B := build/asan
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer \
	    -fno-sanitize-recover=undefined -DUSCHED_SAN_ASAN=1
else ifeq ($(SAN),tsan)
B := build/tsan
SANFLAGS := -fsanitize=thread -fno-omit-frame-pointer -DUSCHED_SAN_TSAN=1
else
$(error SAN must be empty, asan or tsan)
endif

KSFT_INC := $(USCHED_CACHE)/kselftest
# The UAPI header is seen as <linux/usched.h>, as it is installed.
UAPI_H := build/include/linux/usched.h
CPPFLAGS_U := -D_GNU_SOURCE -Ilib/usched -Ibuild/include -I$(KSFT_INC)
CFLAGS_U := -std=gnu11 -O2 -g -Wall -Wextra -Werror=implicit \
	    -Wno-unused-parameter -fPIC -MMD -MP $(SANFLAGS) $(EXTRA_CFLAGS)
LDLIBS_U := -pthread -luring -lm
# kselftest_harness.h compares signed with unsigned in its ASSERT macros,
# and its fork/setjmp use trips -Wclobbered.
CFLAGS_T := $(CFLAGS_U) -Wno-sign-compare -Wno-clobbered

LIB_SRCS := $(wildcard lib/usched/*.c) $(wildcard lib/usched/arch/x86_64/*.c) \
	    $(wildcard lib/usched/arch/x86_64/*.S)
LIB_OBJS := $(patsubst %,$(B)/obj/%.o,$(LIB_SRCS))
LIB_MAP  := lib/usched/libusched.map
LIB_SONAME := libusched.so.1
LIB_A  := $(B)/lib/libusched.a
LIB_SO := $(B)/lib/$(LIB_SONAME)

KTEST_SRCS := $(wildcard selftests/module/*.c)
LTEST_SRCS := $(wildcard selftests/lib/*.c)
KTESTS := $(patsubst selftests/%.c,$(B)/selftests/%,$(KTEST_SRCS))
LTESTS := $(patsubst selftests/%.c,$(B)/selftests/%,$(LTEST_SRCS))
# Tools: every C file one level or two under tools/ is one program.
TOOL_SRCS := $(wildcard tools/*/*.c tools/*/*/*.c)
TOOLS := $(patsubst tools/%.c,$(B)/tools/%,$(TOOL_SRCS))

MODDIR := build/$(KVER)

.PHONY: all lib selftests tools module modules deps check check-host \
	check-vm demo clean help lint
.DEFAULT_GOAL := all

all: module lib selftests tools

help:
	@echo "make              module (KVER=$(KVER)), library, selftests, tools"
	@echo "make deps         install what the project needs (idempotent)"
	@echo "make demo         boot a VM, load the module, run the demo"
	@echo "make check        host tests, then VM selftests on every kernel"
	@echo "make check-host   library tests on the host (fallback mode)"
	@echo "make check-vm     all selftests in a VM on KVER=<kernel-id>"
	@echo "make module       usched.ko for KVER=<kernel-id> (W=1 C=0|1)"
	@echo "make modules      usched.ko for every kernel in KERNELS"
	@echo "make SAN=asan|tsan ...   sanitizer builds in build/<san>/"
	@echo "make lint         checkpatch, sparse, cppcheck, ABI and man page checks"
	@echo "make install      library, headers, usched.pc, man pages, udev rule, module"
	@echo "                  (PREFIX=/usr/local DESTDIR= INSTALL_MODULE=1); make uninstall"
	@echo "make examples     build/examples/*; make examples-check runs them"
	@echo "make dkms-check install-check tools-check   packaging and tools tests"
	@echo "make bench        benchmarks vs Go and pthreads, host + VMs (bench-quick,"
	@echo "                  bench-smoke, bench-report: Documentation/performance.md)"
	@echo "make fuzz         long fuzzing run on the debug kernel (FUZZ_SECONDS=600)"
	@echo "make clean        remove build/"
	@echo "kernels: $(KERNELS) (default KVER=$(KVER))"

deps:
	@tools/deps.sh

# ---- the module --------------------------------------------------------

module:
	@if [ -z "$(KVER)" ] || [ ! -e "$(KDIR)/Makefile" ]; then \
		echo "no kernel build tree for KVER='$(KVER)' (KDIR=$(KDIR)): run 'make deps'" >&2; \
		exit 1; fi
	@mkdir -p $(MODDIR)
	@cp -rsf $(CURDIR)/kmod $(MODDIR)/ && ln -sf $(CURDIR)/Kbuild $(MODDIR)/Kbuild
	@find -L $(MODDIR)/kmod -type l -delete 2>/dev/null || true
	$(MAKE) -C $(KDIR) M=$(CURDIR)/$(MODDIR) W=$(W) C=$(C) modules

modules:
	@for k in $(KERNELS); do $(MAKE) --no-print-directory module KVER=$$k || exit 1; done

# ---- the library -------------------------------------------------------

lib: $(LIB_A) $(LIB_SO)

$(UAPI_H): kmod/uapi/usched.h
	@mkdir -p $(@D)
	cp $< $@

$(B)/obj/%.c.o: %.c | $(UAPI_H)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS_U) $(CFLAGS_U) -c -o $@ $<

$(B)/obj/%.S.o: %.S | $(UAPI_H)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS_U) $(CFLAGS_U) -c -o $@ $<

# All of the library's code in one section (see lib/usched/usched.lds).
LIB_ONE := $(B)/obj/libusched.o
$(LIB_ONE): $(LIB_OBJS) lib/usched/usched.lds
	$(LD) -r -T lib/usched/usched.lds -o $@ $(LIB_OBJS)

$(LIB_A): $(LIB_ONE)
	@mkdir -p $(@D)
	rm -f $@
	ar rcs $@ $^

$(LIB_SO): $(LIB_ONE) $(wildcard $(LIB_MAP))
	@mkdir -p $(@D)
	$(CC) -shared -Wl,-soname,$(LIB_SONAME) \
		$(if $(wildcard $(LIB_MAP)),-Wl$(comma)--version-script=$(LIB_MAP)) \
		$(SANFLAGS) -o $@ $(LIB_ONE) $(LDLIBS_U)
	ln -sf $(LIB_SONAME) $(B)/lib/libusched.so

comma := ,

# ---- selftests and tools ----------------------------------------------

selftests: $(KTESTS) $(LTESTS)

$(B)/selftests/module/%: selftests/module/%.c $(UAPI_H)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS_U) $(CFLAGS_T) -o $@ $< $(LDLIBS_U)

$(B)/selftests/lib/%: selftests/lib/%.c $(LIB_A) $(UAPI_H)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS_U) $(CFLAGS_T) -o $@ $< $(LIB_A) $(LDLIBS_U)

tools: $(TOOLS)

$(B)/tools/%: tools/%.c $(LIB_A) $(UAPI_H)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS_U) $(CFLAGS_U) -o $@ $< $(LIB_A) $(LDLIBS_U)

-include $(shell find $(B) -name '*.d' 2>/dev/null)

# ---- running -----------------------------------------------------------

# Every selftest, in the order the VM runs them: module first, then library.
VM_TESTS = $(patsubst $(B)/%,%,$(KTESTS) $(LTESTS))
VM_ARGS ?=

check-host: lib selftests
	@tools/run-host $(patsubst $(B)/%,%,$(LTESTS))

check-vm: module lib selftests tools
	@tools/vm-run -k $(KVER) $(VM_ARGS) -- $(VM_TESTS)

check: deps
	@tools/check

demo: deps
	@tools/demo.sh

lint:
	@tools/lint

clean:
	rm -rf build

# ==== long fuzzing (issue 6) ================================================
# make fuzz   selftests/module/sfuzz (the stateful fuzzer) and
#             selftests/module/fuzz (random ioctls), FUZZ_SECONDS each
#             (default 600), then selftests/module/faults (fault injection),
#             in one VM on FUZZ_KERNEL (default debug: KASAN, lockdep,
#             kmemleak; tools/debug-kernel/build.sh builds it if needed).
#             FUZZ_SEED=N replays the sequences of a run (both fuzzers print
#             their seed).  Logs: build/vm-logs/fuzz-<kernel>/.
# The bounded runs (USCHED_SFUZZ_SECONDS, USCHED_FUZZ_SECONDS: 15 and 10 s)
# are part of every `make check`, which runs every selftests/module program.

FUZZ_KERNEL ?= debug
FUZZ_SECONDS ?= 600
FUZZ_SEED ?=
FUZZ_ENV = -e USCHED_SFUZZ_SECONDS=$(FUZZ_SECONDS) \
	   -e USCHED_FUZZ_SECONDS=$(FUZZ_SECONDS) \
	   $(if $(FUZZ_SEED),-e USCHED_SFUZZ_SEED=$(FUZZ_SEED) \
			     -e USCHED_FUZZ_SEED=$(FUZZ_SEED))
FUZZ_PROGS := sfuzz fuzz faults

.PHONY: fuzz
fuzz: $(patsubst %,$(B)/selftests/module/%,$(FUZZ_PROGS))
	@if [ "$(FUZZ_KERNEL)" = debug ]; then tools/debug-kernel/build.sh; fi
	@$(MAKE) --no-print-directory module KVER=$(FUZZ_KERNEL)
	@tools/vm-run -k $(FUZZ_KERNEL) -m 3072 \
		-T $$(( $(FUZZ_SECONDS) + 300 )) -t $$(( 2 * $(FUZZ_SECONDS) + 900 )) \
		$(FUZZ_ENV) -l build/vm-logs/fuzz-$(FUZZ_KERNEL) \
		-- $(patsubst %,selftests/module/%,$(FUZZ_PROGS))

# ==== benchmarks (tools/bench) ==============================================
# make bench         every workload on every implementation: the host, then
#                    a VM per kernel; prints one table, writes build/bench/
# make bench-quick   the same, smaller (a few minutes)
# make bench-smoke   each benchmark once at its smallest (host, and kbench
#                    in one VM): fails only when a benchmark crashes or
#                    hangs; results in build/bench-smoke/
# make bench-report  Documentation/performance.md and Documentation/perf/
#                    from build/bench/
# make bench-deps    Go 1.23 and gnuplot (tools/deps.sh --bench)
#
# The workload programs sit two folders below tools/bench/c/, out of reach
# of `make tools`, so that a library change never breaks `make tools`; they
# are built here into build/tools/bench/, which tools/vm-run packs into the
# guest.  The Go and plain-thread peers are static.

GO ?= $(firstword $(wildcard /usr/lib/go-1.23/bin/go) go)
GOBUILD = cd tools/bench/go && CGO_ENABLED=0 GOTOOLCHAIN=local \
	  $(GO) build -trimpath -buildvcs=false
BENCH_OUT := build/tools/bench
BENCH_H := $(wildcard tools/bench/c/common/*.h)

.PHONY: bench bench-quick bench-smoke bench-report bench-deps bench-progs

bench: bench-deps
	@tools/bench/run

bench-quick: bench-deps
	@tools/bench/run --quick

bench-smoke: bench-deps
	@tools/bench/run --smoke -o build/bench-smoke

bench-report: build/bench/bin/benchtab
	@tools/bench/report

bench-deps:
	@tools/deps.sh --bench

bench-progs: $(BENCH_OUT)/gobench $(BENCH_OUT)/cbench $(BENCH_OUT)/ubench \
	     $(BENCH_OUT)/kbench $(BENCH_OUT)/bench-exec build/bench/bin/benchtab

$(BENCH_OUT)/gobench: $(wildcard tools/bench/go/*.go) tools/bench/go/go.mod
	@mkdir -p $(@D)
	$(GOBUILD) -o $(CURDIR)/$@ .

build/bench/bin/benchtab: $(wildcard tools/bench/go/benchtab/*.go) tools/bench/go/go.mod
	@mkdir -p $(@D)
	$(GOBUILD) -o $(CURDIR)/$@ ./benchtab

$(BENCH_OUT)/cbench: tools/bench/c/pthread/cbench.c $(BENCH_H)
	@mkdir -p $(@D)
	$(CC) -D_GNU_SOURCE -std=gnu11 -O2 -g -Wall -Wextra -Wno-unused-parameter \
		-static -o $@ $< -pthread

$(BENCH_OUT)/ubench: tools/bench/c/usched/ubench.c $(BENCH_H) $(LIB_A) $(UAPI_H)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS_U) $(CFLAGS_U) -o $@ $< $(LIB_A) $(LDLIBS_U)

$(BENCH_OUT)/bench-exec: tools/bench/bench-exec
	@mkdir -p $(@D)
	cp $< $@

# ==== install, examples, packaging checks (issue 7) ==========================
# make install        the library (libusched.so.1 with its symbol versions,
#                     libusched.a), <usched.h>, <linux/usched.h>, usched.pc,
#                     the man pages, the udev rule, a modules-load.d example,
#                     and usched.ko for KVER into /lib/modules/KVER/updates
#                     (then depmod).  PREFIX (default /usr/local), DESTDIR;
#                     INSTALL_MODULE=0 leaves the module out (DKMS builds it)
# make uninstall      removes the same files (same PREFIX, DESTDIR, KVER)
# make examples       examples/*.c into build/examples/
# make examples-check the examples, run and checked on the host (TAP)
# make dkms-check     dkms add/build/remove against every kernel's headers
# make install-check  install into a temporary DESTDIR, build the examples
#                     out of tree with pkg-config only, run them
# make tools-check    uschedtop, usched-trace and the gdb helper on the host
# Documentation/install.md describes all of it.

PREFIX ?= /usr/local
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR ?= $(PREFIX)/share/man
DOCDIR ?= $(PREFIX)/share/doc/usched
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
UDEVRULESDIR ?= /usr/lib/udev/rules.d
MODULEDIR ?= /lib/modules/$(KVER)/updates
INSTALL_MODULE ?= 1
INSTALL ?= install
# DEPMOD=true skips depmod (a package's postinst runs it instead).
DEPMOD ?= depmod
DESTDIR ?=

LIB_VERSION := $(shell sed -n 's/^\#define USCHED_VERSION_MAJOR[[:space:]]*//p' lib/usched/usched.h).$(shell \
		sed -n 's/^\#define USCHED_VERSION_MINOR[[:space:]]*//p' lib/usched/usched.h)
LIB_REAL := libusched.so.$(LIB_VERSION)
PC_FILE := $(B)/lib/usched.pc
MAN_PAGES := $(wildcard man/man*/*.[0-9])
EXAMPLE_SRCS := $(wildcard examples/*.c)
EXAMPLES := $(patsubst examples/%.c,$(B)/examples/%,$(EXAMPLE_SRCS))

.PHONY: install install-lib install-module uninstall examples examples-check \
	dkms-check install-check tools-check

# usched.pc names PREFIX: written anew at every install.
install-lib: lib
	sed -e 's|@PREFIX@|$(PREFIX)|' \
	    -e 's|@LIBDIR@|$(patsubst $(PREFIX)/%,$${prefix}/%,$(LIBDIR))|' \
	    -e 's|@INCLUDEDIR@|$(patsubst $(PREFIX)/%,$${prefix}/%,$(INCLUDEDIR))|' \
	    -e 's|@VERSION@|$(LIB_VERSION)|' dist/usched.pc.in > $(PC_FILE)
	$(INSTALL) -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(PKGCONFIGDIR) \
		$(DESTDIR)$(INCLUDEDIR)/linux $(DESTDIR)$(DOCDIR) \
		$(DESTDIR)$(UDEVRULESDIR)
	$(INSTALL) -m 755 $(LIB_SO) $(DESTDIR)$(LIBDIR)/$(LIB_REAL)
	ln -sf $(LIB_REAL) $(DESTDIR)$(LIBDIR)/$(LIB_SONAME)
	ln -sf $(LIB_SONAME) $(DESTDIR)$(LIBDIR)/libusched.so
	$(INSTALL) -m 644 $(LIB_A) $(DESTDIR)$(LIBDIR)/libusched.a
	$(INSTALL) -m 644 lib/usched/usched.h $(DESTDIR)$(INCLUDEDIR)/usched.h
	$(INSTALL) -m 644 kmod/uapi/usched.h $(DESTDIR)$(INCLUDEDIR)/linux/usched.h
	$(INSTALL) -m 644 $(PC_FILE) $(DESTDIR)$(PKGCONFIGDIR)/usched.pc
	@for p in $(MAN_PAGES); do \
		d=$(DESTDIR)$(MANDIR)/$$(basename $$(dirname $$p)); \
		$(INSTALL) -d $$d && $(INSTALL) -m 644 $$p $$d/ || exit 1; \
	done; echo "installed $(words $(MAN_PAGES)) man pages into $(DESTDIR)$(MANDIR)"
	$(INSTALL) -m 644 dist/60-usched.rules $(DESTDIR)$(UDEVRULESDIR)/60-usched.rules
	$(INSTALL) -m 644 dist/modules-load.d-usched.conf $(DESTDIR)$(DOCDIR)/modules-load.d-usched.conf
	@if [ -z "$(DESTDIR)" ]; then ldconfig 2>/dev/null || true; \
		udevadm control --reload 2>/dev/null || true; fi

install-module: module
	$(INSTALL) -d $(DESTDIR)$(MODULEDIR)
	$(INSTALL) -m 644 $(MODDIR)/usched.ko $(DESTDIR)$(MODULEDIR)/usched.ko
	@if [ -z "$(DESTDIR)" ]; then \
		echo "$(DEPMOD) -a $(KVER)"; $(DEPMOD) -a $(KVER); \
	elif $(DEPMOD) -b $(DESTDIR) $(KVER) 2>/dev/null; then \
		echo "$(DEPMOD) -b $(DESTDIR) $(KVER)"; \
	else \
		echo "note: depmod -b $(DESTDIR) $(KVER) failed: run depmod -a $(KVER) once installed"; \
	fi

install: install-lib $(if $(filter 1,$(INSTALL_MODULE)),install-module)

uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/$(LIB_REAL) $(DESTDIR)$(LIBDIR)/$(LIB_SONAME) \
	      $(DESTDIR)$(LIBDIR)/libusched.so $(DESTDIR)$(LIBDIR)/libusched.a \
	      $(DESTDIR)$(INCLUDEDIR)/usched.h $(DESTDIR)$(INCLUDEDIR)/linux/usched.h \
	      $(DESTDIR)$(PKGCONFIGDIR)/usched.pc \
	      $(DESTDIR)$(UDEVRULESDIR)/60-usched.rules \
	      $(DESTDIR)$(DOCDIR)/modules-load.d-usched.conf
	rm -f $(foreach p,$(MAN_PAGES),$(DESTDIR)$(MANDIR)/$(notdir $(patsubst %/,%,$(dir $(p))))/$(notdir $(p)))
	@rmdir $(DESTDIR)$(DOCDIR) 2>/dev/null || true
	@if [ "$(INSTALL_MODULE)" = 1 ] && [ -e $(DESTDIR)$(MODULEDIR)/usched.ko ]; then \
		echo "rm -f $(DESTDIR)$(MODULEDIR)/usched.ko"; \
		rm -f $(DESTDIR)$(MODULEDIR)/usched.ko; \
		if [ -z "$(DESTDIR)" ]; then $(DEPMOD) -a $(KVER); \
		else $(DEPMOD) -b $(DESTDIR) $(KVER) 2>/dev/null || true; fi; \
	fi
	@if [ -z "$(DESTDIR)" ]; then ldconfig 2>/dev/null || true; fi

examples: $(EXAMPLES)

$(B)/examples/%: examples/%.c $(LIB_A)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS_U) $(CFLAGS_U) -o $@ $< $(LIB_A) $(LDLIBS_U)

examples-check: examples
	@tools/examples-check

dkms-check:
	@tools/dkms-check

install-check:
	@tools/install-check

tools-check: lib tools examples
	@tools/tools-check
