# OpenPlug — the two commands (and a few more).  The build is CMake's; this
# file only installs what is missing, configures the build trees and runs.
#
#   make run     build and start the simulated plug (console in this terminal);
#                PORT=8080 the web UI's port (taken: the next free one),
#                DATE=now the world's clock (its NTP server), e.g. 2026-06-21T12:00
#   make ota-image  build/openplug-sim.ota: an update image of the simulator's
#                own firmware (stripped, as a slot holds it), for its Update page
#   make test    build everything and run every test (also under ASan+UBSan,
#                on an emulated RV32 CPU, the whole firmware on QEMU's virt
#                machine driven through its serial console, and the fuzz
#                targets briefly)
#   make bench   benchmarks: idle cost, virtual-time speed, flash endurance
#   make size    OpenPlug's part of the BL602 image (core, network, web UI)
#                built for rv32imfc with newlib, size per module; fails
#                above bench/size-limits
#   make rv32-newlib  build/rv32n: newlib (built once from Debian's
#                newlib-source), core + network compiled for the chip, and
#                the qemu-virt board firmware
#   make fuzz    run every fuzz target in turn until FUZZ_RUNS (10 M) inputs
#                or FUZZ_SECONDS (7200) each, then print a table (fuzz/run-long.sh)
#   make bl602 BL602_SDK=<SDK components/> BL602_NEWLIB=<newlib prefix>
#                libopenplug_bl602.a for the vendor SDK's link (cmake/bl602-sdk.cmake)

JOBS   ?= 2
BUILD  ?= build
DEPS    = scripts/ensure-deps.sh
CMAKE   = cmake -Wno-dev

PKG_BUILD = build-essential cmake git python3 libmbedtls-dev liblzma-dev terser
PKG_TEST  = $(PKG_BUILD) python3-pytest clang libclang-rt-14-dev valgrind curl chrony \
            gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf qemu-system-misc openssl \
            mosquitto python3-paho-mqtt python3-jsonschema chromium chromium-driver python3-selenium \
            gupnp-tools iproute2 newlib-source liblwip-dev avahi-utils avahi-daemon dbus
PKG_BENCH = $(PKG_BUILD) valgrind wrk mosquitto python3-paho-mqtt python3-jsonschema python3-pytest
PKG_SIZE  = $(PKG_BUILD) gcc-riscv64-unknown-elf newlib-source liblwip-dev

SIM  = $(BUILD)/host/openplug-sim
WORLD ?= $(BUILD)/world.sock
PORT ?= 8080
DATE ?= now
# The networks around the simulated plug (its set-up page lists them).
WIFI ?= --wifi HomeNet:openplug-demo --wifi Neighbours-5G:not-yours-1234 --wifi CafeGuest

.PHONY: ota-image run test bench size fuzz host asan rv32 rv32-newlib fuzz-build bl602 clean

run:
	@$(DEPS) $(PKG_BUILD)
	@$(MAKE) --no-print-directory host
	@echo "openplug-sim: serial console below (type Help); the web UI is at the address of the 'HTTP: web server on' line; Wi-Fi HomeNet, password openplug-demo; world socket: $(WORLD); Ctrl-C stops"
	@$(SIM) --flash-timing real --flash $(BUILD)/openplug-flash.bin --world $(WORLD) --http $(PORT) --http-next-free --date $(DATE) $(WIFI)

# The version in the image's header: the build's, cut to the header's 16 characters.
OTA_VERSION ?= $(shell $(SIM) --version 2>/dev/null | cut -d' ' -f2 | cut -c1-16)
ota-image: host
	@strip -o $(BUILD)/openplug-sim.bin $(SIM)
	@$(BUILD)/host/mkota --version "$(OTA_VERSION)" $(BUILD)/openplug-sim.bin $(BUILD)/openplug-sim.ota
	@echo "upload $(BUILD)/openplug-sim.ota on the Update page, or: curl --data-binary @$(BUILD)/openplug-sim.ota http://127.0.0.1:$(PORT)/api/ota"

host:
	@$(CMAKE) -S . -B $(BUILD)/host -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD)/host -j $(JOBS)

asan:
	@$(CMAKE) -S . -B $(BUILD)/asan -DCMAKE_BUILD_TYPE=Debug -DOPENPLUG_SANITIZE=ON >/dev/null
	@cmake --build $(BUILD)/asan -j $(JOBS)

rv32:
	@$(CMAKE) -S . -B $(BUILD)/rv32 -DCMAKE_TOOLCHAIN_FILE=cmake/riscv-bl602.cmake -DCMAKE_BUILD_TYPE=MinSizeRel >/dev/null
	@cmake --build $(BUILD)/rv32 -j $(JOBS)

# newlib first (a few minutes, once per clean tree; the script prints so):
# the toolchain file would build it too, but silently under cmake.
rv32-newlib:
	@scripts/build-newlib.sh $(BUILD)/rv32n/newlib-rv32imfc
	@$(CMAKE) -S . -B $(BUILD)/rv32n -DCMAKE_TOOLCHAIN_FILE=cmake/riscv-bl602-newlib.cmake -DCMAKE_BUILD_TYPE=MinSizeRel >/dev/null
	@cmake --build $(BUILD)/rv32n -j $(JOBS)

bl602:
	@test -n "$(BL602_SDK)" || { echo "make bl602: give BL602_SDK=<the SDK's components/> and BL602_NEWLIB=<newlib prefix>"; exit 1; }
	@$(CMAKE) -S . -B $(BUILD)/bl602 -DCMAKE_TOOLCHAIN_FILE=cmake/bl602-sdk-toolchain.cmake -DCMAKE_BUILD_TYPE=MinSizeRel \
	  -DBL602_SDK=$(BL602_SDK) -DBL602_NEWLIB=$(BL602_NEWLIB) >/dev/null
	@cmake --build $(BUILD)/bl602 -j $(JOBS)

fuzz-build:
	@CC=clang $(CMAKE) -S . -B $(BUILD)/fuzz -DOPENPLUG_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD)/fuzz -j $(JOBS)

test:
	@$(DEPS) $(PKG_TEST)
	@$(MAKE) --no-print-directory host asan rv32 rv32-newlib fuzz-build
	cd $(BUILD)/host && ctest --output-on-failure -j $(JOBS)
	cd $(BUILD)/asan && ctest --output-on-failure -j $(JOBS)
	cd $(BUILD)/rv32 && ctest --output-on-failure -j $(JOBS)
	cd $(BUILD)/rv32n && ctest --output-on-failure -j $(JOBS)
	cd $(BUILD)/fuzz && ctest --output-on-failure  # one at a time: see fuzz/smoke.cmake

bench:
	@$(DEPS) $(PKG_BENCH)
	@$(MAKE) --no-print-directory host
	@bench/run.sh $(SIM)

size:
	@$(DEPS) $(PKG_SIZE)
	@$(MAKE) --no-print-directory rv32-newlib
	@tools/size-table.sh $(BUILD)/rv32n bench/size-limits

# Each target until FUZZ_RUNS inputs or FUZZ_SECONDS, whichever first; one at
# a time under nice -n 19; FUZZ_BUDGET (s, 0 = none) caps the whole run.
FUZZ_RUNS ?= 10000000
FUZZ_SECONDS ?= 7200
FUZZ_BUDGET ?= 0
fuzz: fuzz-build
	@fuzz/run-long.sh $(BUILD)/fuzz $(FUZZ_RUNS) $(FUZZ_SECONDS) $(FUZZ_BUDGET)

clean:
	rm -rf $(BUILD)
