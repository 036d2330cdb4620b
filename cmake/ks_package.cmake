# cmake/ks_package.cmake - what users of kosearch get: the symbols the
# shared libraries export, the install rules, the pkg-config files and the
# CMake package (docs/install.md). Included by the top-level CMakeLists.txt
# after every library target and the CLI are defined.
#
#   cmake --install build --prefix P   installs
#     P/bin/kosearch
#     P/lib/libkosearch.so.0.2.0 (+ .so.0, .so), libkosearch.a
#     P/lib/libkosearch-xapian.so.0.2.0 (+ links), libkosearch-xapian.a
#                                          (KS_WITH_XAPIAN only)
#     P/include/kosearch.h, P/include/kosearch/*.h
#                                          (kosearch/xapian.h: KS_WITH_XAPIAN only)
#     P/lib/pkgconfig/kosearch.pc, kosearch-xapian.pc (KS_WITH_XAPIAN only)
#     P/lib/cmake/kosearch/kosearch-config.cmake (+ version, targets)
#     P/lib/python3/dist-packages/kosearch/ (the Python package and its
#                                          generated _config.py: see the end)
#   (lib is CMAKE_INSTALL_LIBDIR: lib/x86_64-linux-gnu for prefix /usr.)
#
# Install components: `runtime` (the shared libraries' versioned files and
# the binary) and `development` (everything else), for packagers:
#   cmake --install build --component runtime
#
# kosearch/xapian.h is installed only with the Xapian backend: a header
# whose only function no installed library defines would turn a clean
# "no such file" at compile time into an undefined symbol at link time,
# and `__has_include(<kosearch/xapian.h>)` tells a program whether the
# installed kosearch has the backend. kosearch/backend.h (unstable) is
# always installed: libkosearch exports ks_backend_register and
# ks_mem_alloc, which it declares.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(KS_SHARED_TARGETS kosearch_shared)
set(KS_STATIC_TARGETS kosearch_static)
if(KS_WITH_XAPIAN)
  list(APPEND KS_SHARED_TARGETS kosearch_xapian_shared)
  list(APPEND KS_STATIC_TARGETS kosearch_xapian_static)
endif()

# ---- exported symbols -------------------------------------------------------
# The sources decide what is exported (KS_API + -fvisibility=hidden); the
# version script also hides what the compiler exports regardless (C++
# template instances of std::, typeinfo of Xapian's exception classes in
# libkosearch-xapian). tests/integration/test_install.sh checks that
# `nm -D` lists exactly the KS_API functions of the installed headers.
set(KS_EXPORTS_MAP ${CMAKE_SOURCE_DIR}/cmake/ks_exports.map)
foreach(t ${KS_SHARED_TARGETS})
  target_link_options(${t} PRIVATE "LINKER:--version-script=${KS_EXPORTS_MAP}")
  set_property(TARGET ${t} APPEND PROPERTY LINK_DEPENDS ${KS_EXPORTS_MAP})
endforeach()

# ---- names seen by users ------------------------------------------------------
# The same names in the build tree (add_subdirectory, examples/) as from an
# installed package.
set_target_properties(kosearch_shared PROPERTIES EXPORT_NAME kosearch)
set_target_properties(kosearch_static PROPERTIES EXPORT_NAME kosearch_static)
add_library(kosearch::kosearch ALIAS kosearch_shared)
add_library(kosearch::kosearch_static ALIAS kosearch_static)
if(KS_WITH_XAPIAN)
  set_target_properties(kosearch_xapian_shared PROPERTIES EXPORT_NAME kosearch-xapian)
  set_target_properties(kosearch_xapian_static PROPERTIES EXPORT_NAME kosearch-xapian_static)
  add_library(kosearch::kosearch-xapian ALIAS kosearch_xapian_shared)
  add_library(kosearch::kosearch-xapian_static ALIAS kosearch_xapian_static)
endif()

# ---- RPATH of installed files -------------------------------------------------
# Relative to the file itself, so the installed tree works from any prefix
# (cmake --install --prefix P) and can be moved: the binary finds lib/ from
# bin/, libkosearch-xapian.so finds libkosearch.so next to it.
# libkosearch.so needs no RUNPATH (it depends on system libraries only).
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  set(KS_LIB_RPATH "${CMAKE_INSTALL_LIBDIR}")
  set(KS_BIN_RPATH "${CMAKE_INSTALL_LIBDIR}")
else()
  file(RELATIVE_PATH KS_BIN_TO_LIB ${CMAKE_INSTALL_FULL_BINDIR} ${CMAKE_INSTALL_FULL_LIBDIR})
  set(KS_LIB_RPATH "$ORIGIN")
  set(KS_BIN_RPATH "$ORIGIN/${KS_BIN_TO_LIB}")
endif()
if(KS_WITH_XAPIAN)
  set_target_properties(kosearch_xapian_shared PROPERTIES INSTALL_RPATH "${KS_LIB_RPATH}")
endif()
set_target_properties(kosearch PROPERTIES INSTALL_RPATH "${KS_BIN_RPATH}")

# ---- files ------------------------------------------------------------------
set(KS_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/kosearch)
set(KS_PC_DIR ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# INCLUDES DESTINATION: the exported targets' include directory.
install(TARGETS kosearch_shared kosearch_static EXPORT kosearch-targets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT runtime
                NAMELINK_COMPONENT development
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT development
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
if(KS_WITH_XAPIAN)
  install(TARGETS kosearch_xapian_shared kosearch_xapian_static EXPORT kosearch-xapian-targets
          LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT runtime
                  NAMELINK_COMPONENT development
          ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT development
          INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
endif()
install(TARGETS kosearch RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT runtime)

set(KS_HEADER_EXCLUDE)
if(NOT KS_WITH_XAPIAN)
  set(KS_HEADER_EXCLUDE PATTERN xapian.h EXCLUDE)
endif()
install(FILES ${CMAKE_SOURCE_DIR}/include/kosearch.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        COMPONENT development)
install(DIRECTORY ${CMAKE_SOURCE_DIR}/include/kosearch DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        COMPONENT development FILES_MATCHING PATTERN "*.h" ${KS_HEADER_EXCLUDE})

# ---- pkg-config -------------------------------------------------------------
# prefix is computed from the .pc file's own directory (${pcfiledir}), so
# the files are right whatever prefix `cmake --install --prefix` is given.
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}" OR IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
  # Absolute directories: nothing to relocate.
  set(KS_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
  set(KS_PC_LIBDIR "${CMAKE_INSTALL_FULL_LIBDIR}")
  set(KS_PC_INCLUDEDIR "${CMAKE_INSTALL_FULL_INCLUDEDIR}")
else()
  file(RELATIVE_PATH KS_PC_TO_PREFIX ${CMAKE_INSTALL_FULL_LIBDIR}/pkgconfig
       ${CMAKE_INSTALL_PREFIX})
  string(REGEX REPLACE "/$" "" KS_PC_TO_PREFIX "${KS_PC_TO_PREFIX}")
  set(KS_PC_PREFIX "\${pcfiledir}/${KS_PC_TO_PREFIX}")
  set(KS_PC_LIBDIR "\${prefix}/${CMAKE_INSTALL_LIBDIR}")
  set(KS_PC_INCLUDEDIR "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
endif()
configure_file(${CMAKE_SOURCE_DIR}/cmake/kosearch.pc.in ${CMAKE_BINARY_DIR}/pkgconfig/kosearch.pc
               @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/pkgconfig/kosearch.pc DESTINATION ${KS_PC_DIR}
        COMPONENT development)
if(KS_WITH_XAPIAN)
  configure_file(${CMAKE_SOURCE_DIR}/cmake/kosearch-xapian.pc.in
                 ${CMAKE_BINARY_DIR}/pkgconfig/kosearch-xapian.pc @ONLY)
  install(FILES ${CMAKE_BINARY_DIR}/pkgconfig/kosearch-xapian.pc DESTINATION ${KS_PC_DIR}
          COMPONENT development)
endif()

# ---- CMake package ----------------------------------------------------------
# kosearch-config.cmake finds what the static targets link, then includes
# kosearch-targets.cmake and, when installed, kosearch-xapian-targets.cmake
# (component `xapian`).
install(EXPORT kosearch-targets NAMESPACE kosearch:: DESTINATION ${KS_CMAKE_DIR}
        COMPONENT development)
if(KS_WITH_XAPIAN)
  install(EXPORT kosearch-xapian-targets NAMESPACE kosearch:: DESTINATION ${KS_CMAKE_DIR}
          COMPONENT development)
endif()
configure_package_config_file(${CMAKE_SOURCE_DIR}/cmake/kosearch-config.cmake.in
                              ${CMAKE_BINARY_DIR}/cmake/kosearch-config.cmake
                              INSTALL_DESTINATION ${KS_CMAKE_DIR})
# 0.x: a new minor version may change the API, so only 0.2.* satisfies 0.2.
write_basic_package_version_file(${CMAKE_BINARY_DIR}/cmake/kosearch-config-version.cmake
                                 VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/cmake/kosearch-config.cmake
              ${CMAKE_BINARY_DIR}/cmake/kosearch-config-version.cmake
        DESTINATION ${KS_CMAKE_DIR} COMPONENT development)

# ---- the Python package (python/kosearch, docs/python.md) ---------------------
# Pure Python over libkosearch.so.0 through cffi's ABI mode: nothing is
# compiled, and one copy serves every Python 3 version, so it goes to a
# version-independent directory, KS_PYTHON_INSTALL_DIR (default
# lib/python3/dist-packages: on Debian's sys.path for prefix /usr; for
# another prefix, PYTHONPATH=PREFIX/lib/python3/dist-packages). The
# generated _config.py records where the library is, relative to the
# package directory (like the binaries' $ORIGIN RUNPATH), so `import
# kosearch` loads the libkosearch installed with it from any prefix given
# to `cmake --install --prefix`, and libkosearch-xapian next to it when
# the backend is built. Component `runtime`, with the shared libraries.
set(KS_PYTHON_INSTALL_DIR "lib/python3/dist-packages" CACHE STRING
    "Where cmake --install puts the Python package kosearch (relative to the prefix, or absolute)")
if(IS_ABSOLUTE "${KS_PYTHON_INSTALL_DIR}" OR IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  set(KS_PY_LIBDIR "${CMAKE_INSTALL_FULL_LIBDIR}")
else()
  file(RELATIVE_PATH KS_PY_LIBDIR /ks-prefix/${KS_PYTHON_INSTALL_DIR}/kosearch
       /ks-prefix/${CMAKE_INSTALL_LIBDIR})
  string(REGEX REPLACE "/$" "" KS_PY_LIBDIR "${KS_PY_LIBDIR}")
endif()
configure_file(${CMAKE_SOURCE_DIR}/python/kosearch/_config.py.in
               ${CMAKE_BINARY_DIR}/python/kosearch/_config.py @ONLY)
install(DIRECTORY ${CMAKE_SOURCE_DIR}/python/kosearch DESTINATION ${KS_PYTHON_INSTALL_DIR}
        COMPONENT runtime FILES_MATCHING PATTERN "*.py" PATTERN "__pycache__" EXCLUDE)
install(FILES ${CMAKE_BINARY_DIR}/python/kosearch/_config.py
        DESTINATION ${KS_PYTHON_INSTALL_DIR}/kosearch COMPONENT runtime)
