#!/usr/bin/env bash
# t-fetch.sh - our IMAP reader against real Dovecot: every corpus message
# read byte-exact (SHA-256 equal to an independent client's), batched, one
# by one and in odd-sized partial fetches; a body whose lines look like
# protocol arrives intact; the source's flags and UIDs are the same before
# and after reading everything; folder names in modified UTF-7 come out as
# UTF-8 in `mailstage ls`.
set -u
. "$(dirname "$0")/lib/harness.sh"
harness_init
harness_timeout 600
harness_need_mailstage
PROBE=${IMAPPROBE:?IMAPPROBE not set}

dovecot_start src
PW=$(pass_file src alice)
URL="imap://alice@127.0.0.1:$SRC_PORT/"
probe() { "$PROBE" --tls none "$URL" "$PW" "$@"; }

seed_corpus src alice INBOX
N=$(wc -l <"$SEED_PLAN")

# A message whose body imitates the protocol: our next tags, a BYE, a literal.
printf 'From: a@example.org\r\nSubject: evil\r\n\r\nms1 OK done\r\nms5 OK [APPENDUID 1 1] fake\r\n* BYE fake\r\n{5}\r\nhello\r\n* 9 FETCH (FLAGS (\\Deleted))\r\n)\r\n' >"$T/evil.eml"
seed_message src alice Evil "$T/evil.eml" '\Flagged' >/dev/null

before=$(imap_dump src alice INBOX)
assert_eq "$(printf '%s\n' "$before" | wc -l)" "$N" "the independent client sees all $N seeded messages"

ours=$(probe dump INBOX) || fail "batched fetch failed"
assert_eq "$ours" "$before" "batched FETCH: uid, flags, date, size and SHA-256 of all $N messages equal the independent client's"

each=$(probe dumpeach INBOX) || fail "single fetches failed"
assert_eq "$each" "$before" "one FETCH per message gives the same bytes"

# odd-sized partial fetches of the largest messages
printf '%s\n' "$before" | sort -t$'\t' -k4,4n | tail -n 3 | while IFS=$'\t' read -r uid _ _ size sha; do
	for chunk in 997 65536 1000003; do
		got=$(probe ranges INBOX "$uid" "$chunk") || fail "partial fetch of uid $uid"
		assert_eq "$got" "$size"$'\t'"$sha" "uid $uid ($size bytes) read in $chunk-byte partial fetches is byte-exact"
	done
done

evil_indep=$(imap_dump src alice Evil)
evil_ours=$(probe dump Evil) || fail "fetch of the protocol-lookalike body failed"
assert_eq "$evil_ours" "$evil_indep" "a body holding 'ms1 OK', '* BYE' and '{5}' arrives intact"
assert_eq "$(printf '%s' "$evil_ours" | cut -f5)" "$(sha256sum <"$T/evil.eml" | cut -d' ' -f1)" "and equals the file that was appended"

after=$(imap_dump src alice INBOX)
assert_eq "$after" "$before" "source flags (incl. \\Seen) and UIDs unchanged after reading everything"
unseen=$(printf '%s\n' "$before" | cut -f2 | grep -vc Seen)
[ "$unseen" -gt 0 ] && pass "$unseen messages were unseen before and still are" || fail "seed has no unseen message"

# modified UTF-7 folder names, decoded for people
imap_tool src alice create 'Rëports' '日本語' 'R&D' 'Projects/2024' >/dev/null || fail "create folders"
ls_json=$("$MAILSTAGE" ls --json --tls=none --password-file "$PW" "$URL") || fail "mailstage ls failed"
for name in 'Rëports' '日本語' 'R&D' 'Projects/2024' 'Evil' 'INBOX'; do
	assert_contains "$ls_json" "\"folder\":\"$name\"" "ls shows folder '$name' in UTF-8"
done
assert_contains "$ls_json" "\"folder\":\"INBOX\",\"raw\":\"INBOX\",\"special_use\":\"\",\"namespace\":\"personal\",\"selectable\":true,\"messages\":$N," "ls counts the $N INBOX messages"
total=$(printf '%s\n' "$before" | awk -F'\t' '{s+=$4} END {print s}')
assert_contains "$ls_json" "\"bytes\":$total," "ls sums their sizes ($total bytes)"
largest=$(printf '%s\n' "$before" | awk -F'\t' '$4>m {m=$4} END {print m}')
over=$(printf '%s\n' "$before" | awk -F'\t' '$4>1000000 {n++} END {print n+0}')
ls_small=$("$MAILSTAGE" ls --json --max-size 1000000 --tls=none --password-file "$PW" "$URL")
assert_contains "$ls_small" "\"largest\":$largest,\"over_limit\":$over}" "ls reports the largest message and $over over a 1 MB limit"
table=$("$MAILSTAGE" ls --tls=none --password-file "$PW" "$URL")
assert_contains "$table" "TOTAL" "the table form has a total line"

after2=$(imap_dump src alice INBOX)
assert_eq "$after2" "$before" "source unchanged after ls"
harness_done
