# cmake -DF=<file> -P absent.cmake: fails when F exists (a tool that failed wrote nothing).
foreach(f ${F})
  if(EXISTS ${f})
    message(FATAL_ERROR "${f} exists")
  endif()
endforeach()
