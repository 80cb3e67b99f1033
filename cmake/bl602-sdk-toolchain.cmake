# CMake toolchain file: OpenPlug for the BL602 *vendor SDK* — RV32IMFC /
# ilp32f (the SDK and its libwifi.a have no atomics: no `a`), newlib headers
# (the SDK's libc glue is newlib's; picolibc cannot stand in), Debian's
# riscv64-unknown-elf-gcc.  Used together with -DBL602_SDK (see
# cmake/bl602-sdk.cmake for what is built and how to use it).
#
#   -DBL602_NEWLIB=<prefix>  a newlib built or shipped for rv32imfc/ilp32f:
#                            <prefix>/riscv64-unknown-elf/include holds its
#                            headers (or give BL602_NEWLIB_INCLUDE directly).
#
# -misa-spec=2.2: see cmake/riscv-bl602.cmake (GCC 12 needs it for csr*
# instructions with a plain -march).  No --specs here: the SDK's link brings
# its own start-up code and libc glue; this tree only makes a static library.

include(${CMAKE_CURRENT_LIST_DIR}/riscv-gcc.cmake)

if(NOT BL602_NEWLIB_INCLUDE AND BL602_NEWLIB)
  set(BL602_NEWLIB_INCLUDE "${BL602_NEWLIB}/riscv64-unknown-elf/include")
endif()
if(NOT BL602_NEWLIB_INCLUDE OR NOT EXISTS "${BL602_NEWLIB_INCLUDE}/stdio.h")
  message(FATAL_ERROR "bl602-sdk-toolchain.cmake: give -DBL602_NEWLIB=<newlib prefix> "
                      "(or -DBL602_NEWLIB_INCLUDE=<dir with stdio.h>) for rv32imfc/ilp32f")
endif()
# The toolchain file is read again by try_compile(): pass the setting on.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES BL602_NEWLIB_INCLUDE)

# The SDK's ABI (rv32imfc, ilp32f; its default code model), no common symbols.
set(OPENPLUG_BL602_ARCH_FLAGS "-march=rv32imfc -misa-spec=2.2 -mabi=ilp32f")
set(CMAKE_C_FLAGS_INIT
    "${OPENPLUG_BL602_ARCH_FLAGS} ${OPENPLUG_RV32_SIZE_FLAGS} -fno-common -isystem ${BL602_NEWLIB_INCLUDE}")
set(CMAKE_ASM_FLAGS_INIT "${CMAKE_C_FLAGS_INIT}")
