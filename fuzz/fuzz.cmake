# libFuzzer targets of the core (fuzz/README.md).  Included by the top-level
# CMakeLists.txt when OPENPLUG_FUZZ is on, so CMAKE_CURRENT_SOURCE_DIR is the
# repository root.  Needs clang with libFuzzer (Debian: libclang-rt-14-dev).
#
#   fuzz_json      the JSON reader and writer (src/core/util/json.h)
#   fuzz_template  template_parse / template_write_parsed round trip (kept members, command)
#   fuzz_cmd       the command interpreter on a booted fake board
#   fuzz_reclog    the record log over arbitrary flash, with torn operations
#   fuzz_config    config_load over arbitrary settings areas
#   fuzz_http      the HTTP request-head parser and its decoders
#   fuzz_http_server the web server on a booted firmware, fed through a loopback socket
#   fuzz_history   the energy history over any saved record, measurements and clock moves
#   fuzz_ota_header  the OTA image header and the partition table parsers
#   fuzz_http_get  the OTA pull client's URL and response head parsers
#   fuzz_mqtt      MQTT packets from a broker, publish round trips, topic filters
#   fuzz_tz        POSIX TZ rules: parse / print round trip, offsets
#   fuzz_sntp      SNTP reply checks and host[:port] server names
#   fuzz_expr      script expressions and $variable expansion
#   fuzz_script    script lines: event tables, if, delay_s, runs, the loop's budget
#   fuzz_ssdp      the SSDP M-SEARCH parser
#   fuzz_bl0942    the BL0942 packet parser and CF_CNT counter on any byte stream
#   fuzz_mdns      the mDNS query reader and response writer
#   fuzz_web_hosts the Host allow-list and the WebHosts name list
#   fuzz_backup    the backup file reader and the restore's check, on files written by the backup writer
#   fuzz_tariff    Tariff1/2 times, EnergyPrice prices, Tasmota's off-peak rule
#   fuzz_web_config POST /api/config: the settings parser through the web server
#
# Each target gets a ctest smoke test (fuzz/smoke.cmake): a fixed seed and a
# fixed number of runs over its committed seeds, so the same commit always
# gives the same answer; the run counts below take each target about 5-10 s
# on one core.  `make fuzz` and the custom targets fuzz-run-<name> explore
# for a time instead.

if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
  message(FATAL_ERROR "OPENPLUG_FUZZ needs clang with libFuzzer: configure with CC=clang")
endif()

set(OPENPLUG_FUZZ_SECONDS 300 CACHE STRING "Seconds each fuzz-run-<name> target runs")

option(OPENPLUG_FUZZ_COVERAGE "Also build with clang source coverage (llvm-cov reports of a corpus)" OFF)

set(FUZZ_TARGETS json template cmd reclog config history ota_header http http_server mqtt tz sntp expr script ssdp http_get
                 bl0942 mdns web_hosts backup tariff web_config)
# Smoke runs per target (executions, seeds included); the default suits the fast parsers.
set(FUZZ_SMOKE_RUNS 1000000)
set(FUZZ_SMOKE_RUNS_json 200000)
set(FUZZ_SMOKE_RUNS_template 500000)
set(FUZZ_SMOKE_RUNS_http 800000)
set(FUZZ_SMOKE_RUNS_mqtt 600000)
set(FUZZ_SMOKE_RUNS_ssdp 800000)
set(FUZZ_SMOKE_RUNS_mdns 800000)
set(FUZZ_SMOKE_RUNS_expr 200000)
set(FUZZ_SMOKE_RUNS_cmd 20000)
set(FUZZ_SMOKE_RUNS_reclog 15000)
set(FUZZ_SMOKE_RUNS_config 50000)
set(FUZZ_SMOKE_RUNS_history 8000)
set(FUZZ_SMOKE_RUNS_http_server 10000)
set(FUZZ_SMOKE_RUNS_script 20000)
set(FUZZ_SMOKE_RUNS_bl0942 300000)
set(FUZZ_SMOKE_RUNS_web_hosts 30000)
set(FUZZ_SMOKE_RUNS_backup 8000)
set(FUZZ_SMOKE_RUNS_tariff 100000)
set(FUZZ_SMOKE_RUNS_web_config 5000)
set(FUZZ_SANITIZE_FLAGS -fno-sanitize-recover=all -fno-omit-frame-pointer)

if(OPENPLUG_FUZZ_COVERAGE)
  list(APPEND FUZZ_SANITIZE_FLAGS -fprofile-instr-generate -fcoverage-mapping)
endif()

# The library exists already: instrument it for coverage and the sanitizers.
target_compile_options(openplug_core PRIVATE -fsanitize=fuzzer-no-link,address,undefined ${FUZZ_SANITIZE_FLAGS})

set(FUZZ_SRC ${CMAKE_CURRENT_SOURCE_DIR}/fuzz)
set(FUZZ_WORK ${CMAKE_CURRENT_BINARY_DIR}/fuzz-work) # corpora and crashes (not "fuzz_*": see Makefile)

enable_testing()

foreach(name ${FUZZ_TARGETS})
  set(target fuzz_${name})
  add_executable(${target} fuzz/${target}.c tests/unit/fake_hal.c)
  target_include_directories(${target} PRIVATE tests/unit fuzz)
  target_compile_options(${target} PRIVATE -fsanitize=fuzzer,address,undefined ${FUZZ_SANITIZE_FLAGS})
  target_link_options(${target} PRIVATE -fsanitize=fuzzer,address,undefined
                      $<$<BOOL:${OPENPLUG_FUZZ_COVERAGE}>:-fprofile-instr-generate>)
  target_link_libraries(${target} PRIVATE openplug_core)

  set(seeds ${FUZZ_SRC}/corpus/${target})
  set(dict_file "")
  set(dict_option "")
  if(EXISTS ${FUZZ_SRC}/dict/${name}.dict)
    set(dict_file ${FUZZ_SRC}/dict/${name}.dict)
    set(dict_option -dict=${dict_file})
  endif()

  # Smoke test: the seeds, a fixed seed and run count (fuzz/smoke.cmake).
  set(runs ${FUZZ_SMOKE_RUNS})
  if(DEFINED FUZZ_SMOKE_RUNS_${name})
    set(runs ${FUZZ_SMOKE_RUNS_${name}})
  endif()
  add_test(NAME ${target}
           COMMAND ${CMAKE_COMMAND} -D FUZZER=$<TARGET_FILE:${target}> -D WORK=${FUZZ_WORK}/smoke/${target}
                   -D SEEDS=${seeds} -D RUNS=${runs} -D DICT=${dict_file} -P ${FUZZ_SRC}/smoke.cmake
           WORKING_DIRECTORY ${FUZZ_WORK})
  set_tests_properties(${target} PROPERTIES TIMEOUT 600)

  # Longer runs: cmake --build build/fuzz --target fuzz-run-json [-DOPENPLUG_FUZZ_SECONDS=…]
  add_custom_target(fuzz-run-${name}
                    COMMAND ${CMAKE_COMMAND} -E make_directory ${FUZZ_WORK}/long/${target}
                    COMMAND ${target} -max_total_time=${OPENPLUG_FUZZ_SECONDS} -rss_limit_mb=2048 -timeout=10
                            -print_final_stats=1 ${dict_option} -artifact_prefix=${FUZZ_WORK}/long/${target}-
                            ${FUZZ_WORK}/long/${target} ${seeds}
                    DEPENDS ${target}
                    WORKING_DIRECTORY ${FUZZ_WORK}
                    USES_TERMINAL)
endforeach()

file(MAKE_DIRECTORY ${FUZZ_WORK})
