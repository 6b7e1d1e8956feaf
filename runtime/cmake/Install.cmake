# Installs the runtime for programs of your own (cmake --install): the
# header, the static libraries, a CMake package and a pkg-config file; and
# mp-ckpt, the checkpoint tool.
#
#   find_package(mp_runtime CONFIG REQUIRED)
#   target_link_libraries(my-program PRIVATE mp::runtime)   # the C ABI
#   target_link_libraries(my-trainer PRIVATE mp::train)     # + mp-train's main
#
#   mpicxx my-program.cpp step.o $(pkg-config --cflags --libs mp-runtime)
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set_target_properties(mp_runtime PROPERTIES EXPORT_NAME runtime)
set_target_properties(mp_train PROPERTIES EXPORT_NAME train)
set_target_properties(mp_safetensors PROPERTIES EXPORT_NAME safetensors)
set_target_properties(mp_step_manifest PROPERTIES EXPORT_NAME step_manifest)
install(TARGETS mp_runtime mp_train mp_safetensors mp_step_manifest
  EXPORT mp_runtimeTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(FILES include/mp_runtime.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS mp-ckpt RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

set(MP_RUNTIME_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/mp_runtime)
install(EXPORT mp_runtimeTargets NAMESPACE mp::
  DESTINATION ${MP_RUNTIME_CMAKE_DIR})
configure_package_config_file(cmake/mp_runtimeConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/mp_runtimeConfig.cmake
  INSTALL_DESTINATION ${MP_RUNTIME_CMAKE_DIR})
# The package version is the ABI version, read from the header that defines
# it: a step compiled for ABI N links with any runtime of ABI N.
file(STRINGS include/mp_runtime.h MP_RUNTIME_ABI_LINE
  REGEX "^#define MP_RUNTIME_ABI_VERSION [0-9]+$")
string(REGEX REPLACE ".* " "" MP_RUNTIME_ABI_VERSION "${MP_RUNTIME_ABI_LINE}")
if(NOT MP_RUNTIME_ABI_VERSION MATCHES "^[0-9]+$")
  message(FATAL_ERROR "no MP_RUNTIME_ABI_VERSION in include/mp_runtime.h")
endif()
write_basic_package_version_file(
  ${CMAKE_CURRENT_BINARY_DIR}/mp_runtimeConfigVersion.cmake
  VERSION ${MP_RUNTIME_ABI_VERSION} COMPATIBILITY SameMajorVersion)
install(FILES
  ${CMAKE_CURRENT_BINARY_DIR}/mp_runtimeConfig.cmake
  ${CMAKE_CURRENT_BINARY_DIR}/mp_runtimeConfigVersion.cmake
  DESTINATION ${MP_RUNTIME_CMAKE_DIR})

# pkg-config: the libraries a static libmp_runtime needs come along in Libs.
set(MP_RUNTIME_PC_LIBS
  "${MP_BLAS_LINK}${MP_CUDA_LINK}${MP_OPENMP_LINK}${MP_SANITIZER_LINK}")
configure_file(cmake/mp-runtime.pc.in
  ${CMAKE_CURRENT_BINARY_DIR}/mp-runtime.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/mp-runtime.pc
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
