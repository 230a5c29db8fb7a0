#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Builds the Debian packages rootkeeper, rootkeeper-sign, librootkeeper0 and
# librootkeeper-dev into OUT_DIR (default dist/ at the top of the
# repository), and checks them with lintian (a lintian error fails the
# script). It installs what is missing with deps.sh --package, copies the
# sources (the files git knows, or the tree without build folders) into a
# temp folder with packaging/debian as debian/, and runs dpkg-buildpackage
# there, so the repository gets nothing but OUT_DIR. It installs nothing
# on this machine: tests/packaging/package.sh does that.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=${1:-$root/dist}
case $out in
/*) ;;
*) out=$PWD/$out ;;
esac

"$root/scripts/deps.sh" --package

work=$(mktemp -d "${TMPDIR:-/tmp}/rk-package.XXXXXX")
trap 'rm -rf -- "$work"' EXIT
mkdir "$work/rootkeeper"
if git -C "$root" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	git -C "$root" ls-files -z --cached --others --exclude-standard |
	    (cd "$root" && tar --null -T - -cf -) |
	    tar -xf - -C "$work/rootkeeper"
else
	tar -C "$root" --exclude='./build*' --exclude=./dist --exclude=./debian \
	    -cf - . | tar -xf - -C "$work/rootkeeper"
fi
rm -rf "$work/rootkeeper/debian"
cp -r "$root/packaging/debian" "$work/rootkeeper/debian"

# The four packages, without the -dbgsym ones.
(cd "$work/rootkeeper" &&
    DEB_BUILD_OPTIONS="${DEB_BUILD_OPTIONS:-} noautodbgsym" dpkg-buildpackage -b -us -uc -j"$(nproc)" >"$work/build.log" 2>&1) || {
	tail -n 60 "$work/build.log" >&2
	echo "package.sh: dpkg-buildpackage failed" >&2
	exit 1
}

mkdir -p "$out"
debs=()
for f in "$work"/*.deb; do
	cp -- "$f" "$out/"
	debs+=("$out/$(basename "$f")")
done
printf '%s\n' "${debs[@]}"

lintian --fail-on error --tag-display-limit 0 "${debs[@]}" || {
	echo "package.sh: lintian reports errors" >&2
	exit 1
}
