# OpenPlug for the BL602 vendor SDK: one static library,
# libopenplug_bl602.a, holding the core, the network services, the web UI,
# TLS and the OTA signature check on the SDK's mbedTLS, and the BL602 port
# (src/port/bl602).  The SDK's own build links it into a firmware image in
# place of a demo app's main (the port's main() creates the loop task).
#
#   cmake -S . -B build/bl602 -DCMAKE_TOOLCHAIN_FILE=cmake/bl602-sdk-toolchain.cmake \
#         -DBL602_SDK=<the SDK's components/ directory> -DBL602_NEWLIB=<newlib prefix>
#   cmake --build build/bl602 -j2        ->  build/bl602/libopenplug_bl602.a
#
# Included by CMakeLists.txt when BL602_SDK is set; nothing else of the
# project (simulator, tests, tools) is built in such a tree.  Our sources
# get the project's warnings (-Werror); the SDK's headers are SYSTEM
# include directories, so its warnings are not ours.
#
# The image's link needs two things from the SDK side, which stay outside
# this repository:
#  * retained RAM (hal_system.c): a NOLOAD section the start-up code does not
#    clear.  The SDK's linker script (platform/soc/bl602/bl602/evb/ld/
#    flash_rom.ld) has none; add, right after its `.boot2 (NOLOAD)` section:
#        .noinit (NOLOAD) :
#        {
#          KEEP(*(.noinit .noinit.*))
#        } > ram_tcm
#    Without it the linker places the record as an orphan section and it may
#    be cleared at boot: the firmware then sees every restart as unplanned.
#  * the SDK's mbedtls_lts built with the same MBEDTLS_CONFIG_FILE (above);
#  * the SDK's CLI and VFS console must be off (CONFIG_SYS_AOS_CLI_ENABLE,
#    CONFIG_SYS_VFS_UART_ENABLE): UART0's input is the firmware's console.

if(NOT IS_DIRECTORY "${BL602_SDK}/platform/hosal/bl602_hal")
  message(FATAL_ERROR "BL602_SDK=${BL602_SDK}: not the SDK's components/ directory "
                      "(platform/hosal/bl602_hal is missing)")
endif()

# The SDK's mbedTLS and our TLS code must be built with one configuration
# header.  Ours (src/port/bl602/mbedtls_openplug_config.h) is the SDK's
# sample configuration with 4 KiB / 2 KiB record buffers instead of 16 KiB
# each; build the SDK with CONFIG_EXTMBEDTLS_CONFIG_FILE naming it (and
# src/port/bl602 on its include path).  With a stock SDK build (16 KiB
# buffers) our client still works: it only asks the broker for 4 KiB records.
set(BL602_MBEDTLS_CONFIG_FILE "mbedtls_openplug_config.h" CACHE STRING
    "MBEDTLS_CONFIG_FILE the SDK's mbedtls_lts was built with")

set(BL602_SDK_INCLUDE_DIRS
  platform/soc/bl602/freertos_riscv_ram/config
  platform/soc/bl602/freertos_riscv_ram/portable/GCC/RISC-V
  platform/soc/bl602/freertos_riscv_ram/portable/GCC/RISC-V/chip_specific_extensions/RV32F_float_abi_single
  platform/soc/bl602/bl602_std/bl602_std/StdDriver/Inc
  platform/soc/bl602/bl602_std/bl602_std/Device/Bouffalo/BL602/Peripherals
  platform/soc/bl602/bl602_std/bl602_std/Common/platform_print
  platform/soc/bl602/bl602_std/bl602_std/Common/soft_crc
  platform/soc/bl602/bl602_std/bl602_std/RISCV/Core/Include
  platform/soc/bl602/bl602_std/bl602_std/RISCV/Device/Bouffalo/BL602/Startup
  platform/soc/bl602/bl602
  platform/hosal/bl602_hal
  platform/hosal/include
  platform/hosal/sec_common
  platform/hosal
  stage/yloop/include
  stage/blog
  utils/include
  network/wifi_manager/bl60x_wifi_driver/include
  network/wifi_manager/bl60x_wifi_driver
  network/wifi/include
  network/wifi4_adapter/wifi_hosal/include
  network/wifi4_adapter/bflb_adapter
  network/wifi4_adapter/bflb_adapter/include
  network/wifi4_adapter/bflb_adapter/include/bflb_os_adapter
  network/lwip/src/include
  network/lwip/lwip-port
  network/lwip/lwip-port/config
  security/mbedtls_lts/mbedtls/include
  security/mbedtls_lts/port
  security/mbedtls_lts
  os/bl_os_adapter/bl_os_adapter/include
)
list(TRANSFORM BL602_SDK_INCLUDE_DIRS PREPEND "${BL602_SDK}/")

set(BL602_PORT_SOURCES
  src/port/bl602/main.c
  src/port/bl602/hal_gpio.c
  src/port/bl602/hal_time.c
  src/port/bl602/hal_flash.c
  src/port/bl602/hal_system.c
  src/port/bl602/hal_wifi.c
  src/port/bl602/hal_net.c
  src/port/bl602/hal_console.c
  src/port/bl602/hal_uart.c
)

add_library(openplug_bl602 STATIC ${CORE_SOURCES} ${NET_SOURCES} src/core/net/tls_mbedtls.c ${BL602_PORT_SOURCES})
target_include_directories(openplug_bl602 PRIVATE src src/port/bl602)
target_include_directories(openplug_bl602 SYSTEM PRIVATE ${BL602_SDK_INCLUDE_DIRS})
target_compile_definitions(openplug_bl602 PRIVATE
  OPENPLUG_NET=1 OPENPLUG_TLS
  OPENPLUG_VERSION="${OPENPLUG_VERSION_STRING}" OPENPLUG_OTA_HARDWARE="OpenPlug-BL602"
  MBEDTLS_CONFIG_FILE="${BL602_MBEDTLS_CONFIG_FILE}"
  # RAW A/B updates only: the SDK's boot2 does not read OpenPlug's XZ-pending
  # flag (core/ota/ota.h, OTA_ACCEPT_XZ), and the equal slots fit RAW images.
  OTA_ACCEPT_XZ=0
  # The SDK's headers choose the chip and its FreeRTOS port by these.
  ARCH_RISCV BL602 CFG_CHIP_BL602
  # The SDK's hosal defines hal_reboot() (hal_sys.c) for its own CLI and OTA
  # code: our HAL's function of that name is linked under another symbol.
  hal_reboot=openplug_hal_reboot)
