#!/usr/bin/env bash
# t-timeout.sh - a stopped server (SIGSTOP on its imap process) gives a
# timeout error within the deadline, never a hang; the same for `mailstage
# ls` against a server that accepts the connection but never answers.
set -u
. "$(dirname "$0")/lib/harness.sh"
harness_init
harness_timeout 120
harness_need_mailstage
PROBE=${IMAPPROBE:?IMAPPROBE not set}

dovecot_start src
PW=$(pass_file src alice)
URL="imap://alice@127.0.0.1:$SRC_PORT/"

# log in, sleep 2 s, then NOOP with a 3 s deadline; stop the server meanwhile
start=$(date +%s.%N)
PROBE_TIMEOUT_MS=3000 "$PROBE" --tls none "$URL" "$PW" idle 2 2>"$T/probe.err" &
probe_pid=$!
harness_register_pid "$probe_pid"
for _ in $(seq 50); do
	pids=$(dovecot_imap_pids src alice)
	[ -n "$pids" ] && break
	sleep 0.1
done
[ -n "$pids" ] || fail "no imap process for alice"
kill -STOP $pids
wait "$probe_pid"
rc=$?
end=$(date +%s.%N)
kill -CONT $pids
elapsed=$(awk -v a="$start" -v b="$end" 'BEGIN {printf "%.1f", b - a}')
assert_eq "$rc" 1 "the NOOP to a stopped server fails"
assert_contains "$(cat "$T/probe.err")" "timeout" "with a timeout error"
awk -v e="$elapsed" 'BEGIN {exit !(e >= 4.5 && e < 9)}' && pass "within the deadline (${elapsed}s for 2 s idle + 3 s deadline)" || fail "took ${elapsed}s"

# a port that accepts and never speaks: the connect deadline applies
"$HARNESS_PYTHON" -c 'import socket,sys,time
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1",0)); s.listen(5)
print(s.getsockname()[1], flush=True)
c=[]
while True:
    a,_=s.accept(); c.append(a)' >"$T/silent.port" &
harness_register_pid $!
for _ in $(seq 50); do [ -s "$T/silent.port" ] && break; sleep 0.1; done
sport=$(cat "$T/silent.port")
start=$(date +%s)
out=$("$MAILSTAGE" ls --tls=none --connect-timeout 2 --password-file "$PW" "imap://alice@127.0.0.1:$sport/" 2>&1)
rc=$?
end=$(date +%s)
assert_eq "$rc" 3 "a silent server: ls exits 3"
assert_contains "$out" "no answer" "and says the server did not answer"
[ $((end - start)) -le 5 ] && pass "within the 2 s connect deadline ($((end - start)) s)" || fail "took $((end - start)) s"
harness_done
