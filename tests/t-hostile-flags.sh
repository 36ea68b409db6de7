#!/usr/bin/env bash
# t-hostile-flags.sh - a source server whose FLAGS items are not flags
# (issue #15, finding 1): a keyword sent as a literal holding CRLF and two
# IMAP commands, a quoted string with a space, a \ flag that is no system
# flag, NIL.  The scripted source (tests/fake/faultimap.py evilflags) is
# copied to a real Dovecot that records its sessions (rawlog): the
# destination never receives the smuggled commands (no line of them in its
# rawlog, its folder "Important" and that folder's message are still
# there), every message arrives with its bytes and its real flags (\Seen
# $Good) and nothing else, and the copy says which flags it left out, on
# stderr and in the --report, with the control characters escaped.  The
# same source copied to a Maildir directory gives the same flags.
set -u
. "$(dirname "$0")/lib/harness.sh"
. "$(dirname "$0")/lib/fake.sh"
harness_init
harness_timeout 300
harness_need_mailstage

RAW=$T/rawlog
mkdir -p "$RAW/bob"
chown -R vmail:vmail "$RAW"
dovecot_start dst --extra "protocol imap {
  rawlog_dir = $RAW/%u
}"
DPW=$(pass_file dst bob)
DURL="imap://bob@127.0.0.1:$DST_PORT/"
seed_message dst bob Important "$MAILSTAGE_CORPUS/cpython-email/msg_01.eml" '\Flagged' >/dev/null
BEFORE=$(imap_dump dst bob Important)
[ -n "$BEFORE" ] && pass "the destination has a folder Important with a message" ||
	fail "seeding Important failed"
echo pw >"$T/pw"
chmod 600 "$T/pw"
mkdir -p "$T/want"
"$HARNESS_PYTHON" "$FAKE" --dump "$T/want"
WANT=$(sha256sum "$T"/want/*.eml | cut -d' ' -f1 | sort)

fake_start evilflags
OUT=$(timeout -k 5 120 "$MAILSTAGE" copy --tls=none --timeout 5 --progress none --no-state \
	--source-password-file "$T/pw" --dest-password-file "$DPW" --report "$T/report.csv" \
	--map "INBOX=Copied" "$FURL" "$DURL" 2>&1)
RC=$?
printf '%s\n' "$OUT" >"$T/copy.out"

# the destination's own record: what it received (rawlog lines start with
# a time stamp), what it answered, and what it still holds
if grep -rqaE '^([0-9.]+ )?INJ[12] ' "$RAW/bob"; then
	grep -rna 'INJ' "$RAW/bob" >&2
	fail "the destination received the smuggled commands as commands"
fi
ls "$RAW"/bob/*.in >/dev/null 2>&1 && pass "the destination received no command INJ1/INJ2 and answered none" ||
	fail "Dovecot wrote no rawlog: cannot tell what it received"
imap_folders dst bob | cut -f1 | grep -qx Important && pass "the folder Important still exists" ||
	fail "the folder Important was deleted"
assert_eq "$(imap_dump dst bob Important)" "$BEFORE" "Important still holds its message, unchanged"

assert_eq "$RC" 0 "copy exits 0: every message copied"
DUMP=$(imap_dump dst bob Copied)
assert_eq "$(printf '%s\n' "$DUMP" | cut -f5 | sort)" "$WANT" "all 3 messages arrived byte-exact"
assert_eq "$(printf '%s\n' "$DUMP" | cut -f2 | sort -u)" '$Good \Seen
\Seen' "they carry \\Seen and \$Good, and no other flag"
assert_contains "$OUT" 'UID 1: copied; left out what the source sent as flags that are not IMAP flags: "Evil\x0d\x0aINJ1 DELETE "Important"\x0d\x0aINJ2 NOOP"' \
	"copy names the keyword literal it left out, its CR LF escaped"
assert_contains "$OUT" 'UID 2: copied; left out what the source sent as flags that are not IMAP flags: "two words" "\Bogus" "NIL"' \
	"copy names the quoted string, the bogus system flag and NIL it left out"
if printf '%s' "$OUT" | LC_ALL=C grep -q $'[\x01-\x09\x0b-\x1f\x7f]'; then
	fail "copy printed raw control characters"
fi
pass "copy printed no raw control character"
assert_eq "$(grep -c ',bad-flags,no,' "$T/report.csv")" 2 "the report has a bad-flags row for UIDs 1 and 2"

# a Maildir destination: the same flags, in file names and nowhere else
OUT=$(timeout -k 5 120 "$MAILSTAGE" copy --tls=none --timeout 5 --progress none --no-state \
	--source-password-file "$T/pw" "$FURL" "$T/maildir" 2>&1)
assert_eq "$?" 0 "copy to a Maildir exits 0"
assert_eq "$(find "$T/maildir" -type f -path '*/cur/*' | grep -c ':2,S$')" 3 \
	"the 3 files are named with flag S only"
if grep -rqa 'INJ1' "$T/maildir"; then
	fail "the bad keyword reached the Maildir"
fi
pass "the bad keyword reached no file of the Maildir"
fake_stop
harness_done
