#!/usr/bin/env bash
# t-mount-size.sh - messages whose advertised RFC822.SIZE is wrong (too
# large, too small, small and large messages; a scripted fake server,
# tests/fake/lyingimap.py) are served whole and exact: no zero padding, no
# cut; after the first open, stat and ls -l show the true size, and later
# reads (through the page cache) are still exact.  Mounted with the
# implicit form `mailstage URL DIR -o ...` that mount.fuse3 runs.
set -u
. "$(dirname "$0")/lib/harness.sh"
. "$(dirname "$0")/lib/mount.sh"
harness_init
harness_timeout 120
harness_need_mailstage
harness_need_fuse

FAKE=$(dirname "$0")/fake/lyingimap.py
"$HARNESS_PYTHON" "$FAKE" "$T/fake.port" &
harness_register_pid $!
for _ in $(seq 100); do [ -s "$T/fake.port" ] && break; sleep 0.1; done
[ -s "$T/fake.port" ] || fail "the fake server did not start"
mkdir -p "$T/want"
"$HARNESS_PYTHON" "$FAKE" --dump "$T/want"
echo pw >"$T/pw"
chmod 600 "$T/pw"
M=$T/mnt
declare -A adv=([1]=1500 [2]=3000 [3]=1500000 [4]=900)
# uid 3 (2,000,000 bytes) is fetched whole with the default whole_max=4M,
# by the size probe and chunks with whole_max=1M: both ways must be exact.
# With connections=2 the kernel sends an OPEN per file (the mount finds a
# wrong size at open); with more, none (found at the first read).
for wm in 4M 1M "4M,connections=2"; do
	MOUNT_IMPLICIT=1 mount_url "imap://liar@127.0.0.1:$(cat "$T/fake.port")/" "$T/pw" "$M" "timeout=5,whole_max=$wm"
	for uid in 1 2 3 4; do
		f=$(ls "$M"/INBOX/cur/*".U${uid}V"*)
		n=$(stat -c %s "$T/want/$uid.eml")
		assert_eq "$(stat -c %s "$f")" "${adv[$uid]}" "whole_max=$wm, uid $uid: before any read, the size is the advertised ${adv[$uid]}"
		cmp "$f" "$T/want/$uid.eml" && pass "whole_max=$wm, uid $uid: cat gives all $n bytes exactly (advertised ${adv[$uid]})" ||
			fail "whole_max=$wm, uid $uid: bytes differ"
		for _ in $(seq 20); do [ "$(stat -c %s "$f")" = "$n" ] && break; sleep 0.1; done
		assert_eq "$(stat -c %s "$f")" "$n" "whole_max=$wm, uid $uid: stat shows the true size after the first open"
		echo 3 >/proc/sys/vm/drop_caches 2>/dev/null
		cmp "$f" "$T/want/$uid.eml" && pass "whole_max=$wm, uid $uid: a second read (page cache) is exact" || fail "whole_max=$wm, uid $uid: second read differs"
		got=$("$HARNESS_PYTHON" "$(dirname "$0")/lib/oddread.py" "$f" "$n" "$uid") || fail "odd reads of uid $uid"
		assert_eq "$got" "$(sha256sum <"$T/want/$uid.eml" | cut -d' ' -f1)" "whole_max=$wm, uid $uid: odd-sized random reads are exact"
	done
	assert_contains "$(cat "$T/mount-mnt.log")" "size mismatch: advertised 1500000, actual 2000000" "whole_max=$wm: the mismatch is logged"
	mount_stop "$M"
	assert_eq "$MOUNT_RC" 0 "whole_max=$wm: clean unmount"
done
harness_done
