# smoke.cmake — one fuzz target's smoke test under ctest (fuzz/fuzz.cmake),
# giving the same answer every time for the same commit, in any clone:
#   - a fixed seed and a fixed number of runs, never a time limit, and no
#     corpus reload on a timer (-reload=0);
#   - a fresh, empty corpus directory for what the run finds;
#   - the committed seeds as -seed_inputs in name order (libFuzzer sorts
#     inputs by size only, so a directory listing's order would leak in);
#   - the same process image every time: no address-space randomisation
#     (setarch -R), an empty environment and the same relative paths in
#     argv.  Comparisons feed their operands back into the mutations, and
#     some operands are addresses (pointer bounds): with ASLR, or a stack
#     shifted by a longer path or environment, the same seed explores
#     differently.  Even so, two smoke runs side by side were seen to
#     explore a unit apart now and then, so `make test` runs them one at
#     a time (identical in every repeat seen).
# Random exploration belongs to `make fuzz`.
#
#   cmake -D FUZZER=… -D WORK=… -D SEEDS=dir -D RUNS=N [-D DICT=…] -P smoke.cmake
foreach(var FUZZER WORK SEEDS RUNS)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "smoke.cmake: ${var} is not set")
  endif()
endforeach()

file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK}/corpus ${WORK}/seeds)
file(CREATE_LINK ${FUZZER} ${WORK}/fuzzer SYMBOLIC)
file(GLOB seed_paths ${SEEDS}/*)
file(COPY ${seed_paths} DESTINATION ${WORK}/seeds)
file(GLOB seed_names RELATIVE ${WORK} ${WORK}/seeds/*)
list(SORT seed_names)
list(JOIN seed_names "," seed_list)
set(dict_option "")
if(DICT)
  file(COPY_FILE ${DICT} ${WORK}/fuzz.dict)
  set(dict_option -dict=fuzz.dict)
endif()

execute_process(COMMAND env -i PATH=/usr/bin:/bin setarch -R ./fuzzer
                        -seed=1 -runs=${RUNS} -reload=0 -timeout=60 -rss_limit_mb=2048
                        -print_final_stats=1 ${dict_option} -seed_inputs=${seed_list} -artifact_prefix=./ corpus
                WORKING_DIRECTORY ${WORK}
                RESULT_VARIABLE status)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "${FUZZER}: a property broke or the target crashed (exit ${status}); the input is in ${WORK}/")
endif()
