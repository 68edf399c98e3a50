# rzram: developer entry points. The module itself is described by Kbuild;
# these targets drive the scripts in scripts/ (which cache the kernel build
# under ~/.cache/rzram, keyed by its inputs).
#
#   make            build rzram.ko (builds the kernel first if not cached)
#   make kernel     build (or reuse) the test kernel
#   make run        boot a VM on Debian's own kernel (RZ_FLAVOR=stock, the
#                   default here; base or debug for the project's kernels):
#                   modprobe rzram, swap on /dev/rzram0 under pressure
#   make test       the README's test command: host cargo tests, every VM test
#                   script on the base kernel (stress scripts in their short
#                   variant), the stock-kernel run, then the stress smoke on
#                   the debug kernel
#   make vm-test    VM tests only, base kernel (T=test_abi for one script)
#   make vm-test-stock  the VM scripts that apply, on Debian's kernel
#   make smoke      short stress scripts on the debug kernel (KASAN, lockdep, kmemleak)
#   make stress     the stress scripts, long variants, on the debug kernel (scripts/stress.sh)
#   make install    build rzram.ko for the running Debian trixie-backports
#                   7.3.4 kernel, install it in updates/, depmod (ROOT=DIR: into a root tree)
#   make uninstall  remove it again
#   make fuzz       fuzz each allocator for FUZZ_SECONDS (cargo-fuzz, nightly)
#   make lab        density lab over a directory (LAB_DIR=...)
#   make bench      C zram vs rzram in one VM boot + host path benchmark -> docs/benchmarks.md
#   make bench-tier rzram writeback_auto (each allocator) vs zswap vs C zram under memhog at
#                   3x memory, and ext4 larger than memory, in one VM boot -> docs/benchmarks.md
#   make clean      remove build products in the checkout (not the cache)

SCRIPTS := scripts
T ?= all
# Scripts with a long and a short ($$SMOKE) variant, and the tiering paths
# (writeback, recompression, a failing backing device, automatic writeback
# and the shrinker; swap with writeback,
# 7 minutes here, is in make stress); the smoke runs them short on the
# debug kernel, where any detector report fails the run.
SMOKE_T ?= test_busy test_limitload test_cycles test_race test_writeback test_recomp test_wbfault test_autowb
# The VM scripts on Debian's kernel: those with a risk of their own there
# (its modules, its config, rustc 1.85; README, "Installing on Debian").
STOCK_T ?= test_abi test_busy test_codec test_discard test_ext4 test_integrity test_limitload test_memlimit test_recomp test_stress test_swap test_tools test_upstream test_wbfault test_writeback test_autowb test_nbd
# install/uninstall into another root tree (default: this machine).
ZRAM_ALIAS ?= 0
ROOT ?= /
FUZZ_SECONDS ?= 60
LAB_DIR ?= /usr/lib/x86_64-linux-gnu

.PHONY: all module kernel toolchain run test lint host-test vm-test vm-test-stock smoke stress install uninstall fuzz lab bench bench-tier clean

all: module

toolchain:
	@$(SCRIPTS)/install-toolchain.sh

kernel: toolchain
	@$(SCRIPTS)/build-kernel.sh >/dev/null

module: kernel
	@$(SCRIPTS)/build-module.sh

# RZ_FLAVOR (environment or command line) picks the kernel; Debian's here.
run:
	@f=$${RZ_FLAVOR:-stock}; RZ_FLAVOR=$$f $(SCRIPTS)/install-toolchain.sh && \
	    RZ_FLAVOR=$$f RZ_VM_SHOW=all $(SCRIPTS)/run-vm.sh test_swap

# Every Rust file, module and host crates alike, in the kernel's format; the
# host crates with the workspace's clippy lints (Cargo.toml) and no warning.
lint:
	rustfmt --check --edition 2021 --config-path .rustfmt.toml $$(git ls-files '*.rs')
	cargo clippy -q --workspace --all-targets -- -D warnings

host-test:
	cargo test --workspace

# ZRAM_T: scripts that make test also runs against C zram in the same
# kernel, whose expectations must hold for both drivers (zram's own tools,
# and the tiering ABI, where C zram is the contract).
ZRAM_T ?= test_tools test_input test_writeback test_recomp test_wbfault test_wbswap test_autowb test_nbd
vm-test: toolchain
	@RZ_FLAVOR=$${RZ_FLAVOR:-base} RZ_SMOKE=1 $(SCRIPTS)/run-vm.sh $(T)
	@[ "$(T)" != all ] || RZ_FLAVOR=$${RZ_FLAVOR:-base} RZ_SMOKE=1 RZ_DRV=zram $(SCRIPTS)/run-vm.sh --no-build $(ZRAM_T)

vm-test-stock:
	@RZ_FLAVOR=stock $(SCRIPTS)/install-toolchain.sh
	@RZ_FLAVOR=stock RZ_SMOKE=1 $(SCRIPTS)/run-vm.sh $(STOCK_T)

smoke:
	@RZ_FLAVOR=debug $(SCRIPTS)/install-toolchain.sh
	@RZ_FLAVOR=debug RZ_SMOKE=1 RZ_VM_TIMEOUT=1800 RZ_VM_ONEBOOT=1 $(SCRIPTS)/run-vm.sh $(SMOKE_T)

stress:
	@$(SCRIPTS)/stress.sh

test: toolchain lint host-test vm-test vm-test-stock smoke

install:
	@ZRAM_ALIAS=$(ZRAM_ALIAS) $(SCRIPTS)/install.sh --root $(ROOT)

uninstall:
	@ZRAM_ALIAS=$(ZRAM_ALIAS) $(SCRIPTS)/install.sh --root $(ROOT) --uninstall

fuzz:
	@command -v cargo-fuzz >/dev/null || cargo install --locked cargo-fuzz
	$(MAKE) -C allocators fuzz FUZZ_TIME=$(FUZZ_SECONDS)

lab:
	cargo run --release -q -p zpool-lab -- $(LAB_DIR)

bench: toolchain
	@$(SCRIPTS)/bench.sh

bench-tier: toolchain
	@$(SCRIPTS)/bench-tier.sh

clean:
	rm -rf out target .module-build.log
	find . \( -name '*.o' -o -name '*.ko' -o -name '*.mod' -o -name '*.mod.c' \
	    -o -name '.*.cmd' -o -name 'modules.order' -o -name 'Module.symvers' \) \
	    -not -path './target/*' -delete
