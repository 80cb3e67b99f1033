# Host tool tests: tools/mkflash and tools/mkota checked against the
# documented formats with Python's zlib and hashlib (tests/tools/*.py).
add_test(NAME tools_mkflash
         COMMAND /usr/bin/python3 -m pytest -q -p no:cacheprovider ${CMAKE_CURRENT_SOURCE_DIR}/tests/tools/test_mkflash.py)
set_tests_properties(tools_mkflash PROPERTIES TIMEOUT 300
                     ENVIRONMENT "MKFLASH=$<TARGET_FILE:mkflash>;MKOTA=$<TARGET_FILE:mkota>;PYTHONDONTWRITEBYTECODE=1")
