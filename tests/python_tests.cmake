# How every Python ctest is registered. Included by the top-level CMakeLists.txt before any
# directory that adds tests (tools/load adds some before tests/ is read).
#
#   wshub_python_test(NAME <name> SCRIPT <file.py> [ARGS <arg>...] [WORKING_DIRECTORY <dir>])
#
# runs SCRIPT under WSHUB_TEST_PYTHON with tests/ on PYTHONPATH, so the script imports the
# helpers every Python test shares as the package tests/wshubtest (`from wshubtest import
# harness`) and never edits sys.path; and with PYTHONDONTWRITEBYTECODE, so no __pycache__
# lands in the source tree. ENVIRONMENT_MODIFICATION leaves the ENVIRONMENT property free for
# the caller. Give the test its LABELS (every test needs one: see tests/README.md) and its
# TIMEOUT with set_tests_properties afterwards.

# Debian's python3 (with python3-websockets, python3-jwt, python3-cryptography), not whatever
# python3 comes first on PATH.
set(WSHUB_TEST_PYTHON /usr/bin/python3 CACHE FILEPATH
    "Python with Debian's websockets, jwt and cryptography packages for the Python tests")
set(WSHUB_TEST_PYTHONPATH ${CMAKE_CURRENT_LIST_DIR})

function(wshub_python_test)
  cmake_parse_arguments(PARSE_ARGV 0 arg "" "NAME;SCRIPT;WORKING_DIRECTORY" "ARGS")
  if(NOT arg_NAME OR NOT arg_SCRIPT OR arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "wshub_python_test(NAME <name> SCRIPT <file.py> [ARGS ...] [WORKING_DIRECTORY <dir>])")
  endif()
  set(workdir)
  if(arg_WORKING_DIRECTORY)
    set(workdir WORKING_DIRECTORY ${arg_WORKING_DIRECTORY})
  endif()
  add_test(NAME ${arg_NAME} COMMAND ${WSHUB_TEST_PYTHON} ${arg_SCRIPT} ${arg_ARGS} ${workdir})
  set_tests_properties(${arg_NAME} PROPERTIES ENVIRONMENT_MODIFICATION
                       "PYTHONPATH=path_list_prepend:${WSHUB_TEST_PYTHONPATH};PYTHONDONTWRITEBYTECODE=set:1")
endfunction()
