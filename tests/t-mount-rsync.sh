#!/usr/bin/env bash
# t-mount-rsync.sh - scripts that `rsync -a` a mailbox out of the mount:
# the second run transfers nothing; after new mail arrives and one flag
# changes on the server, the mount shows both within the directory timeout
# and the third run transfers only the new message (the flag change is a
# rename, which rsync sees as one new name and one deleted name).
set -u
. "$(dirname "$0")/lib/harness.sh"
. "$(dirname "$0")/lib/mount.sh"
mount_test_init 300
command -v rsync >/dev/null || skip "rsync missing"

dovecot_start src
seed_corpus src alice INBOX 'cpython-email/*.eml'
N=$(imap_dump src alice INBOX | wc -l)
M=$T/mnt
mount_start src alice "$M" "timeout=10,dir_timeout=2"

sync_count() { # files rsync transferred
	rsync -a --delete --stats "$M/INBOX/" "$T/copy/" | awk -F': ' '/Number of regular files transferred/ {gsub(",", "", $2); print $2}'
}
assert_eq "$(sync_count)" "$N" "first rsync -a copies all $N messages"
assert_eq "$(ls "$T/copy/cur" | wc -l)" "$N" "the copy holds $N files"
assert_eq "$(sync_count)" 0 "second rsync -a transfers nothing"
assert_eq "$(cd "$M/INBOX/cur" && cat -- * | sha256sum)" "$(cd "$T/copy/cur" && cat -- * | sha256sum)" "the copy is byte-identical"

seed_message src alice INBOX "$MAILSTAGE_CORPUS/enmime/$(ls "$MAILSTAGE_CORPUS/enmime" | head -n1)" >/dev/null
old=$(ls "$M/INBOX/cur" | grep "\.U1V")
imap_tool src alice setflags INBOX 1 '\Flagged' >/dev/null || fail "setflags"
new=""
for _ in $(seq 50); do
	new=$(ls "$M/INBOX/cur" | grep "\.U1V")
	[ "$(ls "$M/INBOX/cur" | wc -l)" -eq $((N + 1)) ] && [ "$new" != "$old" ] && break
	sleep 0.2
done
assert_eq "$(ls "$M/INBOX/cur" | wc -l)" $((N + 1)) "new mail shows up within the directory timeout"
assert_contains "$new" ":2,F" "the flag change shows up as a new name ($new)"
[ -e "$M/INBOX/cur/$old" ] && fail "the old name $old still resolves" || pass "the old name is gone"
assert_eq "$(sync_count)" 2 "third rsync -a transfers only the new message and the renamed one"
assert_eq "$(ls "$T/copy/cur" | wc -l)" $((N + 1)) "the copy holds $((N + 1)) files"
assert_eq "$(sync_count)" 0 "and a fourth run transfers nothing"
mount_stop "$M"
harness_done
