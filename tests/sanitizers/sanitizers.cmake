# PONDER_SANITIZE: hands every test the sanitizer options and our suppression files (absolute
# paths, so tests that cd elsewhere or run children still find them). Included at the end of
# tests/CMakeLists.txt, after every add_test and catch_discover_tests.
set(_supp "${CMAKE_CURRENT_LIST_DIR}")
set(PONDER_SANITIZER_ENV
    # Leak checking stays on (the Linux default); exit code 23 marks a sanitizer failure.
    "ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:exitcode=23:suppressions=${_supp}/asan.supp"
    "LSAN_OPTIONS=suppressions=${_supp}/lsan.supp:print_suppressions=0"
    "UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:suppressions=${_supp}/ubsan.supp"
    # tests/cli/expect.sh fails a command slower than this as a hang; instrumented code is
    # several times slower than a release build (its default is 120 s).
    "EXPECT_TIMEOUT=600")

# Tests added with add_test in this directory take the property now.
get_property(_plain_tests DIRECTORY PROPERTY TESTS)
if(_plain_tests)
  set_tests_properties(${_plain_tests} PROPERTIES ENVIRONMENT "${PONDER_SANITIZER_ENV}")
endif()

# The studio under Xvfb (the screenshot and the layout tests): see keep_loaded.cpp. An
# LD_PRELOADed library comes before libasan, hence verify_asan_link_order=0 (the shim intercepts
# nothing ASan does).
if(TEST "studio: screenshot under Xvfb")
  add_library(ponder_keep_loaded SHARED ${_supp}/keep_loaded.cpp)
  set_target_properties(ponder_keep_loaded PROPERTIES COMPILE_OPTIONS "" LINK_OPTIONS "")
  add_dependencies(studio_png_check ponder_keep_loaded)
  set(_studio_env ${PONDER_SANITIZER_ENV})
  list(TRANSFORM _studio_env REPLACE "^ASAN_OPTIONS=" "ASAN_OPTIONS=verify_asan_link_order=0:")
  foreach(_studio_test "studio: screenshot under Xvfb"
                       "studio: layout at 1280x800 and font scale 1.5")
    set_tests_properties("${_studio_test}" PROPERTIES ENVIRONMENT
                         "${_studio_env};LD_PRELOAD=$<TARGET_FILE:ponder_keep_loaded>")
  endforeach()
endif()

# Catch2 tests are only known when ctest reads the files catch_discover_tests wrote at build
# time. Each one sets <target>_TESTS; an include file appended after theirs applies the same
# environment to those lists (ctest reads this directory's includes in order, in one scope).
get_property(_includes DIRECTORY PROPERTY TEST_INCLUDE_FILES)
set(_lists "")
foreach(_file IN LISTS _includes)
  if(_file MATCHES "/([^/]+)_include-[0-9a-f]+\\.cmake$")
    list(APPEND _lists "${CMAKE_MATCH_1}_TESTS")
  endif()
endforeach()
set(_env_file "${CMAKE_CURRENT_BINARY_DIR}/ponder_sanitizer_env.cmake")
file(WRITE "${_env_file}"
     "# Written by tests/sanitizers/sanitizers.cmake (PONDER_SANITIZE=${PONDER_SANITIZE}).\n"
     "foreach(_t IN LISTS ${_lists})\n"
     "  set_tests_properties(\"\${_t}\" PROPERTIES ENVIRONMENT [==[${PONDER_SANITIZER_ENV}]==])\n"
     "endforeach()\n")
set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES "${_env_file}")
message(STATUS "Sanitizer environment for ${_lists} and the script tests: ${PONDER_SANITIZER_ENV}")
