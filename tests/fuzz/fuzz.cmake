# fuzz.cmake (included by tests/CMakeLists.txt): builds tests/fuzz with clang
# as an external project and lets ctest run the fuzz target for
# RECLAIM_FUZZ_SECONDS (test fuzz_snapshot_load, label "fuzz"). It is on by
# default in sanitizer trees (RECLAIM_FUZZ); without a clang that can link
# libFuzzer it is skipped with a message, and the rest of the build is as
# before.
option(RECLAIM_FUZZ "Build the snapshot loader's fuzz target; ctest runs it briefly"
  ${RECLAIM_SANITIZE})
set(RECLAIM_FUZZ_SECONDS 20 CACHE STRING "How long ctest runs the fuzz target")
if(NOT RECLAIM_FUZZ)
  return()
endif()
find_program(RECLAIM_CLANG NAMES clang clang-14)
if(NOT RECLAIM_CLANG)
  message(STATUS "fuzz: clang not found; the fuzz target is skipped")
  return()
endif()
set(probe_dir ${CMAKE_CURRENT_BINARY_DIR}/fuzz-probe)
file(WRITE ${probe_dir}/probe.c "#include <stddef.h>\n#include <stdint.h>\n"
  "int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);\n"
  "int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n")
execute_process(COMMAND ${RECLAIM_CLANG} -fsanitize=fuzzer,address,undefined probe.c -o probe
  WORKING_DIRECTORY ${probe_dir} RESULT_VARIABLE probe_status OUTPUT_QUIET ERROR_QUIET)
if(NOT probe_status EQUAL 0)
  message(STATUS "fuzz: ${RECLAIM_CLANG} cannot link a libFuzzer program "
    "(libclang-rt-14-dev); the fuzz target is skipped")
  return()
endif()

include(ExternalProject)
set(fuzz_build ${CMAKE_CURRENT_BINARY_DIR}/fuzz-build)
ExternalProject_Add(reclaim_fuzz
  SOURCE_DIR ${CMAKE_CURRENT_SOURCE_DIR}/fuzz
  BINARY_DIR ${fuzz_build}
  CMAKE_ARGS -DCMAKE_C_COMPILER=${RECLAIM_CLANG} -DCMAKE_BUILD_TYPE=Debug
  INSTALL_COMMAND ""
  BUILD_ALWAYS ON
  BUILD_BYPRODUCTS ${fuzz_build}/fuzz_snapshot_load)
add_test(NAME fuzz_snapshot_load
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/run.sh ${fuzz_build}/fuzz_snapshot_load
    ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus ${CMAKE_CURRENT_BINARY_DIR}/fuzz-work
    ${RECLAIM_FUZZ_SECONDS})
set_tests_properties(fuzz_snapshot_load PROPERTIES LABELS fuzz TIMEOUT 300)
