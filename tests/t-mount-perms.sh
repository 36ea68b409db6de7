#!/usr/bin/env bash
# t-mount-perms.sh - who may read a mount.  Root mounts with allow_other (so
# the kernel lets other users reach it at all); another user (nobody):
#  - default: files 0400, directories 0500, owned by the mounting user;
#    nobody can neither list a folder nor read a message, root reads every
#    message byte-exact;
#  - umask=027: 0440 / 0550 (the group may read), nobody still cannot;
#  - umask=022: 0444 / 0555, and nobody reads every message byte-exact;
#  - a umask that is not an octal mask up to 777 is refused (exit 2).
set -u
. "$(dirname "$0")/lib/harness.sh"
. "$(dirname "$0")/lib/mount.sh"
mount_test_init 300

dovecot_start src
seed_corpus src alice INBOX 'cpython-email/*.eml'
want=$(imap_dump src alice INBOX | awk -F'\t' '{print $1 "\t" $5}')
M=$T/mnt

# as_nobody CMD...: CMD as the unprivileged user nobody
as_nobody() { setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups "$@"; }
# modes DIR: "FILE-MODES DIR-MODES" of the folder's messages and directories
modes() {
	echo "$(stat -c %a "$1"/cur/* | sort -u | tr '\n' ' ')/ $(stat -c %a "$1" "$1"/cur "$1"/new |
		sort -u | tr '\n' ' ')"
}
# sha_as WHO: uid TAB sha256 of every INBOX message read by WHO (root or nobody)
sha_as() {
	local f run=()
	[ "$1" = nobody ] && run=(as_nobody)
	for f in "$M"/INBOX/cur/*; do
		printf '%s\t%s\n' "$(getfattr --absolute-names --only-values -n user.imap.uid "$f")" \
			"$("${run[@]}" sha256sum <"$f" 2>/dev/null | cut -d' ' -f1)"
	done | sort -n
}

mount_start src alice "$M" allow_other
assert_eq "$(modes "$M/INBOX")" "400 / 500 " "default: messages 0400, directories 0500"
assert_eq "$(stat -c %U "$M/INBOX" "$M"/INBOX/cur/* | sort -u)" root "owned by the mounting user"
as_nobody ls "$M/INBOX/cur" >/dev/null 2>"$T/ls.err" &&
	fail "default: nobody lists INBOX/cur of root's allow_other mount"
assert_contains "$(cat "$T/ls.err")" "Permission denied" "default: nobody cannot list a folder"
f=$(ls "$M"/INBOX/cur | head -1)
as_nobody cat "$M/INBOX/cur/$f" >/dev/null 2>"$T/cat.err" &&
	fail "default: nobody reads a message of root's allow_other mount"
assert_contains "$(cat "$T/cat.err")" "Permission denied" "default: nobody cannot read a message"
assert_eq "$(sha_as root)" "$want" "default: root reads every message byte-exact"
mount_stop "$M"

mount_start src alice "$M" allow_other,umask=027
assert_eq "$(modes "$M/INBOX")" "440 / 550 " "umask=027: messages 0440, directories 0550"
as_nobody cat "$M/INBOX/cur/$f" >/dev/null 2>&1 && fail "umask=027: nobody (not in the group) reads"
pass "umask=027: nobody (not in the group) cannot read"
mount_stop "$M"

mount_start src alice "$M" allow_other,umask=022
assert_eq "$(modes "$M/INBOX")" "444 / 555 " "umask=022: messages 0444, directories 0555"
assert_eq "$(sha_as nobody)" "$want" "umask=022: nobody reads every message byte-exact"
mount_stop "$M"
assert_eq "$MOUNT_RC" 0 "clean unmount"

for bad in 999 1777 rw; do
	out=$(timeout 30 "$MAILSTAGE" mount "imap://alice@127.0.0.1:$SRC_PORT/" "$M" -f \
		-o "tls=none,password_file=$(pass_file src alice),umask=$bad" 2>&1)
	rc=$?
	mount_is_up "$M" && fail "umask=$bad: mounted"
	assert_eq "$rc" 2 "umask=$bad: refused (exit 2)"
	assert_contains "$out" "umask" "umask=$bad: the error names umask="
done
harness_done
