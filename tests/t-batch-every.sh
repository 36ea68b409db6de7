#!/usr/bin/env bash
# t-batch-every.sh - `mailstage batch sync DIR --every 2s` against real
# Dovecot: mail arriving between passes is copied by the next pass (once),
# status.json says "waiting" with the next pass's time in between,
# `batch stop DIR` ends the loop cleanly (exit 0, nothing in flight, no lock
# left), then `complete` does a final pass and refuses any further sync.
set -euo pipefail
. "$(dirname "$0")/lib/harness.sh"
. "$(dirname "$0")/lib/batch.sh"

batch_test_init 300
batch_servers
cd "$T"

batch_seed alice 6 0 >/dev/null
batch_seed bob 6 6 >/dev/null
{
	echo 'EmailAddress,UserName,Password'
	for u in alice bob; do echo "$u@$BATCH_DOMAIN,$u,$(batch_pw "$u")"; done
} >users.csv
chmod 600 users.csv
B=$T/b
rc=0
batch_run users.csv --dir "$B" || rc=$?
assert_eq "$rc" 0 "batch run migrates both mailboxes"
base=$(batch_count_dst alice INBOX)

export MAILSTAGE_DEST_PASSWORD
MAILSTAGE_DEST_PASSWORD=$(cat "$(pass_file dst admin)")
out=$("$MAILSTAGE" batch sync "$B" --every 2x 2>&1) && fail "--every 2x accepted"
assert_contains "$out" "--every wants" "--every with a bad unit is refused"

"$MAILSTAGE" batch sync "$B" --every 2s >"$T/every.log" 2>&1 &
pid=$!
harness_register_pid "$pid"

# wait_for CMD WANT SECS: until CMD prints WANT.
wait_for() {
	local i
	for i in $(seq 1 $(($3 * 5))); do
		[ "$(eval "$1")" = "$2" ] && return 0
		sleep 0.2
	done
	fail "after $3 s, '$1' gives '$(eval "$1")', not '$2'"
}
syncs() { batch_csv_field "$B/report.csv" "alice@$BATCH_DOMAIN" Syncs; }

wait_for syncs 1 30
wait_for 'grep -o "\"state\":\"waiting\"" "$B/status.json"' '"state":"waiting"' 10
assert_contains "$(cat "$B/status.json")" '"next_sync":"' "status.json names the next pass while waiting"
assert_eq "$(batch_count_dst alice INBOX)" "$base" "the first pass found nothing new"

# mail arriving between passes: the next pass copies it, once
list=$T/seed-bob.list
seed_message src alice INBOX "$MAILSTAGE_CORPUS/$(sed -n 1p "$list")" '\Seen' >/dev/null
wait_for 'batch_count_dst alice INBOX' $((base + 1)) 30
batch_same alice INBOX || fail "alice: INBOX differs after the pass that followed new mail"
pass "a message arriving between passes was copied by the next pass"
seed_message src alice Sent "$MAILSTAGE_CORPUS/$(sed -n 2p "$list")" >/dev/null
seed_message src bob INBOX "$MAILSTAGE_CORPUS/$(sed -n 1p "$T/seed-alice.list")" >/dev/null
wait_for 'batch_count_dst bob INBOX' 7 30
wait_for 'batch_count_dst alice Sent' 4 30
n=$(syncs)
wait_for syncs $((n + 1)) 30
batch_same alice INBOX || fail "alice: INBOX differs after more passes"
batch_same alice Sent || fail "alice: Sent differs after more passes"
batch_same bob INBOX || fail "bob: INBOX differs after more passes"
pass "later passes copied new mail in INBOX and Sent of both users, nothing twice"
[ "$(syncs)" -ge 3 ] || fail "only $(syncs) passes"
pass "the loop ran $(syncs) passes so far"
kill -0 "$pid" 2>/dev/null || fail "sync --every ended by itself"

# stop while it waits: the loop ends cleanly
wait_for 'grep -o "\"state\":\"waiting\"" "$B/status.json"' '"state":"waiting"' 10
out=$("$MAILSTAGE" batch stop "$B" --wait 30)
assert_contains "$out" "stopped the batch" "batch stop reports the loop stopped"
rc=0
wait "$pid" || rc=$?
case $rc in
0) pass "stopped between passes: sync --every exits 0" ;;
4) pass "stopped during a pass: sync --every exits 4" ;;
*) fail "sync --every exited $rc after batch stop" ;;
esac
[ ! -e "$B/stop" ] || fail "the stop file was left behind"
assert_eq "$(grep -o '"state":"[a-z]*"' "$B/status.json")" '"state":"stopped"' "status.json: stopped"
assert_eq "$(grep -c ',running,' "$B/report.csv" || true)" 0 "report.csv: no row left running"
for u in alice bob; do
	assert_eq "$(batch_csv_field "$B/report.csv" "$u@$BATCH_DOMAIN" State)" migrated "$u: still migrated"
done
out=$("$MAILSTAGE" batch stop "$B" || true)
assert_contains "$out" "no batch is running" "nothing runs after the stop"

# complete: a final pass, then no more syncs
seed_message src bob Sent "$MAILSTAGE_CORPUS/$(sed -n 2p "$T/seed-alice.list")" >/dev/null
rc=0
"$MAILSTAGE" batch complete "$B" >>"$T/run.log" 2>&1 || rc=$?
assert_eq "$rc" 0 "batch complete exits 0"
batch_same bob Sent || fail "bob: Sent differs after complete"
pass "complete copied the mail that arrived after the stop"
out=$("$MAILSTAGE" batch sync "$B" --every 2s 2>&1) && fail "sync --every after complete succeeded"
assert_contains "$out" "is complete: synchronization has ended" "sync --every after complete is refused"
harness_done
