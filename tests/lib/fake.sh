# fake.sh - start and stop the scripted fake server tests/fake/faultimap.py
# (faults a real server cannot make) for one test.  Source after harness.sh.
#
#   fake_start MODE [ARGS...]  start it in MODE on a free port; sets FAKE_PID
#                              and FURL (imap://u@127.0.0.1:PORT/); its
#                              stderr goes to $T/fake.log
#   fake_stop                  stop it and wait for it

FAKE=${FAKE:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/fake/faultimap.py}

fake_start() {
	rm -f "$T/fake.port"
	"$HARNESS_PYTHON" "$FAKE" "$T/fake.port" "$@" 2>>"$T/fake.log" &
	FAKE_PID=$!
	harness_register_pid "$FAKE_PID"
	for _ in $(seq 100); do [ -s "$T/fake.port" ] && break; sleep 0.1; done
	[ -s "$T/fake.port" ] || { cat "$T/fake.log" >&2; fail "the fake server ($1) did not start"; }
	FURL="imap://u@127.0.0.1:$(cat "$T/fake.port")/"
}

fake_stop() {
	kill "$FAKE_PID" 2>/dev/null
	wait "$FAKE_PID" 2>/dev/null
}
