#!/usr/bin/env bash
# t-mount-fault.sh - a stalled or dead server never hangs the mount.
# SIGSTOP the server's imap processes: cat of an uncached message fails with
# EIO within the deadline (-o timeout=3), while ls -l and stat of a cached
# folder still answer at once; SIGCONT: reads work again without a remount.
# Kill the whole server: reads fail fast with EIO; restart it: the mount
# recovers by itself.
# Usage: t-mount-fault.sh [CONNECTIONS]: 2 (the default) has the kernel send
# an OPEN per file, 3 or more none (errors come at the first read).
set -u
. "$(dirname "$0")/lib/harness.sh"
. "$(dirname "$0")/lib/mount.sh"
mount_test_init 300

dovecot_start src
seed_corpus src alice INBOX 'cpython-email/*.eml'
dump=$(imap_dump src alice INBOX)
M=$T/mnt
mount_start src alice "$M" "timeout=3,connections=${1:-2},dir_timeout=60"
ls -l "$M/INBOX/cur" >/dev/null || fail "ls"
files=($(ls "$M/INBOX/cur"))
cat "$M/INBOX/cur/${files[0]}" >/dev/null || fail "first read"

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.1f", b - a}'; }
sha_of_uid() { printf '%s\n' "$dump" | awk -F'\t' -v u="$1" '$1 == u {print $5}'; }

pids=$(dovecot_imap_pids src alice)
[ -n "$pids" ] || fail "no imap process for alice"
kill -STOP $pids
t0=$(now)
out=$(cat "$M/INBOX/cur/${files[1]}" 2>&1 >/dev/null)
rc=$?
t1=$(now)
assert_ne "$rc" 0 "cat of an uncached message fails while the server is stopped"
assert_contains "$out" "Input/output error" "with EIO"
el=$(secs "$t0" "$t1")
awk -v e="$el" 'BEGIN {exit !(e < 6)}' && pass "within the 3 s deadline (+ margin): ${el}s" || fail "took ${el}s"
t0=$(now)
n=$(ls -l "$M/INBOX/cur" | grep -c mailstage)
stat "$M/INBOX/cur/${files[2]}" >/dev/null || fail "stat"
el=$(secs "$t0" "$(now)")
assert_eq "$n" "${#files[@]}" "ls -l of the cached folder still answers while the server is stopped"
awk -v e="$el" 'BEGIN {exit !(e < 1)}' && pass "at once (${el}s)" || fail "ls took ${el}s"
kill -CONT $pids

uid=$(getfattr --absolute-names --only-values -n user.imap.uid "$M/INBOX/cur/${files[3]}")
assert_eq "$(sha256sum <"$M/INBOX/cur/${files[3]}" | cut -d' ' -f1)" "$(sha_of_uid "$uid")" \
	"after SIGCONT reads work again without a remount"

dovecot_kill src
t0=$(now)
out=$(cat "$M/INBOX/cur/${files[4]}" 2>&1 >/dev/null)
rc=$?
el=$(secs "$t0" "$(now)")
assert_ne "$rc" 0 "with the server killed, cat of an uncached message fails"
assert_contains "$out" "Input/output error" "with EIO"
awk -v e="$el" 'BEGIN {exit !(e < 6)}' && pass "fast (${el}s)" || fail "took ${el}s"
assert_eq "$(ls "$M/INBOX/cur" | wc -l)" "${#files[@]}" "ls still answers from cache with the server dead"

dovecot_restart src
ok=""
for _ in $(seq 80); do
	if got=$(sha256sum <"$M/INBOX/cur/${files[5]}" 2>/dev/null); then ok=1; break; fi
	sleep 0.5
done
[ -n "$ok" ] && pass "after a server restart the mount recovers by itself" || fail "no recovery after restart"
uid=$(getfattr --absolute-names --only-values -n user.imap.uid "$M/INBOX/cur/${files[5]}")
assert_eq "${got%% *}" "$(sha_of_uid "$uid")" "and reads byte-exact"
mount_is_up "$M" && pass "the mount stayed up throughout" || fail "mount gone"
mount_stop "$M"
assert_eq "$MOUNT_RC" 0 "clean unmount"
harness_done
