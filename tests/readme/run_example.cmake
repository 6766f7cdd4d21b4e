# SPDX-License-Identifier: MIT
# Runs the README's C++ example as a user would: in a fresh directory holding the sample data as
# data/, where it creates its store. Fails unless it exits 0, prints recommended item ids and
# stores its event.
#   cmake -DEXAMPLE=path -DDATA=data-dir -DWORK=scratch-dir -P run_example.cmake
file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}")
file(CREATE_LINK "${DATA}" "${WORK}/data" SYMBOLIC)
execute_process(COMMAND "${EXAMPLE}" WORKING_DIRECTORY "${WORK}" RESULT_VARIABLE rc
                OUTPUT_VARIABLE out ERROR_VARIABLE err)
message("${out}${err}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "the README's example failed (${rc})")
endif()
if(NOT out MATCHES "item-[0-9]+")
  message(FATAL_ERROR "the README's example printed no recommended item")
endif()
if(NOT out MATCHES "1 event stored")
  message(FATAL_ERROR "the README's example did not store its event")
endif()
if(NOT EXISTS "${WORK}/mygroup")
  message(FATAL_ERROR "the README's example left no store in mygroup/")
endif()
