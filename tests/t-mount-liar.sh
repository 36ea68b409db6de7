#!/usr/bin/env bash
# t-mount-liar.sh - a server that lists a message at 2,000 bytes and sends
# 128 MiB for it (issue #15, finding 9; tests/fake/lyingimap.py huge).  The
# mount does not take such a body into memory (a whole fetch stops once
# the announced length is past whole_max= or the listed size, whichever is
# larger, plus 1 MiB): it records the announced length as the true size,
# as for any wrong size (logged "size mismatch"), and reads the message by
# partial fetches.  cat gives all 128 MiB exactly, stat then shows the true
# size, and the daemon's peak RSS stays under 96 MiB, well below the size
# of the message (before, it held the body whole, and a copy).  With opens
# (connections=2) and without.
set -u
. "$(dirname "$0")/lib/harness.sh"
. "$(dirname "$0")/lib/mount.sh"
harness_init
harness_timeout 300
harness_need_mailstage
harness_need_fuse

FAKE=$(dirname "$0")/fake/lyingimap.py
"$HARNESS_PYTHON" "$FAKE" "$T/fake.port" huge &
harness_register_pid $!
for _ in $(seq 200); do [ -s "$T/fake.port" ] && break; sleep 0.1; done
[ -s "$T/fake.port" ] || fail "the fake server did not start"
mkdir -p "$T/want"
"$HARNESS_PYTHON" "$FAKE" --dump "$T/want" huge
echo pw >"$T/pw"
chmod 600 "$T/pw"
M=$T/mnt
N=$(stat -c %s "$T/want/5.eml")
# well under the message itself (with 48 MiB it was 122 MiB before: the body
# whole, then copied); what it takes now does not grow with the message:
# chunks of up to 8 MiB, for up to a few READs at a time
RSS_MAX=$(harness_rss_limit_kib 98304)
# under ASan, freed chunks wait in a quarantine (256 MiB by default): keep
# it small, so that the peak is ours
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=16"

for opts in "timeout=10" "timeout=10,connections=2"; do
	mount_url "imap://liar@127.0.0.1:$(cat "$T/fake.port")/" "$T/pw" "$M" "$opts"
	f=$(ls "$M"/INBOX/cur/*".U5V"*)
	assert_eq "$(stat -c %s "$f")" 2000 "$opts: before any read, the size is the advertised 2000"
	# read in order, as cp -r does: the earlier ones bring read-ahead along
	for uid in 1 2 3 4; do
		cmp "$M"/INBOX/cur/*".U${uid}V"* "$T/want/$uid.eml" || fail "$opts: uid $uid differs"
	done
	cmp "$f" "$T/want/5.eml" && pass "$opts: cat gives all $N bytes of uid 5 exactly" ||
		fail "$opts: the bytes of uid 5 differ"
	for _ in $(seq 20); do [ "$(stat -c %s "$f")" = "$N" ] && break; sleep 0.1; done
	assert_eq "$(stat -c %s "$f")" "$N" "$opts: stat shows the true size after the first read"
	rss=$(awk '/^VmHWM/ { print $2 }' "/proc/$MOUNT_PID/status")
	printf '%s: the daemon peak RSS after reading the 128 MiB message: %s KiB\n' "$opts" "$rss"
	[ "$rss" -le "$RSS_MAX" ] && pass "$opts: the daemon's peak RSS is $rss KiB (at most $RSS_MAX)" ||
		fail "$opts: the daemon's peak RSS is $rss KiB, over $RSS_MAX: the body was held whole"
	assert_contains "$(cat "$T/mount-mnt.log")" "size mismatch: advertised 2000, actual $N" \
		"$opts: the wrong size is logged"
	mount_stop "$M"
	assert_eq "$MOUNT_RC" 0 "$opts: clean unmount"
done
harness_done
