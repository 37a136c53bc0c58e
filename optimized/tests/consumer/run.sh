#!/usr/bin/env bash
# The packaging test (ctest `consumer`): in a temporary folder, removed at the end,
#   1. configure, build and install lowbit from SOURCE_DIR (Release, no tests, no bench) into a prefix
#      other than the configured one (the package must be relocatable), and check the installed files;
#   2. build and run find_package/ against the prefix (lowbit::lowbit and lowbit::lowbit_shared);
#   3. check lowbit.pc: pkg-config --cflags --libs lowbit builds c_api_test.c (C) and find_package/main.cpp;
#   4. build and run add_subdirectory/ on SOURCE_DIR.
# Usage: run.sh SOURCE_DIR [CMAKE [GENERATOR [C_COMPILER [CXX_COMPILER]]]]
# Environment: LOWBIT_CONSUMER_JOBS build jobs (default: nproc); LOWBIT_CONSUMER_KEEP=1 keeps the folder;
# LOWBIT_CONSUMER_BUILD_DIR=DIR installs from that (built) build tree instead of building one (quick reruns).
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

# find_package/ is C++ only; lowbit itself (and so add_subdirectory/) is C and C++.
cxx_args=(-DCMAKE_BUILD_TYPE=Release "-DCMAKE_CXX_COMPILER=$cxx" --log-level=WARNING)
[[ -n $generator ]] && cxx_args+=(-G "$generator")
if command -v ccache >/dev/null; then  # optional: faster reruns
  cxx_args+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
configure_args=("${cxx_args[@]}" "-DCMAKE_C_COMPILER=$cc")
command -v ccache >/dev/null && configure_args+=(-DCMAKE_C_COMPILER_LAUNCHER=ccache)
prefix=$tmp/prefix

install_lowbit() {
  local build=${LOWBIT_CONSUMER_BUILD_DIR:-}
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
  for f in bin/lowbit include/lowbit/c_api.h include/lowbit/fp8.hpp include/lowbit/gse.hpp include/lowbit/nf4.hpp \
    include/lowbit/qeft.hpp include/lowbit/formats/fp8.hpp include/lowbit/reference/fp8.hpp \
    include/lowbit/mx.hpp include/lowbit/kernels.hpp include/lowbit/kernels.inc include/lowbit/io/npy.hpp \
    "${libdir#"$prefix"/}"/liblowbit.a \
    "${libdir#"$prefix"/}"/liblowbit_reference.a "${libdir#"$prefix"/}"/liblowbit.so \
    "${libdir#"$prefix"/}"/cmake/lowbit/lowbitConfigVersion.cmake "${libdir#"$prefix"/}"/cmake/lowbit/lowbitTargets.cmake \
    "${libdir#"$prefix"/}"/pkgconfig/lowbit.pc; do
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

find_package_consumer() {
  "$cmake" -S "$here/find_package" -B "$tmp/find_package" "${cxx_args[@]}" "-DCMAKE_PREFIX_PATH=$prefix"
  "$cmake" --build "$tmp/find_package" --parallel "$jobs"
  "$tmp/find_package/consumer_static"
  "$tmp/find_package/consumer_shared"
  ldd "$tmp/find_package/consumer_static" >"$tmp/ldd_static.txt"
  ldd "$tmp/find_package/consumer_shared" >"$tmp/ldd_shared.txt"
  ! grep -q liblowbit "$tmp/ldd_static.txt" || fail "consumer_static needs liblowbit.so"
  grep -q "$libdir/liblowbit.so" "$tmp/ldd_shared.txt" || fail "consumer_shared does not run on the installed liblowbit.so"
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
  # shellcheck disable=SC2086  # $flags: several words
  "$cc" -std=c11 -pedantic-errors -o "$tmp/pc_c_api_test" "$here/../c_api_test.c" $flags -lm -Wl,-rpath,"$libdir"
  "$tmp/pc_c_api_test"
  # shellcheck disable=SC2086
  "$cxx" -std=c++20 -o "$tmp/pc_consumer" "$here/find_package/main.cpp" $flags -Wl,-rpath,"$libdir"
  "$tmp/pc_consumer"
}

add_subdirectory_consumer() {
  "$cmake" -S "$here/add_subdirectory" -B "$tmp/add_subdirectory" "${configure_args[@]}" "-DLOWBIT_SOURCE_DIR=$src"
  "$cmake" --build "$tmp/add_subdirectory" --parallel "$jobs"
  "$tmp/add_subdirectory/consumer"
}

stage "install lowbit into $prefix" install_lowbit
stage "find_package consumer" find_package_consumer
stage "pkg-config consumer" pkg_config_consumer
stage "add_subdirectory consumer" add_subdirectory_consumer
echo "consumer: all packaging checks passed in $SECONDS s"
