#!/usr/bin/env bash
# t-copy-twins.sh - byte-identical messages in one folder (the corpus has a
# pair: ruby-mail's raw_email12 and attachment_content_location) that differ
# only in flags and INTERNALDATE are never taken for one another when the
# copy looks for what the destination already holds:
#  - a destination copy the state already records for one twin is not
#    "found" again for the other (--dedupe; the same rule serves a resumed
#    batch and the re-check after a lost connection): both are copied;
#  - matching without state against copies another tool made in another
#    order pairs each twin with the copy of the same date, so flags are not
#    swapped across dates; with only one twin's copy there, the other twin
#    does not take it (a twin only takes a copy of its own date);
#  - a kill -9 after the server stored both twins but before the state
#    recorded them, then a re-run: each twin once, flags and dates its own.
set -u
. "$(dirname "$0")/lib/harness.sh"
. "$(dirname "$0")/lib/copy_helpers.sh"
harness_init
harness_need_mailstage
harness_timeout 300

dovecot_start src
dovecot_start dst
SRC_PW=$(pass_file src alice)
DST_PW=$(pass_file dst bob)
SRC_URL=imap://alice@127.0.0.1:$SRC_PORT/
DST_URL=imap://bob@127.0.0.1:$DST_PORT/
TWIN=$MAILSTAGE_CORPUS/ruby-mail/mime_emails__raw_email12.eml
OTHER=$MAILSTAGE_CORPUS/ruby-mail/attachment_emails__attachment_content_location.eml
cmp -s "$TWIN" "$OTHER" || fail "the corpus twins are no longer byte-identical"

# The older twin first (lower UID), as a mailbox that got the same mail twice.
OLD_DATE=978832523 # 2001-01-07
NEW_DATE=1078071419 # 2004-02-29
seed_message src alice Twins "$TWIN" '\Flagged' "$OLD_DATE" >/dev/null || fail "seeding"
seed_message src alice Twins "$OTHER" '\Seen \Answered $Forwarded' "$NEW_DATE" >/dev/null ||
	fail "seeding"
want=$(folder_dump src alice Twins)
before=$(snapshot src alice)
assert_eq "$(wc -l <<<"$want")" 2 "the source folder holds the two twins"

reset_dest() {
	imap_tool dst bob delete Twins >/dev/null 2>&1
	rm -f "$T/st.sqlite"*
}

# 1. A copy the state records for the old twin is not the new twin's.
reset_dest
ms_copy --state "$T/st.sqlite" --include Twins --before 2002-01-01 "$SRC_URL" "$DST_URL" \
	>/dev/null 2>&1
assert_eq "$?" 0 "the copy of the old twin alone (--before) exits 0"
assert_eq "$(count_messages dst bob Twins)" 1 "the first run copied one twin"
ms_copy --state "$T/st.sqlite" --include Twins --dedupe --progress json "$SRC_URL" "$DST_URL" \
	>"$T/out" 2>&1
assert_eq "$?" 0 "the --dedupe run exits 0"
assert_eq "$(folder_dump dst bob Twins)" "$want" \
	"--dedupe: both twins at the destination, each with its own flags and date"
assert_contains "$(tail -n1 "$T/out")" '"copied":1,' "--dedupe uploaded the new twin"

# 1b. The same into a Maildir directory (records name files, not UIDs):
# two files, each with its twin's flag letters and mtime = its date.
DIR=$T/maildir
rm -rf "$DIR" "$T/st.sqlite"*
ms_copy --state "$T/st.sqlite" --include Twins --before 2002-01-01 "$SRC_URL" "$DIR" \
	>/dev/null 2>&1
assert_eq "$?" 0 "into a directory: the old twin alone exits 0"
ms_copy --state "$T/st.sqlite" --include Twins --dedupe "$SRC_URL" "$DIR" >/dev/null 2>&1
assert_eq "$?" 0 "into a directory: the --dedupe run exits 0"
got=$(for f in "$DIR"/Twins/cur/*; do
	[ -f "$f" ] && printf '%s %s\n' "$(stat -c %Y "$f")" "${f##*:2,}"
done | LC_ALL=C sort)
assert_eq "$got" "$NEW_DATE RS
$OLD_DATE F" "into a directory: both twins, each with its own flag letters and mtime"

# 2. No state, the destination filled by another tool newest first: each
# twin is matched with the copy of its own date, nothing is uploaded.
reset_dest
seed_message dst bob Twins "$TWIN" '\Seen \Answered $Forwarded' "$NEW_DATE" >/dev/null
seed_message dst bob Twins "$TWIN" '\Flagged' "$OLD_DATE" >/dev/null
ms_copy --no-state --include Twins --progress json "$SRC_URL" "$DST_URL" >"$T/out" 2>&1
assert_eq "$?" 0 "the run without state exits 0"
assert_contains "$(tail -n1 "$T/out")" '"matched":2,' "without state both twins were found"
assert_eq "$(folder_dump dst bob Twins)" "$want" \
	"without state: the flags stay with the copy of the same date"

# 2b. No state, only the newer twin's copy there: the older twin (listed
# first) must not take it; the newer one finds it, the older is uploaded.
reset_dest
seed_message dst bob Twins "$TWIN" '\Seen \Answered $Forwarded' "$NEW_DATE" >/dev/null
ms_copy --no-state --include Twins --progress json "$SRC_URL" "$DST_URL" >"$T/out" 2>&1
assert_eq "$?" 0 "the run without state against one copy exits 0"
assert_contains "$(tail -n1 "$T/out")" '"copied":1,"bytes":984,"matched":1,' "one twin found, the other uploaded"
assert_eq "$(folder_dump dst bob Twins)" "$want" "one copy there: each twin ends up with its own"

# 3. Killed after the server stored both twins, before the state knew.
reset_dest
MAILSTAGE_TEST_KILL=store:1 ms_copy --state "$T/st.sqlite" --include Twins "$SRC_URL" \
	"$DST_URL" >/dev/null 2>&1
assert_eq "$?" 137 "killed (SIGKILL) after the store, as planned"
ms_copy --state "$T/st.sqlite" --include Twins --progress json "$SRC_URL" "$DST_URL" \
	>"$T/out" 2>&1
assert_eq "$?" 0 "the re-run exits 0"
assert_contains "$(tail -n1 "$T/out")" '"matched":2,' "the re-run found both stored twins"
assert_eq "$(folder_dump dst bob Twins)" "$want" "after the crash: each twin once, as it was"

assert_eq "$(snapshot src alice)" "$before" "the source is unchanged"
harness_done
