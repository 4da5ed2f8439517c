# `liveorigin run` on the CI scenario (its gates decide the exit code), then
# `liveorigin gate` against the committed baseline. Run by CTest with -P; fails on any
# non-zero exit code, printing the command's output.
file(REMOVE_RECURSE "${OUT}")
file(MAKE_DIRECTORY "${OUT}")
set(db "${OUT}/results.db")

execute_process(COMMAND "${LIVEORIGIN}" run "${SCENARIO}" --virtual --quiet --db "${db}" --report-dir "${OUT}/report"
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
message("${out}${err}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "liveorigin run exited ${rc} (1: a gate failed, 2: usage or input error)")
endif()
foreach(f report.html report.md report.json junit.xml)
  if(NOT EXISTS "${OUT}/report/${f}")
    message(FATAL_ERROR "liveorigin run wrote no ${OUT}/report/${f}")
  endif()
endforeach()

execute_process(COMMAND "${LIVEORIGIN}" gate --db "${db}" --baseline "${BASELINE}" --junit "${OUT}/baseline-junit.xml"
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
message("${out}${err}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "liveorigin gate against ${BASELINE} exited ${rc} (1: a gate failed or a metric regressed)")
endif()
