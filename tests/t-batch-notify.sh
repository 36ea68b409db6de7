#!/usr/bin/env bash
# t-batch-notify.sh - the status e-mail: `batch run --notify ADDR --smtp URL`
# sends the summary with the reports attached to a real local SMTP server
# (a private Postfix on loopback with STARTTLS, delivering into a Maildir),
# and `batch complete` sends one too.  No CSV password in the mail.
set -euo pipefail
. "$(dirname "$0")/lib/harness.sh"
. "$(dirname "$0")/lib/batch.sh"
. "$(dirname "$0")/lib/postfix.sh"

batch_test_init 300

# mail_parts FILE: subject, then one "name TAB first line" per attachment.
mail_parts() {
	"$HARNESS_PYTHON" - "$1" <<'PY'
import email, sys
from email import policy
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=policy.default)
print("Subject:", m["subject"])
print("To:", m["to"])
for part in m.walk():
    name = part.get_filename()
    if name:
        body = part.get_payload(decode=True).decode("utf-8", "replace")
        print(name + "\t" + body.splitlines()[0])
    elif part.get_content_type() == "text/plain":
        print("BODY\t" + part.get_content().replace("\n", " | "))
PY
}

postfix_start pf --tls
pass "private Postfix listening on 127.0.0.1:$PF_PORT"
batch_servers
cd "$T"
batch_seed alice 5 0 >/dev/null
batch_seed bob 5 5 >/dev/null
{
	echo 'EmailAddress,UserName,Password'
	echo "alice@$BATCH_DOMAIN,alice,$(batch_pw alice)"
	echo "bob@$BATCH_DOMAIN,bob,wrong-Secret9"
} >users.csv
chmod 600 users.csv
printf '%s\n%s\n' "$(batch_pw alice)" wrong-Secret9 >secrets

rc=0
batch_run users.csv --dir "$T/b" --notify admin@example.net --notify ops@example.net \
	--smtp "smtp://127.0.0.1:$PF_PORT" --smtp-ca-file "$CA_FILE" || rc=$?
assert_eq "$rc" 1 "run exits 1 (bob's password is wrong)"
postfix_wait_mail pf 2
f=$(postfix_mails pf | head -n 1)
parts=$(mail_parts "$f")
assert_contains "$parts" "Subject: mailstage batch run finished: users.csv" "the subject says what finished"
assert_contains "$parts" "admin@example.net" "addressed to the --notify addresses"
assert_contains "$parts" "Mailboxes: 2 |   migrated: 1" "the body sums up the batch"
assert_contains "$parts" "bob@$BATCH_DOMAIN: source: login as bob refused" "the body names the failed row"
for a in report.csv errors.csv MigrationErrors.csv validation.csv status.json; do
	assert_contains "$parts" "$a	" "attached: $a"
done
assert_contains "$parts" "report.csv	EmailAddress,UserName,State" "report.csv attachment holds the report"
assert_contains "$parts" "MigrationErrors.csv	EmailAddress,Line,Status,ErrorMessage" "MigrationErrors.csv attachment"

export MAILSTAGE_DEST_PASSWORD
MAILSTAGE_DEST_PASSWORD=$(cat "$(pass_file dst admin)")
rc=0
"$MAILSTAGE" batch complete "$T/b" >>"$T/run.log" 2>&1 || rc=$?
assert_eq "$rc" 0 "batch complete exits 0"
postfix_wait_mail pf 4
assert_contains "$(for m in $(postfix_mails pf); do mail_parts "$m"; done)" \
	"Subject: mailstage batch complete finished" "complete sends its status mail too"
batch_no_secret "status mails" "$T/pf-pf/mail"

harness_done
