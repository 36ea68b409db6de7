#!/usr/bin/env bash
# t-copy.sh - mailstage copy between two real Dovecot servers: the corpus
# and generated 20/40 MiB messages byte-exact with flags, keywords and dates;
# the 40 MiB one left out and reported by default, copied with --max-size 0;
# --exclude of 'Deleted Items' and 'Junk E-Mail'; special-use mapping from a
# '.'-separator source (Maildir++, listescape) to a '/'-separator destination
# whose \Sent has another name; '/' inside a name; non-ASCII names; re-runs
# (0 copied; then 5 new and 3 flag changes); the source never changes.
set -u
. "$(dirname "$0")/lib/harness.sh"
. "$(dirname "$0")/lib/copy_helpers.sh"
harness_init
harness_need_mailstage
harness_timeout 900

dovecot_start src --sep . --listescape \
	--extra $'namespace inbox {\n  mailbox "Gesendete Objekte" {\n    special_use = \\Sent\n  }\n}\n'
dovecot_start dst --sep /
SRC_PW=$(pass_file src alice)
DST_PW=$(pass_file dst bob)
SRC_URL=imap://alice@127.0.0.1:$SRC_PORT/
DST_URL=imap://bob@127.0.0.1:$DST_PORT/
STATE=$T/state.sqlite

seed_corpus src alice INBOX
seed_corpus src alice 'Gesendete Objekte' 'enmime/*.eml'
seed_corpus src alice 'Deleted Items' 'cpython-email/msg_0*.eml'
seed_corpus src alice 'Junk E-Mail' 'spamassassin/spam*.eml'
seed_corpus src alice 'Entwürfe.Übersicht 2024' 'mime4j/*.eml'
seed_corpus src alice 'Projekte.a/b' 'stalwart-mail-parser/rfc__*.eml'
big_message "$T/m20.eml" 20 twenty
big_message "$T/m40.eml" 40 forty
seed_message src alice Big "$T/m20.eml" '\Seen $Label1' '12-Feb-2023 10:11:12 +0100' >/dev/null
seed_message src alice Big "$T/m40.eml" '\Flagged' '13-Feb-2023 10:11:12 +0100' >/dev/null
imap_tool dst bob create Sent >/dev/null
before=$(snapshot src alice)

# ---- first run
ms_copy --state "$STATE" --report "$T/report.csv" --exclude 'Deleted Items' \
	--exclude 'Junk E-Mail' "$SRC_URL" "$DST_URL" >"$T/out1" 2>"$T/err1"
assert_eq $? 0 "first copy exits 0 (left-out messages are not errors)"
assert_eq "$(folder_dump dst bob INBOX)" "$(folder_dump src alice INBOX)" \
	"INBOX (420 corpus messages): bytes, flags, keywords and dates equal"
assert_eq "$(folder_dump dst bob Sent)" "$(folder_dump src alice 'Gesendete Objekte')" \
	"source \\Sent 'Gesendete Objekte' went to the destination's \\Sent 'Sent'"
assert_eq "$(folder_dump dst bob 'Entwürfe/Übersicht 2024')" \
	"$(folder_dump src alice 'Entwürfe.Übersicht 2024')" \
	"non-ASCII hierarchy 'Entwürfe.Übersicht 2024' -> 'Entwürfe/Übersicht 2024'"
assert_eq "$(folder_dump dst bob 'Projekte/a_b')" "$(folder_dump src alice 'Projekte.a/b')" \
	"'a/b' (a '/' inside a level) copied as 'a_b' under the destination's '/' separator"
assert_contains "$(cat "$T/err1")" "renamed 'Projekte/a%2Fb' -> 'Projekte/a_b'" "the rename is reported"
assert_eq "$(folder_dump dst bob Big)" "$(folder_dump src alice Big | grep -v "	$(stat -c %s "$T/m40.eml")	" || true)" \
	"Big: the 20 MiB message copied byte-exact, the 40 MiB one not"
assert_eq "$(folder_dump dst bob Big | wc -l)" 1 "Big holds exactly one message"
dst_folders=$(imap_folders dst bob | grep -vi "noselect\|nonexistent" | cut -f1 | LC_ALL=C sort | tr '\n' ' ')
assert_eq "$dst_folders" "Big Entwürfe/Übersicht 2024 INBOX Projekte/a_b Sent " \
	"destination folders: no 'Deleted Items', no 'Junk E-Mail', no second Sent"
n_del=$(count_messages src alice 'Deleted Items')
n_junk=$(count_messages src alice 'Junk E-Mail')
assert_eq "$(grep -c ',excluded-folder,no,' "$T/report.csv")" "$((n_del + n_junk))" \
	"report: one row per message of the excluded folders ($n_del + $n_junk)"
assert_eq "$(grep -c ',over-size-limit,no,' "$T/report.csv")" 1 "report: the 40 MiB message, over-size-limit"
assert_contains "$(grep over-size-limit "$T/report.csv")" 'Big,Big,' "report row names the folder"
assert_contains "$(cat "$T/out1")" "0 failed" "summary says nothing failed"

# ---- second run: nothing to do
ms_copy --state "$STATE" --exclude 'Deleted Items' --exclude 'Junk E-Mail' \
	--progress json "$SRC_URL" "$DST_URL" >"$T/out2"
assert_eq $? 0 "second run exits 0"
assert_contains "$(tail -n1 "$T/out2")" '"copied":0,' "second run copies 0 messages"
assert_eq "$(folder_dump dst bob INBOX | wc -l)" 420 "INBOX still 420 messages (no duplicate)"

# ---- third run: 5 new, 3 flag changes
for i in 1 2 3 4 5; do
	small_message "$T/new$i.eml" "$i"
	seed_message src alice INBOX "$T/new$i.eml" '\Answered' '' >/dev/null
done
imap_tool src alice setflags INBOX 3 '\Flagged $Work'
imap_tool src alice setflags INBOX 7 '$Other'
imap_tool src alice setflags 'Gesendete Objekte' 2 '\Seen \Draft'
before=$(snapshot src alice)
ms_copy --state "$STATE" --exclude 'Deleted Items' --exclude 'Junk E-Mail' \
	--progress json "$SRC_URL" "$DST_URL" >"$T/out3"
assert_eq $? 0 "third run exits 0"
assert_contains "$(tail -n1 "$T/out3")" '"copied":5,' "third run copies exactly 5"
assert_contains "$(tail -n1 "$T/out3")" '"flags_updated":3,' "third run updates exactly 3 flag sets"
assert_eq "$(folder_dump dst bob INBOX)" "$(folder_dump src alice INBOX)" "INBOX equal after the third run"
assert_eq "$(folder_dump dst bob Sent)" "$(folder_dump src alice 'Gesendete Objekte')" "Sent equal after the third run"

# ---- --max-size 0 takes the 40 MiB message
ms_copy --state "$STATE" --max-size 0 --exclude 'Deleted Items' --exclude 'Junk E-Mail' \
	--progress json "$SRC_URL" "$DST_URL" >"$T/out4"
assert_eq $? 0 "--max-size 0 run exits 0"
assert_contains "$(tail -n1 "$T/out4")" '"copied":1,' "--max-size 0 copies the one 40 MiB message"
assert_eq "$(folder_dump dst bob Big)" "$(folder_dump src alice Big)" "Big equal with --max-size 0 (40 MiB byte-exact)"

after=$(snapshot src alice)
assert_eq "$after" "$before" "the source is unchanged (UIDs, flags, dates, bytes)"
harness_done
