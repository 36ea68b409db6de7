#!/usr/bin/env bash
# t-misbehave.sh - a server that breaks the protocol (a scripted fake,
# tests/fake/faultimap.py, for the faults Dovecot cannot make: literals that
# lie about their size or are absurdly large, BYE mid-command, replies that
# never end (fast, or a byte at a time) or stall, wrong RFC822.SIZE, a drop right after login, NO
# [THROTTLED] with a backoff hint) never crashes or hangs `mailstage check`,
# `ls`, `copy` or the engine driver imapprobe, and never leaves wrong data:
# each fault gives a plain-words error and the documented exit status
# (tools/exitcode.h), the real Dovecot destination holds only byte-exact
# messages (SHA-256), and throttling is waited out until the copy is whole.
set -u
. "$(dirname "$0")/lib/harness.sh"
. "$(dirname "$0")/lib/fake.sh"
harness_init
harness_timeout 600
harness_need_mailstage
PROBE=${IMAPPROBE:?IMAPPROBE not set}

dovecot_start dst
DPW=$(pass_file dst bob)
DURL="imap://bob@127.0.0.1:$DST_PORT/"
echo pw >"$T/pw"
chmod 600 "$T/pw"
mkdir -p "$T/want"
"$HARNESS_PYTHON" "$FAKE" --dump "$T/want"
WANT=$(sha256sum "$T"/want/*.eml | cut -d' ' -f1 | sort)
export MAILSTAGE_TEST_BACKOFF_MS=100

# faults: fake_start MODE [COUNT] [OUTDIR] (tests/lib/fake.sh)

# run WHAT CMD...: CMD (a program, or a function below that puts its
# program under $TO itself) under a 90 s timeout; OUT (stdout+stderr), RC.
# Fails on a hang or on an end by signal.
TO="timeout -k 5 90"
run() {
	local what=$1
	shift
	if [ "$(type -t "$1")" = function ]; then
		OUT=$("$@" 2>&1)
	else
		OUT=$($TO "$@" 2>&1)
	fi
	RC=$?
	if [ "$RC" = 124 ] || [ "$RC" = 137 ]; then
		fail "$what: hung (killed by timeout)"
	elif [ "$RC" -gt 128 ]; then
		fail "$what: died by signal $((RC - 128))"
	fi
}

ms() { $TO "$MAILSTAGE" "$@" --tls=none --timeout 2 --connect-timeout 5 --password-file "$T/pw"; }
copy_to_dst() { # copy_to_dst FOLDER: fake INBOX -> Dovecot bob/FOLDER
	$TO "$MAILSTAGE" copy --tls=none --timeout 2 --connect-timeout 5 --progress none --no-state \
		--source-password-file "$T/pw" --dest-password-file "$DPW" \
		--report "$T/$1.csv" --map "INBOX=$1" "$FURL" "$DURL"
}
# exact FOLDER: every message in Dovecot's bob/FOLDER is one of the fake's, byte for byte
exact() {
	local got bad
	got=$(imap_dump dst bob "$1" 2>/dev/null | cut -f5 | sort)
	bad=$(comm -23 <(printf '%s\n' "$got" | grep .) <(printf '%s\n' "$WANT"))
	[ -z "$bad" ] && pass "$1: the destination holds no cut or padded message" ||
		fail "$1: wrong data at the destination: $bad"
	DST_COUNT=$(printf '%s\n' "$got" | grep -c .)
}

# --- faults in a body FETCH: probe and copy
check_fetch_fault() { # MODE WORDS
	local mode=$1 words=$2
	fake_start "$mode"
	run "probe $mode" env PROBE_TIMEOUT_MS=2000 "$PROBE" --tls none "$FURL" "$T/pw" dump INBOX
	assert_eq "$RC" 1 "$mode: imapprobe dump fails (exit 1)"
	assert_contains "$OUT" "$words" "$mode: imapprobe says '$words'"
	run "copy $mode" copy_to_dst "$mode"
	assert_eq "$RC" 1 "$mode: copy exits 1 (messages failed)"
	grep -q "$words" "$T/$mode.csv" || printf 'copy said:\n%s\n' "$OUT" >&2
	assert_contains "$(cat "$T/$mode.csv")" "$words" "$mode: the report says '$words'"
	exact "$mode"
	assert_eq "$DST_COUNT" 0 "$mode: nothing was copied"
	fake_stop
}
check_fetch_fault short "timeout"
check_fetch_fault long "FETCH item without a value"
check_fetch_fault cut "bad server response"
check_fetch_fault huge "message larger than the configured limit"
check_fetch_fault bye "the server closed the connection: shutting down for maintenance"
check_fetch_fault endless "item too long"
check_fetch_fault stall "timeout"
check_fetch_fault trickle "reply did not end within 2 s"

# --- faults in the folder list: check, ls and imapprobe
check_list_fault() { # MODE WORDS
	local mode=$1 words=$2
	fake_start "$mode@list"
	for cmd in check ls; do
		run "$cmd $mode@list" ms "$cmd" "$FURL"
		assert_eq "$RC" 3 "$mode@list: $cmd fails with exit 3"
		assert_contains "$OUT" "$words" "$mode@list: $cmd says '$words'"
		[[ "$OUT" != *INB[^O]* ]] && pass "$mode@list: $cmd shows no half folder name" ||
			fail "$mode@list: $cmd shows $OUT"
	done
	run "probe list $mode" env PROBE_TIMEOUT_MS=2000 "$PROBE" --tls none "$FURL" "$T/pw" list
	assert_ne "$RC" 0 "$mode@list: imapprobe list fails"
	assert_contains "$OUT" "$words" "$mode@list: imapprobe says '$words'"
	fake_stop
}
check_list_fault short "timeout"
check_list_fault long "bad server response"
check_list_fault huge "literal larger than the configured limit"
check_list_fault bye "the server closed the connection"
check_list_fault endless "item too long"
check_list_fault stall "timeout"
check_list_fault trickle "reply did not end within 2 s"

# --- a drop right after login
fake_start droplogin
for cmd in check ls; do
	run "$cmd droplogin" ms "$cmd" "$FURL"
	assert_eq "$RC" 3 "droplogin: $cmd exits 3 (cannot connect or log in)"
	assert_contains "$OUT" "the server closed the connection" "droplogin: $cmd says the server closed the connection"
done
run "probe droplogin" "$PROBE" --tls none "$FURL" "$T/pw" list
assert_eq "$RC" 3 "droplogin: imapprobe exits 3"
assert_contains "$OUT" "the server closed the connection" "droplogin: imapprobe says so"
run "copy droplogin" copy_to_dst droplogin
assert_eq "$RC" 3 "droplogin: copy exits 3"
assert_contains "$OUT" "closed the connection" "droplogin: copy says so"
fake_stop

# --- wrong RFC822.SIZE: the bytes read are what counts
fake_start wrongsize
run "copy wrongsize" copy_to_dst wrongsize
assert_eq "$RC" 0 "wrongsize: copy exits 0"
exact wrongsize
assert_eq "$DST_COUNT" 3 "wrongsize: all 3 messages copied whole"
run "probe wrongsize" "$PROBE" --tls none "$FURL" "$T/pw" dump INBOX
assert_eq "$RC" 0 "wrongsize: imapprobe dump works"
assert_contains "$OUT" "uid 1: RFC822.SIZE 2000 but 3000 bytes" "wrongsize: imapprobe notes the lie"
assert_eq "$(printf '%s\n' "$OUT" | cut -f5 | grep -E '^[0-9a-f]{64}$' | sort)" "$WANT" "wrongsize: imapprobe reads every body exactly"
fake_stop

# --- throttling a FETCH (fake source): waited out, then the copy is complete
# throttle_fetch MODE COUNT MIN-MS
throttle_fetch() {
	local mode=$1 count=$2 min=$3 start taken
	fake_start "$mode" "$count"
	start=$(date +%s%N)
	run "copy $mode" copy_to_dst "$mode"
	taken=$((($(date +%s%N) - start) / 1000000))
	assert_eq "$RC" 0 "$mode: copy exits 0 after $count refusals"
	exact "$mode"
	assert_eq "$DST_COUNT" 3 "$mode: all 3 messages copied"
	[ "$taken" -ge "$min" ] && pass "$mode: the server's backoff was honoured (${taken} ms >= $min)" ||
		fail "$mode: took only ${taken} ms"
	run "probe $mode" "$PROBE" --tls none "$FURL" "$T/pw" dump INBOX
	assert_eq "$RC" 0 "$mode: the throttling is over for the next client"
	fake_stop
}
# NO [THROTTLED] ... Suggested Backoff Time: 700 milliseconds, twice
throttle_fetch throttle-fetch 2 1400
# the same words without the response code (Office 365 style)
throttle_fetch exchange-fetch 2 1400

# --- throttling an APPEND (fake destination, fed by a well-behaved fake)
# throttle_append MODE COUNT MIN-MS
throttle_append() {
	local mode=$1 count=$2 min=$3 src_url src_pid start taken
	fake_start none
	src_url=$FURL
	src_pid=$FAKE_PID
	rm -rf "$T/stored"
	mkdir -p "$T/stored"
	fake_start "$mode" "$count" "$T/stored"
	start=$(date +%s%N)
	run "copy $mode" $TO "$MAILSTAGE" copy --tls=none --timeout 2 --progress none --no-state \
		--source-password-file "$T/pw" --dest-password-file "$T/pw" --report "$T/$mode.csv" \
		"$src_url" "$FURL"
	taken=$((($(date +%s%N) - start) / 1000000))
	assert_eq "$RC" 0 "$mode: copy exits 0 after $count refusals"
	assert_eq "$(sha256sum "$T"/stored/*.eml 2>/dev/null | cut -d' ' -f1 | sort)" "$WANT" \
		"$mode: the destination got all 3 messages, byte-exact, once each"
	[ "$taken" -ge "$min" ] && pass "$mode: the server's backoff was honoured (${taken} ms >= $min)" ||
		fail "$mode: took only ${taken} ms"
	fake_stop
	kill "$src_pid" 2>/dev/null
	wait "$src_pid" 2>/dev/null
}
# 6 refusals = two rounds of the 3-message batch, 700 ms hint each
throttle_append throttle-append 6 1400
# [THROTTLED] without a hint: one round, the default 30 s wait
throttle_append plain-append 3 30000
harness_done
