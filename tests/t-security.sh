#!/usr/bin/env bash
# t-security.sh - what protects the user's servers and secrets:
#  - TLS verification is on by default: `mailstage check`, `ls` and `copy`
#    refuse a certificate for another name, an expired one and a self-signed
#    one (imaps and STARTTLS) with plain words and exit 3; --insecure, and
#    only it, gets past;
#  - passwords are never in argv (/proc/PID/cmdline of running copy, mount
#    and batch processes), nor in any file mailstage writes: logs (--debug
#    included), --report, the state database (SQLite dump and raw bytes),
#    the batch directory (status.json, errors.csv ...) or any file name;
#  - state and report files are created mode 0600 (directories 0700);
#  - a batch CSV with passwords that others can read draws a warning from
#    `batch validate` and `batch run`.
set -u
. "$(dirname "$0")/lib/harness.sh"
. "$(dirname "$0")/lib/mount.sh"
. "$(dirname "$0")/lib/batch.sh"
harness_init
harness_timeout 600
harness_need_mailstage

batch_servers # src, and dst with auth_username_format = %Ln (batch logins)
dovecot_start wrong --cert wrongname
dovecot_start expd --cert expired
dovecot_start self --cert selfsigned
for s in src wrong expd self; do
	seed_corpus "$s" alice INBOX 'cpython-email/*.eml' >/dev/null
done
SRC_N=$(imap_dump src alice INBOX | grep -c .)
[ "$SRC_N" -ge 10 ] && pass "sources seeded ($SRC_N messages each)" || fail "seeding gave $SRC_N messages"
DPW=$(pass_file dst bob)

# run CMD...: OUT (stdout+stderr) and RC, under a timeout
run() {
	OUT=$(timeout -k 5 120 "$@" 2>&1)
	RC=$?
	[ "$RC" -lt 124 ] || fail "$1 $2 hung or died (status $RC)"
}

# ---------------------------------------------------------------- TLS
# tls_refused NAME URL WORDS [CA-ARGS...]: check, ls and copy (NAME's alice
# to dst) refuse; --insecure passes.
tls_refused() {
	local name=$1 url=$2 words=$3 pw
	shift 3
	pw=$(pass_file "$name" alice)
	for cmd in check ls; do
		run "$MAILSTAGE" "$cmd" "$@" --password-file "$pw" "$url"
		assert_eq "$RC" 3 "$name $url: $cmd refuses (exit 3)"
		assert_contains "$OUT" "$words" "$name $url: $cmd says '$words'"
	done
	run "$MAILSTAGE" copy "$@" --progress none --no-state --source-password-file "$pw" \
		--dest-password-file "$DPW" --dest-tls none --map "INBOX=tls-$name" \
		"$url" "imap://bob@127.0.0.1:$DST_PORT/"
	assert_eq "$RC" 3 "$name $url: copy refuses (exit 3)"
	assert_contains "$OUT" "$words" "$name $url: copy says '$words'"
	assert_eq "$(imap_dump dst bob "tls-$name" 2>/dev/null | grep -c .)" 0 "$name: nothing was copied"
}
tls_refused wrong "imaps://alice@localhost:$WRONG_TLSPORT/" "not for 'localhost'" --ca-file "$CA_FILE"
tls_refused wrong "imap://alice@localhost:$WRONG_PORT/" "not for 'localhost'" --ca-file "$CA_FILE"
tls_refused expd "imaps://alice@localhost:$EXPD_TLSPORT/" "has expired" --ca-file "$CA_FILE"
tls_refused expd "imap://alice@localhost:$EXPD_PORT/" "has expired" --ca-file "$CA_FILE"
tls_refused self "imaps://alice@localhost:$SELF_TLSPORT/" "not trusted"
tls_refused self "imap://alice@localhost:$SELF_PORT/" "not trusted"
tls_refused src "imaps://alice@localhost:$SRC_TLSPORT/" "--ca-file" # our CA, not given

# the same servers with --insecure: the user asked for it
for name in wrong expd self; do
	url="imaps://alice@localhost:$(_harness_var "$name" TLSPORT)/"
	pw=$(pass_file "$name" alice)
	run "$MAILSTAGE" check --insecure --password-file "$pw" "$url"
	assert_eq "$RC" 0 "$name: check --insecure passes"
	assert_contains "$OUT" "NOT verified" "$name: and says the certificate was not verified"
	run "$MAILSTAGE" ls --insecure --password-file "$pw" "$url"
	assert_eq "$RC" 0 "$name: ls --insecure passes"
	run "$MAILSTAGE" copy --insecure --progress none --no-state --source-password-file "$pw" \
		--dest-password-file "$DPW" --dest-tls none --map "INBOX=tls-$name" \
		"$url" "imap://bob@127.0.0.1:$DST_PORT/"
	assert_eq "$RC" 0 "$name: copy --insecure passes"
	assert_eq "$(imap_dump dst bob "tls-$name" | grep -c .)" "$SRC_N" "$name: and copies every message"
done

# ---------------------------------------------------------------- secrets
SECRETS=$T/secrets
for u in $HARNESS_USERS admin; do cat "$(pass_file src "$u")"; echo; done >"$SECRETS"

# argv_clean PID WHAT: sample /proc/PID/cmdline (and its children's) while PID runs
argv_clean() {
	local pid=$1 what=$2 n=0 p
	while kill -0 "$pid" 2>/dev/null && [ $n -lt 50 ]; do
		for p in "$pid" $(pgrep -P "$pid" 2>/dev/null); do
			{ tr '\0' ' ' <"/proc/$p/cmdline"; } 2>/dev/null && echo
		done >>"$T/argv-$what.log"
		ps -eo args= >>"$T/argv-$what.ps"
		n=$((n + 1))
		sleep 0.1
	done
	[ -s "$T/argv-$what.log" ] || fail "$what: no command line sampled"
	if grep -qFf "$SECRETS" "$T/argv-$what.log" "$T/argv-$what.ps"; then
		fail "$what: a password is in a command line"
	fi
	pass "$what: no password in its command line ($n samples)"
}

# a slow copy (MAILSTAGE_TEST_DELAY_MS before each upload batch), with
# --debug, a report, and a state file
mkdir -p "$T/st"
(umask 022 && echo old >"$T/copy-report.csv") # a readable older report is replaced privately
MAILSTAGE_TEST_DELAY_MS=300 "$MAILSTAGE" copy --tls none --debug --batch 2 --progress none \
	--source-password-file "$(pass_file src alice)" --dest-password-file "$DPW" \
	--state "$T/st/copy.sqlite" --report "$T/copy-report.csv" --map INBOX=sec \
	"imap://alice@127.0.0.1:$SRC_PORT/" "imap://bob@127.0.0.1:$DST_PORT/" >"$T/copy.log" 2>&1 &
cpid=$!
harness_register_pid "$cpid"
argv_clean "$cpid" copy
wait "$cpid"
assert_eq "$?" 0 "the slow copy with --debug completes"
grep -q 'imap C:' "$T/copy.log" && pass "the --debug log holds the IMAP conversation" ||
	fail "no IMAP conversation in the --debug log"

# a copy that fails: wrong destination password, and a refused message in the report
echo 'Wr0ng-Secret-Pw9' >"$T/badpw"
chmod 600 "$T/badpw"
echo 'Wr0ng-Secret-Pw9' >>"$SECRETS"
run "$MAILSTAGE" copy --tls none --debug --progress none --source-password-file "$(pass_file src alice)" \
	--dest-password-file "$T/badpw" --state "$T/st/copy2.sqlite" --report "$T/copy2-report.json" \
	"imap://alice@127.0.0.1:$SRC_PORT/" "imap://bob@127.0.0.1:$DST_PORT/"
printf '%s\n' "$OUT" >"$T/copy2.log"
assert_eq "$RC" 3 "a wrong destination password: copy exits 3"
run "$MAILSTAGE" ls --tls none --debug --password-file "$T/badpw" "imap://alice@127.0.0.1:$SRC_PORT/"
printf '%s\n' "$OUT" >"$T/ls-bad.log"
assert_eq "$RC" 3 "a wrong password: ls exits 3"

# a mount
if [ -c /dev/fuse ] && command -v fusermount3 >/dev/null; then
	mount_url "imap://alice@127.0.0.1:$SRC_PORT/" "$(pass_file src alice)" "$T/mnt"
	(cat "$T"/mnt/INBOX/cur/* >/dev/null) &
	rpid=$!
	argv_clean "$MOUNT_PID" mount
	wait "$rpid"
	mount_stop "$T/mnt"
else
	pass "mount: no FUSE here, not checked"
fi

# a batch (CSV passwords; the admin's from a file)
cd "$T"
{
	echo 'EmailAddress,UserName,Password'
	for u in alice carol; do echo "$u@$BATCH_DOMAIN,$u,$(batch_pw "$u")"; done
	echo "dave@$BATCH_DOMAIN,dave,Wr0ng-Secret-Pw9"
} >users.csv
chmod 600 users.csv
run "$MAILSTAGE" batch validate users.csv --dir "$T/bv"
[[ "$OUT" != *"can be read by other users"* ]] && pass "batch validate: a 0600 CSV draws no warning" ||
	fail "batch validate warns about a 0600 CSV: $OUT"
chmod 644 users.csv
run "$MAILSTAGE" batch validate users.csv --dir "$T/bv"
assert_contains "$OUT" "can be read by other users" "batch validate warns about a world-readable CSV with passwords"
assert_contains "$OUT" "chmod 600" "and says how to fix it"
chmod 640 users.csv
MAILSTAGE_TEST_DELAY_MS=300 "$MAILSTAGE" batch run users.csv --dir "$T/b" --concurrency 2 \
	--source "imap://127.0.0.1:$SRC_PORT/" --dest "imap://admin@127.0.0.1:$DST_PORT/" \
	--dest-admin-style dovecot --dest-password-file "$(pass_file dst admin)" --tls none \
	>"$T/batch.log" 2>&1 &
bpid=$!
harness_register_pid "$bpid"
argv_clean "$bpid" batch
wait "$bpid"
assert_eq "$?" 1 "batch run: exit 1 (dave's password is wrong)"
assert_contains "$(cat "$T/batch.log")" "can be read by other users" "batch run warns about a group-readable CSV"
chmod 600 users.csv

# every file under $T that mailstage wrote: no password in it or in its name
# (the harness's own password files and Dovecot's passdb hold them by design)
find "$T" -type f ! -name 'pass-*' ! -name users ! -name masters ! -name users.csv \
	! -path "$T/secrets" ! -path "$T/badpw" ! -path "*/mail/*" ! -path "$T/.reg/*" \
	! -path "$T/tls/*" >"$T/files.list"
assert_ne "$(grep -c 'copy.sqlite\|status.json\|errors.csv\|copy-report.csv\|copy.log' "$T/files.list")" 0 \
	"the files to search include the state, batch and report files"
leaks=$(xargs -d '\n' grep -lFaf "$SECRETS" <"$T/files.list" || true)
assert_eq "$leaks" "" "no password in any log, report, state or batch file"
assert_eq "$(find "$T" | grep -Ff "$SECRETS")" "" "no password in any file name"
for db in "$T"/st/*.sqlite "$T"/b/*.sqlite "$T"/b/*/*.sqlite; do
	[ -f "$db" ] || continue
	sqlite3 "$db" .dump >"$db.dump.txt" 2>/dev/null || fail "cannot dump $db"
	grep -qFf "$SECRETS" "$db.dump.txt" && fail "a password in the dump of $db"
	rm -f "$db.dump.txt"
	DUMPED=1
done
[ "${DUMPED:-0}" = 1 ] && pass "no password in any SQLite dump" || fail "no state database found"

# modes: state and report files 0600 (copy-report.csv also when it
# replaced a 0644 file), batch directories 0700
bad=""
for f in "$T"/st/* "$T/copy-report.csv" "$T/copy2-report.json" $(find "$T/b" "$T/bv" -type f); do
	[ -e "$f" ] || continue
	m=$(stat -c %a "$f")
	[ "$m" = 600 ] || bad+="$f:$m "
done
assert_eq "$bad" "" "state, report and batch files are mode 0600"
bad=""
for d in $(find "$T/b" "$T/bv" -type d); do
	m=$(stat -c %a "$d")
	[ "$m" = 700 ] || bad+="$d:$m "
done
assert_eq "$bad" "" "batch directories are mode 0700"
harness_done
