#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Configures and builds rootkeeper with CMake: optimised, with debug info
# (RelWithDebInfo), on all cores. BUILD_DIR defaults to build/ at the top of
# the repository; a BUILD_DIR given on the command line is taken as written
# (relative to the current directory). Any further arguments go to the cmake
# configure step, e.g. `build.sh build-asan -DRK_SANITIZE=ON`. The compiler is
# cmake's choice unless CC says otherwise. It installs nothing: see deps.sh.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

build_dir="$root/build"
if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then
	build_dir=$1
	shift
fi

cmake -S "$root" -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@"
cmake --build "$build_dir" -j "$(nproc)"
