#!/usr/bin/env bash
# test_install.sh - the installed kosearch is usable (docs/install.md):
# `cmake --install` of the build tree into a scratch prefix, then
#   (a) examples/search_example.c built with `pkg-config kosearch` against
#       libkosearch.so, run: the expected hits;
#   (b) the same linked with `pkg-config --static` against libkosearch.a;
#   (c) examples/ built as a CMake project with find_package(kosearch), and
#       a generated project linking kosearch::kosearch_static (and the
#       Xapian targets when built);
#   (d) `nm -D` of libkosearch.so lists exactly the KS_API functions of the
#       installed headers (but kosearch/xapian.h's), all named ks_*;
#   (e) libkosearch.so needs neither libxapian nor libstdc++;
#   (f) the installed kosearch binary runs;
#   (g) the installed Python package imports (KS_PYTHON, with cffi) with
#       no KOSEARCH_LIBRARY and no LD_LIBRARY_PATH, loads the libkosearch
#       installed with it (and libkosearch-xapian when built), builds an
#       index and searches it; and still does after the installed tree is
#       moved (the library path is relative to the package);
# and with the Xapian backend: libkosearch-xapian.so exports only ks_*
# functions of kosearch/xapian.h, and a program calling ks_xapian_register
# links with `pkg-config kosearch-xapian` (shared and static) and builds and
# searches a Xapian index. Without it, none of the Xapian files is
# installed. Every installed header compiles on its own (C11, pedantic) and
# from C++.
#
# Environment (tests/CMakeLists.txt): KS_BUILD_DIR (the build tree to
# install), KS_SOURCE_DIR, KS_TMP, KS_SANITIZED (1: the build uses ASan +
# UBSan, so programs linking it do too), KS_WITH_XAPIAN, KS_PYTHON (a
# Python 3 with cffi; without cffi part (g) is reported skipped).
# Takes a few seconds: the install copies files, nothing is rebuilt.
source "$(dirname "$0")/cli_lib.sh"
: "${KS_BUILD_DIR:?KS_BUILD_DIR must name the build tree}"

P="$T/prefix"
WITH_XAPIAN=${KS_WITH_XAPIAN:-0}

# The compilers the build used (the sanitizer runtime must match).
cache_value() { sed -n "s/^$1:[A-Z]*=//p" "$KS_BUILD_DIR/CMakeCache.txt"; }
CC=$(cache_value CMAKE_C_COMPILER); CC=${CC:-cc}
CXX=$(cache_value CMAKE_CXX_COMPILER); CXX=${CXX:-c++}
SAN=()
if [ "${KS_SANITIZED:-0}" = 1 ]; then
  SAN=(-fsanitize=address,undefined)
fi

# run_cmd LOG COMMAND...: run, output in LOG; on failure show the log.
run_cmd() {
  local log="$1"; shift
  if "$@" >"$log" 2>&1; then return 0; fi
  echo "  --- $*"; sed 's/^/  | /' "$log" | tail -30
  return 1
}

# hit_ids PROGRAM DIR QUERY: run the example, print its hit ids on one line.
# The example must exit 0 and print nothing on stderr (no version warning).
hit_ids() {
  local out="$T/hits.out" err="$T/hits.err"
  if ! "$1" "$2" "$3" >"$out" 2>"$err" || [ -s "$err" ]; then
    echo "  --- $1 $2 $3"; sed 's/^/  | /' "$out" "$err" | head -20
    return 1
  fi
  awk -F'\t' 'NR > 1 { printf "%s%s", sep, $2; sep = " " } END { print "" }' "$out"
}

# expect_hits DESCRIPTION PROGRAM: the example's hits for two queries.
expect_hits() {
  local what="$1" prog="$2" got
  got=$(hit_ids "$prog" "$T/idx-$(basename "$prog")" 도시) || got="(failed)"
  check "$what: '도시' finds busan seoul" [ "$got" = "busan seoul" ]
  got=$(hit_ids "$prog" "$T/idx-$(basename "$prog")" "한글 +세종대왕이") || got="(failed)"
  check "$what: '한글 +세종대왕이' finds hangul" [ "$got" = "hangul" ]
}

# ---- install -------------------------------------------------------------------
echo "# install into $P"
check "cmake --install succeeds" run_cmd "$T/install.log" \
  cmake --install "$KS_BUILD_DIR" --prefix "$P"
pc=$(find "$P" -name kosearch.pc -path '*/pkgconfig/*' | head -1)
check "kosearch.pc installed" [ -n "$pc" ]
LIBDIR=$(dirname "$(dirname "${pc:-$P/lib/pkgconfig/kosearch.pc}")")
export PKG_CONFIG_PATH="$LIBDIR/pkgconfig"
INC="$P/include"
for f in libkosearch.so.0.2.0 libkosearch.so.0 libkosearch.so libkosearch.a; do
  check "installed $f" [ -e "$LIBDIR/$f" ]
done
for h in kosearch.h kosearch/version.h kosearch/error.h kosearch/tok.h kosearch/writer.h \
         kosearch/input.h kosearch/search.h kosearch/results.h kosearch/db.h kosearch/backend.h; do
  check "installed include/$h" [ -f "$INC/$h" ]
done
check "installed bin/kosearch" [ -x "$P/bin/kosearch" ]
check "installed kosearch-config.cmake" [ -f "$LIBDIR/cmake/kosearch/kosearch-config.cmake" ]
check "installed kosearch-config-version.cmake" \
  [ -f "$LIBDIR/cmake/kosearch/kosearch-config-version.cmake" ]
hdr_version=$(sed -n 's/^#define KS_VERSION_STRING "\(.*\)"/\1/p' "$INC/kosearch/version.h")
check "pkg-config --modversion kosearch = KS_VERSION_STRING ($hdr_version)" \
  [ "$(pkg-config --modversion kosearch)" = "$hdr_version" ]
if [ "$WITH_XAPIAN" = 1 ]; then
  for f in libkosearch-xapian.so.0.2.0 libkosearch-xapian.so libkosearch-xapian.a \
           pkgconfig/kosearch-xapian.pc cmake/kosearch/kosearch-xapian-targets.cmake; do
    check "installed $f" [ -e "$LIBDIR/$f" ]
  done
  check "installed include/kosearch/xapian.h" [ -f "$INC/kosearch/xapian.h" ]
else
  check "no Xapian file installed without the backend" \
    [ -z "$(find "$P" -name '*xapian*' | head -1)" ]
fi
check "no installed file refers to the build tree (RUNPATH)" \
  bash -c "! readelf -d '$P/bin/kosearch' '$LIBDIR'/lib*.so | grep -E 'RPATH|RUNPATH' |
           grep -F -q '$KS_BUILD_DIR'"

# ---- headers ------------------------------------------------------------------
echo "# every installed header compiles alone (C11 -pedantic) and from C++"
for h in $(cd "$INC" && find . -name '*.h' | sed 's|^\./||' | sort); do
  def=(); [ "$h" = kosearch/backend.h ] && def=(-DKS_BACKEND_UNSTABLE_API)
  check "$h compiles alone" run_cmd "$T/hdr.log" "$CC" -std=c11 -Wall -Wextra -Wpedantic \
    -Werror "${def[@]}" -I"$INC" -fsyntax-only -x c - <<<"#include <$h>"
done
cxx_src="#define KS_BACKEND_UNSTABLE_API
#include <kosearch.h>
#include <kosearch/backend.h>"
[ "$WITH_XAPIAN" = 1 ] && cxx_src+=$'\n#include <kosearch/xapian.h>'
check "headers compile as C++" run_cmd "$T/hdr.log" "$CXX" -std=c++11 -Wall -Wextra -Werror \
  -I"$INC" -fsyntax-only -x c++ - <<<"$cxx_src"

EXAMPLE="$KS_SOURCE_DIR/examples/search_example.c"
CFLAGS=(-std=c11 -Wall -Wextra -Werror -O1)

# ---- (a) shared library through pkg-config -----------------------------------
echo "# (a) pkg-config --cflags --libs kosearch"
read -r -a pc_flags <<<"$(pkg-config --cflags --libs kosearch)"
check "search_example builds with pkg-config" run_cmd "$T/cc.log" "$CC" "${CFLAGS[@]}" \
  "${SAN[@]}" "$EXAMPLE" "${pc_flags[@]}" -Wl,-rpath,"$LIBDIR" -o "$T/ex_shared"
check "ex_shared loads the installed libkosearch.so.0" \
  bash -c "ldd '$T/ex_shared' | grep -q 'libkosearch.so.0 => $LIBDIR/'"
expect_hits "shared" "$T/ex_shared"

# ---- (b) static library through pkg-config --static --------------------------
# -lkosearch would pick libkosearch.so: ask for the archive by name.
echo "# (b) pkg-config --static --libs kosearch, libkosearch.a"
read -r -a pc_static <<<"$(pkg-config --cflags --static --libs kosearch |
  sed -E 's/(^| )-lkosearch( |$)/\1-l:libkosearch.a\2/')"
check "search_example links libkosearch.a" run_cmd "$T/cc.log" "$CC" "${CFLAGS[@]}" \
  "${SAN[@]}" "$EXAMPLE" "${pc_static[@]}" -o "$T/ex_static"
check "ex_static does not need libkosearch.so" \
  bash -c "! readelf -d '$T/ex_static' | grep -q 'NEEDED.*libkosearch'"
expect_hits "static" "$T/ex_static"

# ---- (c) CMake: find_package(kosearch) ----------------------------------------
echo "# (c) find_package(kosearch)"
CMAKE_ARGS=(-DCMAKE_PREFIX_PATH="$P" -DCMAKE_C_COMPILER="$CC" -DCMAKE_CXX_COMPILER="$CXX"
            -DCMAKE_BUILD_TYPE=Release)
if [ ${#SAN[@]} -gt 0 ]; then
  CMAKE_ARGS+=(-DCMAKE_C_FLAGS="${SAN[*]}" -DCMAKE_CXX_FLAGS="${SAN[*]}"
               -DCMAKE_EXE_LINKER_FLAGS="${SAN[*]}")
fi
check "examples/ configures" run_cmd "$T/cmake.log" cmake -S "$KS_SOURCE_DIR/examples" \
  -B "$T/cmake-example" "${CMAKE_ARGS[@]}"
check "examples/ builds" run_cmd "$T/cmake.log" cmake --build "$T/cmake-example"
check "cmake example loads the installed libkosearch.so.0" \
  bash -c "ldd '$T/cmake-example/search_example' | grep -q 'libkosearch.so.0 => $LIBDIR/'"
expect_hits "cmake" "$T/cmake-example/search_example"

# A second project: the static target (its dependencies come from the
# package config), and the Xapian targets when built.
mkdir -p "$T/cmake-static"
cp "$EXAMPLE" "$T/cmake-static/"
cat >"$T/cmake-static/CMakeLists.txt" <<'EOF'
cmake_minimum_required(VERSION 3.18)
project(ks_static_use LANGUAGES C CXX)
if(WITH_XAPIAN)
  find_package(kosearch 0.2 REQUIRED COMPONENTS xapian)
else()
  find_package(kosearch 0.2 REQUIRED)
endif()
add_executable(ex_cmake_static search_example.c)
target_link_libraries(ex_cmake_static PRIVATE kosearch::kosearch_static)
if(WITH_XAPIAN)
  add_executable(xap_cmake xap_use.c)
  target_link_libraries(xap_cmake PRIVATE kosearch::kosearch-xapian)
  add_executable(xap_cmake_static xap_use.c)
  target_link_libraries(xap_cmake_static PRIVATE kosearch::kosearch-xapian_static)
endif()
EOF

# ---- (d) exported symbols = KS_API declarations --------------------------------
echo "# (d) exported symbols"
# KS_API functions of some headers: the name before the first '(' of each
# line starting with KS_API (one declaration per line start).
declared() { grep -h '^KS_API' "$@" | sed -E 's/^KS_API[^(]*[ *]([A-Za-z_][A-Za-z0-9_]*)\(.*/\1/' | sort -u; }
exported() { nm -D --defined-only "$1" | awk '{ print $NF }' | sort -u; }
core_headers=$(find "$INC" -name '*.h' ! -name xapian.h | sort)
# shellcheck disable=SC2086
declared $core_headers >"$T/declared_core"
grep -h '^KS_API' $core_headers >"$T/ks_api_lines"
check "every KS_API line yields one ks_ name" \
  bash -c "[ \$(wc -l <'$T/ks_api_lines') -eq \$(wc -l <'$T/declared_core') ] && ! grep -v '^ks_' '$T/declared_core'"
exported "$LIBDIR/libkosearch.so" >"$T/exported_core"
check "libkosearch.so exports $(wc -l <"$T/exported_core") symbols" [ -s "$T/exported_core" ]
extra=$(comm -23 "$T/exported_core" "$T/declared_core" | tr '\n' ' ')
check "libkosearch.so exports only KS_API functions of the headers${extra:+ (extra: $extra)}" \
  [ -z "$extra" ]
missing=$(comm -13 "$T/exported_core" "$T/declared_core" | tr '\n' ' ')
check "libkosearch.so exports every KS_API function${missing:+ (missing: $missing)}" \
  [ -z "$missing" ]

# ---- (e) no C++ in libkosearch.so ---------------------------------------------
echo "# (e) dependencies of libkosearch.so"
readelf -d "$LIBDIR/libkosearch.so" >"$T/readelf.out"
check "libkosearch.so has NEEDED entries" grep -q NEEDED "$T/readelf.out"
check "libkosearch.so does not need libxapian" bash -c "! grep NEEDED '$T/readelf.out' | grep -q libxapian"
check "libkosearch.so does not need libstdc++" bash -c "! grep NEEDED '$T/readelf.out' | grep -q libstdc++"

# ---- (f) the binary -------------------------------------------------------------
echo "# (f) bin/kosearch"
"$P/bin/kosearch" --version >"$T/out" 2>"$T/err"
RC=$?
expect_rc 0 "installed kosearch --version"
check "it prints a version" grep -qE '^kosearch [0-9]+\.[0-9]+\.[0-9]+' "$T/out"

# ---- (g) the Python package --------------------------------------------------------
echo "# (g) the Python package"
PYDIR="$P/lib/python3/dist-packages"
check "installed lib/python3/dist-packages/kosearch/__init__.py" [ -f "$PYDIR/kosearch/__init__.py" ]
check "installed the generated kosearch/_config.py" [ -f "$PYDIR/kosearch/_config.py" ]
PY="${KS_PYTHON:-/usr/bin/python3}"
PY_ENV=(env -u KOSEARCH_LIBRARY -u LD_LIBRARY_PATH -u PYTHONPATH PYTHONDONTWRITEBYTECODE=1)
if [ "${KS_SANITIZED:-0}" = 1 ]; then
  # the library is built with ASan: its runtime must be loaded first, and
  # with Xapian libstdc++ too (ASan intercepts __cxa_throw only if
  # libstdc++ is there at startup: docs/python.md)
  preload="$("$CC" -print-file-name=libasan.so)"
  [ "$WITH_XAPIAN" = 1 ] && preload+=":$("$CXX" -print-file-name=libstdc++.so)"
  PY_ENV+=(LD_PRELOAD="$preload" ASAN_OPTIONS=detect_leaks=0)
fi
cat >"$T/py_use.py" <<'EOF'
import os, sys
import kosearch
prefix, with_xapian, work = sys.argv[1], sys.argv[2] == "1", sys.argv[3]
assert kosearch.__file__.startswith(prefix + "/"), kosearch.__file__
lib = os.path.realpath(kosearch.LIBRARY)
assert lib.startswith(os.path.realpath(prefix) + "/") and "libkosearch.so" in lib, lib
assert kosearch.XAPIAN == with_xapian, kosearch.XAPIAN_ERROR
docs = {"seoul": "서울은 대한민국의 수도이며 한강이 도시 한가운데를 흐른다.",
        "busan": "부산은 대한민국 제2의 도시이자 가장 큰 항구 도시이다.",
        "hangul": "한글은 세종대왕이 만든 문자이다."}
backends = ["native"] + (["xapian"] if with_xapian else [])
for backend in backends:
    path = os.path.join(work, backend + ".idx")
    with kosearch.Writer(path, backend=backend, mode="replace") as w:
        for id, text in docs.items():
            w.add(id, text)
    with kosearch.Index(path) as idx:
        ids = " ".join(h.id for h in idx.search("도시"))
        assert idx.backend == backend and ids == "busan seoul", (backend, ids)
        assert idx.get("hangul")["text"] == docs["hangul"]
print("python", kosearch.version(), " ".join(backends), "ok")
EOF
# py_run PREFIX WORKDIR: run py_use.py against the package under PREFIX,
# from WORKDIR (not the source tree), without any hint of where the library is.
py_run() {
  mkdir -p "$2" && (cd "$2" && "${PY_ENV[@]}" PYTHONPATH="$1/lib/python3/dist-packages" \
    "$PY" "$T/py_use.py" "$1" "$WITH_XAPIAN" "$2")
}
if ! "$PY" -c 'import cffi' 2>/dev/null; then
  echo "skip - $PY cannot import cffi: the Python package is not checked" \
       "(apt-get install python3-cffi, or configure with -DKS_PYTHON=...)"
else
  check "the installed package loads the installed library, indexes and searches" \
    run_cmd "$T/py.log" py_run "$P" "$T/py-work"
  rm -rf "$T/moved" && cp -a "$P" "$T/moved"
  check "it still does after the installed tree is moved" \
    run_cmd "$T/py.log" py_run "$T/moved" "$T/py-work2"
fi

# ---- the Xapian backend ---------------------------------------------------------
if [ "$WITH_XAPIAN" = 1 ]; then
  echo "# libkosearch-xapian"
  declared "$INC/kosearch/xapian.h" >"$T/declared_xap"
  declared "$INC"/kosearch/*.h "$INC/kosearch.h" >"$T/declared_all"
  exported "$LIBDIR/libkosearch-xapian.so" >"$T/exported_xap"
  extra=$(comm -23 "$T/exported_xap" "$T/declared_all" | tr '\n' ' ')
  check "libkosearch-xapian.so exports only KS_API functions${extra:+ (extra: $extra)}" \
    [ -z "$extra" ]
  missing=$(comm -13 "$T/exported_xap" "$T/declared_xap" | tr '\n' ' ')
  check "libkosearch-xapian.so exports kosearch/xapian.h${missing:+ (missing: $missing)}" \
    [ -z "$missing" ]
  both=$(comm -12 "$T/exported_xap" "$T/exported_core" | tr '\n' ' ')
  check "no function exported by both libraries${both:+ ($both)}" [ -z "$both" ]
  dup=$(comm -12 "$T/exported_core" "$T/declared_xap" | tr '\n' ' ')
  check "libkosearch.so does not export kosearch/xapian.h${dup:+ ($dup)}" [ -z "$dup" ]

  # A program using the backend: register, build a Xapian index, search it.
  cat >"$T/xap_use.c" <<'EOF'
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <kosearch.h>
#include <kosearch/xapian.h>

static int fail(const char *what, const ks_err *e) {
  fprintf(stderr, "%s: %s\n", what, e->msg);
  return 1;
}

int main(int argc, char **argv) {
  ks_err e;
  if (argc != 2) return 2;
  if (ks_xapian_register(&e) != KS_OK) return fail("register", &e);
  ks_writer_opts o;
  ks_writer_opts_default(&o);
  o.backend = "xapian";
  ks_writer *w;
  if (ks_writer_open(argv[1], &o, &w, &e) != KS_OK) return fail("writer_open", &e);
  const char *text = "한글은 세종대왕이 만든 문자이다.";
  ks_doc d = {.id = "hangul", .id_len = 6, .text = text, .text_len = strlen(text)};
  if (ks_writer_add(w, &d, &e) != KS_OK || ks_writer_commit(w, &e) != KS_OK) {
    ks_writer_close(w);
    return fail("writer", &e);
  }
  ks_writer_close(w);
  ks_db *db;
  if (ks_db_open(argv[1], &db, &e) != KS_OK) return fail("db_open", &e);
  ks_results *r;
  if (ks_db_search(db, "세종대왕", SIZE_MAX, NULL, &r, &e) != KS_OK) {
    ks_db_close(db);
    return fail("search", &e);
  }
  ks_hit h;
  int ok = ks_results_count(r) == 1 && ks_results_hit(r, 0, &h) == KS_OK;
  if (ok) printf("%s %.*s\n", ks_db_backend(db), (int)h.id_len, h.id);
  ks_results_free(r);
  ks_db_close(db);
  return ok ? 0 : 1;
}
EOF
  cp "$T/xap_use.c" "$T/cmake-static/"
  read -r -a pc_xap <<<"$(pkg-config --cflags --libs kosearch-xapian)"
  check "a ks_xapian_register program links with pkg-config kosearch-xapian" \
    run_cmd "$T/cc.log" "$CC" "${CFLAGS[@]}" "${SAN[@]}" "$T/xap_use.c" "${pc_xap[@]}" \
    -Wl,-rpath,"$LIBDIR" -o "$T/xap_shared"
  check "it builds and searches a Xapian index" \
    bash -c "'$T/xap_shared' '$T/xap-shared.idx' >'$T/out' 2>&1 && grep -qx 'xapian hangul' '$T/out'"
  read -r -a pc_xap_static <<<"$(pkg-config --cflags --static --libs kosearch-xapian |
    sed -E 's/(^| )-lkosearch-xapian( |$)/\1-l:libkosearch-xapian.a\2/; s/(^| )-lkosearch( |$)/\1-l:libkosearch.a\2/')"
  check "it links statically with pkg-config --static kosearch-xapian" \
    run_cmd "$T/cc.log" "$CC" "${CFLAGS[@]}" "${SAN[@]}" "$T/xap_use.c" "${pc_xap_static[@]}" \
    -o "$T/xap_static"
  check "the static one needs no libkosearch*.so" \
    bash -c "! readelf -d '$T/xap_static' | grep -q 'NEEDED.*libkosearch'"
  check "the static one builds and searches a Xapian index" \
    bash -c "'$T/xap_static' '$T/xap-static.idx' >'$T/out' 2>&1 && grep -qx 'xapian hangul' '$T/out'"
fi

# ---- (c, continued) the static and Xapian CMake targets -------------------------
echo "# (c) kosearch::kosearch_static$([ "$WITH_XAPIAN" = 1 ] && echo ", kosearch::kosearch-xapian(_static)")"
check "a project using the static target configures" run_cmd "$T/cmake.log" \
  cmake -S "$T/cmake-static" -B "$T/cmake-static/build" "${CMAKE_ARGS[@]}" \
  -DWITH_XAPIAN="$WITH_XAPIAN"
check "it builds" run_cmd "$T/cmake.log" cmake --build "$T/cmake-static/build"
check "ex_cmake_static does not need libkosearch.so" \
  bash -c "! readelf -d '$T/cmake-static/build/ex_cmake_static' | grep -q 'NEEDED.*libkosearch'"
expect_hits "cmake static" "$T/cmake-static/build/ex_cmake_static"
if [ "$WITH_XAPIAN" = 1 ]; then
  for x in xap_cmake xap_cmake_static; do
    check "$x builds and searches a Xapian index" \
      bash -c "'$T/cmake-static/build/$x' '$T/$x.idx' >'$T/out' 2>&1 && grep -qx 'xapian hangul' '$T/out'"
  done
fi

finish
