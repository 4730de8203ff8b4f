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
	checkpatch bisect-check userspace install-ibv-odp perftest test stress demo bench clean distclean

help:
	@echo "make deps           install the Debian packages the project needs"
	@echo "make kernel         build the test kernel (lockdep, KASAN, DEBUG_VM)"
	@echo "make kernel-bench   build the bench kernel (no debug options)"
	@echo "make kernel-tree    $(BUILD)/linux: linux-source-6.12 + kernel/mm + kernel/rdma as commits"
	@echo "make kernel-export  write the commits of that tree back to kernel/mm and kernel/rdma"
	@echo "make kernel-reset   drop local work in the tree and re-apply the series"
	@echo "make checkpatch     checkpatch.pl --strict over every patch"
	@echo "make bisect-check   build every step of the series (bench config, W=1)"
	@echo "make userspace      build the user-space programs and tests (and ibv-odp)"
	@echo "make install-ibv-odp  install libibv-odp, its preload shim and ibv-odp (PREFIX=/usr/local)"
	@echo "make perftest       fetch perftest 25.01 from Debian, patch and build it"
	@echo "make test           build everything, boot the test kernel, run every test (T=suite)"
	@echo "make stress         long stress run: 10-minute invalidation storm, kills, swap pressure"
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

# Each patch of the series builds on its own (run once per change of it).
bisect-check: kernel-tree
	@scripts/bisect-check.sh $(BUILD)

userspace: kernel-tree perftest
	@$(MAKE) -s -C tests/progs BUILD=$(BUILD)
	@$(MAKE) -s -C userspace/ibv-odp BUILD=$(BUILD)

# libibv-odp, its preload shim and the ibv-odp tool, under PREFIX (/usr/local)
install-ibv-odp:
	@$(MAKE) -s -C userspace/ibv-odp BUILD=$(BUILD) install

perftest: deps
	@scripts/perftest.sh $(BUILD)

test: kernel userspace
	@tests/run.sh $(KERNEL_TEST) $(OUT)/test $(T)

# The stress suites in their long form, with kmemleak on: the invalidation
# storm runs 600 s, the memory-pressure guest (512 MiB, swap) moves data
# through 2 GiB for 300 s.  The figures of both guests end the output.
# acpi=noirq: under KASAN and kmemleak, on a busy host, ACPI's interpreter
# can take longer than its 30 s loop timeout to evaluate the PCI routing
# (_PRT); the virtio devices then get no interrupt (no PCI_MSI in the test
# kernel) and the guest hangs before its init.  With acpi=noirq the PCI
# interrupts are routed without AML; the CPUs still come from ACPI (with
# acpi=off, the kernel found only one).
stress: kernel userspace
	@GUEST_TIMEOUT=3000 LOWMEM_TIMEOUT=4200 GUEST_APPEND="kmemleak=on acpi=noirq" \
	LOWMEM_APPEND=acpi=noirq \
	GUEST_ENV="STRESS_SECS=600 CASE_TIMEOUT=1200" \
	LOWMEM_ENV="STRESS_SECS=300 PRESSURE_MIB=2048 CASE_TIMEOUT=3900" \
	tests/run.sh $(KERNEL_TEST) $(OUT)/stress stress pressure; \
	rc=$$?; tests/stress-table.sh $(OUT)/stress; exit $$rc

demo: kernel userspace
	@demo/run.sh $(KERNEL_TEST) $(OUT)/demo

bench: kernel-bench userspace
	@$(MAKE) -s -C bench/progs BUILD=$(BUILD)
	@bench/run.sh $(KERNEL_BENCH) $(OUT)/bench $(BENCH_RESULTS)

clean:
	rm -rf $(BUILD)/kbuild-* $(BUILD)/bzImage-* $(BUILD)/config-* $(BUILD)/results \
		$(BUILD)/progs $(BUILD)/bench $(BUILD)/perftest $(BUILD)/ibv-odp
	$(MAKE) -s -C tests/progs clean BUILD=$(BUILD)

distclean:
	rm -rf $(BUILD)
