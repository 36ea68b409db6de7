#!/usr/bin/env bash
# t-mount-keepalive.sh - idle connections: a session the server ended while
# it sat idle is re-made on the next use, and -o keepalive=S sends NOOP on
# idle connections.
# (a) keepalive=0: kill -9 the server's imap processes of the mount's idle
#     connections (by PID, from ps under the test's Dovecot), then read
#     every message: all succeed byte-exact, no EIO; no NOOP was sent.
# (b) keepalive=2: NOOPs go out on idle connections; after a kill the
#     keepalive finds the dead session by itself, and reads work.
set -u
. "$(dirname "$0")/lib/harness.sh"
. "$(dirname "$0")/lib/mount.sh"
mount_test_init 300

dovecot_start src
seed_corpus src alice INBOX 'cpython-email/*.eml'
want=$(imap_dump src alice INBOX | awk -F'\t' '{print $1 "\t" $5}')
M=$T/mnt
LOG=$T/mount-mnt.log
read_all() { mount_listing "$M/INBOX" | awk -F'\t' '{print $1 "\t" $6}'; }
noops() { grep -c 'C: ms[0-9]* NOOP' "$LOG"; }
# kill_idle: SIGKILL alice's imap processes; waits until they are gone
kill_idle() {
	local pids i
	pids=$(dovecot_imap_pids src alice)
	[ -n "$pids" ] || fail "no imap process for alice"
	kill -KILL $pids
	for i in $(seq 50); do
		[ -z "$(dovecot_imap_pids src alice)" ] && break
		sleep 0.1
	done
	echo "$pids" | wc -w
}

mount_start src alice "$M" "keepalive=0,connections=3,timeout=5,imap_debug"
files=($(ls "$M/INBOX/cur"))
cat "$M/INBOX/cur/${files[0]}" "$M/INBOX/cur/${files[1]}" >/dev/null || fail "first reads"
sleep 1
n=$(kill_idle)
[ "$n" -ge 2 ] && pass "killed the $n server processes of the idle connections" ||
	fail "only $n imap processes to kill"
err=$T/read.err
got=$(read_all 2>"$err")
assert_eq "$(cat "$err")" "" "keepalive=0: no read error after the kill"
assert_eq "$got" "$want" "every message byte-exact after the kill"
assert_contains "$(cat "$LOG")" "connecting again" "the dead session was re-made on its next use"
sleep 4
assert_eq "$(noops)" 0 "keepalive=0 sends no NOOP"
mount_stop "$M"
assert_eq "$MOUNT_RC" 0 "clean unmount"

mount_start src alice "$M" "keepalive=2,connections=3,timeout=5,imap_debug"
cat "$M/INBOX/cur/${files[0]}" >/dev/null || fail "first read"
for _ in $(seq 60); do
	[ "$(noops)" -ge 2 ] && break
	sleep 0.25
done
[ "$(noops)" -ge 2 ] && pass "keepalive=2: $(noops) NOOPs on idle connections" ||
	fail "keepalive=2: $(noops) NOOPs in 15 s"
n=$(kill_idle)
for _ in $(seq 80); do # > keepalive: the next NOOP round meets the dead sessions
	grep -q dropped "$LOG" && break
	sleep 0.25
done
assert_contains "$(cat "$LOG")" "dropped" "the keepalive found a dead session by itself"
got=$(read_all 2>"$err")
assert_eq "$(cat "$err")" "" "keepalive=2: no read error after killing $n server processes"
assert_eq "$got" "$want" "every message byte-exact"
mount_stop "$M"
assert_eq "$MOUNT_RC" 0 "clean unmount"
harness_done
