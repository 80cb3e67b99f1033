# End-to-end tests: pytest drives the built openplug-sim (see tests/e2e/*.py).
# The simulator under test is passed in OPENPLUG_SIM.  The MQTT tests (a
# real mosquitto, TLS, a misbehaving broker, a fleet of 10 plugs: ~4 min) are a ctest of their
# own, so each has its own time limit and ctest -j runs them side by side.
set(E2E_MQTT test_mqtt.py test_hass.py test_mqtt_net.py test_fleet.py) # test_fleet: 10 plugs, one broker
set(E2E_DIR ${CMAKE_CURRENT_SOURCE_DIR}/tests/e2e)
set(E2E_ENV "OPENPLUG_SIM=$<TARGET_FILE:openplug-sim>;PYTHONDONTWRITEBYTECODE=1")

set(E2E_IGNORE --ignore=${E2E_DIR}/test_soak.py) # a week of plug life: a ctest of its own (e2e_soak)
set(E2E_MQTT_FILES "")
foreach(file ${E2E_MQTT})
  list(APPEND E2E_IGNORE --ignore=${E2E_DIR}/${file})
  list(APPEND E2E_MQTT_FILES ${E2E_DIR}/${file})
endforeach()

add_test(NAME e2e
         COMMAND /usr/bin/python3 -m pytest -q -rfEP -p no:cacheprovider ${E2E_IGNORE} ${E2E_DIR})
set_tests_properties(e2e PROPERTIES ENVIRONMENT "${E2E_ENV}" TIMEOUT 2400)

add_test(NAME e2e_mqtt
         COMMAND /usr/bin/python3 -m pytest -q -rfEP -p no:cacheprovider ${E2E_MQTT_FILES})
set_tests_properties(e2e_mqtt PROPERTIES ENVIRONMENT "${E2E_ENV}" TIMEOUT 1200)

add_test(NAME e2e_soak
         COMMAND /usr/bin/python3 -m pytest -q -rfEP -p no:cacheprovider ${E2E_DIR}/test_soak.py)
set_tests_properties(e2e_soak PROPERTIES ENVIRONMENT "${E2E_ENV}" TIMEOUT 1800) # ~70 s; ~8 min under ASan
