# CMake toolchain file: BL602 (RV32IMAFC, ilp32f) with Debian's
# riscv64-unknown-elf-gcc + picolibc.
#
#   Debian packages: gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf
#   (optional, for running tests) qemu-system-misc
#
#   cmake -S . -B build-rv32 -G Ninja \
#         -DCMAKE_TOOLCHAIN_FILE=cmake/riscv-bl602.cmake
#
# Notes (verified with gcc 12.2.0 / picolibc 1.8 / qemu 7.2 on Debian 12):
#  * -misa-spec=2.2 matters. GCC 12 defaults to ISA spec 20191213, where csr*
#    and fence.i need explicit _zicsr_zifencei. Spelling that out in -march
#    ("rv32imafc_zicsr_zifencei") breaks multilib selection: GCC then picks
#    the default rv64 multilib and linking fails with "elf64-littleriscv does
#    not match elf32-littleriscv". With -misa-spec=2.2, plain -march=rv32imafc
#    implies zicsr+zifencei AND still selects lib/rv32imafc/ilp32f.
#  * --specs=picolibc.specs must be passed at compile time (it adds the
#    picolibc -isystem; the bare toolchain has no libc headers), and exactly
#    once at link time: passing it twice is a fatal
#    "attempt to rename spec 'link' to already defined spec 'picolibc_link'".
#    CMake passes CMAKE_C_FLAGS to the link step as well, so the specs are in
#    CMAKE_C_FLAGS_INIT only and never in any *_LINK_FLAGS/OPTIONS below.
#  * picolibc.specs already adds -Tpicolibc.ld and --gc-sections.

include(${CMAKE_CURRENT_LIST_DIR}/riscv-gcc.cmake)

set(OPENPLUG_RV32_ARCH_FLAGS "-march=rv32imafc -misa-spec=2.2 -mabi=ilp32f")
set(OPENPLUG_RV32_C_FLAGS
    "${OPENPLUG_RV32_ARCH_FLAGS} ${OPENPLUG_RV32_SIZE_FLAGS} --specs=picolibc.specs")

set(CMAKE_C_FLAGS_INIT   "${OPENPLUG_RV32_C_FLAGS}")
set(CMAKE_ASM_FLAGS_INIT "${OPENPLUG_RV32_C_FLAGS}")

# ---------------------------------------------------------------------------
# Running test executables on QEMU (virt machine, RAM at 0x80000000, 128 MiB
# by default) through picolibc semihosting: printf goes to QEMU's stderr
# (or to a -semihosting-config chardev), and main()'s return value
# (exit()/abort() too; abort/assert = 134) becomes QEMU's exit status, mod 256.
# A CPU trap prints "RISCV fault" + register dump and exits with 1. A hang
# stays hung, so use a timeout.
#
# The layout for picolibc.ld: "flash" (text/rodata + .data load image) and
# "ram" (data/bss/heap/stack) are both carved out of virt DRAM. The stack is
# at the top of "ram" and the heap fills the gap below it.
# picolibc.ld's default __stack_size is only 0x800 (2 KiB), so set it here.
# For BL602-like memory pressure use e.g. -DOPENPLUG_RV32_QEMU_RAM_SIZE=0x44000.
set(OPENPLUG_RV32_QEMU_FLASH      "0x80000000" CACHE STRING "picolibc __flash for qemu virt")
set(OPENPLUG_RV32_QEMU_FLASH_SIZE "0x00400000" CACHE STRING "picolibc __flash_size for qemu virt")
set(OPENPLUG_RV32_QEMU_RAM        "0x80400000" CACHE STRING "picolibc __ram for qemu virt")
set(OPENPLUG_RV32_QEMU_RAM_SIZE   "0x01000000" CACHE STRING "picolibc __ram_size for qemu virt")
set(OPENPLUG_RV32_QEMU_STACK_SIZE "0x00010000" CACHE STRING "picolibc __stack_size for qemu virt")

# As a list, for target_link_options(<tgt> PRIVATE ${OPENPLUG_RV32_SEMIHOST_LINK_OPTIONS}).
set(OPENPLUG_RV32_SEMIHOST_LINK_OPTIONS
    --crt0=semihost
    --oslib=semihost
    -Wl,--defsym=__flash=${OPENPLUG_RV32_QEMU_FLASH}
    -Wl,--defsym=__flash_size=${OPENPLUG_RV32_QEMU_FLASH_SIZE}
    -Wl,--defsym=__ram=${OPENPLUG_RV32_QEMU_RAM}
    -Wl,--defsym=__ram_size=${OPENPLUG_RV32_QEMU_RAM_SIZE}
    -Wl,--defsym=__stack_size=${OPENPLUG_RV32_QEMU_STACK_SIZE})
# As one string, for CMAKE_EXE_LINKER_FLAGS or the LINK_FLAGS property.
string(REPLACE ";" " " OPENPLUG_RV32_SEMIHOST_LINK_FLAGS "${OPENPLUG_RV32_SEMIHOST_LINK_OPTIONS}")

# Program + arguments to run a semihosting ELF; append the ELF path as the
# last argument. Suitable for CMAKE_CROSSCOMPILING_EMULATOR: add_test(NAME t
# COMMAND tgt) then runs "<emulator...> $<TARGET_FILE:tgt>". Extra add_test
# arguments would end up after -kernel, so use -append or
# -semihosting-config ...,arg= instead.
# We do NOT set CMAKE_CROSSCOMPILING_EMULATOR here; do it in the project, e.g.
#   if(OPENPLUG_RV32_QEMU)
#     set(CMAKE_CROSSCOMPILING_EMULATOR ${OPENPLUG_RV32_QEMU_COMMAND})
#   endif()
find_program(OPENPLUG_RV32_QEMU qemu-system-riscv32)
set(OPENPLUG_RV32_QEMU_ARGS
    -machine virt -bios none -nographic
    -semihosting-config enable=on,target=native
    -kernel)
if(OPENPLUG_RV32_QEMU)
  set(OPENPLUG_RV32_QEMU_COMMAND ${OPENPLUG_RV32_QEMU} ${OPENPLUG_RV32_QEMU_ARGS})
else()
  set(OPENPLUG_RV32_QEMU_COMMAND "")
endif()
