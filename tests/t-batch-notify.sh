#!/usr/bin/env bash
# t-batch-notify.sh - the status e-mail: `batch run --notify ADDR --smtp URL`
# sends the summary with the reports attached to a real local SMTP server
# (a private Postfix on loopback, delivering into a Maildir), and
# `batch complete` sends one too.  No CSV password in the mail.
set -euo pipefail
. "$(dirname "$0")/lib/harness.sh"
. "$(dirname "$0")/lib/batch.sh"

batch_test_init 300
[ -x /usr/lib/postfix/sbin/master ] || skip "Postfix missing (package postfix)"

# postfix_start: a private Postfix in $T/pf: smtpd on 127.0.0.1:$SMTP_PORT,
# every recipient @example.net delivered to the Maildir $T/pf/mail/inbox/.
postfix_start() {
	local d=$T/pf
	SMTP_PORT=$(harness_free_port)
	mkdir -p "$d/conf" "$d/spool" "$d/data" "$d/mail"
	cp /etc/postfix/master.cf /etc/postfix/dynamicmaps.cf "$d/conf/"
	# smtpd on our port, nothing chrooted (the spool is no chroot tree)
	sed -i -e "s/^smtp      inet .*/127.0.0.1:$SMTP_PORT inet n - n - - smtpd/" \
		-e 's/^\([a-z]*\)\( *\)\(unix\|inet\|fifo\)\( *\)\([-ny]\)\( *\)\([-ny]\)\( *\)y /\1\2\3\4\5\6\7\8n /' \
		"$d/conf/master.cf"
	cat >"$d/conf/main.cf" <<EOC
compatibility_level = 3.6
queue_directory = $d/spool
data_directory = $d/data
mail_owner = postfix
setgid_group = postdrop
myhostname = mailstage-test.invalid
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mydestination =
relay_domains =
mynetworks = 127.0.0.0/8
virtual_mailbox_domains = example.net
virtual_mailbox_base = $d/mail
virtual_mailbox_maps = static:inbox/
virtual_uid_maps = static:$(id -u vmail)
virtual_gid_maps = static:$(id -g vmail)
virtual_minimum_uid = 1
maillog_file_prefixes = $d
maillog_file = $d/postfix.log
smtpd_recipient_restrictions = permit_mynetworks, reject
alias_maps =
alias_database =
shlib_directory = /usr/lib/postfix
meta_directory = /etc/postfix
EOC
	chown vmail:vmail "$d/mail"
	# check creates the queue directories, set-permissions gives them their owners
	postfix -c "$d/conf" check >/dev/null 2>&1 || true
	postfix -c "$d/conf" set-permissions >/dev/null 2>&1 || true
	/usr/lib/postfix/sbin/master -c "$d/conf" -d >"$d/master.log" 2>&1 &
	harness_register_pid $!
	for _ in $(seq 1 100); do
		harness_port_open "$SMTP_PORT" && return 0
		sleep 0.1
	done
	cat "$d/master.log" >&2
	fail "postfix did not start"
}

# wait_mail N: until the Maildir holds N messages (at most 30 s).
wait_mail() {
	for _ in $(seq 1 300); do
		[ "$(find "$T/pf/mail/inbox/new" -type f 2>/dev/null | wc -l)" -ge "$1" ] && return 0
		sleep 0.1
	done
	cat "$T/pf/postfix.log" "$T/run.log" >&2 2>/dev/null || true
	fail "no status mail number $1 arrived"
}

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

postfix_start
pass "private Postfix listening on 127.0.0.1:$SMTP_PORT"
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
	--smtp "smtp://127.0.0.1:$SMTP_PORT" || rc=$?
assert_eq "$rc" 1 "run exits 1 (bob's password is wrong)"
wait_mail 2
f=$(find "$T/pf/mail/inbox/new" -type f | head -n 1)
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
wait_mail 4
assert_contains "$(for m in "$T"/pf/mail/inbox/new/*; do mail_parts "$m"; done)" \
	"Subject: mailstage batch complete finished" "complete sends its status mail too"
batch_no_secret "status mails" "$T/pf/mail"

harness_done
