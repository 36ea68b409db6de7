#!/usr/bin/env bash
# t-interop.sh - mailstage against a second IMAP implementation: Cyrus IMAP
# 3.6 (Debian 12) beside Dovecot 2.3.  `check` and `ls` on Cyrus (personal
# namespace "INBOX." with '.', other users "user."; STARTTLS and imaps with
# the harness CA; the Cyrus admin acting as a user by SASL PLAIN authzid);
# `copy` Dovecot -> Cyrus and Cyrus -> Dovecot with non-ASCII names, a name
# with a space, special-use Sent/Trash and a '/' inside a Dovecot folder
# level: bytes (SHA-256), flags and INTERNALDATE equal as the independent
# client sees them, what Cyrus refuses reported message by message, a second
# run copies nothing; a copy through the Cyrus admin login; a Cyrus with
# unixhierarchysep ('/', prefix "INBOX/") as destination; `mount` of a
# Cyrus account read byte-exact (when FUSE is there).  docs/interop.md
# explains the differences this test pins down.
set -u
. "$(dirname "$0")/lib/harness.sh"
. "$(dirname "$0")/lib/cyrus.sh"
. "$(dirname "$0")/lib/copy_helpers.sh"
. "$(dirname "$0")/lib/mount.sh"
harness_init
harness_timeout 900
harness_need_root
harness_need_mailstage
cyrus_available || skip "Cyrus IMAP not available: run scripts/setup.sh"

cyrus_start cy
dovecot_start dsrc --sep . --listescape
dovecot_start ddst --sep /
CY=127.0.0.1:$CY_PORT

# ---------------------------------------------------------------- check, ls
cyrus_create cy alice INBOX.Sent '\Sent' >/dev/null
cyrus_create cy alice INBOX.Trash '\Trash' >/dev/null
cyrus_seed cy alice INBOX 'enmime/mail__*.eml'
cyrus_seed cy alice INBOX.Sent 'cpython-email/msg_0*.eml'
cyrus_seed cy alice INBOX.Trash 'spamassassin/spam__0*.eml'
cyrus_seed cy alice 'INBOX.Entwürfe.Übersicht 2024' 'ruby-mail/plain_emails__*.eml'
cyrus_seed cy alice 'INBOX.a b' 'mime4j/testmsgs__*.eml'

# n_messages NAME USER FOLDER: MESSAGES by STATUS (the independent client)
n_messages() {
	imap_tool "$1" "$2" status "$3" | sed -n 's/.*messages=\([0-9]*\).*/\1/p'
}

run() { # run CMD... -> OUT (stdout+stderr) and RC
	OUT=$("$@" 2>&1)
	RC=$?
}
run "$MAILSTAGE" check --tls=none --password-file "$(pass_file cy alice)" "imap://alice@$CY/"
assert_eq "$RC" 0 "check: plain login to Cyrus"
assert_contains "$OUT" 'Namespace:    personal     prefix "INBOX." separator "."' \
	"check shows Cyrus's personal namespace INBOX. with '.'"
assert_contains "$OUT" 'Namespace:    other users  prefix "user." separator "."' \
	"check shows the other users' namespace user."
run "$MAILSTAGE" check --ca-file "$CA_FILE" --password-file "$(pass_file cy alice)" \
	"imap://alice@localhost:$CY_PORT/"
assert_eq "$RC" 0 "check: STARTTLS to Cyrus with the harness CA"
assert_contains "$OUT" "certificate verified" "the Cyrus certificate is verified"
run "$MAILSTAGE" check --ca-file "$CA_FILE" --password-file "$(pass_file cy alice)" \
	"imaps://alice@localhost:$CY_TLSPORT/"
assert_eq "$RC" 0 "check: imaps to Cyrus"

run "$MAILSTAGE" check --tls=none --auth=plain --authzid alice \
	--password-file "$(pass_file cy admin)" "imap://admin@$CY/"
assert_eq "$RC" 0 "check: the Cyrus admin logs in as alice (SASL PLAIN authzid)"
assert_contains "$OUT" "Login:        ok as admin for alice" "check says whom the admin acts for"
assert_contains "$OUT" "Folders:      6 " "and sees alice's 6 folders"
echo wrong-password >"$T/badpw"
run "$MAILSTAGE" check --tls=none --auth=plain --authzid alice --password-file "$T/badpw" \
	"imap://admin@$CY/"
assert_eq "$RC" 3 "a wrong admin password is refused (exit 3)"
run "$MAILSTAGE" check --tls=none --auth=plain --authzid alice \
	--password-file "$(pass_file cy bob)" "imap://bob@$CY/"
assert_eq "$RC" 3 "bob (no admin) cannot act as alice"

run "$MAILSTAGE" ls --tls=none --json --password-file "$(pass_file cy alice)" "imap://alice@$CY/"
assert_eq "$RC" 0 "ls of the Cyrus account"
# ls names folders as copy does (what --exclude takes): the personal
# namespace's 'INBOX.' prefix left out, levels joined with '/'
for f in INBOX INBOX.Sent INBOX.Trash 'INBOX.Entwürfe.Übersicht 2024' 'INBOX.a b'; do
	n=$(n_messages cy alice "$f")
	name=${f#INBOX.}
	row=$(printf '%s\n' "$OUT" | grep -F "\"folder\":\"${name//./\/}\"")
	assert_contains "$row" "\"messages\":$n," "ls: '$f' holds $n messages (as '${name//./\/}')"
done
assert_contains "$(printf '%s\n' "$OUT" | grep -F '"folder":"Sent"')" '"special_use":"\\Sent"' \
	"ls: INBOX.Sent is Cyrus's \\Sent"

# ---------------------------------------------------------------- Dovecot -> Cyrus
# Dovecot (Maildir++, '.', listescape) holds a '/' inside a level; Cyrus
# refuses '/' in names, and (like any strict RFC 5322 reader) messages with
# broken header lines: those must be reported one by one, never lost silently.
seed_corpus dsrc alice INBOX
seed_corpus dsrc alice Sent 'cpython-email/msg_1*.eml'
seed_corpus dsrc alice Trash 'stalwart-mail-parser/rfc__*.eml'
seed_corpus dsrc alice 'Entwürfe.Übersicht 2024' 'ruby-mail/m*.eml'
seed_corpus dsrc alice 'Projekte.a/b' 'cpython-email/msg_0*.eml'
seed_corpus dsrc alice 'Q&A 2024' 'mime4j/testmsgs__*.eml'
SRC_PW=$(pass_file dsrc alice)
DST_PW=$(pass_file cy bob)
D2C=("imap://alice@127.0.0.1:$DSRC_PORT/" "imap://bob@$CY/")
ms_copy --state "$T/d2c.sqlite" --report "$T/d2c.csv" "${D2C[@]}" >"$T/d2c.out" 2>"$T/d2c.err"
rc=$?
# what Cyrus refuses of the same corpus when an independent client sends it
cyrus_seed cy dave INBOX '*/*.eml'
want_refused=$(grep -c 'invalid header' "$SEED_PLAN.refused")
n_refused=$(tr -d '\r' <"$T/d2c.csv" |
	grep -c '^INBOX,INBOX,[0-9]*,.*,refused,yes,the destination refused it: Message contains invalid header$')
assert_eq "$rc" 1 "Dovecot -> Cyrus exits 1: some messages were refused"
assert_eq "$n_refused" "$want_refused" \
	"report: the $want_refused INBOX messages Cyrus refuses for invalid headers, each with Cyrus's words"
assert_eq "$(tail -n +2 "$T/d2c.csv" | tr -d '\r' |
	grep -vc ',refused,yes,the destination refused it: Message contains invalid header$')" 0 \
	"report: nothing else failed"
assert_contains "$(cat "$T/d2c.err")" "renamed 'Projekte/a%2Fb' -> 'Projekte/a_b': the name holds characters the destination refuses" \
	"the '/' inside a Dovecot level is renamed for Cyrus, and the rename reported"

# dump_kept NAME USER FOLDER REPORT-FOLDER: folder_dump without the UIDs the
# report lists for REPORT-FOLDER (the messages the destination refused)
dump_kept() {
	local uids
	uids=$(awk -v f="$4," 'index($0, f) == 1' "$T/d2c.csv" | grep -F ',refused,' |
		cut -d, -f3 -s | grep -v '"' | tr '\n' ' ')
	imap_dump "$1" "$2" "$3" | awk -F'\t' -v u=" $uids " 'index(u, " " $1 " ") == 0' |
		cut -f2- | LC_ALL=C sort
}
for pair in 'INBOX|INBOX|INBOX' 'Sent|INBOX.Sent|Sent' 'Trash|INBOX.Trash|Trash' \
	'Entwürfe.Übersicht 2024|INBOX.Entwürfe.Übersicht 2024|Entwürfe/Übersicht 2024' \
	'Projekte.a/b|INBOX.Projekte.a_b|Projekte/a%2Fb' 'Q&A 2024|INBOX.Q&A 2024|Q&A 2024'; do
	IFS='|' read -r sf df rf <<<"$pair"
	want=$(dump_kept dsrc alice "$sf" "$rf")
	[ -n "$want" ] || fail "nothing to compare in '$sf'"
	assert_eq "$(folder_dump cy bob "$df")" "$want" \
		"Dovecot '$sf' -> Cyrus '$df': bytes, flags, keywords, INTERNALDATE equal"
done
assert_eq "$(imap_folders cy bob | awk -F'\t' '$1 == "INBOX.Sent" || $1 == "INBOX.Trash" {print $1 "=" $3}' | tr '\n' ' ')" \
	'INBOX.Sent=\Sent INBOX.Trash=\Trash ' "the folders mailstage made on Cyrus carry \\Sent and \\Trash"
ms_copy --state "$T/d2c.sqlite" --progress json "${D2C[@]}" >"$T/d2c.out2" 2>/dev/null
assert_contains "$(tail -n1 "$T/d2c.out2")" '"copied":0,' "second Dovecot -> Cyrus run copies 0"
assert_eq "$(n_messages cy bob INBOX)" "$((420 - n_refused))" "no duplicate on Cyrus after the second run"

# ---------------------------------------------------------------- Cyrus -> Dovecot
before=$(snapshot cy alice)
SRC_PW=$(pass_file cy alice)
DST_PW=$(pass_file ddst bob)
C2D=("imap://alice@$CY/" "imap://bob@127.0.0.1:$DDST_PORT/")
ms_copy --state "$T/c2d.sqlite" "${C2D[@]}" >"$T/c2d.out" 2>"$T/c2d.err"
assert_eq "$?" 0 "Cyrus -> Dovecot exits 0"
for pair in 'INBOX|INBOX' 'INBOX.Sent|Sent' 'INBOX.Trash|Trash' \
	'INBOX.Entwürfe.Übersicht 2024|Entwürfe/Übersicht 2024' 'INBOX.a b|a b'; do
	IFS='|' read -r sf df <<<"$pair"
	assert_eq "$(folder_dump ddst bob "$df")" "$(folder_dump cy alice "$sf")" \
		"Cyrus '$sf' -> Dovecot '$df': bytes, flags, keywords, INTERNALDATE equal"
done
# Cyrus made 'INBOX.Entwürfe' a mailbox of its own (an intermediate it lists
# as selectable, empty) when its child was created: empty folders are copied
assert_eq "$(imap_folders ddst bob | grep -v Noselect | cut -f1,3 | tr '\t\n' '= ')" \
	'Entwürfe= Entwürfe/Übersicht 2024= INBOX= Sent=\Sent Trash=\Trash a b= ' \
	"Dovecot gets Cyrus's folders without the INBOX. prefix, Sent and Trash special-use"
ms_copy --state "$T/c2d.sqlite" --progress json "${C2D[@]}" >"$T/c2d.out2" 2>/dev/null
assert_contains "$(tail -n1 "$T/c2d.out2")" '"copied":0,' "second Cyrus -> Dovecot run copies 0"
assert_eq "$(snapshot cy alice)" "$before" "the Cyrus source is unchanged (UIDs, flags, bytes)"

# ---------------------------------------------------------------- admin login
# The Cyrus admin copies into carol's mailbox (authzid); the default state
# file (under $HOME) is the mailbox's, so a later run as carol herself
# finds everything there.
seed_corpus dsrc bob Notizen 'cpython-email/msg_2*.eml'
SRC_PW=$(pass_file dsrc bob)
DST_PW=$(pass_file cy admin)
HOME=$T/home ms_copy --auth=plain --dest-authzid carol \
	"imap://bob@127.0.0.1:$DSRC_PORT/" "imap://admin@$CY/" >/dev/null 2>"$T/adm.err"
assert_eq "$?" 0 "copy into carol's Cyrus mailbox as the admin (--dest-authzid carol)"
assert_eq "$(folder_dump cy carol INBOX.Notizen)" "$(folder_dump dsrc bob Notizen)" \
	"carol's INBOX.Notizen equals the source, read as carol"
DST_PW=$(pass_file cy carol)
HOME=$T/home ms_copy --progress json "imap://bob@127.0.0.1:$DSRC_PORT/" "imap://carol@$CY/" \
	>"$T/adm.out2" 2>/dev/null
assert_contains "$(tail -n1 "$T/adm.out2")" '"copied":0,' \
	"a run as carol herself shares the admin run's state: copies 0"

# ---------------------------------------------------------------- unixhierarchysep
# Cyrus with '/' as separator (prefix "INBOX/"): a '.' inside a level is an
# ordinary character there and must not be renamed.
cyrus_start cyu --sep /
seed_corpus ddst carol 'v1.2/Notes' 'cpython-email/msg_2*.eml'
SRC_PW=$(pass_file ddst carol)
DST_PW=$(pass_file cyu bob)
ms_copy --state "$T/u.sqlite" "imap://carol@127.0.0.1:$DDST_PORT/" \
	"imap://bob@127.0.0.1:$CYU_PORT/" >/dev/null 2>"$T/u.err"
assert_eq "$?" 0 "Dovecot -> Cyrus with unixhierarchysep exits 0"
assert_eq "$(folder_dump cyu bob 'INBOX/v1.2/Notes')" "$(folder_dump ddst carol 'v1.2/Notes')" \
	"Dovecot 'v1.2/Notes' -> Cyrus 'INBOX/v1.2/Notes' (prefix INBOX/, '.' kept), equal"
assert_eq "$(cat "$T/u.err")" "" "nothing renamed, nothing reported"

# ---------------------------------------------------------------- mount
if [ ! -c /dev/fuse ] || ! command -v fusermount3 >/dev/null; then
	echo "# no FUSE here: the mount part is left out"
	harness_done
fi
M=$T/mnt
mount_start cy alice "$M"
want=$(imap_dump cy alice INBOX.Sent | awk -F'\t' '{print $1 "\t" $3 "\t" $4 "\t" $4 "\t" $5}')
assert_eq "$(mount_listing "$M/INBOX/Sent" | cut -f1,3-6)" "$want" \
	"mount: Cyrus INBOX.Sent as INBOX/Sent, every message byte-exact (SHA-256), sizes and dates"
want=$(imap_dump cy alice 'INBOX.Entwürfe.Übersicht 2024' | cut -f5)
assert_eq "$(mount_listing "$M/INBOX/Entwürfe/Übersicht 2024" | cut -f6)" "$want" \
	"mount: the non-ASCII folder read byte-exact"
mount_stop "$M"
M2=$T/mnt-admin
mount_url "imap://admin@$CY/" "$(pass_file cy admin)" "$M2" "auth=plain,authzid=alice"
assert_eq "$(ls "$M2/INBOX/cur" | wc -l)" "$(n_messages cy alice INBOX)" \
	"mount as the Cyrus admin with -o authzid=alice shows alice's INBOX"
mount_stop "$M2"
harness_done
