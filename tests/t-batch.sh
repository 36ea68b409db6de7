#!/usr/bin/env bash
# t-batch.sh - `mailstage batch run` of 8 mailboxes against real Dovecot:
# 5 migrated byte-exact with flags and dates; a wrong password, a bad
# address and an unreachable source listed in validation.csv, errors.csv and
# MigrationErrors.csv with their reasons and suggested fixes; exit status 1;
# never more than --concurrency mailboxes logged in at the source at once;
# then status, sync after new mail, complete, and a refused sync; no CSV
# password in any file, log or process listing.
set -euo pipefail
. "$(dirname "$0")/lib/harness.sh"
. "$(dirname "$0")/lib/batch.sh"

batch_test_init 400
batch_servers
cd "$T"

i=0
for u in alice bob carol dave erin frank grace heidi; do
	batch_seed "$u" 12 $((i * 12)) >/dev/null
	i=$((i + 1))
done
pass "8 source mailboxes seeded from the corpus"

closed=$(harness_free_port)
wrong='Wr0ng,"pass"word'
{
	echo 'EmailAddress,UserName,Password,SourceServer'
	for u in alice bob carol dave erin; do
		echo "$u@$BATCH_DOMAIN,$u,$(batch_pw "$u"),"
	done
	echo "frank@$BATCH_DOMAIN,frank,\"Wr0ng,\"\"pass\"\"word\","
	echo "grace@@$BATCH_DOMAIN,grace,$(batch_pw grace),"
	echo "heidi@$BATCH_DOMAIN,heidi,$(batch_pw heidi),imap://127.0.0.1:$closed/"
} >users.csv
chmod 600 users.csv
for u in alice bob carol dave erin grace heidi; do batch_pw "$u"; echo; done >secrets
echo "$wrong" >>secrets

rc=0
batch_run users.csv --dir "$T/b" --concurrency 2 &
pid=$!
# the process listing while it runs: no CSV password in argv or environment
for _ in $(seq 1 20); do
	ps -eo args= >>"$T/ps.log"
	cat /proc/"$pid"/environ /proc/"$pid"/cmdline >>"$T/ps.log" 2>/dev/null || true
	for c in $(pgrep -P "$pid" || true); do
		cat /proc/"$c"/environ /proc/"$c"/cmdline >>"$T/ps.log" 2>/dev/null || true
	done
	sleep 0.1
done
wait "$pid" || rc=$?
assert_eq "$rc" 1 "batch run exits 1: some rows failed or were refused"
B=$T/b

for u in alice bob carol dave erin; do
	batch_same "$u" INBOX || fail "$u: INBOX differs between source and destination"
	batch_same "$u" Sent || fail "$u: Sent differs between source and destination"
	assert_eq "$(batch_csv_field "$B/report.csv" "$u@$BATCH_DOMAIN" State)" migrated \
		"$u: migrated (byte-exact, flags, dates; INBOX and Sent)"
done
assert_eq "$(batch_csv_field "$B/report.csv" "alice@$BATCH_DOMAIN" MessagesCopied)" 15 \
	"report.csv: alice's 15 messages copied"

max=$(batch_max_concurrent "$SRC_LOG")
[ "$max" -le 2 ] || fail "source saw $max mailboxes logged in at once with --concurrency 2"
assert_eq "$max" 2 "source saw at most (and at some point exactly) 2 mailboxes at once"

# ---- the three that did not make it
v=$(cat "$B/validation.csv")
assert_contains "$v" "grace@@$BATCH_DOMAIN,EmailAddress is not valid" "validation.csv: bad address"
e=$(cat "$B/errors.csv")
assert_contains "$e" "Error,EmailAddress,SuggestedFix" "errors.csv header"
assert_contains "$(grep "frank@" <<<"$e")" "check UserName and Password in the CSV, or use the source's admin login" \
	"errors.csv: wrong password -> check the CSV or use admin credentials"
assert_contains "$(grep "frank@" <<<"$e")" "source: login as frank refused" "errors.csv: the error names the side and the login"
assert_contains "$(grep "heidi@" <<<"$e")" "check the host name, the port and the firewall" \
	"errors.csv: unreachable source -> check host, port, firewall"
assert_contains "$(grep "grace@" <<<"$e")" "correct the row in the CSV" "errors.csv: refused row -> correct the CSV"
m=$(cat "$B/MigrationErrors.csv")
assert_contains "$m" "frank@$BATCH_DOMAIN,7,failed" "MigrationErrors.csv: frank failed (line 7)"
assert_contains "$m" "grace@@$BATCH_DOMAIN,8,refused" "MigrationErrors.csv: grace refused (line 8)"
assert_contains "$m" "heidi@$BATCH_DOMAIN,9,failed" "MigrationErrors.csv: heidi failed (line 9)"
assert_eq "$(grep -c "$BATCH_DOMAIN" <<<"$m")" 3 "MigrationErrors.csv lists exactly those 3"
for f in status.json report.csv errors.csv validation.csv MigrationErrors.csv; do
	[ "$(stat -c %a "$B/$f")" = 600 ] || fail "$f is not 0600"
done
pass "every report is 0600"

js=$("$MAILSTAGE" batch status "$B" --json)
assert_contains "$js" '"total_rows":8,"completed":5,"failed":2' "status.json: 8 rows, 5 completed, 2 failed"
assert_contains "$js" '"refused":1' "status.json: 1 refused"
assert_contains "$js" '"started_by":"' "status.json: who started it"
st=$("$MAILSTAGE" batch status "$B")
assert_contains "$st" "total rows 8: completed 5" "batch status: human view"

# ---- re-run: nothing done twice
before=$(batch_count_dst alice INBOX)
rc=0
batch_run users.csv --dir "$B" --concurrency 2 || rc=$?
assert_eq "$rc" 1 "re-run exits 1 again (the 3 rows still fail)"
assert_eq "$(batch_count_dst alice INBOX)" "$before" "re-run copied nothing again"

# ---- sync after new mail: just that is copied
export MAILSTAGE_DEST_PASSWORD
MAILSTAGE_DEST_PASSWORD=$(cat "$(pass_file dst admin)")
new=$MAILSTAGE_CORPUS/$(head -n 1 "$T/seed-heidi.list")
seed_message src alice INBOX "$new" '\Flagged' >/dev/null
before_bob=$(batch_count_dst bob INBOX)
rc=0
"$MAILSTAGE" batch sync "$B" >>"$T/run.log" 2>&1 || rc=$?
assert_eq "$rc" 0 "batch sync exits 0"
batch_same alice INBOX || fail "alice: INBOX differs after sync"
assert_eq "$(batch_count_dst alice INBOX)" $((before + 1)) "sync copied alice's one new message"
assert_eq "$(batch_count_dst bob INBOX)" "$before_bob" "sync copied nothing for bob"
assert_eq "$(batch_csv_field "$B/report.csv" "alice@$BATCH_DOMAIN" MessagesCopied)" 16 \
	"report.csv: alice 15 + 1 copied"
assert_eq "$(batch_csv_field "$B/report.csv" "alice@$BATCH_DOMAIN" Syncs)" 1 "report.csv: one sync"
assert_eq "$(batch_csv_field "$B/report.csv" "frank@$BATCH_DOMAIN" Syncs)" 0 \
	"sync leaves the failed rows alone"

# ---- complete, then no more syncs
rc=0
"$MAILSTAGE" batch complete "$B" >>"$T/run.log" 2>&1 || rc=$?
assert_eq "$rc" 0 "batch complete exits 0"
assert_eq "$(batch_csv_field "$B/report.csv" "carol@$BATCH_DOMAIN" State)" completed "carol: completed"
assert_contains "$("$MAILSTAGE" batch status "$B" --json)" '"complete":true' "status.json: complete"
out=$("$MAILSTAGE" batch sync "$B" 2>&1) && fail "sync after complete succeeded"
assert_contains "$out" "is complete: synchronization has ended" "sync after complete is refused"
rc=0
batch_run users.csv --dir "$B" || rc=$?
assert_eq "$rc" 2 "run on a complete batch is refused (exit 2)"

# ---- no CSV password anywhere we wrote or showed
batch_no_secret "batch directory (reports, state files)" "$B"
batch_no_secret "mailstage output" "$T/run.log"
batch_no_secret "process listing and environment" "$T/ps.log"
[ -s "$T/ps.log" ] || fail "no process listing taken"
ls "$B"/state/*.sqlite >/dev/null || fail "no per-row state files"
pass "one state file per row under the batch directory"

harness_done
