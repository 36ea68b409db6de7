#!/usr/bin/env bash
# t-copy-dirs.sh - mailstage copy with a directory on one side, against real
# Dovecot servers, everything checked with the independent client:
#  (a) from a mailstage mount of the source (STARTTLS, private CA) to IMAP;
#  (b) from a copy of the source Dovecot's own Maildir++ tree (".A.B"
#      directories, modified UTF-7 names, dovecot-keywords, files in new/);
#  (c) from IMAP to a Maildir directory (tmp/ then rename, info letters,
#      mtime = INTERNALDATE), then that directory back to a fresh IMAP
#      account, with no mount involved.
# Each: bytes (SHA-256), flags with keywords and INTERNALDATE equal to the
# source's, non-ASCII hierarchy names right, a second run copies 0, and the
# source never changes.
set -u
. "$(dirname "$0")/lib/harness.sh"
. "$(dirname "$0")/lib/copy_helpers.sh"
harness_init
harness_need_root
harness_need_mailstage
harness_timeout 900

dovecot_start src --sep . \
	--extra $'namespace inbox {\n  mailbox "Gesendet" {\n    special_use = \\Sent\n  }\n}\n'
dovecot_start dst --sep /
SRC_PW=$(pass_file src alice)
SRC_URL=imap://alice@127.0.0.1:$SRC_PORT/
UML='Entwürfe.Übersicht 2024'     # the source's name ('.' separator)
UMLD='Entwürfe/Übersicht 2024'    # as every '/' store names it

seed_corpus src alice INBOX 'cpython-email/*.eml'
seed_corpus src alice INBOX 'nodemailer-mailparser/*.eml'
seed_corpus src alice "$UML" 'flanker/*.eml'
seed_corpus src alice Gesendet 'enmime/*.eml'
seed_corpus src alice 'Archiv.2023' 'stalwart-mail-parser/rfc__*.eml'
seed_corpus src alice 'R&D' 'spamassassin/spam*.eml'
# flags changed after delivery: Dovecot renames the files (its uidlist keeps
# the first name) and adds a keyword letter to dovecot-keywords
imap_tool src alice setflags INBOX 3 '\Deleted \Seen' &&
	imap_tool src alice setflags INBOX 5 '' &&
	imap_tool src alice setflags INBOX 7 '\Answered $Later NonJunk' &&
	imap_tool src alice setflags 'R&D' 2 '\Flagged $Later' || fail "setflags failed"
# no flags at all (Dovecot keeps it in new/), and one with only a keyword
small_message "$T/plain1.eml" 1
small_message "$T/plain2.eml" 2
seed_message src alice INBOX "$T/plain1.eml" '' '2-Mar-2021 08:09:10 -0500' >/dev/null
seed_message src alice INBOX "$T/plain2.eml" '$Important' '3-Mar-2021 08:09:10 +0930' >/dev/null
SRC_FOLDERS=$(printf '%s\n' INBOX "$UML" Gesendet 'Archiv.2023' 'R&D')
before=$(snapshot src alice)

# same_as_source DEST-USER: every source folder equals its '/'-named copy on dst
same_as_source() {
	local f g
	while IFS= read -r f; do
		g=${f//./\/}
		[ "$f" = Gesendet ] && g=Sent
		assert_eq "$(folder_dump dst "$1" "$g")" "$(folder_dump src alice "$f")" \
			"$2: '$f' -> '$g': bytes, flags with keywords, dates equal"
	done <<<"$SRC_FOLDERS"
	assert_eq "$(imap_folders dst "$1" | grep -vi 'noselect\|nonexistent' | cut -f1 | LC_ALL=C sort | tr '\n' '|')" \
		"Archiv/2023|$UMLD|INBOX|R&D|Sent|" "$2: exactly the source's folders, \\Sent mapped to Sent"
}

# copy_to USER SOURCE ARGS...: mailstage copy of a directory to dst's USER
copy_to() {
	local user=$1 src=$2
	shift 2
	"$MAILSTAGE" copy --tls none --progress json \
		--dest-password-file "$(pass_file dst "$user")" "$@" \
		"$src" "imap://$user@127.0.0.1:$DST_PORT/"
}

imap_tool dst bob create Sent >/dev/null
imap_tool dst carol create Sent >/dev/null
imap_tool dst dave create Sent >/dev/null

# ---- (a) from a mount of the source (STARTTLS, verified with the test CA)
if [ -c /dev/fuse ] && command -v fusermount3 >/dev/null; then
	M=$T/mnt
	mkdir -p "$M"
	harness_register_mount "$M"
	"$MAILSTAGE" mount "imap://alice@localhost:$SRC_PORT/" "$M" -f \
		-o "tls=starttls,ca_file=$CA_FILE,password_file=$SRC_PW" 2>"$T/mount.log" &
	MPID=$!
	harness_register_pid "$MPID"
	for i in $(seq 300); do
		grep -qF " $M fuse.mailstage " /proc/mounts && break
		kill -0 "$MPID" 2>/dev/null || break
		sleep 0.1
	done
	grep -qF " $M fuse.mailstage " /proc/mounts || { cat "$T/mount.log" >&2; fail "mount over STARTTLS did not come up"; }
	assert_eq "$(cd "$M" && find . -name cur | LC_ALL=C sort | tr '\n' '|')" \
		"./Archiv/2023/cur|./Entwürfe/Übersicht 2024/cur|./Gesendet/cur|./INBOX/cur|./R&D/cur|" \
		"the mount shows the hierarchy with UTF-8 names"
	copy_to bob "$M" --state "$T/a.sqlite" >"$T/a1" 2>"$T/a1.err"
	rc=$?; [ "$rc" -eq 0 ] || cat "$T/a1.err" "$T/mount.log" >&2
	assert_eq "$rc" 0 "(a) copy from the mount exits 0"
	same_as_source bob "(a) mount"
	copy_to bob "$M" --state "$T/a.sqlite" >"$T/a2" 2>"$T/a2.err"
	rc=$?; [ "$rc" -eq 0 ] || cat "$T/a2.err" "$T/mount.log" >&2
	assert_eq "$rc" 0 "(a) second run exits 0"
	assert_contains "$(tail -n1 "$T/a2")" '"copied":0,' "(a) second run copies 0"
	copy_to bob "$M" --no-state >"$T/a3" 2>"$T/a3.err"
	assert_contains "$(tail -n1 "$T/a3")" '"copied":0,' "(a) without state: 0 copied (matched on the destination)"
	fusermount3 -u "$M"
	wait "$MPID"
	assert_eq $? 0 "the mount ends cleanly"
else
	echo "# (a) skipped: no FUSE"
fi

# ---- (b) from Dovecot's own Maildir++ tree, copied aside with cp -a
PP=$T/maildirpp
cp -a "$SRC_MAILDIR/alice/Maildir" "$PP"
[ -d "$PP/.Entw&APw-rfe.&ANw-bersicht 2024/cur" ] && [ -d "$PP/.R&-D/cur" ] ||
	fail "the source tree lacks its modified UTF-7 directories"
pass "Dovecot keeps '$UML' as '.Entw&APw-rfe.&ANw-bersicht 2024' and 'R&D' as '.R&-D'"
[ -s "$PP/dovecot-keywords" ] || fail "no dovecot-keywords in the INBOX maildir"
ls "$PP"/new/* >/dev/null 2>&1 || fail "no file in new/: the unflagged message should be there"
pass "the tree has dovecot-keywords and a file in new/"
copy_to carol "$PP" --state "$T/b.sqlite" --map Gesendet=Sent >"$T/b1" 2>"$T/b1.err"
rc=$?; [ "$rc" -eq 0 ] || cat "$T/b1.err" >&2
assert_eq "$rc" 0 "(b) copy from the Maildir++ tree exits 0"
same_as_source carol "(b) Maildir++"
copy_to carol "$PP" --state "$T/b.sqlite" --map Gesendet=Sent >"$T/b2" 2>"$T/b2.err"
assert_contains "$(tail -n1 "$T/b2")" '"copied":0,' "(b) second run copies 0"
# flags changed on the server since: a fresh copy of the tree carries them over
imap_tool src alice setflags INBOX 9 '\Flagged $Later' &&
	imap_tool src alice setflags 'R&D' 4 '\Seen \Answered' || fail "setflags failed"
before=$(snapshot src alice)
rm -rf "$PP" && cp -a "$SRC_MAILDIR/alice/Maildir" "$PP"
copy_to carol "$PP" --state "$T/b.sqlite" --map Gesendet=Sent >"$T/b3" 2>"$T/b3.err"
assert_contains "$(tail -n1 "$T/b3")" '"copied":0,' "(b) after flag changes: nothing copied again"
assert_contains "$(tail -n1 "$T/b3")" '"flags_updated":2,' "(b) and exactly the 2 changed flag sets carried over"
same_as_source carol "(b) Maildir++ after flag changes"

# ---- (c) IMAP to a Maildir directory, written through tmp/
D=$T/maildir
# LeakSanitizer cannot run under ptrace: off for this one run (ASan builds)
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
	strace -f -ff -qq -s 4096 -o "$T/strace" -e trace=openat,rename,renameat,renameat2 \
	"$MAILSTAGE" copy --tls none --progress json --source-password-file "$SRC_PW" \
	--state "$T/c.sqlite" "$SRC_URL" "$D" >"$T/c1" 2>"$T/c1.err"
rc=$?; [ "$rc" -eq 0 ] || cat "$T/c1.err" "$T/c1" >&2
assert_eq "$rc" 0 "(c) copy to a directory exits 0"
# md_listing DIR: flags (user.imap.flags, sorted) TAB mtime TAB size TAB sha256, sorted
md_listing() {
	local f
	for f in "$1"/cur/*; do
		[ -e "$f" ] || continue
		printf '%s\t%s\t%s\t%s\n' \
			"$(getfattr --absolute-names --only-values -n user.imap.flags "$f" 2>/dev/null |
				tr ' ' '\n' | grep . | LC_ALL=C sort | paste -sd' ')" \
			"$(stat -c %Y "$f")" "$(stat -c %s "$f")" "$(sha256sum <"$f" | cut -d' ' -f1)"
	done | LC_ALL=C sort
}
# md_letters DIR: info letters TAB sha256; src_letters NAME USER FOLDER: the same from IMAP
md_letters() {
	local f
	for f in "$1"/cur/*; do
		printf '%s\t%s\n' "${f##*:2,}" "$(sha256sum <"$f" | cut -d' ' -f1)"
	done | LC_ALL=C sort
}
src_letters() {
	imap_dump "$1" "$2" "$3" | awk -F'\t' '{l = ""
		if ($2 ~ /\\Draft/) l = l "D"; if ($2 ~ /\\Flagged/) l = l "F"
		if ($2 ~ /\\Answered/) l = l "R"; if ($2 ~ /\\Seen/) l = l "S"
		if ($2 ~ /\\Deleted/) l = l "T"; print l "\t" $5}' | LC_ALL=C sort
}
while IFS= read -r f; do
	d=$D/${f//.//}
	assert_eq "$(md_listing "$d")" "$(folder_dump src alice "$f" | cut -f1-4)" \
		"(c) '$f': bytes, flags with keywords (xattr), mtime = INTERNALDATE"
	assert_eq "$(md_letters "$d")" "$(src_letters src alice "$f")" "(c) '$f': info letters DFRST"
	assert_eq "$(ls -A "$d/tmp" "$d/new" | grep -c .)" 2 "(c) '$f': tmp/ and new/ are empty"
done <<<"$SRC_FOLDERS"
n_msgs=$(find "$D" -path '*/cur/*' -type f | wc -l)
n_ren=$(cat "$T"/strace.* | grep -E '^rename.*"[^"]*/tmp/[^"]*\.mailstage-part".*"[^"]*/cur/[^"]*:2,[A-Z]*".* = 0$' | grep -c .)
assert_eq "$n_ren" "$n_msgs" "(c) each of the $n_msgs messages was renamed from tmp/ into cur/"
assert_eq "$(cat "$T"/strace.* | grep -E '^rename' | grep -v ' = 0$')" "" "(c) no rename failed (none had to retry)"
assert_eq "$(cat "$T"/strace.* | grep -E '^openat.*/cur/.*O_CREAT' | grep -c .)" 0 "(c) no file was created in cur/ directly"
"$MAILSTAGE" copy --tls none --progress json --source-password-file "$SRC_PW" \
	--state "$T/c.sqlite" "$SRC_URL" "$D" >"$T/c2" 2>"$T/c2.err"
assert_contains "$(tail -n1 "$T/c2")" '"copied":0,' "(c) second run copies 0"
assert_eq "$(find "$D" -path '*/cur/*' -type f | wc -l)" "$n_msgs" "(c) and adds no file"
# flag changes on the server: the files are renamed, their xattr rewritten
imap_tool src alice setflags INBOX 11 '\Seen $Later' &&
	imap_tool src alice setflags 'R&D' 6 '\Deleted \Flagged' || fail "setflags failed"
before=$(snapshot src alice)
"$MAILSTAGE" copy --tls none --progress json --source-password-file "$SRC_PW" \
	--state "$T/c.sqlite" "$SRC_URL" "$D" >"$T/c3" 2>"$T/c3.err"
assert_contains "$(tail -n1 "$T/c3")" '"copied":0,' "(c) after 2 flag changes: nothing copied again"
assert_contains "$(tail -n1 "$T/c3")" '"flags_updated":2,' "(c) and 2 flag sets carried over"
for f in INBOX 'R&D'; do
	assert_eq "$(md_listing "$D/$f")" "$(folder_dump src alice "$f" | cut -f1-4)" \
		"(c) '$f' after the flag changes: xattr flags, mtime, bytes"
	assert_eq "$(md_letters "$D/$f")" "$(src_letters src alice "$f")" "(c) '$f': info letters follow"
done

# ... and back from that directory to a fresh account
copy_to dave "$D" --no-state >"$T/c4" 2>"$T/c4.err"
rc=$?; [ "$rc" -eq 0 ] || cat "$T/c4.err" >&2
assert_eq "$rc" 0 "(c) copy of the Maildir back to IMAP exits 0"
same_as_source dave "(c) round trip"

assert_eq "$(snapshot src alice)" "$before" "the source is unchanged (UIDs, flags, dates, bytes)"
harness_done
