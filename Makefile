# SPDX-License-Identifier: GPL-2.0-or-later
#
# A thin front end for people. The real build is meson (meson.build);
# this file installs what the build needs and names the common jobs.
#
#   make          install build dependencies, build everything into build/
#   make demo     ... then build the test guest and boot it with phyllo-vmm
#   make check    ... then every unit test (plain and ASan+UBSan), every
#                 fuzzer for a bounded time, and every end-to-end test;
#                 ends with "N passed, M failed"
#   make bench    boot benchmark (bench/boot), phyllo-vmm against QEMU
#   make bench-blk  virtio-blk benchmark (bench/blk, fio in the guest)
#   make bench-snapshot  snapshot and restore benchmark (bench/snapshot)
#   make bench-net  virtio-net benchmark (bench/net, iperf3 in the guest)
#   make bench-display  display benchmark (bench/display, VNC latency and CPU)

BUILD ?= build
SANITIZE_BUILD ?= $(BUILD)/sanitize

.PHONY: all deps build sanitize fuzz guest demo check unit e2e clean bench bench-blk bench-snapshot bench-net bench-display

all: build

deps:
	@scripts/install-deps.sh

$(BUILD)/build.ninja:
	meson setup $(BUILD) >/dev/null

build: deps $(BUILD)/build.ninja
	@ninja -C $(BUILD)
	@scripts/build-web.sh $(BUILD)/web

$(SANITIZE_BUILD)/build.ninja:
	meson setup $(SANITIZE_BUILD) -Dbuildtype=debug -Db_sanitize=address,undefined \
		-Db_lundef=false >/dev/null

sanitize: deps $(SANITIZE_BUILD)/build.ninja
	@ninja -C $(SANITIZE_BUILD)

FUZZ_BUILD ?= $(BUILD)/fuzz

$(FUZZ_BUILD)/build.ninja:
	CC=clang meson setup $(FUZZ_BUILD) -Dfuzz=true -Db_lundef=false >/dev/null

fuzz: deps $(FUZZ_BUILD)/build.ninja
	@ninja -C $(FUZZ_BUILD)

guest: deps
	@tests/guest/build.sh $(BUILD)/guest

demo: build guest
	@scripts/demo.sh

check: build sanitize fuzz guest
	@tests/check.sh

clean:
	rm -rf $(BUILD)

bench: build guest
	@tools/kvmbox -- bench/boot/run.py

bench-blk: build guest
	@bench/blk/build-guest.sh
	@tools/kvmbox -t 5400 -- bench/blk/run.py

bench-snapshot: build guest
	@tools/kvmbox -t 5400 -- bench/snapshot/run.py

bench-net: build guest
	@bench/net/build-guest.sh
	@tools/kvmbox -t 5400 -- bench/net/run.py

bench-display: build guest
	@tools/kvmbox -t 5400 -- bench/display/run.py
