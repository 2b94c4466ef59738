# cmake -DCMD=<program> [-DARGS=a|b|c] -DRC=<exit status> [-DREGEX=<regex>] -P expect.cmake
# Runs CMD with ARGS ('|'-separated) and fails unless it exits with RC and its standard error
# followed by its standard output matches REGEX.
string(REPLACE "|" ";" args "${ARGS}")
execute_process(COMMAND ${CMD} ${args} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
message(STATUS "exit status ${rc}\nstderr:\n${err}stdout:\n${out}")
if(NOT rc STREQUAL RC)
  message(FATAL_ERROR "expected exit status ${RC}, got ${rc}")
endif()
if(DEFINED REGEX AND NOT "${err}${out}" MATCHES "${REGEX}")
  message(FATAL_ERROR "output does not match: ${REGEX}")
endif()
