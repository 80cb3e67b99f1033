# Unit tests of src/core on the fake board (tests/unit/fake_hal.c).  The
# same sources build for the host (also under ASan/UBSan) and, in the rv32
# tree, freestanding with picolibc, run on qemu-system-riscv32.
set(UNIT_TESTS json log reclog config cmd pins button bl0937 bl0942 bl0942_packet sha256 history tz script ota mqtt_packet)
if(NOT CMAKE_CROSSCOMPILING)
  list(APPEND UNIT_TESTS http sntp heap) # sockets, network modules: not in the RV32 unit build
endif()

if(CMAKE_CROSSCOMPILING)
  find_program(QEMU_RISCV32 qemu-system-riscv32)
endif()

foreach(name ${UNIT_TESTS})
  add_executable(test_${name} tests/unit/test_${name}.c tests/unit/harness.c tests/unit/fake_hal.c)
  target_link_libraries(test_${name} PRIVATE openplug_core)
  target_include_directories(test_${name} PRIVATE tests/unit)
  if(CMAKE_CROSSCOMPILING)
    target_link_options(test_${name} PRIVATE ${OPENPLUG_RV32_SEMIHOST_LINK_OPTIONS})
    if(QEMU_RISCV32)
      add_test(NAME unit_rv32_${name}
               COMMAND ${QEMU_RISCV32} -machine virt -bios none -nographic
                       -semihosting-config enable=on,target=native -kernel $<TARGET_FILE:test_${name}>)
      set_tests_properties(unit_rv32_${name} PROPERTIES TIMEOUT 60 PASS_REGULAR_EXPRESSION "OK: [0-9]+ checks, 0 failed")
    endif()
  else()
    add_test(NAME unit_${name} COMMAND test_${name})
    set_tests_properties(unit_${name} PROPERTIES TIMEOUT 60)
  endif()
endforeach()
if(CMAKE_CROSSCOMPILING)
  enable_testing()
endif()
