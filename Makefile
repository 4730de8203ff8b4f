# Address-space mirroring and On-Demand Paging for soft-RoCE (rxe).
# `make help` lists the targets.

SHELL := /bin/bash
TOP := $(abspath .)
BUILD ?= $(TOP)/build
OUT ?= $(BUILD)/results
export BUILD

KERNEL_TEST := $(BUILD)/bzImage-test
KERNEL_BENCH := $(BUILD)/bzImage-bench

# Cases to run: empty for all, or suites / suite/case names (make test T=harness)
T ?=

.PHONY: help all deps kernel kernel-bench kernel-tree kernel-reset kernel-export \
	checkpatch userspace perftest test demo bench clean distclean

help:
	@echo "make deps           install the Debian packages the project needs"
	@echo "make kernel         build the test kernel (lockdep, KASAN, DEBUG_VM)"
	@echo "make kernel-bench   build the bench kernel (no debug options)"
	@echo "make kernel-tree    $(BUILD)/linux: linux-source-6.12 + kernel/mm + kernel/rdma as commits"
	@echo "make kernel-export  write the commits of that tree back to kernel/mm and kernel/rdma"
	@echo "make kernel-reset   drop local work in the tree and re-apply the series"
	@echo "make checkpatch     checkpatch.pl --strict over every patch"
	@echo "make userspace      build the user-space programs and tests"
	@echo "make perftest       fetch perftest 25.01 from Debian, patch and build it"
	@echo "make test           build everything, boot the test kernel, run every test (T=suite)"
	@echo "make demo           boot, add rxe, run perftest over rxe"
	@echo "make bench          boot the bench kernel, measure ODP against pinned memory:"
	@echo "                    bench/results.md, results.png, results.csv"
	@echo "make clean          remove $(BUILD) except the unpacked kernel tree"

all: kernel userspace

deps:
	@scripts/deps.sh

kernel-tree: deps
	@scripts/kernel-tree.sh $(BUILD)

kernel-reset: deps
	@scripts/kernel-tree.sh $(BUILD) --reset

kernel-export:
	@scripts/kernel-export.sh $(BUILD)

kernel: kernel-tree
	@scripts/kernel-build.sh $(BUILD) test

kernel-bench: kernel-tree
	@scripts/kernel-build.sh $(BUILD) bench

checkpatch: kernel-tree
	@scripts/checkpatch.sh $(BUILD)

userspace: kernel-tree perftest
	@$(MAKE) -s -C tests/progs BUILD=$(BUILD)

perftest: deps
	@scripts/perftest.sh $(BUILD)

test: kernel userspace
	@tests/run.sh $(KERNEL_TEST) $(OUT)/test $(T)

demo: kernel userspace
	@demo/run.sh $(KERNEL_TEST) $(OUT)/demo

bench: kernel-bench userspace
	@$(MAKE) -s -C bench/progs BUILD=$(BUILD)
	@bench/run.sh $(KERNEL_BENCH) $(OUT)/bench

clean:
	rm -rf $(BUILD)/kbuild-* $(BUILD)/bzImage-* $(BUILD)/config-* $(BUILD)/results \
		$(BUILD)/progs $(BUILD)/bench $(BUILD)/perftest
	$(MAKE) -s -C tests/progs clean BUILD=$(BUILD)

distclean:
	rm -rf $(BUILD)
