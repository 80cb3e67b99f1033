# CMake toolchain file: the BL602 CPU as the vendor SDK builds for it —
# rv32imfc / ilp32f (no atomics) — with Debian's riscv64-unknown-elf-gcc and
# a newlib built from Debian's newlib-source by scripts/build-newlib.sh into
# the build tree (<build>/newlib-rv32imfc/install, once per clean tree).
#
#   cmake -S . -B build/rv32n -DCMAKE_TOOLCHAIN_FILE=cmake/riscv-bl602-newlib.cmake
#
# The picolibc toolchain (cmake/riscv-bl602.cmake) stays for the unit tests;
# this one is the chip's C library, for the core + network build, `make
# size`, and the qemu-virt board (src/port/qemu-virt).  Notes:
#  * -misa-spec=2.2: as in riscv-bl602.cmake, plain rv32imfc then implies
#    zicsr/zifencei and GCC picks the rv32imf/ilp32f multilib (libgcc).
#  * newlib's headers come first as -isystem; -nostdlib at link time and the
#    port's link line names libc, libm and libgcc itself (no crt0 of newlib's:
#    the board brings its own start-up code and syscalls).
#  * The toolchain file runs before project(): CMAKE_BINARY_DIR is the tree.

include(${CMAKE_CURRENT_LIST_DIR}/riscv-gcc.cmake)
set(OPENPLUG_RV32_NEWLIB ON)

# try_compile() re-reads this file in a scratch tree: hand it the real one.
if(NOT OPENPLUG_NEWLIB_DIR)
  set(OPENPLUG_NEWLIB_DIR "${CMAKE_BINARY_DIR}/newlib-rv32imfc" CACHE PATH "Where build-newlib.sh installs newlib")
endif()
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES OPENPLUG_NEWLIB_DIR)
set(OPENPLUG_NEWLIB_SYSROOT "${OPENPLUG_NEWLIB_DIR}/install/${OPENPLUG_RV32_TRIPLE}")
get_filename_component(_openplug_source_dir "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)
if(NOT EXISTS "${OPENPLUG_NEWLIB_SYSROOT}/lib/libc.a")
  execute_process(COMMAND "${_openplug_source_dir}/scripts/build-newlib.sh" "${OPENPLUG_NEWLIB_DIR}"
                  RESULT_VARIABLE _newlib_result)
  if(NOT _newlib_result EQUAL 0)
    message(FATAL_ERROR "newlib for rv32imfc could not be built (scripts/build-newlib.sh)")
  endif()
endif()

set(CMAKE_FIND_ROOT_PATH "${OPENPLUG_NEWLIB_SYSROOT}")

set(OPENPLUG_RV32_ARCH_FLAGS "-march=rv32imfc -misa-spec=2.2 -mabi=ilp32f")
set(CMAKE_C_FLAGS_INIT
    "${OPENPLUG_RV32_ARCH_FLAGS} ${OPENPLUG_RV32_SIZE_FLAGS} -isystem ${OPENPLUG_NEWLIB_SYSROOT}/include")
set(CMAKE_ASM_FLAGS_INIT "${OPENPLUG_RV32_ARCH_FLAGS}")
set(CMAKE_EXE_LINKER_FLAGS_INIT "-nostdlib -nostartfiles -L${OPENPLUG_NEWLIB_SYSROOT}/lib -Wl,--gc-sections")
