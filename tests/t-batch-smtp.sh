#!/usr/bin/env bash
# t-batch-smtp.sh - the status mail and its SMTP login travel over verified
# TLS unless the administrator asks otherwise, against two private Postfix
# servers that take logins (checked by Dovecot's auth socket):
#  - one that offers no STARTTLS: an smtp:// URL is refused before anything
#    is sent, the login above all (Postfix logs no login and delivers
#    nothing); --smtp-tls=none sends in clear text, as asked;
#  - one with STARTTLS and smtps: smtp:// goes through STARTTLS and smtps://
#    through TLS (the Received: header says "using TLS", the log shows the
#    login), the certificate checked against --smtp-ca-file; without it,
#    the private CA is not trusted and nothing is sent;
#  - an --smtp URL with a password or a user in it, another scheme, a
#    --notify-from with a line break, a bad --smtp-tls: usage errors (exit
#    2) before any mailbox moves, the password nowhere.
set -euo pipefail
. "$(dirname "$0")/lib/harness.sh"
. "$(dirname "$0")/lib/batch.sh"
. "$(dirname "$0")/lib/postfix.sh"

batch_test_init 400
batch_servers
dovecot_start sasl --extra $'service auth {\n  unix_listener auth-postfix {\n    mode = 0666\n  }\n}\n'
postfix_start tls --tls --sasl "$SASL_DIR/run/auth-postfix"
TLS_PORT=$PF_PORT
SMTPS_PORT=$PF_TLSPORT
postfix_start plain --sasl "$SASL_DIR/run/auth-postfix"
PLAIN_PORT=$PF_PORT
pass "Postfix with STARTTLS on $TLS_PORT and smtps on $SMTPS_PORT, one without TLS on $PLAIN_PORT"
cd "$T"
batch_seed alice 2 0 >/dev/null
printf 'EmailAddress,UserName,Password\nalice@%s,alice,%s\n' "$BATCH_DOMAIN" "$(batch_pw alice)" >users.csv
chmod 600 users.csv
SMTP_PW=$(cat "$(pass_file sasl alice)")
export MAILSTAGE_SMTP_PASSWORD=$SMTP_PW

# notify NAME ARGS...: a batch run with a status mail; RC, and its output in OUT
notify() {
	local name=$1
	shift
	RC=0
	MAILSTAGE_DEST_PASSWORD=$(cat "$(pass_file dst admin)") \
		"$MAILSTAGE" batch run users.csv --dir "$T/b" --notify ops@example.net \
		--source "imap://127.0.0.1:$SRC_PORT/" --dest "imap://admin@127.0.0.1:$DST_PORT/" \
		--dest-admin-style dovecot --tls none "$@" >"$T/$name.log" 2>&1 || RC=$?
	OUT=$(cat "$T/$name.log")
}

# logins NAME: the SMTP logins Postfix NAME has logged so far
logins() { grep -c 'sasl_username=alice' "$T/pf-$1/postfix.log" || true; }

# received MAIL: the Received: headers of a delivered message, on one line
received() {
	"$HARNESS_PYTHON" -c 'import email, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"))
print(" ".join(" ".join(h.split()) for h in m.get_all("Received", [])))' "$1"
}

# ---------------------------------------------------------------- no STARTTLS offered
notify plain-default --smtp "smtp://127.0.0.1:$PLAIN_PORT" --smtp-user alice
assert_eq "$RC" 0 "the batch itself succeeds"
assert_contains "$OUT" "the server offers no STARTTLS; use its smtps:// port, or --smtp-tls=none" \
	"smtp:// to a server without STARTTLS: refused, and the fix said"
sleep 1
assert_eq "$(logins plain)" 0 "Postfix logged no login: the password never went out in clear text"
assert_eq "$(postfix_mails plain | wc -l)" 0 "and no mail was delivered"
notify plain-none --smtp "smtp://127.0.0.1:$PLAIN_PORT" --smtp-user alice --smtp-tls=none
postfix_wait_mail plain 1
pass "--smtp-tls=none: the mail goes in clear text, as asked"
assert_eq "$(logins plain)" 1 "with the login"

# ---------------------------------------------------------------- STARTTLS and smtps
notify tls-noca --smtp "smtp://127.0.0.1:$TLS_PORT" --smtp-user alice
assert_contains "$OUT" "its certificate was not verified; give its CA with --smtp-ca-file" \
	"the private CA not given: the certificate is not trusted"
sleep 1
assert_eq "$(postfix_mails tls | wc -l)" 0 "and nothing was sent"
assert_eq "$(logins tls)" 0 "nor a login"
notify tls-starttls --smtp "smtp://127.0.0.1:$TLS_PORT" --smtp-user alice --smtp-ca-file "$CA_FILE"
postfix_wait_mail tls 1
assert_contains "$(received "$(postfix_mails tls | head -n 1)")" "(using TLS" \
	"smtp:// with --smtp-ca-file: delivered through STARTTLS (Received: ... using TLS)"
assert_eq "$(logins tls)" 1 "the login went over TLS (Postfix offers AUTH only after STARTTLS)"
grep -q 'TLS connection established from' "$T/pf-tls/postfix.log" &&
	pass "Postfix logged the TLS connection" || fail "no TLS connection in Postfix's log"
notify tls-smtps --smtp "smtps://127.0.0.1:$SMTPS_PORT" --smtp-user alice --smtp-ca-file "$CA_FILE"
postfix_wait_mail tls 2
for m in $(postfix_mails tls); do received "$m"; done >"$T/received.txt"
assert_eq "$(grep -c '(using TLS' "$T/received.txt")" 2 "smtps://: delivered through TLS too"

# ---------------------------------------------------------------- usage errors
# refused NAME WORDS ARGS...: exit 2 with WORDS, nothing written to a new batch directory
refused() {
	local name=$1 words=$2
	shift 2
	RC=0
	"$MAILSTAGE" batch run users.csv --dir "$T/b-$name" --notify ops@example.net \
		--source "imap://127.0.0.1:$SRC_PORT/" --dest "imap://admin@127.0.0.1:$DST_PORT/" \
		--dest-admin-style dovecot --tls none "$@" >"$T/$name.log" 2>&1 || RC=$?
	OUT=$(cat "$T/$name.log")
	assert_eq "$RC" 2 "$name: a usage error (exit 2)"
	assert_contains "$OUT" "$words" "$name: says '$words'"
	[ ! -e "$T/b-$name" ] && pass "$name: no batch directory, no batch.args" ||
		fail "$name: $T/b-$name was written"
}
refused url-password "a password in the URL would be in the process list" \
	--smtp "smtp://alice:$SMTP_PW@127.0.0.1:$TLS_PORT"
[[ "$OUT" != *"$SMTP_PW"* ]] && pass "url-password: the message does not repeat the password" ||
	fail "url-password: the password is in the message"
refused url-user "give the login with --smtp-user" --smtp "smtp://alice@127.0.0.1:$TLS_PORT"
refused url-scheme "only smtp:// (STARTTLS) and smtps:// (TLS) URLs are accepted" \
	--smtp "http://127.0.0.1:$TLS_PORT/"
refused from-crlf "--notify-from is not an e-mail address" --smtp "smtp://127.0.0.1:$TLS_PORT" \
	--notify-from $'ops@example.net\r\nBcc: spy@example.net'
refused bad-tls "--smtp-tls must be ssl, starttls or none" --smtp "smtp://127.0.0.1:$TLS_PORT" \
	--smtp-tls maybe

harness_done
