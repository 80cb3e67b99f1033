# riscv-gcc.cmake — what every RISC-V toolchain file of the project shares
# (included by riscv-bl602.cmake, riscv-bl602-newlib.cmake and
# bl602-sdk-toolchain.cmake, which add the C library and the -march):
# Debian's bare-metal riscv64-unknown-elf-gcc and its tools, static-library
# compiler checks (a board's start-up code is not there yet when CMake
# probes), host programs but never host headers or libraries, and the
# code-size flags for every build type.

set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR riscv32)

set(OPENPLUG_RV32_TRIPLE "riscv64-unknown-elf" CACHE STRING "Prefix of the bare-metal RISC-V GCC toolchain")
set(CMAKE_C_COMPILER   ${OPENPLUG_RV32_TRIPLE}-gcc)
set(CMAKE_ASM_COMPILER ${OPENPLUG_RV32_TRIPLE}-gcc)
find_program(CMAKE_AR      ${OPENPLUG_RV32_TRIPLE}-ar)
find_program(CMAKE_RANLIB  ${OPENPLUG_RV32_TRIPLE}-ranlib)
find_program(CMAKE_OBJCOPY ${OPENPLUG_RV32_TRIPLE}-objcopy)
find_program(CMAKE_OBJDUMP ${OPENPLUG_RV32_TRIPLE}-objdump)
find_program(CMAKE_SIZE    ${OPENPLUG_RV32_TRIPLE}-size)
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)

set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# Code size first: -Os, a section per function and
# object for --gc-sections, and -msave-restore — prologues and epilogues
# become calls to libgcc's shared register save/restore routines (about 3 %
# of OpenPlug's code, `make size`; a few cycles per call).
set(OPENPLUG_RV32_SIZE_FLAGS "-Os -msave-restore -ffunction-sections -fdata-sections")

# Keep -Os for every build type. CMake's per-config defaults (-O3 for
# Release, -O2 for RelWithDebInfo) come after CMAKE_C_FLAGS on the command
# line and would override it. Setting *_INIT does not help (GNU.cmake appends
# its -O3 to them), so seed the cache entries directly; -D on the command line
# still wins.
set(CMAKE_C_FLAGS_DEBUG          "-g"          CACHE STRING "")
set(CMAKE_C_FLAGS_RELEASE        "-DNDEBUG"    CACHE STRING "")
set(CMAKE_C_FLAGS_RELWITHDEBINFO "-g -DNDEBUG" CACHE STRING "")
set(CMAKE_C_FLAGS_MINSIZEREL     "-DNDEBUG"    CACHE STRING "")
