#!/usr/bin/env bash
# t-secrets.sh - secrets do not linger where others can find them, against
# real Dovecot servers and a real FUSE mount:
#  - a password or token file that other users can read, or that belongs to
#    another user, draws a warning naming it (check --password-file, copy
#    --source/--dest-password-file, --oauth2-token-file, batch
#    --dest-password-file); a 0600 file of ours draws none;
#  - a running mount daemon given MAILSTAGE_PASSWORD has it neither in its
#    environment (/proc/PID/environ) nor a core file limit (/proc/PID/limits
#    says 0, even when started with `ulimit -c unlimited`);
#  - a copy run by another user is not dumpable: its /proc/PID files belong
#    to root and that user cannot read its environment (which holds no
#    MAILSTAGE_*PASSWORD* anyway); MAILSTAGE_CORE_DUMPS=1 turns that off;
#  - an OAuth2 token command that never ends fails its batch row after
#    --token-timeout with the reason in report.csv, and leaves no process.
set -u
. "$(dirname "$0")/lib/harness.sh"
. "$(dirname "$0")/lib/mount.sh"
. "$(dirname "$0")/lib/batch.sh"
harness_init
harness_timeout 300
harness_need_root
harness_need_mailstage
command -v setpriv >/dev/null || skip "setpriv missing (package util-linux)"

dovecot_start src
dovecot_start dst --extra 'auth_username_format = %Ln'
seed_corpus src alice INBOX 'cpython-email/*.eml' >/dev/null
SRC_URL="imap://alice@127.0.0.1:$SRC_PORT/"
DST_URL="imap://bob@127.0.0.1:$DST_PORT/"
PW=$(cat "$(pass_file src alice)")

# run CMD...: OUT (stdout+stderr) and RC, under a timeout
run() {
	OUT=$(timeout -k 5 120 "$@" 2>&1)
	RC=$?
	[ "$RC" -lt 124 ] || fail "$1 $2 hung or died (status $RC)"
}

# secret_copy SRC DEST MODE [OWNER]: a copy of a password file
secret_copy() {
	cp "$1" "$2"
	chmod "$3" "$2"
	chown "${4:-root}" "$2"
}

# ---------------------------------------------------------------- files
secret_copy "$(pass_file src alice)" "$T/pw-ok" 600
secret_copy "$(pass_file src alice)" "$T/pw-644" 644
secret_copy "$(pass_file src alice)" "$T/pw-vmail" 600 vmail
secret_copy "$(pass_file dst bob)" "$T/dpw-640" 640
run "$MAILSTAGE" check --tls none --password-file "$T/pw-ok" "$SRC_URL"
assert_eq "$RC" 0 "check with a 0600 password file of ours"
[[ "$OUT" != *warning* ]] && pass "a 0600 password file of ours draws no warning" ||
	fail "a 0600 password file draws a warning: $OUT"
run "$MAILSTAGE" check --tls none --password-file "$T/pw-644" "$SRC_URL"
assert_eq "$RC" 0 "check with a 0644 password file still logs in"
assert_contains "$OUT" "warning: $T/pw-644 can be read by other users (mode 0644) but holds a password: chmod 600 it" \
	"check warns about a password file others can read"
run "$MAILSTAGE" check --tls none --password-file "$T/pw-vmail" "$SRC_URL"
assert_contains "$OUT" "warning: $T/pw-vmail holds a password but belongs to another user (uid $(id -u vmail)" \
	"check warns about a password file another user owns"
run "$MAILSTAGE" copy --tls none --dry-run --no-state --progress none \
	--source-password-file "$T/pw-vmail" --dest-password-file "$T/dpw-640" "$SRC_URL" "$DST_URL"
assert_eq "$RC" 0 "copy --dry-run with both files"
assert_contains "$OUT" "$T/pw-vmail holds a password but belongs to another user" "copy warns about --source-password-file"
assert_contains "$OUT" "$T/dpw-640 can be read by other users (mode 0640)" "copy warns about --dest-password-file"
echo not-a-token >"$T/token"
chmod 644 "$T/token"
run "$MAILSTAGE" check --tls none --oauth2-token-file "$T/token" "$SRC_URL"
assert_contains "$OUT" "$T/token can be read by other users (mode 0644) but holds a token" \
	"check warns about an OAuth2 token file others can read"
printf 'EmailAddress,UserName,Password\nalice@example.org,alice,%s\n' "$PW" >"$T/users.csv"
chmod 600 "$T/users.csv"
secret_copy "$(pass_file dst admin)" "$T/admin-644" 644
run "$MAILSTAGE" batch run "$T/users.csv" --dir "$T/b" --tls none \
	--source "imap://127.0.0.1:$SRC_PORT/" --dest "imap://admin@127.0.0.1:$DST_PORT/" \
	--dest-admin-style dovecot --dest-password-file "$T/admin-644"
assert_eq "$RC" 0 "batch run with a 0644 admin password file"
assert_contains "$OUT" "$T/admin-644 can be read by other users (mode 0644)" "batch warns about --dest-password-file"

# ---------------------------------------------------------------- a mount daemon
if [ -c /dev/fuse ] && command -v fusermount3 >/dev/null; then
	ulimit -c unlimited
	MAILSTAGE_PASSWORD=$PW mount_url "$SRC_URL" - "$T/mnt"
	assert_ne "$(find "$T/mnt/INBOX/cur" -type f | wc -l)" 0 "the mount logged in with \$MAILSTAGE_PASSWORD and lists INBOX"
	tr '\0' '\n' <"/proc/$MOUNT_PID/environ" >"$T/mount.environ"
	assert_eq "$(grep -c 'MAILSTAGE_PASSWORD' "$T/mount.environ")" 0 \
		"the mount daemon's /proc/PID/environ holds no MAILSTAGE_PASSWORD"
	assert_eq "$(grep -cF -- "$PW" "$T/mount.environ")" 0 "nor the password"
	assert_eq "$(awk '/^Max core file size/ {print $5 "/" $6}' "/proc/$MOUNT_PID/limits")" 0/0 \
		"the mount daemon may write no core file (RLIMIT_CORE 0, soft and hard)"
	mount_stop "$T/mnt"
else
	pass "mount: no FUSE here, not checked"
fi

# ---------------------------------------------------------------- another user's copy
# copy_as_vmail [ENV...]: a slow copy run by vmail with both passwords in
# its environment; sets VPID
copy_as_vmail() {
	mkdir -p "$T/vtmp"
	chown vmail "$T/vtmp"
	env "$@" MAILSTAGE_SOURCE_PASSWORD="$PW" MAILSTAGE_DEST_PASSWORD="$(cat "$(pass_file dst bob)")" \
		TMPDIR="$T/vtmp" MAILSTAGE_TEST_DELAY_MS=300 \
		setpriv --reuid vmail --regid vmail --clear-groups \
		"$MAILSTAGE" copy --tls none --batch 2 --progress none --no-state \
		--map "INBOX=vmail-$#" "$SRC_URL" "$DST_URL" >"$T/vcopy-$#.log" 2>&1 &
	VPID=$!
	harness_register_pid "$VPID"
	sleep 1
	kill -0 "$VPID" 2>/dev/null || fail "the copy as vmail ended early: $(cat "$T/vcopy-$#.log")"
}
copy_as_vmail
assert_eq "$(stat -c %U "/proc/$VPID/environ")" root \
	"a copy run by vmail is not dumpable: its /proc/PID files belong to root"
setpriv --reuid vmail --regid vmail --clear-groups cat "/proc/$VPID/environ" >/dev/null 2>&1 &&
	fail "vmail can read the environment of its own copy" ||
	pass "vmail cannot read the environment of its own copy"
assert_eq "$(tr '\0' '\n' <"/proc/$VPID/environ" | grep -c 'MAILSTAGE_[A-Z_]*PASSWORD')" 0 \
	"which holds no MAILSTAGE_*PASSWORD* anyway"
wait "$VPID"
assert_eq "$?" 0 "the copy as vmail completes"
copy_as_vmail MAILSTAGE_CORE_DUMPS=1
assert_eq "$(stat -c %U "/proc/$VPID/environ")" vmail "with MAILSTAGE_CORE_DUMPS=1 it stays dumpable"
wait "$VPID"

# ---------------------------------------------------------------- a token command that hangs
printf '#!/bin/sh\necho $$ >>"%s/hang.pids"\nsleep 31337 & wait\n' "$T" >"$T/hang.sh"
chmod 700 "$T/hang.sh"
start=$(date +%s)
run "$MAILSTAGE" batch run "$T/users.csv" --dir "$T/bt" --tls none \
	--source "imap://127.0.0.1:$SRC_PORT/" --dest "imap://127.0.0.1:$DST_PORT/" \
	--dest-oauth2-token-command "$T/hang.sh" --token-timeout 3
took=$(($(date +%s) - start))
assert_eq "$RC" 1 "batch run with a hanging token command exits 1"
[ "$took" -le 10 ] && pass "and ends in $took s (--token-timeout 3)" || fail "it took $took s"
assert_eq "$(batch_csv_field "$T/bt/report.csv" alice@example.org State)" failed "the row failed"
assert_contains "$(batch_csv_field "$T/bt/report.csv" alice@example.org LastError)" \
	"the token command for alice@example.org did not end within 3 s" "report.csv says why"
left=""
for _ in $(seq 50); do
	left=$(pgrep -f 'sleep 31337')
	[ -z "$left" ] && break
	sleep 0.1
done
assert_eq "$left" "" "no token command process is left"
[ -s "$T/hang.pids" ] && pass "the token command did run" || fail "the token command never ran"

harness_done
