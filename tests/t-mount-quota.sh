#!/usr/bin/env bash
# t-mount-quota.sh - df on a mount: with QUOTA (a Dovecot with a 100M
# storage quota) it shows the quota as the size and the server's usage as
# used, follows new mail within dir_timeout, and answers at once while the
# server is stopped; without QUOTA it keeps the summed message sizes.
set -u
. "$(dirname "$0")/lib/harness.sh"
. "$(dirname "$0")/lib/mount.sh"
mount_test_init 300

# df_bytes MNT: "size used" in bytes
df_bytes() { df -B1 --output=size,used "$1" | tail -n1 | awk '{print $1, $2}'; }
# the server's own STORAGE usage of alice, in bytes (doveadm, not IMAP)
server_used() {
	doveadm -c "$SRC_CONF" quota get -u alice |
		awk '$(NF-3) == "STORAGE" {print $(NF-2) * 1024}'
}
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", b - a}'; }

dovecot_start src --quota 100M
seed_corpus src alice INBOX 'cpython-email/*.eml'
M=$T/mnt
mount_start src alice "$M" "dir_timeout=2,timeout=3"
# fetched before mounting; should that answer lack the quota (seen once
# under load), the next df after dir_timeout fetches it again
for _ in $(seq 80); do
	read -r size used <<<"$(df_bytes "$M")"
	[ "$size" = $((100 << 20)) ] && break
	sleep 0.25
done
assert_eq "$size" $((100 << 20)) "df size is the 100M quota"
want=$(server_used)
[ -n "$want" ] && [ "$want" -gt 0 ] || fail "doveadm quota get gave no usage"
[ "$used" -ge "$want" ] && [ "$used" -lt $((want + 4096)) ] &&
	pass "df used is the server's usage ($used for $want, to the 4 KiB block)" ||
	fail "df used $used, server says $want"

seed_message src alice INBOX "$MAILSTAGE_CORPUS/$(cd "$MAILSTAGE_CORPUS" && ls spamassassin | head -1 | sed 's|^|spamassassin/|')"
grown=$(server_used)
[ "$grown" -gt "$want" ] || fail "seeding did not raise the server's usage"
ok=""
for _ in $(seq 120); do # the first df after dir_timeout asks, a later one shows
	read -r size used <<<"$(df_bytes "$M")"
	[ "$used" -ge "$grown" ] && { ok=1; break; }
	sleep 0.25
done
[ -n "$ok" ] && pass "new mail shows in df used ($used for $grown)" ||
	fail "df used stayed $used, server says $grown"

pids=$(dovecot_imap_pids src alice)
[ -n "$pids" ] || fail "no imap process for alice"
kill -STOP $pids
sleep 2.5 # the numbers are stale now: df asks for new ones, but must not wait
t0=$(now)
read -r size used <<<"$(df_bytes "$M")"
read -r size used <<<"$(df_bytes "$M")"
el=$(secs "$t0" "$(now)")
kill -CONT $pids
assert_eq "$size" $((100 << 20)) "with the server stopped df still answers the quota"
# (the command deadline is 3 s: under 2 s for two means neither waited)
awk -v e="$el" 'BEGIN {exit !(e < 2)}' && pass "at once (${el}s for two df)" || fail "df took ${el}s"
mount_stop "$M"
assert_eq "$MOUNT_RC" 0 "clean unmount"

# without QUOTA: the sum of the message sizes, as before
dovecot_start plain
seed_corpus plain alice INBOX 'cpython-email/*.eml'
total=$(imap_dump plain alice INBOX | awk -F'\t' '{s += $4} END {print s}')
mount_start plain alice "$M"
read -r size used <<<"$(df_bytes "$M")"
assert_eq "$size" $(((total + 4095) / 4096 * 4096)) "without QUOTA df size is the summed message sizes"
mount_stop "$M"
assert_eq "$MOUNT_RC" 0 "clean unmount"
harness_done
