# Packaging: cmake --install puts the headers, liblowbit.a (+ liblowbit_reference.a), liblowbit.so, the
# lowbit tool, lib/cmake/lowbit (find_package(lowbit): lowbit::lowbit, lowbit::lowbit_shared) and
# lib/pkgconfig/lowbit.pc and lowbit-static.pc under the prefix.
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
# The archives are C++: a C program, linked by the C compiler's driver, also needs the libraries the C++
# driver adds beyond the C one (libstdc++ and libm with GCC). The static target's interface names them for C
# linkers; lowbit.pc and lowbit-static.pc list them too.
set(lowbit_cxx_runtime ${CMAKE_CXX_IMPLICIT_LINK_LIBRARIES})
list(REMOVE_ITEM lowbit_cxx_runtime ${CMAKE_C_IMPLICIT_LINK_LIBRARIES})
list(REMOVE_DUPLICATES lowbit_cxx_runtime)
target_link_libraries(lowbit_lib INTERFACE "$<$<LINK_LANGUAGE:C>:${lowbit_cxx_runtime}>")
# pkg-config: lowbit.pc links -llowbit (liblowbit.so when it is installed; `--static` adds Libs.private but
# cannot turn -llowbit into the archive while liblowbit.so lies beside it), lowbit-static.pc names the archives.
# Both find their prefix from their own folder, so the tree can be installed anywhere (--prefix).
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
list(TRANSFORM lowbit_cxx_runtime PREPEND -l OUTPUT_VARIABLE lowbit_pc_runtime)
list(JOIN lowbit_pc_runtime " " lowbit_pc_runtime)
set(lowbit_pc_name lowbit)
set(lowbit_pc_linkage "")
set(lowbit_pc_libs "-L\${libdir} -llowbit")
set(lowbit_pc_libs_private "-llowbit_reference -lfmt ${lowbit_pc_runtime}")
configure_file(cmake/lowbit.pc.in ${PROJECT_BINARY_DIR}/lowbit.pc @ONLY)
set(lowbit_pc_name lowbit-static)
set(lowbit_pc_linkage ", linked statically")
set(lowbit_pc_libs "")
foreach(lib lowbit lowbit_reference)
  string(APPEND lowbit_pc_libs "\${libdir}/${CMAKE_STATIC_LIBRARY_PREFIX}${lib}${CMAKE_STATIC_LIBRARY_SUFFIX} ")
endforeach()
string(APPEND lowbit_pc_libs "-lfmt ${lowbit_pc_runtime}")
set(lowbit_pc_libs_private "")
configure_file(cmake/lowbit.pc.in ${PROJECT_BINARY_DIR}/lowbit-static.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/lowbit.pc ${PROJECT_BINARY_DIR}/lowbit-static.pc
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
