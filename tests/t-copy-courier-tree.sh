#!/usr/bin/env bash
# t-copy-courier-tree.sh - copying from a Courier-IMAP Maildir++ tree on disk
# (a copy of the old server's directory, `cp -a`).  Courier keeps each
# folder's UIDs and UIDVALIDITY in courierimapuiddb once the folder was
# SELECTed (the format of Dovecot's dovecot-uidlist version 1): a tree copy
# must carry those identities, the ones Courier serves over IMAP, so the
# copied messages keep their UIDs where the destination records them (a
# Maildir destination: user.imap.uid/uidvalidity and the file names) and
# re-runs recognise them.  Flags, dates and bytes (CRs aside: Courier keeps LF
# on disk and serves CRLF) equal what Courier serves.
set -u
. "$(dirname "$0")/lib/harness.sh"
. "$(dirname "$0")/lib/copy_helpers.sh"
. "$(dirname "$0")/lib/courier.sh"
courier_copy_test_init 600

courier_start cou bob
dovecot_start dst --sep /
MD=$COU_MAILDIR
DST_URL=imap://carol@127.0.0.1:$DST_PORT/

# Messages Courier serves whole: 29 of the corpus lack a final line end
# (served otherwise, see docs/interop.md); leave them out.
(cd "$MAILSTAGE_CORPUS" && for f in enmime/*.eml cpython-email/*.eml; do
	[ "$(tail -c1 "$f" | od -An -tx1 | tr -d ' ')" = 0a ] && echo "$f"
done | LC_ALL=C sort) >"$T/whole"
grep '^enmime/' "$T/whole" >"$T/inbox"
grep '^cpython-email/' "$T/whole" | head -n 40 >"$T/archiv"
courier_seed_dir "$MD" "$MD" "$T/inbox" 172800
courier_seed_dir "$MD" "$MD/.Archiv" "$T/archiv" 172800

# A user had read one message in each folder: Courier SELECTed the folder,
# wrote its courierimapuiddb and renamed the file (new info letters).
imap_tool cou bob setflags INBOX 2 '\Seen \Answered' &&
	imap_tool cou bob setflags INBOX.Archiv 3 '\Seen' || fail "setflags on Courier failed"
for f in "$MD/courierimapuiddb" "$MD/.Archiv/courierimapuiddb"; do
	assert_eq "$(head -c2 "$f" 2>/dev/null)" "1 " "Courier wrote ${f#"$MD"/} (version 1)"
done

# The old server's tree copied aside, then to a Maildir directory.
cp -a "$MD" "$T/tree"
ms_dir() {
	"$MAILSTAGE" copy --progress json --state "$T/state.db" "$T/tree" "$T/out" \
		>"$T/run$1.out" 2>"$T/run$1.err"
}
ms_dir 1
assert_eq "$?" 0 "tree -> Maildir exits 0"

# ids_served FOLDER: "uid uidvalidity" of every message as Courier serves it.
ids_served() {
	local uv
	uv=$(imap_tool cou bob status "$1" | sed -n 's/.* uidvalidity=\([0-9]*\).*/\1/p')
	imap_dump cou bob "$1" | cut -f1 | sed "s/\$/ $uv/" | LC_ALL=C sort
}
# ids_copied DIR: "uid uidvalidity" from the user.imap.* xattrs of DIR/cur/*.
ids_copied() {
	local f
	for f in "$1"/cur/*; do
		printf '%s %s\n' "$(getfattr --absolute-names --only-values -n user.imap.uid "$f")" \
			"$(getfattr --absolute-names --only-values -n user.imap.uidvalidity "$f")"
	done | LC_ALL=C sort
}
assert_eq "$(ids_copied "$T/out/INBOX")" "$(ids_served INBOX)" \
	"INBOX: every message copied with the UID and UIDVALIDITY Courier serves"
assert_eq "$(ids_copied "$T/out/Archiv")" "$(ids_served INBOX.Archiv)" \
	"Archiv: every message copied with the UID and UIDVALIDITY Courier serves"
uv=$(imap_tool cou bob status INBOX | sed -n 's/.* uidvalidity=\([0-9]*\).*/\1/p')
assert_eq "$(ls "$T/out/INBOX/cur" | grep -c "V$uv\\.")" "$(grep -c . "$T/inbox")" \
	"the copied files are named with Courier's UIDVALIDITY"

# A message read on the old server after the first copy: Courier renames its
# file; the next run from a fresh copy of the tree updates that flag only.
imap_tool cou bob setflags INBOX 5 '\Seen \Flagged' || fail "setflags on Courier failed"
rm -rf "$T/tree" && cp -a "$MD" "$T/tree"
ms_dir 2
assert_eq "$?" 0 "second run exits 0"
assert_contains "$(tail -n1 "$T/run2.out")" '"copied":0' "second run copies nothing"
assert_contains "$(tail -n1 "$T/run2.out")" '"flags_updated":1' "second run updates the one flag change"

# dump_lf NAME USER FOLDER: flags, date, SHA-256 of the bytes without CR
# (Courier adds CR to the lines it serves, some files have CRLF already).
dump_lf() {
	local d=$T/bodies-$RANDOM uid flags date
	mkdir -p "$d"
	imap_dump "$1" "$2" "$3" --bodies "$d" | tr '\t' '\037' |
		while IFS=$'\037' read -r uid flags date _; do
			printf '%s\t%s\t%s\n' "$flags" "$date" \
				"$(tr -d '\r' <"$d/$uid.eml" | sha256sum | cut -d' ' -f1)"
		done | LC_ALL=C sort
}
# The Maildir copy back on a Dovecot account, to read it with the same client.
"$MAILSTAGE" copy --tls none --progress none --dest-password-file "$(pass_file dst carol)" \
	"$T/out" "$DST_URL" >"$T/run3.out" 2>&1
assert_eq "$?" 0 "Maildir -> Dovecot exits 0"
assert_eq "$(dump_lf dst carol INBOX)" "$(dump_lf cou bob INBOX)" \
	"INBOX: flags, dates and bytes (CRs aside) as Courier serves them"
assert_eq "$(dump_lf dst carol Archiv)" "$(dump_lf cou bob INBOX.Archiv)" \
	"Archiv: flags, dates and bytes (CRs aside) as Courier serves them"
harness_done
