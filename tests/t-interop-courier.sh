#!/usr/bin/env bash
# t-interop-courier.sh - mailstage copy to and from a real Courier-IMAP
# (tests/lib/courier.sh: Debian's courier-imap imapd behind a login front):
#  (1) Dovecot -> Courier: the corpus (420 messages with flags, keywords and
#      INTERNALDATEs) and a nested folder; what Courier then serves is
#      compared with the source message by message: dates and flags with
#      keywords must be equal; the bytes are compared too and every message
#      whose bytes Courier changed is listed (Courier keeps mail with LF line
#      ends on disk and serves CRLF, so a message with bare CRs or no final
#      line end comes back different, and a message nested without end
#      (flanker's enclosed-endless) is served cut short: facts of the
#      server, counted and shown, and no other message may differ);
#  (2) Courier -> Dovecot: byte-exact (SHA-256), flags, keywords and dates
#      equal to what Courier serves (an INTERNALDATE comes back from
#      Courier in +0000: the instant is kept, the sender's zone is not);
#  (3) Courier's own Maildir++ tree (its courierimapkeywords/ written by
#      Courier itself) as a directory source -> Dovecot: flags with keywords
#      and dates equal to what Courier serves over IMAP;
#  and re-runs copy 0.  Everything is checked with the independent client.
set -u
. "$(dirname "$0")/lib/harness.sh"
. "$(dirname "$0")/lib/copy_helpers.sh"
. "$(dirname "$0")/lib/courier.sh"
courier_copy_test_init 1700

courier_start cou bob
dovecot_start dv --sep /
COU_URL=imap://bob@127.0.0.1:$COU_PORT/
DV_URL() { printf 'imap://%s@127.0.0.1:%s/' "$1" "$DV_PORT"; }
seed_corpus dv alice INBOX
seed_corpus dv alice 'Archiv/2023' 'enmime/*.eml'

# copy_between SRC DST SRC-PW DST-PW STATE OUT: one mailstage copy
copy_between() {
	"$MAILSTAGE" copy --tls none --progress json --source-password-file "$3" \
		--dest-password-file "$4" --state "$5" --max-size 0 "$1" "$2" >"$6" 2>"$6.err"
}

# fields LIST: those tab-separated fields of a dump, sorted
fields() { cut -f"$1" | LC_ALL=C sort; }
# with_keywords: how many dump lines carry a keyword (a flag without '\')
with_keywords() { awk -F'\t' '{ n = split($2, f, " "); for (i = 1; i <= n; i++) if (f[i] !~ /^\\/) { c++; break } } END { print c + 0 }'; }

# ---- (1) Dovecot -> Courier
copy_between "$(DV_URL alice)" "$COU_URL" "$(pass_file dv alice)" "$(pass_file cou bob)" \
	"$T/1.sqlite" "$T/c1"
rc=$?
[ "$rc" -eq 0 ] || cat "$T/c1.err" "$COU_LOG" >&2
assert_eq "$rc" 0 "(1) Dovecot -> Courier exits 0"
imap_folders cou bob >"$T/cou.folders"
assert_contains "$(cut -f1 "$T/cou.folders" | tr '\n' ' ')" "INBOX.Archiv.2023" \
	"(1) the nested folder arrived as INBOX.Archiv.2023 (Courier's '.' separator, INBOX. prefix)"
for pair in "INBOX|INBOX" "Archiv/2023|INBOX.Archiv.2023"; do
	s=${pair%%|*} d=${pair#*|}
	imap_dump dv alice "$s" >"$T/s.dump"
	imap_dump cou bob "$d" >"$T/d.dump"
	assert_eq "$(wc -l <"$T/d.dump")" "$(wc -l <"$T/s.dump")" "(1) $d: as many messages as $s"
	assert_eq "$(fields 2,3 <"$T/d.dump")" "$(fields 2,3 <"$T/s.dump")" \
		"(1) $d: flags with keywords and INTERNALDATEs equal to the source's"
	# bytes, message by message: both servers list them in upload order
	paste <(cut -f5 "$T/s.dump") <(cut -f5 "$T/d.dump") <(cut -f4 "$T/s.dump") \
		<(cut -f4 "$T/d.dump") <(cut -f1 "$T/s.dump") <(cut -f1 "$T/d.dump") >"$T/pairs"
	awk -F'\t' '$1 != $2' "$T/pairs" >"$T/changed-$d"
	n_changed=$(wc -l <"$T/changed-$d")
	harness_log "(1) $d: Courier serves $n_changed of $(wc -l <"$T/s.dump") messages with other bytes than stored"
	# every changed message must be one Courier cannot keep: bare CR, or no final LF
	bad="" why=""
	while IFS=$'\t' read -r _ _ _ _ uid duid; do
		imap_tool dv alice fetch "$s" "$uid" >"$T/m.eml"
		imap_tool cou bob fetch "$d" "$duid" >"$T/served.eml"
		w=""
		[ "$(wc -c <"$T/served.eml")" -lt "$(wc -c <"$T/m.eml")" ] &&
			cmp -s "$T/served.eml" <(head -c "$(wc -c <"$T/served.eml")" "$T/m.eml") &&
			w+="served-cut-short "
		LC_ALL=C grep -q $'\r[^\n]' "$T/m.eml" && w+="bare-CR "
		[ "$(tail -c1 "$T/m.eml" | od -An -tx1 | tr -d ' ')" = 0a ] || w+="no-final-LF "
		[ "$(tr -d '\000' <"$T/m.eml" | wc -c)" = "$(wc -c <"$T/m.eml")" ] || w+="NUL "
		[ -n "$w" ] || bad+="$uid "
		why+="$w"
	done <"$T/changed-$d"
	harness_log "(1) $d: of those: $(printf '%s\n' $why | sort | uniq -c | tr '\n' ' ')"
	assert_eq "$bad" "" "(1) $d: only messages with bare CR, NUL, no final line end or cut short differ in bytes ($n_changed do)"
done

# ---- (2) Courier -> Dovecot
copy_between "$COU_URL" "$(DV_URL carol)" "$(pass_file cou bob)" "$(pass_file dv carol)" \
	"$T/2.sqlite" "$T/c2"
rc=$?
[ "$rc" -eq 0 ] || cat "$T/c2.err" "$COU_LOG" >&2
assert_eq "$rc" 0 "(2) Courier -> Dovecot exits 0"
assert_eq "$(folder_dump dv carol INBOX)" "$(folder_dump cou bob INBOX)" \
	"(2) INBOX: bytes (SHA-256), flags with keywords, dates and sizes equal to Courier's"
assert_eq "$(folder_dump dv carol Archiv/2023)" "$(folder_dump cou bob INBOX.Archiv.2023)" \
	"(2) Archiv/2023 equal to Courier's INBOX.Archiv.2023"

# ---- (3) Courier's Maildir++ tree itself as a directory source
n_kw=$(imap_dump cou bob INBOX | with_keywords)
assert_ne "$n_kw" 0 "(3) Courier holds messages with keywords ($n_kw in INBOX)"
cp -a "$COU_MAILDIR" "$T/courier-tree"
assert_ne "$(find "$T/courier-tree" -path '*courierimapkeywords/*' -type f | wc -l)" 0 \
	"(3) Courier wrote keyword files (courierimapkeywords/)"
"$MAILSTAGE" copy --tls none --progress json --dest-password-file "$(pass_file dv dave)" \
	--state "$T/3.sqlite" --max-size 0 "$T/courier-tree" "$(DV_URL dave)" >"$T/c3" 2>"$T/c3.err"
rc=$?
[ "$rc" -eq 0 ] || cat "$T/c3.err" >&2
assert_eq "$rc" 0 "(3) Courier's tree -> Dovecot exits 0"
assert_eq "$(imap_dump dv dave INBOX | fields 2,3)" "$(imap_dump cou bob INBOX | fields 2,3)" \
	"(3) INBOX from Courier's files: flags with keywords and dates equal to Courier's IMAP view"
assert_eq "$(imap_dump dv dave Archiv/2023 | fields 2,3)" \
	"$(imap_dump cou bob INBOX.Archiv.2023 | fields 2,3)" "(3) Archiv/2023 likewise"

# ---- re-runs copy nothing
copy_between "$(DV_URL alice)" "$COU_URL" "$(pass_file dv alice)" "$(pass_file cou bob)" \
	"$T/1.sqlite" "$T/c1b"
assert_contains "$(tail -n1 "$T/c1b")" '"copied":0,' "(1) second run copies 0"
copy_between "$COU_URL" "$(DV_URL carol)" "$(pass_file cou bob)" "$(pass_file dv carol)" \
	"$T/2.sqlite" "$T/c2b"
assert_contains "$(tail -n1 "$T/c2b")" '"copied":0,' "(2) second run copies 0"
harness_done
