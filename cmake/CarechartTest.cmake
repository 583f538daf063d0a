# carechart_test(NAME name SOURCES a_test.cc ... LIBS lib ...)
# One GoogleTest executable per module test file set, registered with CTest. Tests find shared
# conformance data through CARECHART_SHARED_DATA and skip (saying why) when it is absent.
function(carechart_test)
  cmake_parse_arguments(T "" "NAME" "SOURCES;LIBS" ${ARGN})
  if(NOT CARECHART_BUILD_TESTS)
    return()
  endif()
  add_executable(${T_NAME} ${T_SOURCES})
  target_link_libraries(${T_NAME} PRIVATE ${T_LIBS} GTest::gtest GTest::gmock GTest::gtest_main)
  target_compile_definitions(${T_NAME} PRIVATE
    CARECHART_SHARED_DATA="${CARECHART_SHARED_DATA}")
  add_test(NAME ${T_NAME} COMMAND ${T_NAME})
  set_tests_properties(${T_NAME} PROPERTIES ENVIRONMENT "CARECHART_SHARED_DATA=${CARECHART_SHARED_DATA}")
endfunction()
