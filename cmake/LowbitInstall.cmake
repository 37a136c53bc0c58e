# Packaging: cmake --install puts the headers, liblowbit.a (+ liblowbit_reference.a), liblowbit.so, the
# lowbit tool, lib/cmake/lowbit (find_package(lowbit): lowbit::lowbit, lowbit::lowbit_shared) and
# lib/pkgconfig/lowbit.pc under the prefix.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)
set(lowbit_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/lowbit)
set(lowbit_install_targets lowbit_lib lowbit_reference lowbit_formats)
if(LOWBIT_BUILD_SHARED)
  list(APPEND lowbit_install_targets lowbit_shared)
endif()
install(TARGETS ${lowbit_install_targets} EXPORT lowbitTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
# The tool's own libraries (conformance, training, CLI11, ...) are linked in: only the executable.
install(TARGETS lowbit_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY formats/include/ reference/include/ optimized/include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT lowbitTargets NAMESPACE lowbit:: DESTINATION ${lowbit_cmake_dir})
configure_package_config_file(cmake/lowbitConfig.cmake.in ${PROJECT_BINARY_DIR}/lowbitConfig.cmake
  INSTALL_DESTINATION ${lowbit_cmake_dir})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/lowbitConfigVersion.cmake COMPATIBILITY SameMajorVersion)
install(FILES ${PROJECT_BINARY_DIR}/lowbitConfig.cmake ${PROJECT_BINARY_DIR}/lowbitConfigVersion.cmake
  DESTINATION ${lowbit_cmake_dir})
# lowbit.pc finds its prefix from its own folder, so the tree can be installed anywhere (--prefix).
file(RELATIVE_PATH lowbit_pc_up /x/${CMAKE_INSTALL_LIBDIR}/pkgconfig /x)
string(REGEX REPLACE "/$" "" lowbit_pc_up "${lowbit_pc_up}")
set(lowbit_pc_prefix "\${pcfiledir}/${lowbit_pc_up}")
foreach(dir LIBDIR INCLUDEDIR)
  if(IS_ABSOLUTE "${CMAKE_INSTALL_${dir}}")  # an absolute folder stays where it is
    set(lowbit_pc_${dir} "${CMAKE_INSTALL_${dir}}")
  else()
    set(lowbit_pc_${dir} "\${prefix}/${CMAKE_INSTALL_${dir}}")
  endif()
endforeach()
configure_file(cmake/lowbit.pc.in ${PROJECT_BINARY_DIR}/lowbit.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/lowbit.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
