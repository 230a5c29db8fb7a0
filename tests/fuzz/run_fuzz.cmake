# SPDX-License-Identifier: Apache-2.0
# Runs one libFuzzer target for RUNS inputs over a fresh copy of its seed
# corpus in WORK (so the committed corpus is never modified); a crash
# input is left in WORK/artifacts/.  Called by CTest:
#   cmake -DFUZZER=... -DCORPUS=... -DWORK=... -DRUNS=... -DMAX_LEN=...
#         -P run_fuzz.cmake
foreach(v FUZZER CORPUS WORK RUNS MAX_LEN)
	if(NOT DEFINED ${v})
		message(FATAL_ERROR "run_fuzz.cmake: ${v} not set")
	endif()
endforeach()
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK}/corpus ${WORK}/artifacts)
file(GLOB seeds ${CORPUS}/*)
if(NOT seeds)
	message(FATAL_ERROR "run_fuzz.cmake: no seeds in ${CORPUS}")
endif()
file(COPY ${seeds} DESTINATION ${WORK}/corpus)
execute_process(COMMAND ${FUZZER} -runs=${RUNS} -max_len=${MAX_LEN}
    -timeout=30 -rss_limit_mb=2048 -print_final_stats=1
    -artifact_prefix=${WORK}/artifacts/ ${WORK}/corpus
    RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
	message(FATAL_ERROR "${FUZZER} failed (${rc}); see ${WORK}/artifacts")
endif()
