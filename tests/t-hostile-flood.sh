#!/usr/bin/env bash
# t-hostile-flood.sh - a server that answers with valid responses that never
# end the command (issue #15, finding 8), scripted by tests/fake/faultimap.py:
#  - flood: "* OK" lines without end after a metadata FETCH, and the line
#    of a folder again and again in a LIST: the command's deadline (4 x
#    --timeout plus time per item of work) cuts it off;
#  - flood-fetch: FETCH responses of ever new messages: no more are taken
#    than the folder has (plus a margin);
#  - flood-body: the same body again and again: no more bodies than asked;
#  - manyfolders: a million folders: `check` and `ls` stop at 100,000 with
#    a clear error; 90,000 folders are listed, and fast (the lookup of a
#    folder by name is a hash, no longer a linear search: O(n) not O(n^2)).
# Each ends with a plain-words error and the documented exit status, in
# bounded time and memory (peak RSS from /usr/bin/time), and a copy to a
# real Dovecot leaves nothing wrong there.
set -u
. "$(dirname "$0")/lib/harness.sh"
. "$(dirname "$0")/lib/fake.sh"
harness_init
harness_timeout 600
harness_need_mailstage

dovecot_start dst
DPW=$(pass_file dst bob)
DURL="imap://bob@127.0.0.1:$DST_PORT/"
echo pw >"$T/pw"
chmod 600 "$T/pw"
RSS_MAX=$(harness_rss_limit_kib 65536)
# under ASan, freed memory waits in a quarantine (256 MiB by default) that
# a flood of responses fills: keep it small, so that the peak is ours
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=16"
export MAILSTAGE_TEST_BACKOFF_MS=100

# run WHAT SECS: CMDLINE under /usr/bin/time, killed after SECS; sets
# OUT (stdout+stderr), RC, RSS (peak KiB) and TOOK (seconds).  Fails on a
# hang, an end by signal, or a peak RSS over RSS_MAX.
run() {
	local what=$1 secs=$2 start
	start=$(date +%s%N)
	OUT=$(timeout -k 5 "$secs" /usr/bin/time -f 'rss=%M' -o "$T/time" "${CMDLINE[@]}" 2>&1)
	RC=$?
	TOOK=$((($(date +%s%N) - start) / 1000000))
	[ "$RC" = 124 ] || [ "$RC" = 137 ] && fail "$what: still running after $secs s (killed)"
	[ "$RC" -gt 128 ] && fail "$what: died by signal $((RC - 128))"
	RSS=$(sed -n 's/^rss=//p' "$T/time")
	[ "${RSS:-0}" -le "$RSS_MAX" ] && pass "$what: peak RSS ${RSS} KiB (at most $RSS_MAX)" ||
		fail "$what: peak RSS ${RSS} KiB, over $RSS_MAX"
}
# ms CMD URL / copy_to FOLDER: mailstage's words for run (an argument list in CMDLINE)
ms() { CMDLINE=("$MAILSTAGE" "$1" --tls=none --timeout 2 --connect-timeout 5 --password-file "$T/pw" "$2"); }
copy_to() { # the fake's INBOX -> Dovecot bob/FOLDER
	CMDLINE=("$MAILSTAGE" copy --tls=none --timeout 2 --connect-timeout 5 --progress none --no-state
		--source-password-file "$T/pw" --dest-password-file "$DPW"
		--report "$T/$1.csv" --map "INBOX=$1" "$FURL" "$DURL")
}
DEADLINE="did not end in time: it kept sending responses that never complete the command"

# --- flood after a metadata FETCH: ls and copy hit the command's deadline
fake_start flood
ms ls "$FURL"
run "flood: ls" 60
assert_eq "$RC" 3 "flood: ls exits 3"
assert_contains "$OUT" "$DEADLINE" "flood: ls says the answer did not end"
[ "$TOOK" -lt 30000 ] && pass "flood: ls gave up after $TOOK ms" || fail "flood: ls took $TOOK ms"
copy_to flood
run "flood: copy" 120
assert_ne "$RC" 0 "flood: copy fails (exit $RC)"
assert_contains "$OUT" "$DEADLINE" "flood: copy says the answer did not end"
assert_eq "$(imap_dump dst bob flood 2>/dev/null | grep -c .)" 0 "flood: nothing reached the destination"
fake_stop

# --- a folder line without end in the LIST reply
fake_start flood@list
for cmd in check ls; do
	ms "$cmd" "$FURL"
	run "flood@list: $cmd" 60
	assert_eq "$RC" 3 "flood@list: $cmd exits 3"
	assert_contains "$OUT" "$DEADLINE" "flood@list: $cmd says the answer did not end"
done
fake_stop

# --- FETCH responses of ever new UIDs: the count is capped
fake_start flood-fetch
ms ls "$FURL"
run "flood-fetch: ls" 60
assert_eq "$RC" 3 "flood-fetch: ls exits 3"
assert_contains "$OUT" "more FETCH responses than the folder has messages" \
	"flood-fetch: ls says the server sent more FETCH responses than messages"
fake_stop

# --- the same body without end: no more bodies than asked for
fake_start flood-body
copy_to flood-body
run "flood-body: copy" 120
assert_eq "$RC" 1 "flood-body: copy exits 1 (messages failed)"
assert_contains "$(cat "$T/flood-body.csv")" "more message bodies than were asked for" \
	"flood-body: the report says the server sent more bodies than asked for"
assert_eq "$(imap_dump dst bob flood-body 2>/dev/null | grep -c .)" 0 "flood-body: nothing reached the destination"
fake_stop

# --- a million folders: a clear error, soon
fake_start manyfolders
for cmd in check ls; do
	ms "$cmd" "$FURL"
	run "a million folders: $cmd" 120
	assert_eq "$RC" 3 "a million folders: $cmd exits 3"
	assert_contains "$OUT" "the server lists more than 100000 folders" \
		"a million folders: $cmd says there are more than 100,000 folders"
	printf 'a million folders: %s gave up after %d ms, peak RSS %s KiB\n' "$cmd" "$TOOK" "$RSS"
done
fake_stop

# --- 90,000 folders: listed, in linear time
fake_start manyfolders 90000
ms check "$FURL"
run "90,000 folders: check" 120
assert_eq "$RC" 0 "90,000 folders: check works"
assert_contains "$OUT" "Folders:      90001 " "90,000 folders: check counts them all (and INBOX)"
printf '90,000 folders: check took %d ms, peak RSS %s KiB\n' "$TOOK" "$RSS"
[ "$TOOK" -lt 30000 ] && pass "90,000 folders: check took $TOOK ms" || fail "90,000 folders: check took $TOOK ms"
fake_stop
harness_done
