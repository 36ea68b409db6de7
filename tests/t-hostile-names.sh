#!/usr/bin/env bash
# t-hostile-names.sh - folder names made to attack the terminal (issue #15,
# finding 12).  A real Dovecot holds folders whose names carry an ANSI
# colour sequence, a window-title sequence ending in BEL and a C1 CSI
# (U+009B): `ls` (table and errors), `check`, the `copy` notices and
# errors, and `batch status` print them with every control escaped as \xNN
# (UTF-8 kept), and never one raw control byte but the newlines they end
# lines with.
set -u
. "$(dirname "$0")/lib/harness.sh"
harness_init
harness_timeout 300
harness_need_mailstage

dovecot_start src
dovecot_start dst --sep .
seed_corpus src alice INBOX 'cpython-email/msg_0[12]*.eml' >/dev/null
# Dovecot refuses such names in CREATE, but lists what its Maildir holds
# (older servers and other tools made them): the folders are made on disk,
# named in canonical modified UTF-7 as Dovecot names them there.
EVIL='Evil&ABs-[31mRed.&ABs-]0;owned&AAc-'
CSI='Csi&AJs-2J &ANw-n&AO8-.x'
LOCKED='Locked&ABs-[8mHidden' # ESC [8m: what follows is invisible
for n in "$EVIL" "$CSI" "$LOCKED"; do
	d=$SRC_MAILDIR/alice/Maildir/$n
	mkdir -p "$d/cur" "$d/new" "$d/tmp"
	cp "$MAILSTAGE_CORPUS/cpython-email/msg_01.eml" "$d/cur/1700000000.M1P1.host:2,S"
done
chown -R vmail:vmail "$SRC_MAILDIR/alice/Maildir"
EVIL_SHOWN='Evil%1B[31mRed.%1B]0;owned%07'
CSI_SHOWN='Csi\xc2\x9b2J Ünï.x'
SRC="imap://alice@127.0.0.1:$SRC_PORT/"
SPW=$(pass_file src alice)

# no_raw_controls WHAT TEXT: TEXT holds no control byte but LF (and no C1 in UTF-8)
no_raw_controls() {
	if printf '%s' "$2" | LC_ALL=C grep -q $'[\x01-\x09\x0b-\x1f\x7f]\|\xc2[\x80-\x9f]'; then
		printf '%s\n' "$2" | cat -v >&2
		fail "$1: raw control bytes reach the terminal"
	fi
	pass "$1: no raw control byte"
}

# ls: the table, JSON (escaped the JSON way) and one folder's error (the
# server cannot open it while its cur/ is unreadable)
chmod 000 "$SRC_MAILDIR/alice/Maildir/$LOCKED/cur"
OUT=$("$MAILSTAGE" ls --tls=none --password-file "$SPW" "$SRC" 2>&1)
assert_eq "$?" 0 "ls works"
assert_contains "$OUT" "$EVIL_SHOWN" "ls shows the ESC and BEL of a folder name as the msgstore escapes them (%1B, %07)"
assert_contains "$OUT" "$CSI_SHOWN" "ls shows a C1 CSI as \\xc2\\x9b and keeps UTF-8 letters"
assert_contains "$OUT" 'mailstage ls: Locked\x1b[8mHidden: ' "ls names a folder it cannot read with ESC as \\x1b"
no_raw_controls "ls" "$OUT"
OUT=$("$MAILSTAGE" ls --json --tls=none --password-file "$SPW" "$SRC" 2>&1)
assert_contains "$OUT" '"folder":"Csi\u009b2J Ünï.x"' "ls --json escapes a C1 control as \\u009b"
no_raw_controls "ls --json" "$OUT"
chmod 700 "$SRC_MAILDIR/alice/Maildir/$LOCKED/cur"

# check: nothing of the server's reaches the terminal raw either
OUT=$("$MAILSTAGE" check --tls=none --password-file "$SPW" "$SRC" 2>&1)
assert_eq "$?" 0 "check works"
no_raw_controls "check" "$OUT"

# copy to a server whose separator is '.': the name is renamed (a notice on
# stderr), then Dovecot refuses to create it (control characters): an error
DST="imap://bob@127.0.0.1:$DST_PORT/"
OUT=$("$MAILSTAGE" copy --tls=none --progress none --no-state --source-password-file "$SPW" \
	--dest-password-file "$(pass_file dst bob)" "$SRC" "$DST" 2>&1)
assert_contains "$OUT" "renamed '$EVIL_SHOWN' -> 'Evil%1B[31mRed_%1B]0;owned%07'" \
	"copy: the rename notice shows the names escaped"
assert_contains "$OUT" "renamed '$CSI_SHOWN' -> 'Csi\\xc2\\x9b2J Ünï_x'" \
	"copy: the rename notice shows a C1 control escaped"
no_raw_controls "copy" "$OUT"
[ -n "$(imap_dump dst bob INBOX)" ] && pass "copy: INBOX arrived" || fail "copy: INBOX is missing"
harness_done
