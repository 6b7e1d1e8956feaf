# MP_ENABLE_SANITIZERS: build mp's own code (the compiler libraries and
# tools, the runtime, the trainer, and the programs bin/mp-link links) with
# AddressSanitizer and UndefinedBehaviorSanitizer. Included by the top-level
# project and by the runtime, which can be configured on its own; the flags
# are added once, to the directory that includes this first, and inherited
# from there.
include_guard(GLOBAL)

option(MP_ENABLE_SANITIZERS
  "Build mp with -fsanitize=address,undefined (for the test suite)" OFF)

if(MP_ENABLE_SANITIZERS)
  # UB reports stop the program as ASan's do, so that a test sees them fail;
  # frame pointers keep ASan's stack traces whole at -O1 and above.
  set(MP_SANITIZER_FLAGS -fsanitize=address,undefined
    -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  add_compile_options("$<$<COMPILE_LANGUAGE:C,CXX>:${MP_SANITIZER_FLAGS}>")
  add_link_options(-fsanitize=address,undefined)
  # bin/mp-link links trained programs with MPI's compiler wrapper, outside
  # CMake: it needs the sanitizer runtimes too.
  set(MP_SANITIZER_LINK " -fsanitize=address,undefined")
  message(STATUS "mp: building with -fsanitize=address,undefined")
endif()
