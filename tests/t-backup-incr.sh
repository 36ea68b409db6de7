#!/usr/bin/env bash
# t-backup-incr.sh - `mailstage backup --since-archive OLD` against real
# Dovecot: after new mail (INBOX and a new folder) and a flag change, the
# incremental archive holds exactly the new messages (none of OLD's), its
# manifest names OLD as its base; restoring OLD then NEW into an empty
# account gives the source's full set, byte-exact, with no duplicate; a
# second incremental over NEW with nothing new holds nothing; a damaged
# base is refused before anything is written.
set -u
. "$(dirname "$0")/lib/harness.sh"
harness_init
harness_need_mailstage
harness_timeout 600

dovecot_start src --sep /
dovecot_start dst --sep /
SRC_PW=$(pass_file src alice)
DST_PW=$(pass_file dst bob)
SRC_URL=imap://alice@127.0.0.1:$SRC_PORT/
DST_URL=imap://bob@127.0.0.1:$DST_PORT/
PY=$HARNESS_PYTHON

(cd "$MAILSTAGE_CORPUS" && find . -type f -name '*.eml' -size -300k | sed 's|^\./||' |
	LC_ALL=C sort) >"$T/all.list"
sed -n 1,40p "$T/all.list" >"$T/old-inbox.list"
sed -n 41,45p "$T/all.list" >"$T/old-sent.list"
sed -n 46,55p "$T/all.list" >"$T/new-inbox.list"
sed -n 56,58p "$T/all.list" >"$T/new-proj.list"
seed_corpus src alice INBOX "$T/old-inbox.list" >/dev/null
seed_corpus src alice Sent "$T/old-sent.list" >/dev/null

assert_rc() {
	if [ "$1" = "$2" ]; then pass "$3"; else fail "$3 (exit status $1, want $2)"; fi
}
ms_backup() {
	"$MAILSTAGE" backup --tls none --progress none --password-file "$SRC_PW" --all "$@"
}
ms_restore() {
	"$MAILSTAGE" restore --tls none --progress none --dest-password-file "$DST_PW" "$@"
}
# manifest ARCHIVE EXPR: a Python expression over the manifest m.
manifest() {
	bsdtar -xOf "$1" mailstage-manifest.json |
		"$PY" -c 'import json,sys; m=json.load(sys.stdin); print(eval(sys.argv[1]))' "$2"
}
# content NAME USER FOLDER: the folder's messages as sorted "sha256 size date".
content() {
	imap_dump "$1" "$2" "$3" | awk -F'\t' '{print $5, $4, $3}' | LC_ALL=C sort
}

OLD=$T/alice-mon.tar.zst
ms_backup "$SRC_URL" "$OLD" >"$T/out-old" 2>&1
assert_rc $? 0 "full backup OLD exits 0"
assert_eq "$(manifest "$OLD" 'm["count"]')" 45 "OLD holds 40 + 5 messages"
assert_eq "$(manifest "$OLD" 'm.get("base")')" None "a full backup names no base"

# ---- new mail, a new folder, a flag change on an old message
seed_corpus src alice INBOX "$T/new-inbox.list" >/dev/null
seed_corpus src alice Projects/2026 "$T/new-proj.list" >/dev/null
imap_tool src alice setflags INBOX 3 '\Flagged \Answered' --mode add >/dev/null ||
	fail "setflags"

NEW=$T/alice-tue.tar.zst
ms_backup --since-archive "$OLD" "$SRC_URL" "$NEW" >"$T/out-new" 2>&1
assert_rc $? 0 "incremental backup NEW exits 0"
assert_eq "$(manifest "$NEW" 'm["count"]')" 13 "NEW holds only the 10 + 3 new messages"
assert_eq "$(manifest "$NEW" 'sorted(set(x["folder"] for x in m["messages"]))')" \
	"['INBOX', 'Projects/2026']" "NEW's messages are in INBOX and Projects/2026 only"
assert_eq "$(manifest "$NEW" '(m["base"]["archive"], m["base"]["count"])')" \
	"('alice-mon.tar.zst', 45)" "NEW's manifest names its base OLD and OLD's count"
assert_eq "$(manifest "$NEW" 'm["base"]["created"]')" "$(manifest "$OLD" 'm["created"]')" \
	"NEW's base.created is OLD's created"
old_keys=$(manifest "$OLD" 'sorted((x["folder"], x["uidvalidity"], x["uid"]) for x in m["messages"])')
new_keys=$(manifest "$NEW" 'sorted((x["folder"], x["uidvalidity"], x["uid"]) for x in m["messages"])')
"$PY" - "$old_keys" "$new_keys" <<'PY' || fail "NEW repeats a message of OLD"
import ast, sys
old, new = (set(ast.literal_eval(a)) for a in sys.argv[1:3])
sys.exit(1 if old & new else 0)
PY
pass "no (folder, UIDVALIDITY, UID) of OLD is in NEW"
assert_eq "$(manifest "$NEW" 'sorted(x["sha256"] for x in m["messages"])')" \
	"$(imap_dump src alice INBOX | awk -F'\t' '$1 > 40 {print $5}' | LC_ALL=C sort |
		cat - <(imap_dump src alice Projects/2026 | cut -f5 | LC_ALL=C sort) | LC_ALL=C sort |
		"$PY" -c 'import sys; print(sorted(l.strip() for l in sys.stdin))')" \
	"NEW's bodies are the new messages' (SHA-256 of FETCH)"
assert_contains "$(cat "$T/out-new")" "incremental over $OLD: its 45 messages are not stored again" \
	"backup says what it built on"
assert_contains "$(cat "$T/out-new")" "1 of them have new flags since" "backup says a flag change is not kept"
"$MAILSTAGE" backup --verify "$NEW" >"$T/verify" 2>&1
assert_rc $? 0 "backup --verify NEW exits 0"

# ---- restore OLD then NEW: the full set, nothing twice
ms_restore --state "$T/st-old" "$OLD" "$DST_URL" >"$T/r-old" 2>&1
assert_rc $? 0 "restore OLD exits 0"
ms_restore --state "$T/st-new" "$NEW" "$DST_URL" >"$T/r-new" 2>&1
assert_rc $? 0 "restore NEW exits 0"
for f in INBOX Sent Projects/2026; do
	assert_eq "$(content dst bob "$f")" "$(content src alice "$f")" \
		"$f: restore OLD + NEW = the source (bytes, sizes, dates), no duplicate"
done
assert_eq "$(imap_dump dst bob INBOX | wc -l)" 50 "INBOX: 50 messages at the destination"

# ---- an incremental over an incremental: the base is taken as it is
NEW2=$T/alice-wed.tar.zst
ms_backup --since-archive "$NEW" "$SRC_URL" "$NEW2" >"$T/out-new2" 2>&1
rc=$?
# NEW holds only the increment: OLD's messages are new to a backup over NEW alone
assert_rc $rc 0 "incremental over NEW exits 0"
assert_eq "$(manifest "$NEW2" '(m["base"]["archive"], m["count"])')" "('alice-tue.tar.zst', 45)" \
	"an incremental over NEW alone stores what NEW does not hold (OLD's 45)"
NEW3=$T/alice-thu.tar.zst
ms_backup --since-archive "$OLD" "$SRC_URL" "$NEW3" >"$T/out-new3" 2>&1
assert_rc $? 0 "a second incremental over OLD exits 0"
assert_eq "$(manifest "$NEW3" 'm["count"]')" 13 "over OLD again: the same 13 new messages"

# ---- a damaged base is refused, nothing written
cp "$OLD" "$T/bad.tar.zst"
truncate -s $(($(stat -c %s "$OLD") / 2)) "$T/bad.tar.zst"
ms_backup --since-archive "$T/bad.tar.zst" "$SRC_URL" "$T/x.tar.zst" >"$T/out-bad" 2>&1
assert_rc $? 2 "a truncated base is refused (exit 2)"
assert_contains "$(cat "$T/out-bad")" "--since-archive" "the error names --since-archive"
[ ! -e "$T/x.tar.zst" ] && [ -z "$(find "$T" -maxdepth 1 -name '.x.tar.zst.part-*')" ] ||
	fail "an archive was written over a refused base"
pass "no archive written over a refused base"
[ -z "$(find "${TMPDIR:-/tmp}" -maxdepth 1 -name 'mailstage-base-*' -user "$(id -u)" -newer "$OLD")" ] ||
	fail "a temporary base state was left behind"
pass "no temporary base state left behind"
out=$("$MAILSTAGE" backup --verify --since-archive "$OLD" "$NEW" 2>&1)
assert_rc $? 2 "--verify with --since-archive is a usage error"
harness_done
