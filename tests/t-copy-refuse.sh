#!/usr/bin/env bash
# t-copy-refuse.sh - a destination that refuses one message (Dovecot quota
# plugin, quota_max_mail_size = 3M): that message is reported with the
# server's own words, the rest is copied, exit status 1; the item cap takes
# the newest messages first; --dry-run writes nothing but reports the same;
# --verify reads every copy back.  The source never changes.
set -u
. "$(dirname "$0")/lib/harness.sh"
. "$(dirname "$0")/lib/copy_helpers.sh"
harness_init
harness_need_mailstage
harness_timeout 600

dovecot_start src
dovecot_start dst --extra $'mail_plugins = $mail_plugins quota\nplugin {\n  quota = count:User quota\n  quota_vsizes = yes\n  quota_max_mail_size = 3M\n}\n'
dovecot_start cap
SRC_PW=$(pass_file src alice)
DST_PW=$(pass_file dst bob)
SRC_URL=imap://alice@127.0.0.1:$SRC_PORT/
DST_URL=imap://bob@127.0.0.1:$DST_PORT/
seed_corpus src alice INBOX 'flanker/*.eml'
big_message "$T/m5.eml" 5 five
seed_message src alice INBOX "$T/m5.eml" '\Seen' '' >/dev/null
n=$(count_messages src alice INBOX)
before=$(snapshot src alice)

# ---- dry run: nothing written, same decisions
ms_copy --dry-run --state "$T/dry.sqlite" --report "$T/dry.csv" "$SRC_URL" "$DST_URL" >"$T/out-dry"
assert_eq "$?" 0 "--dry-run exits 0"
assert_eq "$(imap_folders dst bob | cut -f1 | tr '\n' ' ')" "INBOX " "--dry-run created nothing"
assert_eq "$(count_messages dst bob INBOX)" 0 "--dry-run wrote no message"

# ---- the refusal
ms_copy --state "$T/st.sqlite" --report "$T/report.json" --verify "$SRC_URL" "$DST_URL" >"$T/out" 2>&1
assert_eq "$?" 1 "one refused message: exit status 1"
assert_eq "$(count_messages dst bob INBOX)" "$((n - 1))" "every other message was copied ($((n - 1)))"
assert_eq "$(folder_dump dst bob INBOX)" "$(folder_dump src alice INBOX | grep -v "	$(stat -c %s "$T/m5.eml")	")" \
	"the copied messages are byte-exact with flags and dates"
report=$(cat "$T/report.json")
assert_contains "$report" '"reason":"refused"' "report: reason 'refused'"
assert_contains "$report" 'Mail size is larger than the maximum size allowed' "report: the server's own words"
assert_contains "$report" '"counts":{"refused":1}' "report: counts per reason"
assert_contains "$(cat "$T/out")" "verified: $((n - 1)) equal, 0 differ" "--verify read every copy back and found it equal"
# the re-run tries the refused one again (it failed, it was not left out) and still exits 1
ms_copy --state "$T/st.sqlite" --progress json "$SRC_URL" "$DST_URL" >"$T/out2" 2>&1
assert_eq "$?" 1 "re-run: the refused message is tried again and refused again (exit 1)"
assert_contains "$(tail -n1 "$T/out2")" '"copied":0,' "re-run copies nothing else"

# ---- item cap: newest first over the whole mailbox
seed_message src alice Old "$T/m5.eml" '' '1-Jan-2001 00:00:00 +0000' >/dev/null
for i in 1 2 3; do
	small_message "$T/c$i.eml" "cap$i"
	seed_message src alice Old "$T/c$i.eml" '' "1-Jan-200$((i + 1)) 00:00:00 +0000" >/dev/null
	seed_message src alice New "$T/c$i.eml" '' "1-Jan-202$i 00:00:00 +0000" >/dev/null
done
assert_eq "$(snapshot src alice | sed '/^== New/,$d')" "$before" "the source's INBOX is unchanged by the copies so far" 
before=$(snapshot src alice)
CAP_PW=$(pass_file cap bob)
"$MAILSTAGE" copy --tls none --progress none --source-password-file "$SRC_PW" \
	--dest-password-file "$CAP_PW" --no-state --max-items 4 --exclude INBOX --report "$T/cap.csv" \
	"$SRC_URL" "imap://bob@127.0.0.1:$CAP_PORT/" >/dev/null
assert_eq "$?" 0 "--max-items 4 exits 0"
assert_eq "$(imap_dump cap bob New | cut -f3 | sort | tr '\n' ' ')" "1609459200 1640995200 1672531200 " \
	"the three newest (New) were taken"
assert_eq "$(imap_dump cap bob Old | cut -f3 | tr '\n' ' ')" "1072915200 " "and the newest of Old, nothing older"
assert_eq "$(grep -c ',over-item-cap,no,' "$T/cap.csv")" 3 "the 3 older ones are reported over-item-cap"

assert_eq "$(snapshot src alice)" "$before" "the source is unchanged by the capped copy"
harness_done
