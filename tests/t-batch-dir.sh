#!/usr/bin/env bash
# t-batch-dir.sh - root's `mailstage batch` and a batch directory that
# another user (nobody) controls or has prepared, next to a CSV kept in a
# world-writable sticky directory (as /tmp):
#  - nobody creates the default DIR <csv>.batch first, its lock a link to a
#    file of root's: `run` refuses it (exit 2, says whose it is), the file
#    is untouched and nothing is written there;
#  - a DIR of root's that others may write (0777): refused; at 0700 the
#    same run migrates the mailbox (bytes, flags, dates);
#  - root's own DIR whose lock is a link: refused, the target untouched;
#  - nobody's DIR with batch.args naming a --dest-oauth2-token-command:
#    `sync` and `complete` refuse it and run nothing;
#  - `stop` on nobody's DIR, and on root's DIR whose lock names a process
#    that is not its `mailstage batch` (a root process called mailstage-*):
#    that process is not signalled; a real run in root's DIR is (strace
#    sees the SIGTERM) and stops (exit 4);
#  - `status` and `validate --dir` refuse nobody's DIR too.
set -euo pipefail
. "$(dirname "$0")/lib/harness.sh"
. "$(dirname "$0")/lib/batch.sh"

batch_test_init 400
batch_servers
batch_seed alice 8 0
batch_seed bob 60 8
cd "$T"

P=$T/pub # a sticky world-writable directory, as /tmp
mkdir -m 1777 "$P"
echo 'EmailAddress,UserName,Password' >"$P/users.csv"
echo "alice@$BATCH_DOMAIN,alice,$(batch_pw alice)" >>"$P/users.csv"
chmod 600 "$P/users.csv"
echo "root's precious file" >"$T/victim"
victim_sum=$(sha256sum <"$T/victim")
NOBODY=(setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups)
as_nobody() { "${NOBODY[@]}" "$@"; }

# ms_batch ARGS...: mailstage batch as root, admin login to dst; OUT and RC
ms_batch() {
	RC=0
	OUT=$(MAILSTAGE_DEST_PASSWORD=$(cat "$(pass_file dst admin)") timeout -k 5 120 \
		"$MAILSTAGE" batch "$@" 2>&1) || RC=$?
	[ "$RC" -lt 124 ] || fail "batch $1 hung or died (status $RC)"
}
run_args=(--source "imap://127.0.0.1:$SRC_PORT/" --dest "imap://admin@127.0.0.1:$DST_PORT/"
	--dest-admin-style dovecot --tls none)

# ---- nobody plants the default DIR, its lock a link to root's file
as_nobody mkdir "$P/users.batch"
as_nobody ln -s "$T/victim" "$P/users.batch/lock"
ms_batch run "$P/users.csv" "${run_args[@]}"
assert_eq "$(sha256sum <"$T/victim")" "$victim_sum" "run on nobody's default DIR: root's file behind its lock untouched"
assert_eq "$RC" 2 "run refuses nobody's default DIR (exit 2)"
assert_contains "$OUT" "$P/users.batch belongs to nobody (uid $(id -u nobody)), not to you" \
	"and says whose it is"
assert_eq "$(ls -A "$P/users.batch")" lock "nothing was written in nobody's DIR"

# ---- root's DIR that others may write: refused; at 0700 it is used
mkdir -m 0777 "$T/b"
ms_batch run "$P/users.csv" --dir "$T/b" "${run_args[@]}"
assert_eq "$RC" 2 "run refuses a DIR others may write (0777)"
assert_contains "$OUT" "can be written by other users (mode 0777)" "and says why"
chmod 0700 "$T/b"
ms_batch run "$P/users.csv" --dir "$T/b" "${run_args[@]}"
assert_eq "$RC" 0 "at 0700 the same run migrates (exit 0)"
batch_same alice INBOX && batch_same alice Sent && pass "alice migrated: bytes, flags, dates equal" ||
	fail "alice's mailbox differs at the destination"

# ---- root's own DIR whose lock is a link
mkdir -m 0700 "$T/bl"
ln -s "$T/victim" "$T/bl/lock"
ms_batch run "$P/users.csv" --dir "$T/bl" "${run_args[@]}"
assert_eq "$(sha256sum <"$T/victim")" "$victim_sum" "a lock that is a link: its target untouched"
assert_eq "$RC" 2 "and the run is refused (exit 2)"
assert_contains "$OUT" "$T/bl/lock" "naming the lock"

# ---- nobody's DIR with batch.args that would run a command as root
E=$P/evil.batch
as_nobody mkdir "$E"
for f in report.csv batch.conf; do
	cp "$T/b/$f" "$E/$f"
	chown nobody: "$E/$f"
done
as_nobody sh -c "echo '$P' >'$E/batch.cwd'"
as_nobody sh -c "printf '%s\0' '$P/users.csv' --source 'imap://127.0.0.1:$SRC_PORT/' \
	--dest 'imap://127.0.0.1:$DST_PORT/' --dest-oauth2-token-command 'id >$P/PWNED' \
	--tls none >'$E/batch.args'"
for verb in sync complete; do
	ms_batch "$verb" "$E"
	[ -e "$P/PWNED" ] && fail "batch $verb ran nobody's command as root: $(cat "$P/PWNED")"
	pass "batch $verb ran nothing from nobody's batch.args"
	assert_eq "$RC" 2 "batch $verb refuses nobody's DIR (exit 2)"
	assert_contains "$OUT" "$E belongs to nobody" "batch $verb says whose it is"
done

# ---- stop: only this DIR's own `mailstage batch` is ever signalled
bash -c 'exec -a mailstage-helper sleep 300' </dev/null >/dev/null 2>&1 &
helper=$!
harness_register_pid "$helper"
# stop_spares DIR WHO MSG: WHO (nobody or root) makes DIR, writes the helper's
# pid into its lock and holds the lock; `batch stop DIR` must not signal it
stop_spares() {
	local dir=$1 msg=$3 run=() holder i
	[ "$2" = nobody ] && run=("${NOBODY[@]}") # no function: $! must be the holder itself
	"${run[@]}" mkdir -m 0700 "$dir"
	"${run[@]}" sh -c "echo $helper >'$dir/lock'"
	# one process (flock then exec sleep) that holds the lock, off our stdout
	"${run[@]}" bash -c 'exec 9<"$1" && flock 9 && exec sleep 300' _ "$dir/lock" \
		</dev/null >/dev/null 2>&1 &
	holder=$!
	harness_register_pid "$holder"
	for i in $(seq 100); do flock -n "$dir/lock" true || break; sleep 0.1; done
	ms_batch stop "$dir" --wait 1
	kill "$holder"
	kill -0 "$helper" 2>/dev/null || fail "$msg: batch stop killed root's process $helper"
	pass "$msg: the process the lock names is not signalled"
}
stop_spares "$P/stop.batch" nobody "stop on nobody's DIR"
assert_eq "$RC" 2 "stop refuses nobody's DIR (exit 2)"
stop_spares "$T/bs" root "stop on root's DIR whose lock names no batch of it"
assert_contains "$OUT" "still finishing" "stop says the batch has not stopped"
kill "$helper"
echo 'EmailAddress,UserName,Password' >"$T/bob.csv"
echo "bob@$BATCH_DOMAIN,bob,$(batch_pw bob)" >>"$T/bob.csv"
chmod 600 "$T/bob.csv"
MAILSTAGE_TEST_DELAY_MS=1000 batch_run "$T/bob.csv" --dir "$T/bb" &
runner=$!
for i in $(seq 100); do
	grep -q '"running":1,' "$T/bb/status.json" 2>/dev/null && break
	sleep 0.1
done
# LeakSanitizer cannot run under ptrace: off for this one run (ASan builds)
signals=$(ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
	strace -f -e trace=pidfd_send_signal,kill "$MAILSTAGE" batch stop "$T/bb" 2>&1 >/dev/null)
rc=0
wait "$runner" || rc=$?
grep -Eq 'pidfd_send_signal\([0-9]+, SIGTERM, NULL, 0\) += 0' <<<"$signals" ||
	fail "stop did not signal the DIR's own running batch: $signals"
pass "stop signals the DIR's own running batch (SIGTERM)"
assert_eq "$rc" 4 "which stops (exit 4)"

# ---- status and validate --dir
ms_batch status "$E"
assert_eq "$RC" 2 "status refuses nobody's DIR (exit 2)"
ms_batch validate "$P/users.csv" --dir "$E"
assert_eq "$RC" 2 "validate --dir refuses nobody's DIR (exit 2)"
[ -e "$E/validation.csv" ] && fail "validate wrote into nobody's DIR"
pass "validate wrote nothing there"
harness_done
