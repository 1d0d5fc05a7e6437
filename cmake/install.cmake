# install.cmake: what `cmake --install build [--prefix DIR]` installs:
#   bin/repcollapse                         the executable (linked statically)
#   lib/librepcollapse.so.0 (+ .so), lib/librepcollapse.a
#   include/repcollapse/*.h                 the public headers
#   lib/pkgconfig/repcollapse.pc            pkg-config --cflags --libs [--static] repcollapse
#   lib/cmake/repcollapse/                  find_package(repcollapse): repcollapse::repcollapse
#                                           (shared) and repcollapse::repcollapse_static
# Every path is relative to the prefix, so the tree can be installed anywhere.
install(TARGETS repcollapse RUNTIME DESTINATION bin)
install(TARGETS repcollapse_shared repcollapse_lib EXPORT repcollapseTargets
        LIBRARY DESTINATION lib ARCHIVE DESTINATION lib INCLUDES DESTINATION include)
install(DIRECTORY ${CMAKE_SOURCE_DIR}/include/repcollapse DESTINATION include FILES_MATCHING PATTERN "*.h")
install(EXPORT repcollapseTargets NAMESPACE repcollapse:: DESTINATION lib/cmake/repcollapse)

include(CMakePackageConfigHelpers)
configure_package_config_file(${CMAKE_SOURCE_DIR}/cmake/repcollapseConfig.cmake.in
                              ${CMAKE_BINARY_DIR}/repcollapseConfig.cmake INSTALL_DESTINATION lib/cmake/repcollapse)
write_basic_package_version_file(${CMAKE_BINARY_DIR}/repcollapseConfigVersion.cmake
                                 VERSION ${PROJECT_VERSION} COMPATIBILITY SameMajorVersion)
install(FILES ${CMAKE_BINARY_DIR}/repcollapseConfig.cmake ${CMAKE_BINARY_DIR}/repcollapseConfigVersion.cmake
        DESTINATION lib/cmake/repcollapse)

# pkg-config: the dependencies a static link needs are in Requires.private and
# Libs.private (OpenBLAS before GSL: its CBLAS, not GSL's reference one).
configure_file(${CMAKE_SOURCE_DIR}/cmake/repcollapse.pc.in ${CMAKE_BINARY_DIR}/repcollapse.pc @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/repcollapse.pc DESTINATION lib/pkgconfig)
