#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Builds rootkeeper for the boards it runs on, from an x86-64 Debian 12
# host, and with --test runs its test suites there under emulation:
#
#   arm64  cross-compiled with gcc-aarch64-linux-gnu and
#          cmake/toolchain-arm64.cmake; the programs run under qemu-aarch64
#          (CMAKE_CROSSCOMPILING_EMULATOR; the shell suites get it as
#          RK_RUN_PREFIX), with the host's openssl, nginx and mosquitto.
#   i386   a 32-bit Debian 12 (32-bit time_t in its libraries) made with
#          debootstrap; built and tested natively inside it through
#          chroot, with its own compiler, libraries, openssl and servers.
#
# Like deps.sh it installs what is missing, Debian packages only, and is
# quiet and quick when everything is there: for arm64 the host gets the
# arm64 architecture (dpkg --add-architecture), the cross compiler,
# qemu-user and the :arm64 -dev packages that install beside the native
# ones; wolfSSL's arm64 packages are not co-installable (they would remove
# the native libwolfssl-dev), so they are unpacked into
# CACHE/arm64/sysroot instead.  The i386 root is CACHE/i386/root.  CACHE is
# $RK_CROSS_CACHE, default /var/cache/rootkeeper-cross: outside the
# repository, reused by every run.  It never adds i386 or armhf as a dpkg
# architecture of the host.
#
# The build is RelWithDebInfo with the tests, into BUILD_DIR (relative to
# the current directory); for i386 BUILD_DIR is bind-mounted into the root
# at the same path, and so is the repository.  With --test it runs CTest in
# BUILD_DIR (under emulation or in the root), CTEST_ARGS after `--` passed
# on (e.g. `-- -R '^(store|e2e_agent)$'`); the last line is CTest's
# summary.  The exit status is non-zero when the build or a test failed.
#
# usage: cross.sh arm64|i386 BUILD_DIR [--test] [-- CTEST_ARGS...]
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache=${RK_CROSS_CACHE:-/var/cache/rootkeeper-cross}
mirror=${RK_DEBIAN_MIRROR:-http://deb.debian.org/debian}

usage()
{
	echo "usage: $0 arm64|i386 BUILD_DIR [--test] [-- CTEST_ARGS...]" >&2
	exit 2
}

[ $# -ge 2 ] || usage
arch=$1
build_dir=$2
shift 2
with_test=0
ctest_args=()
while [ $# -gt 0 ]; do
	case "$1" in
	--test) with_test=1 ;;
	--)
		shift
		ctest_args=("$@")
		break
		;;
	*) usage ;;
	esac
	shift
done
case "$arch" in
arm64 | i386) ;;
*) usage ;;
esac
mkdir -p -- "$build_dir"
build_dir=$(cd -- "$build_dir" && pwd)

if [ "$(id -u)" -eq 0 ]; then
	as_root=()
elif command -v sudo >/dev/null 2>&1; then
	as_root=(sudo)
else
	as_root=()
fi

say()
{
	echo "cross.sh: $*" >&2
}

# missing PKG...: prints the packages dpkg does not have installed, for
# the host's architecture or PKG's :ARCH (a bare name matches both copies
# of a multiarch package).
missing()
{
	local p arch native
	native=$(dpkg --print-architecture)
	for p in "$@"; do
		arch=$native
		case "$p" in
		*:*) arch=${p#*:} ;;
		esac
		dpkg-query -W -f='${Architecture} ${db:Status-Status}\n' "$p" \
		    2>/dev/null | grep -qE "^($arch|all) installed\$" ||
		    printf '%s\n' "$p"
	done
}

# apt_install PKG...: installs those of PKG that are missing, on the host.
apt_install()
{
	local todo
	mapfile -t todo < <(missing "$@")
	[ "${#todo[@]}" -eq 0 ] && return 0
	say "installing ${todo[*]}"
	"${as_root[@]}" apt-get update -q >"$build_dir/apt.log" 2>&1 || {
		cat "$build_dir/apt.log" >&2
		return 1
	}
	"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install \
	    -y -q --no-install-recommends "${todo[@]}" >"$build_dir/apt.log" \
	    2>&1 || {
		cat "$build_dir/apt.log" >&2
		return 1
	}
}

# ---- arm64: cross compiler, multiarch libraries, wolfSSL unpacked ------

setup_arm64()
{
	local sys=$cache/arm64/sysroot ver debs d pc
	local pkgs=(gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user
		libc6:arm64 libjansson-dev:arm64 libcurl4-openssl-dev:arm64
		libsqlite3-dev:arm64 libinih-dev:arm64 libcmocka-dev:arm64
		libp11-kit-dev:arm64)

	if [ "$with_test" = 1 ]; then
		pkgs+=(libfaketime:arm64)
	fi
	if ! dpkg --print-foreign-architectures | grep -qx arm64; then
		say "adding the arm64 architecture to dpkg"
		"${as_root[@]}" dpkg --add-architecture arm64
		"${as_root[@]}" apt-get update -q >"$build_dir/apt.log" 2>&1 || {
			cat "$build_dir/apt.log" >&2
			return 1
		}
	fi
	apt_install "${pkgs[@]}"

	# wolfSSL: the version of the native package, so that both builds
	# use the same library.
	ver=$(dpkg-query -W -f='${Version}' libwolfssl-dev)
	if [ "$(cat "$sys/.version" 2>/dev/null || true)" != "$ver" ]; then
		say "unpacking wolfSSL $ver for arm64 into $sys"
		"${as_root[@]}" rm -rf -- "$sys" "$cache/arm64/debs"
		"${as_root[@]}" mkdir -p -- "$cache/arm64/debs"
		debs=$(apt-cache depends "libwolfssl-dev:arm64=$ver" |
		    awk '$1 == "Depends:" && $2 ~ /^libwolfssl/ { print $2 }')
		(cd "$cache/arm64/debs" && "${as_root[@]}" apt-get download -q \
		    "libwolfssl-dev:arm64=$ver" \
		    "${debs%%:*}:arm64=$ver") >"$build_dir/apt.log" 2>&1 || {
			cat "$build_dir/apt.log" >&2
			return 1
		}
		for d in "$cache"/arm64/debs/*.deb; do
			"${as_root[@]}" dpkg-deb -x "$d" "$sys"
		done
		# Its .pc file says prefix=/usr: the headers and library are
		# in the folder.
		pc=$sys/usr/lib/aarch64-linux-gnu/pkgconfig/wolfssl.pc
		"${as_root[@]}" sed -i "s|^prefix=.*|prefix=$sys/usr|" "$pc"
		echo "$ver" | "${as_root[@]}" tee "$sys/.version" >/dev/null
	fi
}

build_arm64()
{
	local sys=$cache/arm64/sysroot

	cmake -S "$root" -B "$build_dir" \
	    -DCMAKE_TOOLCHAIN_FILE="$root/cmake/toolchain-arm64.cmake" \
	    -DRK_SYSROOT="$sys" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	    -DRK_TESTS=ON >"$build_dir/configure.log" 2>&1 || {
		cat "$build_dir/configure.log" >&2
		return 1
	}
	cmake --build "$build_dir" -j "$(nproc)"
	qemu-aarch64 -L "$sys" "$build_dir/agent/rootkeeper" --version
	if [ "$with_test" = 1 ]; then
		(cd "$build_dir" && ctest --output-on-failure --timeout 900 \
		    "${ctest_args[@]}")
	fi
}

# ---- i386: a Debian 12 root, built and tested inside ----------------------

# As deps.sh (keep the two in step; the root needs no clang or valgrind),
# for the root; the build has the tests (cmocka) in any case.
chroot_pkgs=(gcc make libc6-dev cmake pkg-config libwolfssl-dev libjansson-dev
	libcurl4-openssl-dev libsqlite3-dev libinih-dev libp11-kit-dev openssl
	ca-certificates libcmocka-dev)
chroot_test_pkgs=(nginx mosquitto mosquitto-clients faketime
	jq time curl strace procps file binutils softhsm2 opensc python3 sqlite3
	util-linux)

MOUNTS=()

# in_root COMMAND...: COMMAND in the i386 root, with a clean environment.
in_root()
{
	"${as_root[@]}" chroot "$cache/i386/root" /usr/bin/env -i \
	    PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
	    DEBIAN_FRONTEND=noninteractive "$@"
}

# bind SRC: SRC mounted at the same path inside the root (once).
bind()
{
	local dst=$cache/i386/root$1
	if ! mountpoint -q -- "$dst"; then
		"${as_root[@]}" mkdir -p -- "$dst"
		"${as_root[@]}" mount --bind -- "$1" "$dst"
		MOUNTS+=("$dst")
	fi
}

umount_all()
{
	local i
	for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do
		"${as_root[@]}" umount -R -- "${MOUNTS[$i]}" 2>/dev/null ||
		    "${as_root[@]}" umount -lR -- "${MOUNTS[$i]}" || true
	done
	MOUNTS=()
}

mount_root()
{
	local r=$cache/i386/root
	trap umount_all EXIT
	if ! mountpoint -q "$r/proc"; then
		"${as_root[@]}" mount -t proc proc "$r/proc"
		MOUNTS+=("$r/proc")
	fi
	if ! mountpoint -q "$r/sys"; then
		"${as_root[@]}" mount -t sysfs sysfs "$r/sys"
		MOUNTS+=("$r/sys")
	fi
	if ! mountpoint -q "$r/dev"; then
		"${as_root[@]}" mount --rbind /dev "$r/dev"
		"${as_root[@]}" mount --make-rslave "$r/dev"
		MOUNTS+=("$r/dev")
	fi
}

setup_i386()
{
	local r=$cache/i386/root todo pkgs=("${chroot_pkgs[@]}")

	apt_install debootstrap
	if [ ! -e "$r/.rk-ready" ]; then
		say "making a Debian 12 i386 root in $r (debootstrap)"
		"${as_root[@]}" rm -rf -- "$r.tmp"
		"${as_root[@]}" mkdir -p -- "$cache/i386"
		"${as_root[@]}" debootstrap --arch=i386 --variant=minbase \
		    bookworm "$r.tmp" "$mirror" >"$build_dir/debootstrap.log" \
		    2>&1 || {
			tail -n 20 "$build_dir/debootstrap.log" >&2
			return 1
		}
		# Package scripts must not start nginx or mosquitto: the
		# root shares the host's network.
		printf '#!/bin/sh\nexit 101\n' |
		    "${as_root[@]}" tee "$r.tmp/usr/sbin/policy-rc.d" >/dev/null
		"${as_root[@]}" chmod 755 "$r.tmp/usr/sbin/policy-rc.d"
		"${as_root[@]}" rm -rf -- "$r"
		"${as_root[@]}" mv -- "$r.tmp" "$r"
		"${as_root[@]}" touch "$r/.rk-ready"
	fi
	# apt needs the name servers, the suites need localhost.
	"${as_root[@]}" cp /etc/resolv.conf /etc/hosts "$r/etc/"
	mount_root
	if [ "$with_test" = 1 ]; then
		pkgs+=("${chroot_test_pkgs[@]}")
	fi
	# shellcheck disable=SC2016 # expanded in the root
	mapfile -t todo < <(in_root bash -c 'for p; do
		s=$(dpkg-query -W -f="\${db:Status-Status}" "$p" 2>/dev/null || true)
		[ "$s" = installed ] || echo "$p"; done' - "${pkgs[@]}")
	if [ "${#todo[@]}" -gt 0 ]; then
		say "installing ${todo[*]} in the i386 root"
		in_root sh -c 'apt-get update -q && apt-get install -y -q \
		    --no-install-recommends "$@"' - "${todo[@]}" \
		    >"$build_dir/apt.log" 2>&1 || {
			cat "$build_dir/apt.log" >&2
			return 1
		}
	fi
}

build_i386()
{
	local q=""
	bind "$root"
	case "$build_dir/" in
	"$root"/*) ;;
	*) bind "$build_dir" ;;
	esac
	in_root cmake -S "$root" -B "$build_dir" \
	    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRK_TESTS=ON \
	    >"$build_dir/configure.log" 2>&1 || {
		cat "$build_dir/configure.log" >&2
		return 1
	}
	in_root cmake --build "$build_dir" -j "$(nproc)"
	in_root "$build_dir/agent/rootkeeper" --version
	if [ "$with_test" = 1 ]; then
		[ "${#ctest_args[@]}" -eq 0 ] || printf -v q '%q ' "${ctest_args[@]}"
		in_root bash -c "cd $(printf %q "$build_dir") &&
		    ctest --output-on-failure --timeout 900 $q"
	fi
}

"${as_root[@]}" mkdir -p -- "$cache"
# The native build's set first, and what the host side of the tests uses.
if [ "$with_test" = 1 ]; then
	"$root/scripts/deps.sh" --test
else
	"$root/scripts/deps.sh"
fi
case "$arch" in
arm64)
	setup_arm64
	build_arm64
	;;
i386)
	# One run at a time: the root's mounts and packages are shared.
	exec 9>"${TMPDIR:-/tmp}/rootkeeper-cross-i386.lock"
	flock 9
	setup_i386
	build_i386
	;;
esac
