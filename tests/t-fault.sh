#!/usr/bin/env bash
# t-fault.sh - fault-injection campaign: a copy of a corpus-seeded source
# (four folders, generated 1, 2 and 4 MiB messages so literals are long) to a
# Dovecot destination, interrupted at FAULT_POINTS points (default 33) of
# these kinds, in turn, with random parameters:
#   kill9       kill -9 of mailstage at a random moment
#   hook-*      kill -9 at an exact point (engine test hooks: N bytes of
#               message data sent, N batches fetched, N uploads stored but
#               not recorded)
#   dst-restart the destination Dovecot killed (-9) and restarted mid-run
#   cut-c2s / cut-s2c     the connection to the destination (mid-APPEND) /
#               from the source (mid-FETCH literal) cut at a random byte by
#               tests/tools/relay; the run may recover by itself
#   tls-cut-c2s / tls-cut-s2c  the same with the copy over TLS (imaps,
#               verified with the harness's CA) through the relay to the
#               servers' IMAPS ports: the cut lands mid-record, mostly
#               mid-literal
#   stall-c2s / stall-s2c  the same connection stalled instead: the run
#               must not hang (its --timeout fires), it may recover
#   src-stop    the source Dovecot SIGSTOPped: mailstage must end with a
#               timeout error within a deadline, not hang; then SIGCONT
# A run whose connection was cut or stalled recovers (exit 0) or ends with
# a documented error (1, 3, 4), never a crash or a sanitizer report.
# Points come in pairs on one destination when the first point's run was
# cut short: the second point's fault hits the run that resumes it, drawn
# from what is left to copy (a pair with a tls-* kind runs over TLS
# throughout).  After each pair or single point: re-run until exit 0 (at most 4 times),
# then the destination must equal a clean copy (per folder the same
# multiset of flags + INTERNALDATE + size + SHA-256: none missing, none
# twice) and the source must be unchanged (every folder's UIDVALIDITY,
# UIDNEXT and imap_dump lines, UIDs included: checked every fourth point,
# after each pair that touched the source, and at the end).  First a fixed
# regression point: a batch stored but not recorded (kill -9), then a run
# that cannot read the source, then a run that must not upload it twice.
# Then `mailstage batch run` (three users, seeded in the background while
# the points run) interrupted by kill -9 of the batch process (twice) and
# of the destination's imap process serving one mailbox (a worker's
# session; batch workers are threads), re-run: every mailbox complete, no
# message twice.
#
# Knobs: FAULT_POINTS=N or a first argument N (the 'long' suite: 300);
# FAULT_SEED=S replays a campaign's plan (printed first; the moments of
# timed faults still vary); FAULT_KINDS="src-stop kill9" only these kinds;
# FAULT_BATCH=0 leaves the batch part out.
set -u
. "$(dirname "$0")/lib/harness.sh"
. "$(dirname "$0")/lib/copy_helpers.sh"
. "$(dirname "$0")/lib/batch.sh"
harness_init
harness_need_mailstage
POINTS=${1:-${FAULT_POINTS:-33}}
SEED=${FAULT_SEED:-$(( $(date +%s) % 100000 ))}
harness_timeout $((240 + POINTS * 18))
RELAY=${RELAY:-${MESON_BUILD_ROOT:-$REPO_TOP/build}/tests/tools/relay}
[ -x "$RELAY" ] || fail "relay not built: $RELAY"
RANDOM=$SEED
echo "# t-fault: seed $SEED, $POINTS points (replay: FAULT_SEED=$SEED FAULT_POINTS=$POINTS)"

batch_servers
SRC_PW=$(pass_file src alice)
DST_PW=$(pass_file dst bob)
FOLDERS="INBOX Work Lists/Dev Big"
seed_corpus src alice INBOX 'cpython-email/*.eml' >/dev/null
seed_corpus src alice Work 'ruby-mail/*.eml' >/dev/null
seed_corpus src alice Lists/Dev 'spamassassin/*.eml' >/dev/null
seed_corpus src alice Big 'stalwart-mail-parser/*.eml' >/dev/null
for f in INBOX:1 Work:2 Big:4; do
	big_message "$T/big-${f%:*}.eml" "${f#*:}" "fault-${f%:*}"
	seed_message src alice "${f%:*}" "$T/big-${f%:*}.eml" '\Seen $Forwarded' '1700000000' \
		>/dev/null || fail "seeding a big message into ${f%:*}"
done
# fdump NAME USER content|full [FOLDER...]: tests/lib/fault_dump.py, one
# login (each costs seconds on a loaded machine).
fdump() {
	local name=$1 user=$2
	shift 2
	"$HARNESS_PYTHON" "$HARNESS_LIB/fault_dump.py" --port "$(_harness_var "$name" PORT)" \
		--user "$user" --password-file "$(pass_file "$name" "$user")" "$@"
}
# shellcheck disable=SC2086
WANT=$(fdump src alice content $FOLDERS) || fail "reading the source"
SRC_BEFORE=$(fdump src alice full) || fail "reading the source"
nmsg=$(grep -c '^[0-9]' <<<"$SRC_BEFORE")
pass "source: $nmsg messages in 4 folders, 1, 2 and 4 MiB ones among them"

# The batch part's users are seeded in the background while the points run
# (other users than alice: what the points copy and check is not touched);
# batch_seeded waits for that, before a point stops the source and before
# the batch part.
users="carol dave erin"
SEEDER=
if [ "${FAULT_BATCH:-1}" != 0 ]; then
	(
		for u in $users; do
			seed_corpus src "$u" INBOX 'mime4j/*.eml' >/dev/null
			seed_corpus src "$u" Archive 'stalwart-mail-parser/*.eml' >/dev/null
			big_message "$T/big-$u.eml" 2 "batch-$u"
			seed_message src "$u" INBOX "$T/big-$u.eml" '\Flagged' >/dev/null ||
				fail "seeding a big message for $u"
		done
	) &
	SEEDER=$!
fi
batch_seeded() {
	[ -n "$SEEDER" ] || return 0
	wait "$SEEDER" || fail "seeding the batch users (carol dave erin) failed"
	SEEDER=
}

# The copy always goes through a relay on a fixed port per side (the state
# file is bound to the URLs): a faithful one, or for a point a faulty one.
# It relays to the server's IMAP port, or with TLS=1 to its IMAPS port.
SRC_RP=$(harness_free_port)
DST_RP=$(harness_free_port)
TLS=0
declare -A RELAY_PID RELAY_AS

# relay_start SIDE ARGS...: (re)start SIDE's relay (src or dst) with ARGS;
# without ARGS a faithful relay, kept if one for this TLS mode runs.
relay_start() {
	local side=$1 rp tp f=$T/relay-$1.port as="$TLS $*"
	shift
	if [ $# = 0 ] && [ "${RELAY_AS[$side]:-}" = "$as" ] &&
		kill -0 "${RELAY_PID[$side]:-x}" 2>/dev/null; then
		return 0
	fi
	relay_stop "$side"
	if [ "$side" = src ]; then rp=$SRC_RP tp=$SRC_PORT; else rp=$DST_RP tp=$DST_PORT; fi
	[ "$TLS" = 1 ] && tp=$(_harness_var "$side" TLSPORT)
	rm -f "$f"
	"$RELAY" --listen "$rp" --to "$tp" --port-file "$f" "$@" 2>>"$T/relay.log" &
	RELAY_PID[$side]=$!
	RELAY_AS[$side]=$as
	harness_register_pid "$!"
	for _ in $(seq 1 100); do
		[ -s "$f" ] && return 0
		sleep 0.05
	done
	fail "relay $side did not start"
}

relay_stop() {
	local pid=${RELAY_PID[$1]:-}
	[ -n "$pid" ] || return 0
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	RELAY_PID[$1]=
}

# use_tls 0|1: the copy's arguments for plain IMAP, or for IMAPS (both
# sides) verified against the harness's CA.
use_tls() {
	TLS=$1
	MS_ARGS=(copy --progress none --timeout 3 --connect-timeout 3
		--batch 20 --state "$T/st.sqlite"
		--source-password-file "$SRC_PW" --dest-password-file "$DST_PW")
	if [ "$TLS" = 1 ]; then
		MS_ARGS+=(--tls ssl --ca-file "$CA_FILE")
		MS_URLS=("imaps://alice@127.0.0.1:$SRC_RP/" "imaps://bob@127.0.0.1:$DST_RP/")
	else
		MS_ARGS+=(--tls none)
		MS_URLS=("imap://alice@127.0.0.1:$SRC_RP/" "imap://bob@127.0.0.1:$DST_RP/")
	fi
}
use_tls 0
MS_EXTRA=() # more options for one run

# ms_bg [ENV=V...]: start mailstage copy in the background; $! is mailstage.
ms_bg() {
	(exec env "$@" "$MAILSTAGE" "${MS_ARGS[@]}" "${MS_EXTRA[@]}" "${MS_URLS[@]}") \
		>>"$T/ms.log" 2>"$T/ms.err" &
}

# ms_wait PID SECS: wait for PID at most SECS seconds (else kill -9 and
# fail: a hang); RC gets its exit status, ELAPSED its run time in ms.
ms_wait() {
	local pid=$1 secs=$2 t0 i
	t0=$(date +%s%N)
	for ((i = 0; i < secs * 20; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	if kill -0 "$pid" 2>/dev/null; then
		command -v gdb >/dev/null &&
			timeout 60 gdb -batch -p "$pid" -ex 'thread apply all bt' 2>&1 |
			grep '^#\|^Thread' >&2
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		cat "$T/ms.err" >&2
		fail "point $P ($LABEL): mailstage still running after ${secs}s: a hang"
	fi
	wait "$pid"
	RC=$?
	ELAPSED=$(( ($(date +%s%N) - t0) / 1000000 ))
}

# ms_run SECS [ENV=V...]: run in the foreground with a hang deadline.
ms_run() {
	local secs=$1
	shift
	ms_bg "$@"
	ms_wait "$!" "$secs"
}

# rnd N: R = a seeded random number in [0, N).
rnd() { R=$(( (RANDOM * 32768 + RANDOM) % $1 )); }

# sleep_ms MS
sleep_ms() { sleep "$(printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)))"; }

reset_dst() {
	rm -rf "$DST_MAILDIR/bob" "$T"/st.sqlite*
}

# check_clean: re-run until exit 0, then compare everything.
check_clean() {
	local try f got
	relay_start src
	relay_start dst
	for try in 1 2 3 4; do
		ms_run 120
		[ "$RC" = 0 ] && break
		sleep 1
	done
	[ "$RC" = 0 ] || { cat "$T/ms.err" >&2; fail "point $P ($LABEL): re-runs still exit $RC"; }
	# shellcheck disable=SC2086
	got=$(fdump dst bob content $FOLDERS)
	if [ "$got" != "$WANT" ]; then
		diff <(printf '%s\n' "$WANT") <(printf '%s\n' "$got") | head -n 20 >&2
		fail "point $P ($LABEL): the destination differs from a clean copy (< missing, > extra)"
	fi
	pass "point $P ($LABEL): clean copy after $try re-run(s)"
	# the source: every fourth point and after each that touched it
	if [ $((P % 4)) = 0 ] || [ "$SRC_TOUCHED" = 1 ]; then
		got=$(fdump src alice full)
		if [ "$got" != "$SRC_BEFORE" ]; then
			diff <(printf '%s\n' "$SRC_BEFORE") <(printf '%s\n' "$got") | head -n 20 >&2
			fail "point $P ($LABEL): the source changed"
		fi
		pass "point $P: the source is unchanged"
	fi
}

# ---- calibration: one clean run gives the run time and the byte counts
relay_start src
relay_start dst
reset_dst
P=0 LABEL=calibration KIND=none SRC_TOUCHED=1
ms_run 300
assert_eq "$RC" 0 "a clean copy through the relays exits 0"
CAL_MS=$ELAPSED
UP_BYTES=$(du -sb "$SRC_MAILDIR/alice" | cut -f1)
NBATCH=$(( nmsg / 20 + 4 ))
echo "# clean run: ${CAL_MS} ms, ~$UP_BYTES bytes of mail, ~$NBATCH batches"
check_clean

# ---- regression: a crash leaves a batch stored but not recorded (pending);
# the next run fails to read the source (records 'source-failed'); the one
# after must still find the batch at the destination, not upload it again.
reset_dst
P=0 LABEL="pending, then a source failure" KIND=regression
ms_run 120 MAILSTAGE_TEST_KILL=store:1
assert_eq "$RC" 137 "regression: killed after the first batch was stored"
ms_run 60 MAILSTAGE_TEST_SOURCE_FAIL=1
assert_ne "$RC" 0 "regression: the run that cannot read the source fails (exit $RC)"
[ "$ELAPSED" -le 30000 ] || fail "regression: that run took ${ELAPSED} ms: it must give up at once"
pass "regression: it gave up after the first failed batch (${ELAPSED} ms)"
check_clean

# in turn a kind that interrupts the run and one that may let it recover:
# a pair's second point resumes the first's copy only if that was cut short
KINDS=(kill9 cut-c2s hook-bytes dst-restart hook-fetch cut-s2c hook-store stall-c2s
	kill9 tls-cut-s2c hook-bytes stall-s2c src-stop tls-cut-c2s)
[ -n "${FAULT_KINDS:-}" ] && read -r -a KINDS <<<"$FAULT_KINDS"

# point_kill9: kill -9 at a random moment of the run.
point_kill9() {
	rnd "$RUN_MS"
	LABEL="kill -9 after ${R} ms"
	ms_bg
	local pid=$!
	sleep_ms "$R"
	kill -KILL "$pid" 2>/dev/null
	ms_wait "$pid" 30
}

point_hook() {
	local what=$1 max=$2
	rnd "$max"
	LABEL="kill -9 at $what:$((R + 1))"
	ms_run 120 "MAILSTAGE_TEST_KILL=$what:$((R + 1))"
}

point_dst_restart() {
	local down
	rnd "$RUN_MS"
	LABEL="destination killed after ${R} ms"
	ms_bg
	local pid=$!
	sleep_ms "$R"
	dovecot_kill dst
	rnd 1500
	down=$R
	LABEL="$LABEL, down ${down} ms"
	sleep_ms "$down"
	dovecot_restart dst
	ms_wait "$pid" 120
}

point_relay() {
	local dir=$1 stall=$2 side max
	if [ "$dir" = c2s ]; then side=dst; else side=src; fi
	max=$RUN_BYTES
	rnd "$max"
	LABEL="$side $([ "$TLS" = 1 ] && echo "TLS ")connection $([ -n "$stall" ] && echo stalled || echo cut) after $((R + 1)) bytes $dir"
	relay_start "$side" "--$dir" "$((R + 1))" $stall
	ms_run 150
	# recovered (0), or ended with a documented error: 1 some failed, 3
	# cannot connect or log in, 4 interrupted; never a crash
	case $RC in
	0 | 1 | 3 | 4) ;;
	*)
		cat "$T/ms.err" >&2
		fail "point $P ($LABEL): exit $RC is not a clean error" ;;
	esac
	if grep -q 'Sanitizer\|runtime error:' "$T/ms.err"; then
		cat "$T/ms.err" >&2
		fail "point $P ($LABEL): a sanitizer report"
	fi
}

# The source stopped: with --timeout 1 and retries 100 ms apart, a command
# in flight fails in 1 s, its 5 retries (each up to 1 s to connect, 1 s
# for the command, 0.1-1.6 s apart) in about 15 s, and then the run must
# give up (a source that stopped answering ends the run: run it again
# later), not spend that again on every batch left.  Deadline: 45 s.
point_src_stop() {
	local pids
	rnd "$RUN_MS"
	LABEL="source stopped after ${R} ms"
	MS_EXTRA=(--timeout 1 --connect-timeout 1)
	ms_bg MAILSTAGE_TEST_BACKOFF_MS=100
	local pid=$!
	sleep_ms "$R"
	pids=$(dovecot_pids src)
	kill -STOP $pids
	ms_wait "$pid" 120
	kill -CONT $pids
	MS_EXTRA=()
	if [ "$RC" = 0 ]; then
		pass "point $P ($LABEL): the run needed nothing more from the source"
		return
	fi
	[ "$ELAPSED" -le 45000 ] ||
		fail "point $P ($LABEL): mailstage ran ${ELAPSED} ms with the source stopped (deadline 45 s)"
	pass "point $P: mailstage ended by itself (exit $RC) in ${ELAPSED} ms"
	grep -qi 'timeout\|no answer\|timed out' "$T/ms.err" ||
		{ cat "$T/ms.err" >&2; fail "point $P ($LABEL): no timeout error reported"; }
	pass "point $P: a timeout error was reported"
}

kind_of() { echo "${KINDS[$(( ($1 - 1) % ${#KINDS[@]} ))]}"; }

# Points come in pairs on one destination when they can: a point whose run
# was cut short leaves its copy to the next point's run (the resume), whose
# fault lands in what is left (its moment and byte drawn from the bytes
# still to copy); then the re-runs and the checks.  A point whose run
# completed is checked alone.  A pair is over TLS when one of its kinds is
# tls-* (the state is bound to the URLs).
OPEN=
for ((P = 1; P <= POINTS; P++)); do
	KIND=$(kind_of "$P")
	if [ -z "$OPEN" ]; then
		NEXT=
		[ "$P" -lt "$POINTS" ] && NEXT=$(kind_of $((P + 1)))
		if [[ "$KIND $NEXT" == *tls-* ]]; then use_tls 1; else use_tls 0; fi
		reset_dst
		SRC_TOUCHED=0 FIRST=
		RUN_MS=$CAL_MS RUN_BYTES=$UP_BYTES RUN_BATCH=$NBATCH
	else
		RUN_BYTES=$(du -sb "$DST_MAILDIR/bob" 2>/dev/null | cut -f1)
		RUN_BYTES=$((UP_BYTES - ${RUN_BYTES:-0}))
		[ "$RUN_BYTES" -ge $((UP_BYTES / 20)) ] || RUN_BYTES=$((UP_BYTES / 20))
		RUN_MS=$(( CAL_MS * (RUN_BYTES / 1000) / (UP_BYTES / 1000) + 1 ))
		RUN_BATCH=$(( NBATCH * (RUN_BYTES / 1000) / (UP_BYTES / 1000) + 1 ))
	fi
	relay_start src
	relay_start dst
	case $KIND in
	kill9) point_kill9 ;;
	hook-bytes) point_hook bytes "$RUN_BYTES" ;;
	hook-fetch) point_hook fetch "$RUN_BATCH" ;;
	hook-store) point_hook store "$RUN_BATCH" ;;
	dst-restart) point_dst_restart ;;
	cut-c2s) point_relay c2s "" ;;
	cut-s2c) point_relay s2c "" ;;
	tls-cut-c2s) point_relay c2s "" ;;
	tls-cut-s2c) point_relay s2c "" ;;
	stall-c2s) point_relay c2s --stall ;;
	stall-s2c) point_relay s2c --stall ;;
	src-stop)
		batch_seeded
		point_src_stop ;;
	esac
	echo "# point $P: $KIND$([ "$TLS" = 1 ] && echo " over TLS")$([ -n "$OPEN" ] &&
		echo " (resuming point $((P - 1)))"): $LABEL: exit $RC in ${ELAPSED} ms"
	[[ "$KIND" == *s2c ]] || [ "$KIND" = src-stop ] && SRC_TOUCHED=1
	if [ -z "$OPEN" ] && [ "$RC" != 0 ] && [ "$P" -lt "$POINTS" ]; then
		OPEN=1 FIRST=$LABEL
		continue
	fi
	[ -n "$OPEN" ] && LABEL="$FIRST, then $LABEL"
	OPEN=
	check_clean
done
use_tls 0
relay_stop src
relay_stop dst
assert_eq "$(fdump src alice full)" "$SRC_BEFORE" "after $POINTS points the source is unchanged"

[ "${FAULT_BATCH:-1}" = 0 ] && harness_done

# ---- batch run interrupted
batch_seeded
declare -A SRC_OF
for u in $users; do
	SRC_OF[$u]=$(fdump src "$u" content INBOX Archive) || fail "reading $u's source"
done
{
	echo 'EmailAddress,UserName,Password'
	for u in $users; do echo "$u@$BATCH_DOMAIN,$u,$(batch_pw "$u")"; done
} >"$T/users.csv"
chmod 600 "$T/users.csv"

# batch_point LABEL WHAT: start a batch, wait until it copies, do WHAT, re-run.
batch_point() {
	local label=$1 what=$2 pid i rc u
	batch_run "$T/users.csv" --dir "$T/b" --concurrency 3 &
	pid=$!
	for i in $(seq 1 200); do
		grep -q '"copied":[1-9]' "$T/b/status.json" 2>/dev/null && break
		sleep 0.05
	done
	rnd 800
	sleep_ms "$R"
	case $what in
	batch) kill -KILL "$(pgrep -P "$pid" -x mailstage || echo "$pid")" 2>/dev/null ;;
	worker)
		for u in $users; do
			i=$(dovecot_imap_pids dst "$u")
			[ -n "$i" ] && { kill -KILL $i; break; }
		done ;;
	esac
	wait "$pid"
	for i in 1 2 3 4; do
		rc=0
		batch_run "$T/users.csv" --dir "$T/b" --concurrency 3 || rc=$?
		[ "$rc" = 0 ] && break
		sleep 1
	done
	[ "$rc" = 0 ] || { tail -n 20 "$T/run.log" >&2; fail "batch ($label): re-runs exit $rc"; }
	for u in $users; do
		[ "$(fdump dst "$u@$BATCH_DOMAIN*admin" content INBOX Archive)" == "${SRC_OF[$u]}" ] ||
			fail "batch ($label): $u differs from its source"
	done
	pass "batch ($label, after ${R} ms): every mailbox complete, no duplicate"
}

# three points, more in a long campaign
for ((i = 0; i < 3 + POINTS / 50; i++)); do
	rm -rf "$T/b"
	for u in $users; do rm -rf "$DST_MAILDIR/$u"; done
	if [ $((i % 2)) = 0 ]; then
		batch_point "kill -9 of the batch process" batch
	else
		batch_point "kill -9 of a worker's destination session" worker
	fi
done

harness_done
