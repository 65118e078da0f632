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
	@echo "make lint         checkpatch, sparse and cppcheck"
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

