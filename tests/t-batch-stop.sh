#!/usr/bin/env bash
# t-batch-stop.sh - `mailstage batch stop` and SIGTERM while 3 mailboxes are
# in flight: those listed as stopped, the rest as waiting in
# MigrationErrors.csv, exit status 4; re-running `run` on the same DIR
# resumes without duplicates and everything is migrated in the end.
set -euo pipefail
. "$(dirname "$0")/lib/harness.sh"
. "$(dirname "$0")/lib/batch.sh"

batch_test_init 500
batch_servers
cd "$T"

users="alice bob carol dave erin frank"
# big enough to stop in flight: the whole corpus in INBOX (through IMAP), the
# same files in three more folders (on disk: Dovecot indexes them when
# asked), and that Maildir copied for every user.
(cd "$MAILSTAGE_CORPUS" && find . -type f -name '*.eml' | sed 's|^\./||' | LC_ALL=C sort) >all.list
seed_corpus src alice INBOX "$T/all.list" >/dev/null
md=$SRC_MAILDIR/alice/Maildir
for f in A1 A2 A3; do
	mkdir -p "$md/$f/new" "$md/$f/tmp"
	cp -a "$md/cur" "$md/$f/cur"
done
for u in $users; do
	[ "$u" = alice ] || { mkdir -p "$SRC_MAILDIR/$u"; cp -a "$md" "$SRC_MAILDIR/$u/"; }
done
chown -R vmail:vmail "$SRC_MAILDIR"
per=$(( 4 * $(wc -l <all.list) ))
pass "6 source mailboxes of $per messages each"
{
	echo 'EmailAddress,UserName,Password'
	for u in $users; do echo "$u@$BATCH_DOMAIN,$u,$(batch_pw "$u")"; done
} >users.csv
chmod 600 users.csv
B=$T/b

# wait_running N: until status.json shows N mailboxes in flight, each with
# something copied already by one of them (at most 30 s).
wait_running() {
	local i
	for i in $(seq 1 300); do
		if grep -q "\"running\":$1," "$B/status.json" 2>/dev/null &&
			grep -q '"copied":[1-9]' "$B/status.json"; then
			return 0
		fi
		sleep 0.1
	done
	cat "$B/status.json" >&2 || true
	fail "never saw $1 mailboxes in flight"
}

# stopped_and_waiting STOPPED WAITING: MigrationErrors.csv lists them so.
stopped_and_waiting() {
	local m
	m=$(cat "$B/MigrationErrors.csv")
	assert_eq "$(grep -c ',stopped,' <<<"$m" || true)" "$1" "MigrationErrors.csv: $1 stopped in progress"
	assert_eq "$(grep -c ',waiting,' <<<"$m" || true)" "$2" "MigrationErrors.csv: $2 still waiting"
}

# ---- 1: batch stop from another terminal
rc=0
batch_run users.csv --dir "$B" --concurrency 3 &
pid=$!
wait_running 3
out=$("$MAILSTAGE" batch stop "$B")
assert_contains "$out" "stopped the batch" "batch stop reports the batch stopped"
wait "$pid" || rc=$?
[ "$rc" = 4 ] || tail -n 60 "$T/run.log" >&2
assert_eq "$rc" 4 "the stopped run exits 4"
stopped_and_waiting 3 3
assert_contains "$(cat "$B/MigrationErrors.csv")" "run the batch again to resume" "MigrationErrors.csv says what to do"
assert_contains "$("$MAILSTAGE" batch status "$B" --json)" '"state":"stopped"' "status.json: stopped"
n_after_stop=0
for u in $users; do n_after_stop=$((n_after_stop + $(batch_count_dst "$u" INBOX))); done
[ "$n_after_stop" -lt $((6 * 420)) ] || fail "everything was copied before the stop"
pass "stopped part-way ($n_after_stop messages at the destination)"

# ---- 2: SIGTERM to a resumed run
rc=0
batch_run users.csv --dir "$B" --concurrency 3 &
pid=$!
wait_running 3
runner=$(cat "$B/lock")
assert_eq "$(tr '\0' ' ' </proc/"$runner"/cmdline | cut -d' ' -f2-3)" "batch run" "the lock names the running mailstage"
kill -TERM "$runner"
wait "$pid" || rc=$?
assert_eq "$rc" 4 "SIGTERM: the run exits 4"
m=$(cat "$B/MigrationErrors.csv")
stopped=$(grep -c ',stopped,' <<<"$m" || true)
[ "$stopped" -ge 1 ] && [ "$stopped" -le 3 ] || fail "SIGTERM: $stopped rows stopped"
pass "SIGTERM: $stopped mailboxes listed as stopped in progress"
assert_eq "$(grep -c "$BATCH_DOMAIN" <<<"$m")" "$(grep -c ',stopped,\|,waiting,' <<<"$m")" \
	"MigrationErrors.csv lists only stopped and waiting rows"

# ---- 3: run to the end: everything there, nothing twice
rc=0
batch_run users.csv --dir "$B" --concurrency 3 || rc=$?
assert_eq "$rc" 0 "the last run exits 0"
for u in $users; do
	for f in INBOX A1 A2 A3; do
		batch_same "$u" "$f" || fail "$u: $f differs between source and destination (missing or duplicate)"
	done
done
pass "all 6 mailboxes migrated, no duplicate after two interruptions"
assert_eq "$(grep -c "$BATCH_DOMAIN" "$B/MigrationErrors.csv" || true)" 0 "MigrationErrors.csv is empty at the end"
rc=0
batch_run users.csv --dir "$B" --concurrency 3 || rc=$?
assert_eq "$rc" 0 "a run after the end redoes nothing and exits 0"
assert_eq "$(batch_max_concurrent "$SRC_LOG")" 3 "the source never saw more than 3 mailboxes at once"

harness_done
