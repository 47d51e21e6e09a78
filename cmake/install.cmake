# `cmake --install`: the program, the library, its headers, a CMake package
# (find_package(capstan)) and a pkg-config file.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(TARGETS capstan capstan_cli EXPORT capstanTargets
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY include/capstan DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT capstanTargets NAMESPACE capstan:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/capstan)

configure_package_config_file(cmake/capstanConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/capstanConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/capstan)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/capstanConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/capstanConfig.cmake ${CMAKE_CURRENT_BINARY_DIR}/capstanConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/capstan)

configure_file(cmake/capstan.pc.in ${CMAKE_CURRENT_BINARY_DIR}/capstan.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/capstan.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
