# refir_add_test(name SOURCES src... LIBS lib... [LABELS label] [NEEDS_BRIDGE])
# (one label: gtest_discover_tests would misread a list as property pairs)
# One GoogleTest binary, registered with ctest test by test. NEEDS_BRIDGE
# passes the path of the built refir-bridge binary in $REFIR_TEST_BRIDGE_BINARY.
include(GoogleTest)
function(refir_add_test name)
  cmake_parse_arguments(ARG "NEEDS_BRIDGE" "" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  refir_set_warnings(${name})
  target_link_libraries(${name} PRIVATE ${ARG_LIBS} GTest::gtest GTest::gmock GTest::gtest_main)
  set(env "")
  if(ARG_NEEDS_BRIDGE)
    add_dependencies(${name} refir-bridge)
    set(env "REFIR_TEST_BRIDGE_BINARY=$<TARGET_FILE:refir-bridge>")
  endif()
  gtest_discover_tests(${name}
    DISCOVERY_TIMEOUT 60
    PROPERTIES LABELS "${ARG_LABELS}" TIMEOUT 300 ENVIRONMENT "${env}")
endfunction()
