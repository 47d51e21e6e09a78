# `cmake --install`: the program, the library (shared and static), its headers, a CMake
# package (find_package(capstan)) and pkg-config files, laid out as a Debian -dev package is:
#   capstan::capstan          libcapstan.so: what a program links by default
#   capstan::capstan_static   libcapstan.a: find_package(capstan COMPONENTS static)
#   capstan.pc / capstan-static.pc   the same two for pkg-config
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# The static library is an export of its own: its dependencies (OpenSSL, zlib, toml++,
# simdjson, SQLite) must be found by whoever links it, and only they are asked to.
install(TARGETS capstan EXPORT capstanStaticTargets ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(EXPORT capstanStaticTargets NAMESPACE capstan:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/capstan)
install(TARGETS capstan_cli EXPORT capstanTargets RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
if(TARGET capstan_shared)
  install(TARGETS capstan_shared EXPORT capstanTargets LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
  set(CAPSTAN_HAS_SHARED ON)
else()
  set(CAPSTAN_HAS_SHARED OFF)
endif()
install(DIRECTORY include/capstan DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT capstanTargets NAMESPACE capstan:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/capstan)

configure_package_config_file(cmake/capstanConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/capstanConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/capstan)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/capstanConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/capstanConfig.cmake ${CMAKE_CURRENT_BINARY_DIR}/capstanConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/capstan)

# The .pc files find the prefix from where they lie: lib/pkgconfig is two folders below it,
# a multiarch lib/x86_64-linux-gnu/pkgconfig three.
file(RELATIVE_PATH CAPSTAN_PC_TO_PREFIX "/prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/prefix")
string(REGEX REPLACE "/$" "" CAPSTAN_PC_TO_PREFIX "${CAPSTAN_PC_TO_PREFIX}")
foreach(pc capstan capstan-static)
  configure_file(cmake/${pc}.pc.in ${CMAKE_CURRENT_BINARY_DIR}/${pc}.pc @ONLY)
  install(FILES ${CMAKE_CURRENT_BINARY_DIR}/${pc}.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
endforeach()
