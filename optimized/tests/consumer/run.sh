#!/usr/bin/env bash
# The packaging test (ctest `consumer`): in a temporary folder, removed at the end,
#   1. configure, build and install lowbit from SOURCE_DIR (Release, no tests, no bench) into a prefix
#      other than the configured one (the package must be relocatable), and check the installed files;
#   2. build and run find_package/ against the prefix (C++: lowbit::lowbit and lowbit::lowbit_shared);
#   3. build and run find_package_c/ (a C-only project: c_api_test.c on both libraries);
#   4. check lowbit.pc and lowbit-static.pc: c_api_test.c (C) and find_package/main.cpp built with
#      `pkg-config --libs lowbit` run on liblowbit.so, c_api_test.c built with
#      `pkg-config --static --libs lowbit-static` needs no liblowbit.so;
#   5. build and run add_subdirectory/ on SOURCE_DIR.
# Usage: run.sh SOURCE_DIR [CMAKE [GENERATOR [C_COMPILER [CXX_COMPILER]]]]
# Environment: LOWBIT_CONSUMER_JOBS build jobs (default: nproc); LOWBIT_CONSUMER_KEEP=1 keeps the folder;
# LOWBIT_CONSUMER_BUILD_DIR=DIR installs from that (built) build tree instead of building one (quick reruns;
# a relative DIR is taken from SOURCE_DIR, e.g. build/release).
set -euo pipefail
src=$(cd "${1:?usage: run.sh SOURCE_DIR [CMAKE [GENERATOR [CC [CXX]]]]}" && pwd)
cmake=${2:-cmake}
generator=${3:-}
cc=${4:-cc}
cxx=${5:-c++}
here=$(cd "$(dirname "$0")" && pwd)
jobs=${LOWBIT_CONSUMER_JOBS:-$(nproc)}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/lowbit-consumer.XXXXXX")
if [[ ${LOWBIT_CONSUMER_KEEP:-0} == 1 ]]; then
  echo "keeping $tmp"
else
  trap 'rm -rf "$tmp"' EXIT
fi

fail() {
  echo "consumer: FAILED: $*" >&2
  exit 1
}
stage() {
  local name=$1 start=$SECONDS
  shift
  echo "=== $name"
  "$@"
  echo "=== $name: $((SECONDS - start)) s"
}

# find_package/ is C++ only, find_package_c/ C only; lowbit itself (and so add_subdirectory/) is C and C++.
common_args=(-DCMAKE_BUILD_TYPE=Release --log-level=WARNING)
[[ -n $generator ]] && common_args+=(-G "$generator")
cxx_args=("${common_args[@]}" "-DCMAKE_CXX_COMPILER=$cxx")
c_args=("${common_args[@]}" "-DCMAKE_C_COMPILER=$cc")
if command -v ccache >/dev/null; then  # optional: faster reruns
  cxx_args+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  c_args+=(-DCMAKE_C_COMPILER_LAUNCHER=ccache)
fi
configure_args=("${cxx_args[@]}" "${c_args[@]:${#common_args[@]}}")
prefix=$tmp/prefix

install_lowbit() {
  local build=${LOWBIT_CONSUMER_BUILD_DIR:-}
  [[ -z $build || $build == /* ]] || build=$src/$build
  if [[ -z $build ]]; then
    build=$tmp/lowbit
    "$cmake" -S "$src" -B "$build" "${configure_args[@]}" -DLOWBIT_BUILD_TESTS=OFF -DLOWBIT_BUILD_BENCH=OFF \
      "-DCMAKE_INSTALL_PREFIX=$tmp/configured-prefix"
    "$cmake" --build "$build" --parallel "$jobs"
  fi
  "$cmake" --install "$build" --prefix "$prefix" >"$tmp/install.log"
  [[ ! -e $tmp/configured-prefix ]] || fail "installed into the configured prefix, not --prefix"
  libdir=
  for d in lib64 lib; do [[ -f $prefix/$d/cmake/lowbit/lowbitConfig.cmake ]] && libdir=$prefix/$d; done
  [[ -n $libdir ]] || fail "no lib*/cmake/lowbit/lowbitConfig.cmake under $prefix"
  local f
  for f in bin/lowbit include/lowbit/c_api.h include/lowbit/c_types.h include/lowbit/vendor.h include/lowbit/fp8.hpp include/lowbit/gse.hpp include/lowbit/nf4.hpp \
    include/lowbit/qeft.hpp include/lowbit/formats/fp8.hpp include/lowbit/reference/fp8.hpp \
    include/lowbit/mx.hpp include/lowbit/kernels.hpp include/lowbit/kernels.inc include/lowbit/io/npy.hpp \
    "${libdir#"$prefix"/}"/liblowbit.a \
    "${libdir#"$prefix"/}"/liblowbit_reference.a "${libdir#"$prefix"/}"/liblowbit.so \
    "${libdir#"$prefix"/}"/cmake/lowbit/lowbitConfigVersion.cmake "${libdir#"$prefix"/}"/cmake/lowbit/lowbitTargets.cmake \
    "${libdir#"$prefix"/}"/pkgconfig/lowbit.pc "${libdir#"$prefix"/}"/pkgconfig/lowbit-static.pc; do
    [[ -e $prefix/$f ]] || fail "not installed: $f"
  done
  # The SIMD support headers are internal: never installed.
  ! find "$prefix/include" -name '*_simd.hpp' -o -name 'blocks.hpp' | grep -q . || fail "internal SIMD headers were installed"
  ! grep -rqF -e "$build" -e "$src" "$libdir/cmake/lowbit" "$libdir/pkgconfig" || fail "the package names the build or source tree"
  "$prefix/bin/lowbit" list >/dev/null || fail "the installed lowbit tool does not run"
  # (Output to a file first: grep -q would end a pipe early, and pipefail would see a SIGPIPE.)
  nm -D --defined-only "$libdir/liblowbit.so" >"$tmp/exports.txt"
  grep -q ' T lowbit_fp8_encode_f32$' "$tmp/exports.txt" || fail "liblowbit.so does not export the C API"
}

# PROGRAM runs, and needs liblowbit.so (shared) or not (static).
run_linked() {
  local program=$1 linkage=$2
  "$program"
  ldd "$program" >"$tmp/ldd.txt"
  if [[ $linkage == static ]]; then
    ! grep -q liblowbit "$tmp/ldd.txt" || fail "$program needs liblowbit.so"
  else
    grep -q "$libdir/liblowbit.so" "$tmp/ldd.txt" || fail "$program does not run on the installed liblowbit.so"
  fi
}

find_package_consumer() {
  "$cmake" -S "$here/find_package" -B "$tmp/find_package" "${cxx_args[@]}" "-DCMAKE_PREFIX_PATH=$prefix"
  "$cmake" --build "$tmp/find_package" --parallel "$jobs"
  run_linked "$tmp/find_package/consumer_static" static
  run_linked "$tmp/find_package/consumer_shared" shared
}

find_package_c_consumer() {
  "$cmake" -S "$here/find_package_c" -B "$tmp/find_package_c" "${c_args[@]}" "-DCMAKE_PREFIX_PATH=$prefix"
  "$cmake" --build "$tmp/find_package_c" --parallel "$jobs"
  run_linked "$tmp/find_package_c/consumer_c_static" static
  run_linked "$tmp/find_package_c/consumer_c_shared" shared
}

pkg_config_consumer() {
  export PKG_CONFIG_PATH=$libdir/pkgconfig
  local version flags
  version=$(pkg-config --modversion lowbit)
  [[ $version == "$(sed -n 's/^#define LOWBIT_VERSION_STRING "\(.*\)"$/\1/p' "$src/optimized/include/lowbit/c_api.h")" ]] ||
    fail "pkg-config says lowbit $version"
  flags=$(pkg-config --cflags --libs lowbit)
  echo "pkg-config --cflags --libs lowbit: $flags"
  [[ $(pkg-config --variable=prefix lowbit) -ef $prefix ]] || fail "lowbit.pc's prefix is not $prefix"
  [[ " $(pkg-config --static --libs lowbit) " == *" -llowbit_reference "* ]] || fail "pkg-config --static lacks -llowbit_reference"
  [[ $(pkg-config --modversion lowbit-static) == "$version" ]] || fail "lowbit-static.pc has another version"
  # shellcheck disable=SC2086  # $flags: several words
  "$cc" -std=c11 -pedantic-errors -o "$tmp/pc_c_api_test" "$here/../c_api_test.c" $flags -lm -Wl,-rpath,"$libdir"
  run_linked "$tmp/pc_c_api_test" shared
  # shellcheck disable=SC2086
  "$cxx" -std=c++20 -o "$tmp/pc_consumer" "$here/find_package/main.cpp" $flags -Wl,-rpath,"$libdir"
  run_linked "$tmp/pc_consumer" shared
  flags=$(pkg-config --cflags --static --libs lowbit-static)
  echo "pkg-config --cflags --static --libs lowbit-static: $flags"
  # shellcheck disable=SC2086
  "$cc" -std=c11 -pedantic-errors -o "$tmp/pc_c_api_test_static" "$here/../c_api_test.c" $flags -lm
  run_linked "$tmp/pc_c_api_test_static" static
}

add_subdirectory_consumer() {
  "$cmake" -S "$here/add_subdirectory" -B "$tmp/add_subdirectory" "${configure_args[@]}" "-DLOWBIT_SOURCE_DIR=$src"
  "$cmake" --build "$tmp/add_subdirectory" --parallel "$jobs"
  "$tmp/add_subdirectory/consumer"
}

stage "install lowbit into $prefix" install_lowbit
stage "find_package consumer" find_package_consumer
stage "find_package C consumer" find_package_c_consumer
stage "pkg-config consumer" pkg_config_consumer
stage "add_subdirectory consumer" add_subdirectory_consumer
echo "consumer: all packaging checks passed in $SECONDS s"
