# Shared build helpers: one precompiled torch header reused by every C++ target, and a
# one-liner for GoogleTest suites with ctest labels.

add_library(vss_pch OBJECT ${CMAKE_CURRENT_LIST_DIR}/pch_anchor.cpp)
target_link_libraries(vss_pch PUBLIC ${TORCH_LIBRARIES})
target_precompile_headers(vss_pch PRIVATE <torch/torch.h>)

# Compiling torch/torch.h dominates build time; reuse the one precompiled copy.
function(vss_use_pch target)
  target_precompile_headers(${target} REUSE_FROM vss_pch)
endfunction()

# vss_add_gtest(NAME SOURCES a.cpp ... LIBS vss_scans ... LABELS cpu [cuda])
# Each TEST becomes its own ctest entry; GTEST_SKIP shows as "skipped" (never "passed").
function(vss_add_gtest name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_LIBS} vss_test_support GTest::gtest GTest::gtest_main)
  vss_use_pch(${name})
  gtest_discover_tests(${name}
    DISCOVERY_TIMEOUT 120
    NO_PRETTY_VALUES  # keep names stable: parameters print as raw bytes (pointers) otherwise
    # The trailing space matters: CMake 4 writes the value as a [[bracket argument]], which a
    # value ending in "]" would close early (a syntax error in the generated test list).
    PROPERTIES LABELS "${ARG_LABELS}" SKIP_REGULAR_EXPRESSION "\\[  SKIPPED \\] ")
endfunction()

# Shared libraries whose TORCH_LIBRARY registrations must survive --as-needed.
function(vss_link_ops target)
  target_link_libraries(${target} PRIVATE -Wl,--no-as-needed vss_kernels -Wl,--as-needed)
endfunction()
