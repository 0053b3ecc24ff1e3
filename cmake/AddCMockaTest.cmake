# add_cmocka_test(NAME SOURCES src... [LINK_LIBRARIES lib...] [LINK_OPTIONS opt...])
# (libssh style). Tests link the static core library; mocks use -Wl,--wrap.
function(add_cmocka_test name)
  cmake_parse_arguments(T "" "" "SOURCES;LINK_LIBRARIES;LINK_OPTIONS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE ${T_LINK_LIBRARIES} PkgConfig::CMOCKA)
  if(T_LINK_OPTIONS)
    target_link_options(${name} PRIVATE ${T_LINK_OPTIONS})
  endif()
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES LABELS unit
    ENVIRONMENT "WW_SOURCE_DIR=${CMAKE_SOURCE_DIR};WW_BUILD_DIR=${CMAKE_BINARY_DIR};WW_TEST_TMP=${CMAKE_BINARY_DIR}/tmp")
endfunction()
