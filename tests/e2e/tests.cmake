# End-to-end tests: pytest drives the built openplug-sim (see tests/e2e/*.py).
# One ctest; the simulator under test is passed in OPENPLUG_SIM.
add_test(NAME e2e
         COMMAND /usr/bin/python3 -m pytest -q -rfEP -p no:cacheprovider ${CMAKE_CURRENT_SOURCE_DIR}/tests/e2e)
set_tests_properties(e2e PROPERTIES
                     ENVIRONMENT "OPENPLUG_SIM=$<TARGET_FILE:openplug-sim>;PYTHONDONTWRITEBYTECODE=1"
                     TIMEOUT 900)
