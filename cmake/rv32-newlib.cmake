# The rv32-newlib build tree (cmake/riscv-bl602-newlib.cmake): CI's view of
# the chip, without the vendor SDK.  Included by CMakeLists.txt, which
# returns after it.
#
#  * openplug_chip: everything of OpenPlug's that goes into the chip's image
#    — CORE_SOURCES, NET_SOURCES, the MQTT TLS glue and the web UI assets —
#    compiled with -Werror against newlib, lwIP 2.1's socket headers
#    (Debian's liblwip-dev with the project's BL602-like lwipopts.h,
#    src/port/ci-bl602) and mbedTLS 2.28's headers (Debian's libmbedtls-dev,
#    the SDK ships 2.28 too).  Not linked: lwIP, mbedTLS and the BL602 HAL
#    come from the SDK.  `make size` measures its objects; the ctest
#    chip_symbols (tools/chip-symbols.sh) checks that every symbol it needs
#    has a provider: newlib, the HAL, lwIP 2.1 or mbedTLS 2.28.
#  * openplug-qemu-virt: the firmware on QEMU's virt machine
#    (src/port/qemu-virt), without network (OPENPLUG_NET 0, as firmware.c
#    builds then), linked against the newlib of this tree; the ctest
#    qemu_console_session drives its console (tests/qemu/console_session.py).

# ---- The chip's view: core + network, compiled only ----
set(LWIP_CI_INCLUDE /usr/include/lwip)
if(NOT EXISTS ${LWIP_CI_INCLUDE}/lwip/sockets.h)
  message(FATAL_ERROR "lwIP headers missing: apt-get install liblwip-dev")
endif()
# Debian's mbedTLS headers sit in /usr/include beside glibc's, which the
# cross compiler must never see: a directory of links to just those two.
set(MBEDTLS_CI_INCLUDE ${CMAKE_BINARY_DIR}/mbedtls-include)
foreach(dir mbedtls psa)
  if(NOT EXISTS /usr/include/${dir})
    message(FATAL_ERROR "mbedTLS headers missing: apt-get install libmbedtls-dev")
  endif()
  file(MAKE_DIRECTORY ${MBEDTLS_CI_INCLUDE})
  file(CREATE_LINK /usr/include/${dir} ${MBEDTLS_CI_INCLUDE}/${dir} SYMBOLIC)
endforeach()

add_library(openplug_chip STATIC ${CORE_SOURCES} ${NET_SOURCES} src/core/net/tls_mbedtls.c)
target_include_directories(openplug_chip PRIVATE src src/port/bl602 src/port/ci-bl602)
target_include_directories(openplug_chip SYSTEM PRIVATE ${LWIP_CI_INCLUDE} ${MBEDTLS_CI_INCLUDE})
target_compile_definitions(openplug_chip PRIVATE OPENPLUG_NET=1 OPENPLUG_TLS MBEDTLS_USER_CONFIG_FILE="mbedtls_user_config.h" OPENPLUG_VERSION="${OPENPLUG_VERSION_STRING}"
                           OPENPLUG_OTA_HARDWARE="OpenPlug-BL602")

# Each symbol it needs from outside has a provider in the chip's image.
enable_testing()
add_test(NAME chip_symbols COMMAND ${CMAKE_SOURCE_DIR}/tools/chip-symbols.sh ${CMAKE_BINARY_DIR})
set_tests_properties(chip_symbols PROPERTIES TIMEOUT 60)

# ---- The qemu-virt board ----
enable_language(ASM)
add_library(openplug_core STATIC ${CORE_SOURCES} src/core/ota/ota_verify_none.c src/core/net/http_get_none.c)
target_include_directories(openplug_core PUBLIC src src/port/qemu-virt)
target_compile_definitions(openplug_core PUBLIC OPENPLUG_NET=0 OPENPLUG_VERSION="${OPENPLUG_VERSION_STRING}"
                           OPENPLUG_OTA_HARDWARE="OpenPlug-qemu-virt")

set(QEMU_VIRT_LINKER_SCRIPT ${CMAKE_SOURCE_DIR}/src/port/qemu-virt/qemu-virt.ld)
add_executable(openplug-qemu-virt
  src/port/qemu-virt/start.S
  src/port/qemu-virt/main.c
  src/port/qemu-virt/clock.c
  src/port/qemu-virt/uart.c
  src/port/qemu-virt/flash.c
  src/port/qemu-virt/system.c
  src/port/qemu-virt/syscalls.c)
target_link_libraries(openplug-qemu-virt PRIVATE openplug_core)
# Printf's %f is a separate, optional part of newlib's nano stdio.
target_link_options(openplug-qemu-virt PRIVATE -T${QEMU_VIRT_LINKER_SCRIPT} -Wl,-Map=openplug-qemu-virt.map
                    -u _printf_float)
target_link_libraries(openplug-qemu-virt PRIVATE -Wl,--start-group c m gcc -Wl,--end-group)
set_target_properties(openplug-qemu-virt PROPERTIES LINK_DEPENDS ${QEMU_VIRT_LINKER_SCRIPT})

enable_testing()
find_program(QEMU_RISCV32 qemu-system-riscv32)
if(QEMU_RISCV32)
  add_test(NAME qemu_console_session
           COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/tests/qemu/console_session.py
                   --qemu ${QEMU_RISCV32} --firmware $<TARGET_FILE:openplug-qemu-virt>)
  set_tests_properties(qemu_console_session PROPERTIES TIMEOUT 120)
endif()
