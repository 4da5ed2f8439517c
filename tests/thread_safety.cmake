# Runs clang's thread-safety analysis over each source: any warning fails the test.
# -DCLANGXX=... -DSOURCE_DIR=... -DSOURCES=a.cc;b.cc
set(failed 0)
foreach(src ${SOURCES})
  execute_process(
    COMMAND ${CLANGXX} -std=c++20 -fsyntax-only -Wthread-safety -Wthread-safety-beta -Werror=thread-safety
            -Werror=thread-safety-beta -I${SOURCE_DIR} ${src}
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message("${src}:\n${out}${err}")
    set(failed 1)
  endif()
endforeach()
if(failed)
  message(FATAL_ERROR "thread-safety analysis found problems")
endif()
list(LENGTH SOURCES n)
message("thread-safety analysis: ${n} sources clean")
