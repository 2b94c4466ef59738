# cmake -DAS=<tpu-as> -DDIS=<tpu-dis> -DSRC=<file.s> -DFORMAT=bin|hex -DWORK=<dir>
#       -P round_trip.cmake
# SRC -> image 1 -> text -> image 2; image 1 and image 2 must be identical, and the text must
# re-disassemble to itself.
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})
set(flag "")
if(FORMAT STREQUAL "hex")
  set(flag "--hex")
endif()

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "'${ARGN}' exited ${rc}:\n${err}")
  endif()
endfunction()

run(${AS} ${flag} ${SRC} -o ${WORK}/first.${FORMAT})
run(${DIS} ${flag} ${WORK}/first.${FORMAT} -o ${WORK}/listing.s)
run(${AS} ${flag} ${WORK}/listing.s -o ${WORK}/second.${FORMAT})
run(${DIS} ${flag} ${WORK}/second.${FORMAT} -o ${WORK}/listing2.s)
file(SIZE ${WORK}/first.${FORMAT} size)
if(size EQUAL 0)
  message(FATAL_ERROR "the example assembled to nothing")
endif()
foreach(pair "first.${FORMAT};second.${FORMAT}" "listing.s;listing2.s")
  list(GET pair 0 a)
  list(GET pair 1 b)
  execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files ${WORK}/${a} ${WORK}/${b}
                  RESULT_VARIABLE differ)
  if(NOT differ EQUAL 0)
    message(FATAL_ERROR "${WORK}/${a} and ${WORK}/${b} differ")
  endif()
endforeach()
message(STATUS "round trip of ${SRC} (${FORMAT}): ${size} bytes, identical")
