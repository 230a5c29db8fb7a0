# SPDX-License-Identifier: Apache-2.0
# Cross-compiling for 64-bit ARM (Debian arm64) on an x86-64 Debian 12 host,
# as scripts/cross.sh sets it up: gcc-aarch64-linux-gnu, the :arm64 -dev
# packages of the libraries that are co-installable (multiarch), and
# wolfSSL's arm64 packages unpacked into a folder of their own, RK_SYSROOT
# (libwolfssl-dev:arm64 would replace the native one).  The test programs
# run under qemu-aarch64 with -L RK_SYSROOT: qemu looks a path up there
# first, so the arm64 loader finds libwolfssl.so in the folder and every
# other library where multiarch installed it.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)

if(NOT RK_SYSROOT)
	set(RK_SYSROOT "$ENV{RK_SYSROOT}")
endif()
if(NOT RK_SYSROOT)
	message(FATAL_ERROR "toolchain-arm64.cmake: set RK_SYSROOT to the "
	    "folder with wolfSSL's arm64 packages unpacked (scripts/cross.sh)")
endif()
set(RK_SYSROOT "${RK_SYSROOT}" CACHE PATH
    "wolfSSL's arm64 packages, unpacked (dpkg -x)")
# try_compile() projects see the variable too.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES RK_SYSROOT)

# pkg-config reads the arm64 .pc files only: the multiarch folders, and the
# unpacked wolfSSL's (scripts/cross.sh rewrites its prefix to the folder).
set(ENV{PKG_CONFIG_LIBDIR}
    "${RK_SYSROOT}/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")

# The loader of an arm64 program run during the build or the tests looks
# for libwolfssl.so.35 in /usr/lib/aarch64-linux-gnu, which -L maps into
# the folder.  The linker is told where it is.
set(CMAKE_EXE_LINKER_FLAGS_INIT
    "-Wl,-rpath-link,${RK_SYSROOT}/usr/lib/aarch64-linux-gnu")
set(CMAKE_SHARED_LINKER_FLAGS_INIT
    "-Wl,-rpath-link,${RK_SYSROOT}/usr/lib/aarch64-linux-gnu")
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64 -L "${RK_SYSROOT}")

set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
