#!/usr/bin/env bash
# t-batch-shard.sh - `--shard 1/3 2/3 3/3` under GNU parallel: three
# workers on one CSV, each with its own batch directory, cover every row
# exactly once, and every mailbox arrives once.
set -euo pipefail
. "$(dirname "$0")/lib/harness.sh"
. "$(dirname "$0")/lib/batch.sh"

batch_test_init 300
command -v parallel >/dev/null || skip "GNU parallel missing (package parallel)"
batch_servers
cd "$T"

users="alice bob carol dave erin frank grace heidi"
i=0
for u in $users; do
	batch_seed "$u" 5 $((i * 5)) >/dev/null
	i=$((i + 1))
done
{
	echo 'EmailAddress,UserName,Password'
	for u in $users; do echo "$u@$BATCH_DOMAIN,$u,$(batch_pw "$u")"; done
} >users.csv
chmod 600 users.csv

export MAILSTAGE SRC_PORT DST_PORT
export MAILSTAGE_DEST_PASSWORD
MAILSTAGE_DEST_PASSWORD=$(cat "$(pass_file dst admin)")
rc=0
parallel --will-cite -j 3 \
	'$MAILSTAGE batch run users.csv --shard {}/3 --source imap://127.0.0.1:$SRC_PORT/ --dest imap://admin@127.0.0.1:$DST_PORT/ --dest-admin-style dovecot --tls none' \
	::: 1 2 3 >"$T/parallel.log" 2>&1 || rc=$?
assert_eq "$rc" 0 "three shards under GNU parallel all exit 0"
for k in 1 2 3; do
	[ -f "users.batch-${k}of3/report.csv" ] || fail "shard $k wrote no report"
done
pass "each shard has its own batch directory (users.batch-Kof3)"
rows=$(for k in 1 2 3; do tail -n +2 "users.batch-${k}of3/report.csv" | cut -d, -f1; done | LC_ALL=C sort)
want=$(for u in $users; do echo "$u@$BATCH_DOMAIN"; done | LC_ALL=C sort)
assert_eq "$rows" "$want" "the shards' reports hold every row exactly once"
for k in 1 2 3; do
	n=$(tail -n +2 "users.batch-${k}of3/report.csv" | grep -c ',migrated,' || true)
	[ "$n" -ge 1 ] || fail "shard $k took no row (split not spread)"
done
pass "every shard took some rows"
for u in $users; do
	batch_same "$u" INBOX || fail "$u: INBOX differs (missing or copied twice)"
done
pass "every mailbox migrated once"
# the split is stable: the same command again takes the same rows and does nothing new
first=$(tail -n +2 users.batch-2of3/report.csv | cut -d, -f1 | LC_ALL=C sort)
copied=$(tail -n +2 users.batch-2of3/report.csv | cut -d, -f4 | awk '{ s += $1 } END { print s + 0 }')
rc=0
"$MAILSTAGE" batch run users.csv --shard 2/3 --source "imap://127.0.0.1:$SRC_PORT/" \
	--dest "imap://admin@127.0.0.1:$DST_PORT/" --dest-admin-style dovecot --tls none \
	>>"$T/parallel.log" 2>&1 || rc=$?
assert_eq "$rc" 0 "shard 2/3 again exits 0"
again=$(tail -n +2 users.batch-2of3/report.csv | cut -d, -f1 | LC_ALL=C sort)
assert_eq "$again" "$first" "stable split: shard 2/3 takes the same rows again"
assert_eq "$(tail -n +2 users.batch-2of3/report.csv | cut -d, -f4 | awk '{ s += $1 } END { print s + 0 }')" "$copied" \
	"and copies nothing more"
out=$("$MAILSTAGE" batch run users.csv --shard 4/3 --source imap://127.0.0.1:1/ \
	--dest imap://127.0.0.1:2/ 2>&1) && fail "--shard 4/3 accepted"
assert_contains "$out" "--shard wants K/N" "--shard 4/3 refused"

harness_done
