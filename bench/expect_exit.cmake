# ctest helper: nabla-parity with a CUDA target exits 2 with a clear message where no GPU is
# usable, and runs normally (0) where one is.
execute_process(COMMAND ${TOOL} --model mlp --a cuda:float32 --b cpu:float32 --steps 1 --batch 4
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(rc EQUAL 2)
  if(NOT err MATCHES "cannot run here")
    message(FATAL_ERROR "exit 2 without the expected message: ${err}")
  endif()
elseif(NOT rc EQUAL 0)
  message(FATAL_ERROR "nabla-parity exited ${rc}: ${out}${err}")
endif()
