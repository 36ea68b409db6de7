#!/usr/bin/env bash
# t-mount.sh - `mailstage mount` against real Dovecot: the whole corpus
# (plus a 5 MB message read by partial fetches) byte-exact through the mount,
# sizes, mtimes, flag letters and xattrs right, odd-sized reads at random
# offsets and dd skip=, every write refused with EROFS, a Maildir reader
# counts the folder, names stable across a remount, the source's flags and
# UIDs unchanged after reading everything, and two readers at once on cold
# pages (with and without opens) byte-exact, no read waiting out a deadline.
# A bad password mounts nothing.
set -u
. "$(dirname "$0")/lib/harness.sh"
. "$(dirname "$0")/lib/mount.sh"
harness_init
harness_timeout 600
harness_need_root
harness_need_mailstage
harness_need_fuse

dovecot_start src
seed_corpus src alice INBOX
"$HARNESS_PYTHON" -c 'import base64, random, sys
r = random.Random(5)
body = base64.encodebytes(bytes(r.getrandbits(8) for _ in range(3700000))).replace(b"\n", b"\r\n")
sys.stdout.buffer.write(b"From: a@example.org\r\nSubject: big\r\nMessage-ID: <big@example.org>\r\n\r\n" + body)' >"$T/big.eml"
seed_message src alice INBOX "$T/big.eml" '\Seen' >/dev/null
imap_tool src alice create Sent >/dev/null
before=$(imap_dump src alice INBOX)
N=$(printf '%s\n' "$before" | wc -l)
URL="imap://alice@127.0.0.1:$SRC_PORT/"

# a wrong password: clear error, exit 3, no mount left behind
echo wrong-password >"$T/badpw"
mkdir -p "$T/bad"
out=$("$MAILSTAGE" mount "$URL" "$T/bad" -f -o tls=none,password_file="$T/badpw" 2>&1)
assert_eq "$?" 3 "a wrong password exits 3 before mounting"
assert_contains "$out" "password" "and says why"
mount_is_up "$T/bad" && fail "a mount was left behind" || pass "nothing is mounted on the mount point"

M=$T/mnt
mount_start src alice "$M" "timeout=10"
assert_eq "$(ls "$M/INBOX")" "$(printf 'cur\nnew\ntmp')" "INBOX holds cur, new and tmp"
assert_eq "$(ls "$M/INBOX/new" "$M/INBOX/tmp")" "$(printf '%s:\n\n%s:' "$M/INBOX/new" "$M/INBOX/tmp")" "new/ and tmp/ are empty"
assert_eq "$(ls "$M/INBOX/cur" | wc -l)" "$N" "cur/ lists all $N messages"
names1=$(ls "$M/INBOX/cur")
# after listing a cur/, a body connection and the read-ahead one log in and
# EXAMINE it (the first cat must not wait for that): with the listing's, 3
conns() { ss -Htnp state established "( dport = :$SRC_PORT )" | grep -c "pid=$MOUNT_PID,"; }
for _ in $(seq 50); do [ "$(conns)" -ge 3 ] && break; sleep 0.1; done
assert_eq "$(conns)" 3 "after the first listing the mount holds 3 connections (listing, body, read-ahead)"

list=$(mount_listing "$M/INBOX") || fail "reading the mount failed"
want=$(printf '%s\n' "$before" | awk -F'\t' '{print $1 "\t" $3 "\t" $4 "\t" $4 "\t" $5}')
assert_eq "$(printf '%s\n' "$list" | cut -f1,3-6)" "$want" \
	"all $N messages: mtime = INTERNALDATE, ls size = bytes read = RFC822.SIZE, SHA-256 = direct fetch"
letters=$(printf '%s\n' "$before" | awk -F'\t' '{l = ""
	if ($2 ~ /\\Draft/) l = l "D"; if ($2 ~ /\\Flagged/) l = l "F"; if ($2 ~ /\\Answered/) l = l "R"
	if ($2 ~ /\\Seen/) l = l "S"; if ($2 ~ /\\Deleted/) l = l "T"; print $1 "\t" l}')
assert_eq "$(printf '%s\n' "$list" | cut -f1,2)" "$letters" "Maildir flag letters (DFRST) match the server's flags"

# Bodies fetched ahead went to the kernel's page cache only: once it drops
# them, reads must fetch again, and exactly.
echo 3 >/proc/sys/vm/drop_caches
list2=$(mount_listing "$M/INBOX") || fail "reading the mount after drop_caches failed"
assert_eq "$list2" "$list" "after drop_caches every message reads the same bytes again"

# xattrs: uid, uidvalidity, flags with keywords, internaldate, message_id
kwline=$(printf '%s\n' "$before" | awk -F'\t' '$2 ~ /(^| )[^\\ ]/' | head -n1)
[ -n "$kwline" ] || fail "the seed has no keyword"
uid=$(cut -f1 <<<"$kwline")
f=$(ls "$M"/INBOX/cur/*".U${uid}V"*)
uv=$(imap_tool src alice status INBOX | tr ' \t' '\n\n' | grep -A1 -i uidvalidity | tail -n1)
assert_eq "$(getfattr --absolute-names --only-values -n user.imap.uid "$f")" "$uid" "user.imap.uid"
assert_contains "$f" "V$(getfattr --absolute-names --only-values -n user.imap.uidvalidity "$f")." "user.imap.uidvalidity is the one in the name"
assert_eq "$(getfattr --absolute-names --only-values -n user.imap.flags "$f" | tr ' ' '\n' | sort | paste -sd' ')" \
	"$(cut -f2 <<<"$kwline" | tr ' ' '\n' | sort | paste -sd' ')" "user.imap.flags holds the flags and keywords ($(cut -f2 <<<"$kwline"))"
idate=$(getfattr --absolute-names --only-values -n user.imap.internaldate "$f")
assert_eq "$(date -d "$(sed -E 's/^([0-9]+)-([A-Za-z]+)-([0-9]+) /\1 \2 \3 /' <<<"$idate")" +%s)" "$(cut -f3 <<<"$kwline")" \
	"user.imap.internaldate ($idate) is the INTERNALDATE"
bigf=$(ls "$M"/INBOX/cur/*".U$(printf '%s\n' "$before" | tail -n1 | cut -f1)V"*)
assert_eq "$(getfattr --absolute-names --only-values -n user.imap.message_id "$bigf")" "<big@example.org>" "user.imap.message_id"
assert_eq "$(getfattr --absolute-names --only-values -n user.imap.name "$M/INBOX")" "INBOX" "user.imap.name on a folder"
assert_eq "$(getfattr --absolute-names --only-values -n user.imap.special_use "$M/Sent")" '\Sent' "user.imap.special_use on Sent"
getfattr --absolute-names -n user.imap.nosuch "$f" 2>&1 | grep -q "No such attribute" && pass "unknown xattr: ENODATA" || fail "unknown xattr"
[ -n "$uv" ] || true

# odd-sized reads at random offsets, dd skip= (the 5 MB message goes by partial fetches)
while IFS=$'\t' read -r u _ _ size sha; do
	g=$(ls "$M"/INBOX/cur/*".U${u}V"*)
	echo 3 >/proc/sys/vm/drop_caches
	got=$("$HARNESS_PYTHON" "$(dirname "$0")/lib/oddread.py" "$g" "$size" "$u") || fail "odd reads of uid $u"
	assert_eq "$got" "$sha" "uid $u ($size bytes) read in odd-sized pieces at random offsets is byte-exact"
	skip=$((size / 3 / 4093))
	a=$(dd if="$g" bs=4093 skip="$skip" 2>/dev/null | sha256sum)
	imap_tool src alice fetch INBOX "$u" >"$T/direct.eml" || fail "direct fetch of uid $u"
	b=$(dd if="$T/direct.eml" bs=4093 skip="$skip" 2>/dev/null | sha256sum)
	assert_eq "$a" "$b" "dd bs=4093 skip=$skip of uid $u equals the same range of a direct fetch"
done < <(printf '%s\n' "$before" | sort -t$'\t' -k4,4n | tail -n 4)

# writes fail with EROFS and change nothing
for cmd in "touch $M/INBOX/cur/x" "rm $f" "mv $f $M/INBOX/cur/y" "mkdir $M/New" \
	"setfattr -n user.imap.flags -v x $f" "rmdir $M/Sent/tmp" "cp /etc/hostname $M/INBOX/new/"; do
	out=$($cmd 2>&1) && fail "'$cmd' succeeded"
	assert_contains "$out" "Read-only file system" "'${cmd%% *}' fails with EROFS"
done
( echo x >>"$f" ) 2>"$T/append.err" && fail "append succeeded"
assert_contains "$(cat "$T/append.err")" "Read-only file system" "writing into a message fails with EROFS"

# a Maildir reader from Debian: Python's mailbox module (Debian's python3)
cnt=$(/usr/bin/python3 -c 'import mailbox, sys; print(len(mailbox.Maildir(sys.argv[1], factory=None, create=False)))' "$M/INBOX")
assert_eq "$cnt" "$N" "python3 mailbox.Maildir counts $N messages"
if mcnt=$(mutt_count "$M/INBOX" 2>/dev/null); then
	[ "$mcnt" = "$N" ] || { echo "--- mutt showed:"; mutt_shown; echo; } >&2
	assert_eq "$mcnt" "$N" "mutt -R -f opens the folder and counts $N messages"
fi

# RELEASE racing reads: readers that close after one byte while the kernel's
# read-ahead of a partially fetched message is still in flight (the kernel
# releases the file as soon as that read's reply lands, while the daemon's
# thread is still returning through the handle: a use-after-free that ASan
# caught in CI).  The daemon must stay up and keep serving exact bytes.
bigs=$(printf '%s\n' "$before" | sort -t$'\t' -k4,4n | tail -n 2 | cut -f1)
for _ in $(seq 1 25); do
	echo 3 >/proc/sys/vm/drop_caches
	pids=()
	for u in $bigs $bigs; do
		head -c 1 "$M"/INBOX/cur/*".U${u}V"* >/dev/null &
		pids+=($!)
	done
	wait "${pids[@]}" # not a bare wait: the harness has servers in the background
done
mount_is_up "$M" || fail "the mount died while readers closed mid-read"
u=$(printf '%s\n' "$before" | sort -t$'\t' -k4,4n | tail -n 1)
assert_eq "$(sha256sum <"$M"/INBOX/cur/*".U$(cut -f1 <<<"$u")V"* | cut -d' ' -f1)" "$(cut -f5 <<<"$u")" \
	"100 readers closing mid-read: the mount is up and the largest message still reads exact"

# statfs from cache
files=$(stat -f -c %c "$M")
[ "$files" -ge "$N" ] && pass "statfs counts $files inodes (>= $N messages)" || fail "statfs files $files"
assert_contains "$(stat -f -c %T "$M")" "fuse" "statfs answers for the fuse mount"

after=$(imap_dump src alice INBOX)
assert_eq "$after" "$before" "source flags (incl. \\Seen) and UIDs unchanged after reading everything"

mount_stop "$M"
assert_eq "$MOUNT_RC" 0 "fusermount3 -u ends the daemon with status 0"

# Read-ahead asks for runs of listing neighbours as UID ranges (a:b): a
# range spans expunged UIDs, and a message read already splits a run.
# Reading such a folder in order still gives every message whole and exact.
imap_tool src alice create Gaps >/dev/null
seed_corpus src alice Gaps 'enmime/*.eml'
doveadm -c "$SRC_CONF" expunge -u alice mailbox Gaps uid 5:9,20,33:34 ||
	fail "could not expunge from Gaps"
gaps=$(imap_dump src alice Gaps)
mount_start src alice "$M" "timeout=10"
ng=0
for f in "$M"/Gaps/cur/*; do # every fourth first, in name order: cached
	[ $((ng++ % 4)) = 0 ] && cat "$f" >/dev/null
done
find "$M/Gaps/cur" -type f -print0 | xargs -0 cat >/dev/null || fail "cat of Gaps failed"
assert_eq "$(mount_listing "$M/Gaps" | cut -f1,3-6)" \
	"$(printf '%s\n' "$gaps" | awk -F'\t' '{print $1 "\t" $3 "\t" $4 "\t" $4 "\t" $5}')" \
	"a folder with expunged UIDs, read in order after some of it: every message exact"
mount_stop "$M"
grep -q "Gaps UIDs" "$T/mount-mnt.log" && fail "a read-ahead FETCH failed: $(grep "Gaps UIDs" "$T/mount-mnt.log")"
pass "every read-ahead FETCH of Gaps succeeded (no malformed UID set)"

# whole_max above the 4 MiB a fetch gathers: the big message comes whole
# with read-ahead and streams into the page cache piece by piece
mount_start src alice "$M" "timeout=10,whole_max=8M"
find "$M/INBOX/cur" -type f -print0 | xargs -0 cat >/dev/null || fail "cat of the mount with whole_max=8M failed"
list3=$(mount_listing "$M/INBOX") || fail "reading the mount with whole_max=8M failed"
assert_eq "$list3" "$list" "whole_max=8M: every message reads the same bytes (the big one streamed ahead)"
mount_stop "$M"
mount_start src alice "$M" "timeout=10"
assert_eq "$(ls "$M/INBOX/cur")" "$names1" "file names are the same after unmount and mount"
mount_stop "$M"

# Two readers at once on the cold pages of a fresh mount (nothing read yet,
# so read-ahead batches store bodies into the page cache), one in listing
# order and one backwards, fetching what it reads while the batches store
# theirs: neither may wait for a store that waits for it, nor read a byte
# wrong.  Such a wait ends at its deadline, 2 x (timeout + connect_timeout)
# = 40 s, and is logged: the log line or a read over half of that fails.
# Each reader is one process, so that it catches up with the batches; the
# readers' total time is no measure (on a busy machine, it is the load's).
two_readers() { # OPTS WHAT
	local m=$T/two want slow late t0 el back
	mount_start src alice "$m" "timeout=10${1:+,$1}"
	ls "$m/INBOX/cur" >/dev/null
	echo 3 >/proc/sys/vm/drop_caches
	t0=$(date +%s)
	"$HARNESS_PYTHON" "$(dirname "$0")/lib/timedsums.py" "$m/INBOX/cur" back >"$T/backwards" &
	back=$!
	"$HARNESS_PYTHON" "$(dirname "$0")/lib/timedsums.py" "$m/INBOX/cur" >"$T/forwards" ||
		fail "$2: the reader in listing order failed"
	wait "$back" || fail "$2: the backwards reader failed"
	el=$(($(date +%s) - t0))
	mount_stop "$m"
	want=$(printf '%s\n' "$list" | cut -f1,6)
	assert_eq "$(cut -f1,2 "$T/forwards")" "$want" \
		"$2: read in listing order while another reader goes backwards: every message exact"
	assert_eq "$(cut -f1,2 "$T/backwards" | sort -n)" "$want" \
		"$2: read backwards at the same time: every message exact"
	slow=$(cut -f3 "$T/forwards" "$T/backwards" | sort -n | tail -n1)
	late=$(grep "read-ahead did not bring" "$T/mount-two.log")
	[ "$slow" -lt 20000 ] && [ -z "$late" ] &&
		pass "$2: no read waited out a deadline (longest ${slow} ms; ${el}s in all)" ||
		fail "$2: the longest read took ${slow} ms${late:+; the mount logged: $late}"
}
two_readers "" "without opens"
two_readers "connections=2" "with opens"
harness_done
