#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# The device agent under faults, end to end against a real nginx, real
# files and (as root) a real full disk:
#  - a full disk at the commit or at the WAL checkpoint after it: the
#    agent tells the truth (a committed version is reported active, never
#    "not stored"), still tries the export, and every failure names
#    SQLite's or the OS's reason ("database or disk is full", "No space
#    left on device");
#  - a URL with a password: the password reaches the server but never the
#    output, the event log, the state, `status --json`, the store file or
#    the process list, and the next poll still sends the validators (nginx
#    answers 304);
#  - FIFOs: `check --url file:///FIFO`, `apply FIFO` and a FIFO planted
#    over the export fail (or are replaced) at once instead of blocking;
#  - temp files that killed writers left beside the export are removed by
#    the next write command (a live writer's are not), and `status` notes
#    any that are left;
#  - `status` that cannot judge (bad usage, bad config) exits 3; a URL
#    that is not one is a usage error (2);
#  - an ETag of 300 bytes is sent back, so an idle poll is a 304;
#  - `status` keeps every reason: 19 expiring roots do not hide a
#    rejected check;
#  - a 1 MiB response header is reported as such, not as "out of memory".
# Each step is judged from the outside: exit codes, output, JSON read with
# jq, nginx's access log.  About 15 seconds.
#
# usage: robust.sh PATH/TO/rootkeeper PATH/TO/rootkeeper-sign
set -euo pipefail
# shellcheck source=common.sh
. "$(dirname -- "$0")/common.sh"
e2e_setup "$@"

# The tmpfs of the full-disk checks goes before the temp folder does.
FULL_MOUNTED=0
# shellcheck disable=SC2317 # called by the trap
robust_cleanup()
{
	local rc=$?
	if [ "$FULL_MOUNTED" = 1 ]; then
		umount "$T/full" 2>/dev/null || umount -l "$T/full" || true
	fi
	(exit "$rc")
	e2e_cleanup
}
trap robust_cleanup EXIT

CH=rb
mkdir -p www/$CH dev
DB=$T/dev/store.db
PEM=$T/dev/trust.pem
"$SIGN" keygen -o k1 >/dev/null
mk_ca ca1 "Robust Root 1"
mk_ca ca2 "Robust Root 2"
mk_ca ca3 "Robust Root 3"
for v in 1 2 3 4 5 6; do
	"$SIGN" create --key k1.key --channel "$CH" --version "$v" \
	    --certs ca1.pem --certs ca2.pem --note "v$v" -o "v$v.rkb" >/dev/null
done

# The long ETag, and a 1 MiB header line (1000 bytes doubled ten times).
long=$(printf '"%0298d"' 0)
kilo=$(printf '%01000d' 0)
{
	cat <<CONF
location = /long/$CH/latest.rkb {
	alias $T/www/$CH/latest.rkb;
	etag off;
	if_modified_since off;
	add_header ETag '$long';
	if (\$http_if_none_match = '$long') {
		return 304;
	}
}
location = /huge/$CH/latest.rkb {
	set \$h0 "$kilo";
CONF
	for i in $(seq 1 10); do
		# shellcheck disable=SC2016 # nginx's variables, not ours
		printf '\tset $h%d $h%d$h%d;\n' "$i" "$((i - 1))" "$((i - 1))"
	done
	cat <<CONF
	add_header X-Huge \$h10;
	alias $T/www/$CH/latest.rkb;
}
CONF
} >nginx-extra.conf
export NGINX_EXTRA_CONF=$T/nginx-extra.conf
nginx_start www

expect_exit 0 "init with the factory bundle v1" \
    agent init --pin k1.pub --bundle v1.rkb

# ---- a password in the URL ---------------------------------------------

publish v2.rkb www
SECRET=S3cretPw
URL=http://admin:$SECRET@127.0.0.1:$NGINX_PORT/$CH/latest.rkb
SHOWN="http://admin:***@127.0.0.1:$NGINX_PORT/$CH/latest.rkb"
expect_exit 0 "check --url with a password: v2" agent check --url "$URL"
check "the output names the URL with the password redacted" \
    grep -qF "$SHOWN" "$T/out"
check_not "the output has no password" grep -qF "$SECRET" "$T/out" "$T/err"
agent events --json
check_not "events have no password" grep -qF "$SECRET" "$T/out"
check "events name the redacted URL" grep -qF "$SHOWN" "$T/out"
st
check_not "status --json has no password" grep -qF "$SECRET" st.json
n=$(req_count "/$CH/latest.rkb")
expect_exit 0 "the next poll with the same URL" agent check --url "$URL"
check "it is a conditional GET answered 304 (validators matched)" \
    grep -q 'not modified' "$T/out"
check_eq "nginx answered 304" \
    "$(req_lines "/$CH/latest.rkb" | tail -n 1 | awk '{ print $4 }')" 304
check_eq "one request more" "$(req_count "/$CH/latest.rkb")" $((n + 1))
run "$RK" --db "$DB" check --url "http://admin:$SECRET@127.0.0.1:$NGINX_PORT/nothing/latest.rkb"
check_eq "a failing URL with a password: exit 1" "$RC" 1
check_not "its error has no password" grep -qF "$SECRET" "$T/out" "$T/err"
check "its error names the redacted URL" grep -qF 'admin:***@' "$T/err"
st
check_not "nor the last check in status" grep -qF "$SECRET" st.json
check_not "the store files hold no password" grep -qsaF "$SECRET" \
    "$DB" "$DB-wal"

# The process list shows argv to every local user: a check that downloads
# at 50 B/s is still running when its command line is read.
"$RK" --db "$DB" check \
    --url "http://admin:$SECRET@127.0.0.1:$NGINX_PORT/slow/$CH/latest.rkb" \
    >/dev/null 2>&1 &
slow=$!
E2E_PIDS+=("$slow")
sleep 1
if kill -0 "$slow" 2>/dev/null; then
	tr '\0' ' ' <"/proc/$slow/cmdline" >cmdline.txt
	check "the command line is still readable" grep -q 'check --url' \
	    cmdline.txt
	check_not "the process list does not show the password" \
	    grep -qF "$SECRET" cmdline.txt
	kill -TERM "$slow" 2>/dev/null || true
fi
wait "$slow" 2>/dev/null || true

# ---- URLs that are not URLs: usage errors --------------------------------

expect_exit 2 "check --url ftp://x is a usage error" \
    agent check --url ftp://x
check "it says which schemes" grep -q 'http://, https:// or file://' \
    "$T/err"
expect_exit 2 "check --url notaurl is a usage error" \
    agent check --url notaurl
expect_exit 2 "check --url ftp://user:pw@x: a usage error" \
    agent check --url "ftp://user:$SECRET@x/"
check_not "the usage error has no password" grep -qF "$SECRET" "$T/err"

# ---- an ETag of 300 bytes ------------------------------------------------

publish v3.rkb www
expect_exit 0 "check: v3 from a server with a 300-byte ETag" \
    agent check --url "$NGINX_URL/long/$CH/latest.rkb"
check "v3 is activated" grep -q '^updated: activated v3' "$T/out"
expect_exit 0 "the next poll of that URL" \
    agent check --url "$NGINX_URL/long/$CH/latest.rkb"
check_eq "it sent the ETag back whole: nginx answered 304" \
    "$(req_lines "/long/$CH/latest.rkb" | awk '{ print $4 }' | tr '\n' ' ')" \
    "200 304 "

# ---- a 1 MiB response header ---------------------------------------------

expect_exit 1 "check against a 1 MiB response header: exit 1" \
    agent check --url "$NGINX_URL/huge/$CH/latest.rkb"
check "it says the response header is too large" \
    grep -q "response header is too large" "$T/err"
check_not "it does not say out of memory" grep -qi 'out of memory' "$T/err"

# ---- FIFOs ---------------------------------------------------------------

mkfifo fifo.rkb
# timeout: on failure the agent would block in open() for good.
run timeout 20 "$RK" --db "$DB" check --url "file://$T/fifo.rkb"
check_eq "check --url file:///FIFO: exit 1 at once" "$RC" 1
check "it says not a regular file" grep -q 'not a regular file' "$T/err"
run timeout 20 "$RK" --db "$DB" apply fifo.rkb
check_eq "apply FIFO: exit 1 at once" "$RC" 1
check "it says not a regular file" grep -q 'not a regular file' "$T/err"
run timeout 20 "$RK" --db "$DB" apply "$T"
check_eq "apply FOLDER: exit 1" "$RC" 1
rm -f "$PEM"
mkfifo "$PEM"
publish v4.rkb www
run timeout 20 "$RK" --db "$DB" check --url "$NGINX_URL/$CH/latest.rkb"
check_eq "a FIFO planted over the export: check still works (exit 0)" \
    "$RC" 0
check "the export is a regular file again" test -f "$PEM"
check_eq "holding v4's set" "$(pem_fps "$PEM")" "$(fps_of ca1.pem ca2.pem)"

# ---- temp files of killed writers ---------------------------------------

sleep 0 &
dead=$!
wait "$dead"
touch "$PEM.tmp.$dead.AbC123" "$PEM.tmp.$dead.xYz789"
touch "$PEM.tmp.$$.LiVe12" # this shell is alive
touch -d '2 hours ago' "$PEM.tmp.Old123"
touch "$PEM.tmp.New123" # an older version's, maybe still writing
st
check_eq "status notes 3 stale temp files, and stays ok" \
    "$ST_RC/$(jget st.json .status)" 0/ok
check "the note counts them" grep -q '3 temporary files of a killed writer' \
    <(jget st.json '.reasons[]')
publish v5.rkb www
expect_exit 0 "check: v5" agent check --url "$NGINX_URL/$CH/latest.rkb"
check_eq "the dead writers' and the old temp files are gone" \
    "$(find dev -name 'trust.pem.tmp.*' -printf '%f\n' | sort | tr '\n' ' ')" \
    "trust.pem.tmp.$$.LiVe12 trust.pem.tmp.New123 "
touch "$PEM.tmp.$dead.AbC123"
expect_exit 0 "export --pem (a write command)" agent export --pem "$T/copy.pem"
check_not "it removed the stale temp of the device's export too" \
    test -e "$PEM.tmp.$dead.AbC123"
rm -f "$PEM.tmp.$$.LiVe12" "$PEM.tmp.New123"

# ---- status that cannot judge -------------------------------------------

printf '[agent]\nbogus = 1\n' >bad.conf
run "$RK" --config bad.conf --db "$DB" status
check_eq "status with a bad config: exit 3 (unknown), not 2" "$RC" 3
check "it says unknown" grep -q 'unknown' "$T/out"
run "$RK" --config bad.conf --db "$DB" status --json
check_eq "status --json with a bad config: exit 3, status unknown" \
    "$RC/$(jget "$T/out" .status)" 3/unknown
check "the reason names the config line" grep -q 'bad.conf:2' \
    <(jget "$T/out" '.reasons[]')
run "$RK" --db "$DB" status --bogus
check_eq "status --bogus: exit 3" "$RC" 3
run "$RK" --bogus "$DB" status
check_eq "an unknown global option before status: exit 3" "$RC" 3
run "$RK" --config bad.conf --db "$DB" list
check_eq "list with a bad config: still a usage error (2)" "$RC" 2

# ---- every reason kept ----------------------------------------------------

certs=()
for i in $(seq 1 19); do
	mk_ca "soon$i" "Soon Root $i" 10
	certs+=(--certs "soon$i.pem")
done
"$SIGN" create --key k1.key --channel "$CH" --version 10 "${certs[@]}" \
    -o v10.rkb >/dev/null
expect_exit 0 "apply v10: 19 roots that expire within 10 days" \
    agent apply v10.rkb
"$SIGN" create --key k1.key --channel other --version 11 --certs ca1.pem \
    -o other.rkb >/dev/null
expect_exit 3 "apply a bundle of another channel: rejected" \
    agent apply other.rkb
st
check_eq "status: warning" "$ST_RC/$(jget st.json .status)" 1/warning
check_eq "all 19 expiring roots are reasons" \
    "$(jget st.json '[.reasons[] | select(test("^root .*Soon Root"))] | length')" 19
check "the rejected check is not hidden" grep -q '^last check rejected' \
    <(jget st.json '.reasons[]')

# ---- a full disk ----------------------------------------------------------

# A device whose store and export live on a small tmpfs, filled so that
# every amount of free space from none upwards is tried, 4 KiB apart,
# until v10 (19 new roots: new pages for the WAL and, at the checkpoint,
# for the main file) is stored: first COMMIT cannot grow the WAL, then
# somewhere COMMIT fits in the WAL but the checkpoint does not.
if [ "$(id -u)" -ne 0 ] || ! command -v mount >/dev/null; then
	echo "# skip: the full-disk checks need root (to mount a tmpfs)"
else
	mkdir -p full
	if ! mount -t tmpfs -o size=2m tmpfs full 2>/dev/null; then
		echo "# skip: cannot mount a tmpfs here"
	else
		FULL_MOUNTED=1
		mkdir -p tmpl
		"$RK" --db tmpl/store.db init --pin k1.pub --bundle v1.rkb \
		    >/dev/null
		seen_ckpt=0 seen_commit=0 bad=0
		for kb in $(seq 0 4 400); do
			rm -rf full/*
			cp tmpl/store.db tmpl/trust.pem full/
			avail=$(($(stat -f -c '%a*%S' full/)))
			fill=$((avail - kb * 1024))
			[ "$fill" -gt 0 ] || break
			head -c "$fill" /dev/zero >full/filler 2>/dev/null || true
			RC=0
			"$RK" --db full/store.db apply v10.rkb >full.out 2>full.err ||
			    RC=$?
			rm -f full/filler
			active=$("$RK" --db full/store.db status --json |
			    jq -r .active_version || true)
			if [ "$active" = 10 ]; then
				if ! grep -q 'activated v10' full.out full.err ||
				    grep -q 'cannot store' full.err; then
					not_ok "disk full (${kb} KiB free): v10 is active but the agent says: $(cat full.err)"
					bad=1
				fi
				if [ "$RC" -ne 0 ] && ! grep -qE \
				    'database or disk is full|No space left on device' \
				    full.err; then
					not_ok "disk full (${kb} KiB free): exit $RC without the reason: $(cat full.err)"
					bad=1
				fi
				if grep -q 'checkpoint failed' full.err; then
					seen_ckpt=1
				fi
				break
			fi
			if [ "$RC" -ne 1 ] || ! grep -qE \
			    'database or disk is full|No space left on device' \
			    full.err; then
				not_ok "disk full (${kb} KiB free): v10 not stored, exit $RC, reason lost: $(cat full.err)"
				bad=1
			fi
			seen_commit=1
		done
		check_eq "full disk: every outcome told the truth, with its reason" \
		    "$bad" 0
		check_eq "full disk: a failed commit was seen" "$seen_commit" 1
		check_eq "full disk: a commit whose checkpoint failed was seen" \
		    "$seen_ckpt" 1
		sed 's/^/# last outcome: /' full.err
		umount full && FULL_MOUNTED=0
	fi
fi

finish
