#!/usr/bin/env bash
# t-copy-resume.sh - interrupted copies resume with no loss and no duplicate:
# kill -9 of mailstage after a fetch, mid-APPEND (mid-literal), after the
# server stored a batch but before the state recorded it, and at timed
# moments; the destination server restarted mid-run; SIGTERM (exit 4);
# the source folder's UIDVALIDITY reset (recreated with the same
# messages): the re-run copies nothing.  The source never changes.
set -u
. "$(dirname "$0")/lib/harness.sh"
. "$(dirname "$0")/lib/copy_helpers.sh"
harness_init
harness_need_mailstage
harness_timeout 900

dovecot_start src
dovecot_start dst --sep .
SRC_PW=$(pass_file src alice)
DST_PW=$(pass_file dst bob)
SRC_URL=imap://alice@127.0.0.1:$SRC_PORT/
DST_URL=imap://bob@127.0.0.1:$DST_PORT/
seed_corpus src alice INBOX
seed_corpus src alice Work 'ruby-mail/*.eml'
want_inbox=$(folder_dump src alice INBOX)
want_work=$(folder_dump src alice Work)
before=$(snapshot src alice)

# check_clean LABEL: the destination holds exactly one copy of everything.
check_clean() {
	assert_eq "$(folder_dump dst bob INBOX)" "$want_inbox" "$1: INBOX equals a clean copy"
	assert_eq "$(folder_dump dst bob Work)" "$want_work" "$1: Work equals a clean copy"
}

# crash_case LABEL KILLSPEC [MULTI]: kill -9 at KILLSPEC, then re-run to the end.
crash_case() {
	local label=$1 spec=$2 rc
	shift 2
	imap_tool dst bob delete Work >/dev/null 2>&1
	imap_tool dst bob expunge-all INBOX >/dev/null
	rm -f "$T/st.sqlite"*
	MAILSTAGE_TEST_KILL=$spec ms_copy --state "$T/st.sqlite" --batch 25 --connections 1 "$@" \
		"$SRC_URL" "$DST_URL" >/dev/null 2>&1
	rc=$?
	assert_eq "$rc" 137 "$label: mailstage was killed (SIGKILL) as planned"
	ms_copy --state "$T/st.sqlite" --batch 25 "$@" --progress json "$SRC_URL" "$DST_URL" >"$T/out" 2>&1
	assert_eq "$?" 0 "$label: the re-run finishes (exit 0)"
	check_clean "$label"
}

crash_case "after the 3rd fetched batch" fetch:3
crash_case "mid-literal (MULTIAPPEND)" bytes:1500000
crash_case "mid-literal (pipelined APPEND)" bytes:2500000 --no-multiappend
crash_case "stored but not recorded (MULTIAPPEND)" store:4
assert_contains "$(tail -n1 "$T/out")" '"matched":25,' "the 25 messages of the unrecorded batch were found at the destination, not re-sent"
crash_case "stored but not recorded (pipelined)" store:2 --no-multiappend
crash_case "stored but not recorded, no UIDPLUS knowledge used twice" store:1

# timed kills: whatever the moment, the re-run gives a clean copy
for delay in 0.3 0.7 1.1; do
	imap_tool dst bob delete Work >/dev/null 2>&1
	imap_tool dst bob expunge-all INBOX >/dev/null
	rm -f "$T/st.sqlite"*
	MAILSTAGE_TEST_DELAY_MS=40 ms_copy_bg --state "$T/st.sqlite" --batch 20 "$SRC_URL" "$DST_URL" \
		>/dev/null 2>&1
	pid=$!
	sleep "$delay"
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	ms_copy --state "$T/st.sqlite" "$SRC_URL" "$DST_URL" >/dev/null 2>&1
	assert_eq "$?" 0 "kill -9 after ${delay}s: re-run exits 0"
	check_clean "kill -9 after ${delay}s"
done

# SIGTERM: stops cleanly with exit 4, the re-run completes
imap_tool dst bob delete Work >/dev/null 2>&1
imap_tool dst bob expunge-all INBOX >/dev/null
rm -f "$T/st.sqlite"*
MAILSTAGE_TEST_DELAY_MS=100 ms_copy_bg --state "$T/st.sqlite" --batch 20 "$SRC_URL" "$DST_URL" \
	>/dev/null 2>"$T/err-term"
pid=$!
sleep 0.8
kill -TERM "$pid"
wait "$pid"
assert_eq "$?" 4 "SIGTERM: exit status 4 (interrupted)"
assert_contains "$(cat "$T/err-term")" "run the same command again" "SIGTERM: says how to resume"
ms_copy --state "$T/st.sqlite" "$SRC_URL" "$DST_URL" >/dev/null 2>&1
assert_eq "$?" 0 "after SIGTERM: re-run exits 0"
check_clean "after SIGTERM"

# a stop that finds the reader holding a fetched batch while the queue is
# full (uploads slowed down; SIGTERM raised right after the 3rd fetch): the
# batch is dropped, not written past the queue (this crashed batch stops)
imap_tool dst bob delete Work >/dev/null 2>&1
imap_tool dst bob expunge-all INBOX >/dev/null
rm -f "$T/st.sqlite"*
MAILSTAGE_TEST_DELAY_MS=1500 MAILSTAGE_TEST_KILL=fetch:3:TERM ms_copy_bg --state "$T/st.sqlite" \
	--batch 5 --connections 1 "$SRC_URL" "$DST_URL" >/dev/null 2>"$T/err-qfull"
wait $!
assert_eq "$?" 4 "stopped with the fetch queue full: exit status 4, no crash"
ms_copy --state "$T/st.sqlite" "$SRC_URL" "$DST_URL" >/dev/null 2>&1
assert_eq "$?" 0 "after the stop with a full queue: re-run exits 0"
check_clean "after the stop with a full queue"

# destination server restarted mid-run: the run reconnects and finishes
imap_tool dst bob delete Work >/dev/null 2>&1
imap_tool dst bob expunge-all INBOX >/dev/null
rm -f "$T/st.sqlite"*
MAILSTAGE_TEST_DELAY_MS=60 ms_copy_bg --state "$T/st.sqlite" --batch 20 --connections 1 \
	--progress json "$SRC_URL" "$DST_URL" >"$T/out-restart" 2>&1
pid=$!
# kill only once a batch is stored, so the restart really falls mid-run
for _ in $(seq 600); do
	grep -q '"copied":[1-9]' "$T/out-restart" && break
	sleep 0.1
done
dovecot_kill dst
sleep 0.5
dovecot_restart dst
wait "$pid"
assert_eq "$?" 0 "destination killed and restarted mid-run: the same run finishes (exit 0)"
check_clean "destination restarted"

assert_eq "$(snapshot src alice)" "$before" "the source is unchanged by all these runs"

# UIDVALIDITY reset: Work recreated with the same messages -> nothing copied
old_v=$(imap_tool src alice status Work)
imap_tool src alice delete Work >/dev/null
sleep 1.1
seed_corpus src alice Work 'ruby-mail/*.eml'
new_v=$(imap_tool src alice status Work)
assert_ne "$new_v" "$old_v" "the source's Work has a new UIDVALIDITY ($new_v)"
ms_copy --state "$T/st.sqlite" --progress json "$SRC_URL" "$DST_URL" >"$T/out-uv"
assert_eq "$?" 0 "after the UIDVALIDITY reset: exit 0"
assert_contains "$(tail -n1 "$T/out-uv")" '"copied":0,' "after the UIDVALIDITY reset: nothing copied"
check_clean "after the UIDVALIDITY reset"
ms_copy --state "$T/st.sqlite" --progress json "$SRC_URL" "$DST_URL" >"$T/out-uv2"
assert_contains "$(tail -n1 "$T/out-uv2")" '"matched":0,' "the next run knows the new UIDs (nothing to match)"

# without any state: --no-state matches against the destination
ms_copy --no-state --progress json "$SRC_URL" "$DST_URL" >"$T/out-ns"
assert_contains "$(tail -n1 "$T/out-ns")" '"copied":0,' "--no-state over a full destination copies nothing"
check_clean "--no-state"

harness_done
