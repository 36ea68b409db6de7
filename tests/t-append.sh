#!/usr/bin/env bash
# t-append.sh - our APPEND against real Dovecot: the whole corpus, read
# from a source account and appended to a destination account by pipelined
# APPENDs, one MULTIAPPEND, and single APPENDs; each time the destination
# holds the same bytes (SHA-256), flags, keywords and INTERNALDATE, as seen
# by an independent client. The destination uses '.' as separator.
set -u
. "$(dirname "$0")/lib/harness.sh"
harness_init
harness_timeout 600
PROBE=${IMAPPROBE:?IMAPPROBE not set}

dovecot_start src
dovecot_start dst --sep .
seed_corpus src alice INBOX
src_dump=$(imap_dump src alice INBOX | cut -f2-)
N=$(printf '%s\n' "$src_dump" | wc -l)

for mode in pipeline multi single; do
	PROBE_DST_TLS=none "$PROBE" --tls none "imap://alice@127.0.0.1:$SRC_PORT/" "$(pass_file src alice)" \
		copy INBOX "imap://bob@127.0.0.1:$DST_PORT/" "$(pass_file dst bob)" "Copy-$mode" "$mode" \
		>"$T/map-$mode" || fail "$mode copy failed"
	dst_dump=$(imap_dump dst bob "Copy-$mode" | cut -f2-)
	assert_eq "$dst_dump" "$src_dump" "$mode APPEND of $N messages: bytes, flags, keywords and dates equal"
	uids=$(awk '{print $3}' "$T/map-$mode" | sort -n | uniq | wc -l)
	assert_eq "$uids" "$N" "$mode: APPENDUID gave $N distinct destination UIDs"
done
kw=$(printf '%s\n' "$src_dump" | cut -f1 | tr ' ' '\n' | grep -v '^\\' | grep -c . || true)
[ "$kw" -gt 0 ] && pass "the corpus carried $kw keyword uses (the comparison covers keywords)" || fail "no keywords seeded"

# A date with a zone far from UTC survives (compared as an instant).
printf 'Subject: tz\r\n\r\nx\r\n' >"$T/tz.eml"
out=$("$PROBE" --tls none "imap://bob@127.0.0.1:$DST_PORT/" "$(pass_file dst bob)" append INBOX "$T/tz.eml" '$Label1 \Answered' "31-Dec-1999 23:59:59 +1345") || fail "append with date"
got=$(imap_dump dst bob INBOX | tail -n1 | cut -f2,3)
assert_eq "$got" "\$Label1 \\Answered"$'\t'"946635299" "APPEND keeps keywords and the INTERNALDATE instant (+1345 zone)"
harness_done
