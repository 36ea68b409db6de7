#!/usr/bin/env bash
# t-copy-pipeline.sh - pipelined MULTIAPPEND (batch N+1 is sent before batch
# N is answered) meets a refusal: the destination (Dovecot quota plugin,
# quota_max_mail_size = 1M) refuses one 2 MiB message in the middle of the
# third of five batches, sent while the second is in the air and answered
# after the fourth went out.  That message is reported with the server's own
# words, every other message is copied exactly once, byte-exact; the re-run
# copies nothing twice.
set -u
. "$(dirname "$0")/lib/harness.sh"
. "$(dirname "$0")/lib/copy_helpers.sh"
harness_init
harness_need_mailstage
harness_timeout 600

dovecot_start src
dovecot_start dst --extra $'mail_plugins = $mail_plugins quota\nplugin {\n  quota = count:User quota\n  quota_vsizes = yes\n  quota_max_mail_size = 1M\n}\n'
SRC_PW=$(pass_file src alice)
DST_PW=$(pass_file dst bob)
SRC_URL=imap://alice@127.0.0.1:$SRC_PORT/
DST_URL=imap://bob@127.0.0.1:$DST_PORT/
for i in $(seq 1 12); do
	small_message "$T/a$i.eml" "before$i"
	seed_message src alice INBOX "$T/a$i.eml" '\Seen' '' >/dev/null
done
big_message "$T/m2.eml" 2 two
seed_message src alice INBOX "$T/m2.eml" '\Flagged' '' >/dev/null
for i in $(seq 1 12); do
	small_message "$T/b$i.eml" "after$i"
	seed_message src alice INBOX "$T/b$i.eml" '' '' >/dev/null
done
n=$(count_messages src alice INBOX)
assert_eq "$n" 25 "the source holds 25 messages"
want=$(folder_dump src alice INBOX | grep -v "	$(stat -c %s "$T/m2.eml")	")

ms_copy --batch 5 --connections 1 --state "$T/st.sqlite" --report "$T/report.json" \
	--progress json "$SRC_URL" "$DST_URL" >"$T/out" 2>&1
assert_eq "$?" 1 "one refused message: exit status 1"
assert_eq "$(count_messages dst bob INBOX)" 24 "every other message was copied, once (24)"
assert_eq "$(folder_dump dst bob INBOX)" "$want" "the copied messages are byte-exact with flags and dates"
report=$(cat "$T/report.json")
assert_contains "$report" '"reason":"refused"' "report: reason 'refused'"
assert_contains "$report" 'Mail size is larger than the maximum size allowed' "report: the server's own words"
assert_contains "$report" '"counts":{"refused":1}' "report: counts per reason"
assert_contains "$(tail -n1 "$T/out")" '"copied":24,' "summary: 24 copied"

ms_copy --batch 5 --connections 1 --state "$T/st.sqlite" --progress json "$SRC_URL" "$DST_URL" >"$T/out2" 2>&1
assert_eq "$?" 1 "re-run: the refused message is tried again and refused again (exit 1)"
assert_contains "$(tail -n1 "$T/out2")" '"copied":0,' "re-run copies nothing else"
assert_eq "$(count_messages dst bob INBOX)" 24 "re-run: still 24 at the destination"

# without a state: the destination's listing alone keeps it from copying twice
ms_copy --batch 5 --connections 1 --no-state --progress json "$SRC_URL" "$DST_URL" >"$T/out3" 2>&1
assert_eq "$?" 1 "--no-state re-run: the refused one refused again (exit 1)"
assert_contains "$(tail -n1 "$T/out3")" '"matched":24,' "--no-state re-run: the 24 are found there"
assert_eq "$(count_messages dst bob INBOX)" 24 "--no-state re-run: still 24"
harness_done
