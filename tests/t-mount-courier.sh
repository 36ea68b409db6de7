#!/usr/bin/env bash
# t-mount-courier.sh - the mount against a second real server, Courier-IMAP
# (tests/lib/courier.sh), whose assumptions differ from Dovecot's: personal
# namespace "INBOX." with '.', folder names in UTF-8 on disk (Courier 5), LF
# line ends stored and CRLF served, so RFC822.SIZE and the bytes served can
# disagree.  Courier's Maildir++ tree is written on disk (Courier takes ~1.5 s
# per APPEND; it reads a tree it did not write, as after a migration to it):
# the corpus in INBOX with flags in the file names and dates in the mtimes,
# nested, non-ASCII and '&' folders.  Through the mount, every message of
# every folder must be what Courier serves over IMAP (independent client):
# SHA-256 of the bytes, `stat` size equal to the bytes read (whatever
# RFC822.SIZE said), flag letters, mtime = INTERNALDATE; and Courier's files
# (names carry the flags) are unchanged after everything was read.
set -u
. "$(dirname "$0")/lib/harness.sh"
. "$(dirname "$0")/lib/mount.sh"
. "$(dirname "$0")/lib/courier.sh"
mount_test_init 900

courier_start cou bob
MD=$COU_MAILDIR

(cd "$MAILSTAGE_CORPUS" && find . -type f -name '*.eml' | sed 's|^\./||' | LC_ALL=C sort) >"$T/all"
courier_seed_dir "$MD" "$MD" "$T/all"
grep '^enmime/' "$T/all" >"$T/enmime"
courier_seed_dir "$MD" "$MD/.Archiv.2023" "$T/enmime"
head -n 7 "$T/all" >"$T/seven"
courier_seed_dir "$MD" "$MD/.Entwürfe" "$T/seven"
courier_seed_dir "$MD" "$MD/.R&D" "$T/seven"
find "$MD" -path '*/cur/*' -type f | LC_ALL=C sort >"$T/files.before"

M=$T/mnt
mount_start cou bob "$M" dir_timeout=1
assert_eq "$(ls "$M")" "INBOX" "the personal namespace INBOX. shows as INBOX"
assert_eq "$(ls "$M/INBOX" | LC_ALL=C sort | tr '\n' ' ')" "Archiv Entwürfe R&D cur new tmp " \
	"Courier's folders under INBOX, names decoded from the modified UTF-7 Courier sends"

# want FOLDER: what the mount must list, from Courier over IMAP:
#   uid TAB flag letters TAB internaldate TAB served length (twice) TAB sha256
want() {
	local bodies=$T/bodies-$RANDOM
	mkdir -p "$bodies"
	# a unit separator, not a tab: read would merge a run of tabs (no flags)
	imap_dump cou bob "$1" --bodies "$bodies" | tr '\t' '\037' |
		while IFS=$'\037' read -r uid flags date _ sha; do
			printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$uid" "$(letters "$flags")" "$date" \
				"$(wc -c <"$bodies/$uid.eml")" "$(wc -c <"$bodies/$uid.eml")" "$sha"
		done
}
# letters FLAGS: Maildir info letters of IMAP flags, in ASCII order
letters() {
	local out="" f
	for f in $1; do
		case $f in
		'\Draft') out+=D ;; '\Flagged') out+=F ;; '\Answered') out+=R ;;
		'\Seen') out+=S ;; '\Deleted') out+=T ;;
		esac
	done
	printf '%s' "$out" | fold -w1 | LC_ALL=C sort | tr -d '\n'
}

for pair in "INBOX|INBOX" "INBOX.Archiv.2023|INBOX/Archiv/2023" \
	"INBOX.Entwürfe|INBOX/Entwürfe" "INBOX.R&D|INBOX/R&D"; do
	folder=${pair%%|*} dir=${pair#*|}
	w=$(want "$folder")
	n=$(printf '%s\n' "$w" | grep -c .)
	assert_ne "$n" 0 "$folder: Courier serves messages ($n)"
	assert_eq "$(mount_listing "$M/$dir")" "$w" \
		"$folder: every message through the mount = Courier's bytes (SHA-256), size = bytes read, flags, mtime = INTERNALDATE"
done

# Courier gives a folder never SELECTed read-write (no courierimapuiddb) a
# new UIDVALIDITY in every session: the mount's connections and refreshes
# must not take it for a recreated folder (reads ESTALE, names renamed).
uv() { imap_tool cou bob status "$1" | sed -n 's/.* uidvalidity=\([0-9]*\).*/\1/p'; }
[ "$(uv INBOX)" != "$(uv INBOX)" ] && pass "Courier announces another UIDVALIDITY in each session" ||
	harness_log "this Courier keeps its UIDVALIDITY: the renumbering case is not exercised"
ls "$M/INBOX/cur" >"$T/names.1"
seen=$(getfattr --absolute-names --only-values -n user.imap.uidvalidity "$M/INBOX/cur/$(head -n1 "$T/names.1")")
sleep 2.5
ls "$M/INBOX/cur" >/dev/null # older than dir_timeout: the refresher looks again
sleep 2
ls "$M/INBOX/cur" >"$T/names.2"
assert_eq "$(diff "$T/names.1" "$T/names.2" | wc -l)" 0 "names unchanged after refreshes in new sessions"
assert_eq "$(getfattr --absolute-names --only-values -n user.imap.uidvalidity "$M/INBOX/cur/$(head -n1 "$T/names.2")")" \
	"$seen" "user.imap.uidvalidity kept"
assert_eq "$(head -c 100 "$M/INBOX/cur/$(tail -n1 "$T/names.2")" | wc -c)" 100 \
	"a message is still readable after the refreshes"

# Courier's RFC822.SIZE is counted on its LF-ended files plus one CR per
# line; a message it cannot serve as stored (no final line end, nested
# without end) is served with another length: the mount must serve the
# bytes, not the announcement.
mkdir -p "$T/inbox-bodies"
imap_dump cou bob INBOX --bodies "$T/inbox-bodies" >"$T/inbox.dump"
lied=$(tr '\t' '\037' <"$T/inbox.dump" | while IFS=$'\037' read -r uid _ _ size _; do
	[ "$(wc -c <"$T/inbox-bodies/$uid.eml")" = "$size" ] || echo "$uid"
done | wc -l)
harness_log "Courier announced a wrong RFC822.SIZE for $lied INBOX messages; the mount served their bytes"

mount_stop "$M"
assert_eq "$MOUNT_RC" 0 "unmount exits 0"
find "$MD" -path '*/cur/*' -type f | LC_ALL=C sort >"$T/files.after"
assert_eq "$(cat "$T/files.after")" "$(cat "$T/files.before")" \
	"Courier's files unchanged: no flag set (\\Seen would rename them), none moved"
harness_done
