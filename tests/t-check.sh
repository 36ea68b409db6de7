#!/usr/bin/env bash
# t-check.sh - `mailstage check` against real Dovecot: plain, STARTTLS and
# imaps logins with a verified certificate; every kind of failure refused
# with a plain-words message and the documented exit status; admin logins.
set -u
. "$(dirname "$0")/lib/harness.sh"
harness_init
harness_timeout 240
harness_need_mailstage

dovecot_start src
dovecot_start wrong --cert wrongname
dovecot_start self --cert selfsigned
PW=$(pass_file src alice)

run_check() { # run_check URL ARGS... -> sets OUT and RC
	OUT=$("$MAILSTAGE" check "$@" 2>&1)
	RC=$?
}

run_check "imap://alice@127.0.0.1:$SRC_PORT/" --tls=none --password-file "$PW"
assert_eq "$RC" 0 "plain login works when --tls=none is asked for"
assert_contains "$OUT" "Encryption:   none" "check says the connection is not encrypted"
assert_contains "$OUT" "Namespace:    personal" "check lists the personal namespace"
assert_contains "$OUT" "LITERAL+" "post-login capabilities are shown"

run_check "imap://alice@localhost:$SRC_PORT/" --ca-file "$CA_FILE" --password-file "$PW"
assert_eq "$RC" 0 "STARTTLS (the default for imap://) with a verified certificate"
assert_contains "$OUT" "certificate verified" "check reports the verified certificate"

run_check "imaps://alice@localhost:$SRC_TLSPORT/" --ca-file "$CA_FILE" --password-file "$PW"
assert_eq "$RC" 0 "imaps with a verified certificate"

run_check "imaps://alice@127.0.0.1:$SRC_TLSPORT/" --ca-file "$CA_FILE" --password-file "$PW"
assert_eq "$RC" 0 "imaps by IP address matches the certificate's IP SAN"

run_check "imaps://alice@localhost:$SRC_TLSPORT/" --password-file "$PW"
assert_eq "$RC" 3 "an unknown CA is refused by default"
assert_contains "$OUT" "not trusted" "the refusal says the certificate is not trusted"
assert_contains "$OUT" "--ca-file" "and suggests --ca-file"

run_check "imaps://alice@localhost:$WRONG_TLSPORT/" --ca-file "$CA_FILE" --password-file "$(pass_file wrong alice)"
assert_eq "$RC" 3 "a certificate for another host name is refused"
assert_contains "$OUT" "not for 'localhost'" "the refusal names the host name mismatch"

run_check "imap://alice@localhost:$SELF_PORT/" --ca-file "$CA_FILE" --password-file "$(pass_file self alice)"
assert_eq "$RC" 3 "a self-signed certificate (not from the CA) is refused over STARTTLS"

run_check "imaps://alice@localhost:$SELF_TLSPORT/" --insecure --password-file "$(pass_file self alice)"
assert_eq "$RC" 0 "--insecure accepts it, when asked"
assert_contains "$OUT" "NOT verified" "and says so"

echo wrong-password >"$T/badpw"
run_check "imap://alice@127.0.0.1:$SRC_PORT/" --tls=none --password-file "$T/badpw"
assert_eq "$RC" 3 "a wrong password exits 3"
assert_contains "$OUT" "wrong user name or password" "and says so in plain words"
[[ "$OUT" != *wrong-password* ]] && pass "the password is not echoed" || fail "password echoed"

run_check "imap://alice*admin@127.0.0.1:$SRC_PORT/" --tls=none --password-file "$(pass_file src admin)"
assert_eq "$RC" 0 "Dovecot master-user login alice*admin works"
run_check "imap://alice*admin@127.0.0.1:$SRC_PORT/" --tls=none --password-file "$T/badpw"
assert_eq "$RC" 3 "master login with a wrong admin password is refused"
assert_contains "$OUT" "admin" "and the message talks about the admin login"

run_check "imap://alice@127.0.0.1:$SRC_PORT/" --tls=none --auth=login --password-file "$PW"
assert_eq "$RC" 0 "SASL LOGIN works"

PORT_CLOSED=$(harness_free_port)
run_check "imap://alice@127.0.0.1:$PORT_CLOSED/" --tls=none --password-file "$PW"
assert_eq "$RC" 3 "a closed port exits 3"
assert_contains "$OUT" "check host, port and firewall" "and says what to check"

run_check "imap://alice@no-such-host.invalid/" --password-file "$PW"
assert_eq "$RC" 3 "an unknown host exits 3"
assert_contains "$OUT" "unknown host" "and says the host is unknown"

run_check "imap://alice:secret@127.0.0.1:$SRC_PORT/" --tls=none
assert_eq "$RC" 2 "a password in the URL is refused as a usage error"
assert_contains "$OUT" "process list" "and the reason is given"

OUT=$(MAILSTAGE_PASSWORD=pw-alice-Secret1 "$MAILSTAGE" check --tls=none "imap://alice@127.0.0.1:$SRC_PORT/" </dev/null 2>&1)
assert_eq "$?" 0 "the password can come from MAILSTAGE_PASSWORD"

OUT=$(env -u MAILSTAGE_PASSWORD "$MAILSTAGE" check --tls=none "imap://alice@127.0.0.1:$SRC_PORT/" </dev/null 2>&1)
assert_eq "$?" 2 "no password anywhere is a usage error"
assert_contains "$OUT" "MAILSTAGE_PASSWORD" "and names where it looked"

run_check "ftp://alice@127.0.0.1/"
assert_eq "$RC" 2 "a non-IMAP URL is a usage error"

harness_done
