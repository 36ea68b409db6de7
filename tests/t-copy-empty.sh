#!/usr/bin/env bash
# t-copy-empty.sh - folders without anything to copy still arrive: an empty
# source folder, one whose messages --max-size and --since all leave out, a
# parent-only level ('Projects', \Noselect on a Maildir++ Dovecot, when
# only 'Projects.2024' holds mail), and a parent-only level whose only
# subfolder is excluded ('Old', made as an empty folder) exist after a copy
# to a real Dovecot and to a Maildir directory; an excluded empty folder and
# an excluded parent-only subtree ('Gone') do not.  Subscriptions follow the
# source: what the source has subscribed is subscribed at the destination,
# nothing else; a destination folder that lost its subscription (a
# SUBSCRIBE lost with its connection) is subscribed again by the next run.
# A further run changes nothing at either destination; a --dry-run creates
# nothing.  Everything checked with the independent client or on disk,
# never through mailstage.
set -u
. "$(dirname "$0")/lib/harness.sh"
. "$(dirname "$0")/lib/copy_helpers.sh"
harness_init
harness_need_root
harness_need_mailstage
harness_timeout 600

dovecot_start src --sep .
dovecot_start dst --sep /
SRC_PW=$(pass_file src alice)
DST_PW=$(pass_file dst bob)
SRC_URL=imap://alice@127.0.0.1:$SRC_PORT/
DST_URL=imap://bob@127.0.0.1:$DST_PORT/
RULES=(--max-size 1M --since 2020-01-01 --exclude 'Skip Me' --exclude 'Old/Junk2019' --exclude Gone)

small_message "$T/s1.eml" 1
small_message "$T/s2.eml" 2
small_message "$T/s3.eml" 3
big_message "$T/big.eml" 2 two
seed_message src alice INBOX "$T/s1.eml" '\Seen' '2-Mar-2024 08:09:10 +0100' >/dev/null
seed_message src alice 'Projects.2024' "$T/s2.eml" '$Work' '3-Mar-2024 08:09:10 +0100' >/dev/null
# every message of Filtered is left out: one too big, one too old
seed_message src alice Filtered "$T/big.eml" '' '4-Mar-2024 08:09:10 +0100' >/dev/null
seed_message src alice Filtered "$T/s3.eml" '' '4-Mar-2019 08:09:10 +0100' >/dev/null
imap_tool src alice create Empty 'Empty.Deeper' 'Skip Me' 'Old.Junk2019' 'Gone.Sub' >/dev/null ||
	fail "creating the empty source folders failed"
# subscribed at the source: these (two of them excluded); not INBOX, Empty.Deeper, Old
# (Dovecot subscribes no \Noselect level)
imap_tool src alice subscribe Empty Filtered Projects.2024 'Skip Me' Gone.Sub >/dev/null ||
	fail "subscribing the source folders failed"
src_list=$(imap_folders src alice | cut -f1,4)
for p in Projects Old Gone; do
	assert_contains "$src_list" "$p	\\Noselect" "the source's '$p' is parent-only (\\Noselect)"
done
before=$(snapshot src alice)

# real folders at an IMAP destination: name TAB, parent-only ones marked
dst_real() {
	imap_folders dst "$1" | awk -F'\t' '{ print $1 ($4 ~ /Noselect|NonExistent/ ? " (parent)" : "") }' |
		LC_ALL=C sort | tr '\n' '|'
}
# a directory tree: every path with its change and modify times
tree_times() {
	(cd "$1" && find . -printf '%p %C@ %T@\n' | LC_ALL=C sort)
}

# ---- --dry-run creates nothing
ms_copy --dry-run --state "$T/dry.sqlite" "${RULES[@]}" "$SRC_URL" \
	imap://carol@127.0.0.1:$DST_PORT/ --dest-password-file "$(pass_file dst carol)" \
	>"$T/dry1" 2>&1
assert_eq $? 0 "--dry-run to IMAP exits 0"
assert_eq "$(dst_real carol)" "INBOX|" "--dry-run: the IMAP destination still holds INBOX alone"
ms_copy --dry-run --state "$T/dry2.sqlite" "${RULES[@]}" "$SRC_URL" "$T/md-dry" >"$T/dry2" 2>&1
assert_eq $? 0 "--dry-run to a directory exits 0"
assert_eq "$(find "$T/md-dry" -mindepth 1 2>/dev/null | head -n 5)" "" \
	"--dry-run: nothing made in the destination directory"

# ---- IMAP destination
ms_copy --state "$T/imap.sqlite" "${RULES[@]}" --progress json "$SRC_URL" "$DST_URL" \
	>"$T/i1" 2>"$T/i1.err"
rc=$?
[ "$rc" -eq 0 ] || cat "$T/i1.err" >&2
assert_eq "$rc" 0 "copy to IMAP exits 0"
assert_contains "$(tail -n1 "$T/i1")" '"copied":2,' "copy to IMAP copies the 2 messages the rules take"
assert_eq "$(dst_real bob)" "Empty|Empty/Deeper|Filtered|INBOX|Old|Projects (parent)|Projects/2024|" \
	"IMAP: the empty, the all-filtered and the nested empty folder exist; 'Projects' as a parent; 'Old' (its subfolder excluded) as an empty folder; no 'Skip Me', nothing of 'Gone'"
assert_eq "$(imap_tool dst bob subscribed | tr '\n' '|')" \
	"Empty|Filtered|Projects/2024|" \
	"IMAP: the folders subscribed at the source are subscribed, the others not (INBOX, Empty/Deeper, Old)"
assert_eq "$(count_messages dst bob Filtered)" 0 "IMAP: Filtered holds nothing"
assert_eq "$(folder_dump dst bob Projects/2024)" "$(folder_dump src alice Projects.2024)" \
	"IMAP: Projects/2024 equal to the source's"
# a folder that exists but lost its subscription (as when the SUBSCRIBE went
# down with its connection) is subscribed by the next run
imap_tool dst bob subscribe --off Empty Projects/2024 >/dev/null || fail "unsubscribing failed"
snap0=$(snapshot dst bob)
ms_copy --state "$T/imap.sqlite" "${RULES[@]}" --progress json "$SRC_URL" "$DST_URL" \
	>"$T/i2" 2>"$T/i2.err"
assert_eq $? 0 "second copy to IMAP exits 0"
assert_contains "$(tail -n1 "$T/i2")" '"copied":0,' "second copy to IMAP copies 0"
assert_eq "$(imap_tool dst bob subscribed | tr '\n' '|')" \
	"Empty|Filtered|Projects/2024|" "second copy to IMAP: the folders that lost their subscription have it again"
assert_eq "$(snapshot dst bob)" "$snap0" "second copy to IMAP changes no folder or message"
snap1=$(snapshot dst bob; imap_tool dst bob subscribed)
ms_copy --state "$T/imap.sqlite" "${RULES[@]}" --progress json "$SRC_URL" "$DST_URL" \
	>"$T/i3" 2>"$T/i3.err"
assert_eq $? 0 "third copy to IMAP exits 0"
assert_eq "$(snapshot dst bob; imap_tool dst bob subscribed)" "$snap1" \
	"third copy to IMAP changes nothing (folders, UIDVALIDITY, UIDNEXT, messages, subscriptions)"

# ---- Maildir destination
D=$T/md
ms_copy --state "$T/md.sqlite" "${RULES[@]}" --progress json "$SRC_URL" "$D" >"$T/m1" 2>"$T/m1.err"
rc=$?
[ "$rc" -eq 0 ] || cat "$T/m1.err" >&2
assert_eq "$rc" 0 "copy to a directory exits 0"
assert_eq "$(cd "$D" && find . -name cur | LC_ALL=C sort | tr '\n' '|')" \
	"./Empty/Deeper/cur|./Empty/cur|./Filtered/cur|./INBOX/cur|./Old/cur|./Projects/2024/cur|" \
	"Maildir: Empty, Empty/Deeper, Filtered, INBOX, Old and Projects/2024 are Maildir folders; no 'Skip Me'"
assert_eq "$(ls -A "$D" | LC_ALL=C sort | tr '\n' '|')" "Empty|Filtered|INBOX|Old|Projects|" \
	"Maildir: nothing of 'Gone', 'Skip Me' or 'Old/Junk2019'"
for f in Empty Empty/Deeper Filtered Old; do
	assert_eq "$(ls -A "$D/$f/cur" "$D/$f/new" "$D/$f/tmp" | grep -vc ':$\|^$')" 0 "Maildir: $f is empty"
done
assert_eq "$([ -d "$D/Projects" ] && [ ! -e "$D/Projects/cur" ] && echo parent)" parent \
	"Maildir: 'Projects' is a directory that only holds 2024"
assert_eq "$(find "$D/Projects/2024/cur" -type f | wc -l)" 1 "Maildir: Projects/2024 holds its message"
t1=$(tree_times "$D")
sleep 1.1 # a touched file would show a later time
ms_copy --state "$T/md.sqlite" "${RULES[@]}" --progress json "$SRC_URL" "$D" >"$T/m2" 2>"$T/m2.err"
assert_eq $? 0 "second copy to a directory exits 0"
assert_contains "$(tail -n1 "$T/m2")" '"copied":0,' "second copy to a directory copies 0"
assert_eq "$(tree_times "$D")" "$t1" \
	"second copy to a directory changes nothing (every path, ctime and mtime)"

assert_eq "$(snapshot src alice)" "$before" "the source is unchanged"
harness_done
