#!/usr/bin/env bash
# t-auth.sh - SASL mechanisms chosen with --auth: the one asked for is the
# one used (Dovecot's login log names it), a mechanism the server does not
# offer is refused with words that say so (not "wrong password"), and NTLM
# works end to end against a real server that offers nothing else (Cyrus
# through Cyrus SASL's ntlm plugin: Debian's Dovecot has no NTLM).
set -u
. "$(dirname "$0")/lib/harness.sh"
. "$(dirname "$0")/lib/cyrus.sh"
harness_init
harness_timeout 300
harness_need_mailstage

dovecot_start src
PW=$(pass_file src alice)

run_check() { # run_check URL ARGS... -> sets OUT and RC
	OUT=$("$MAILSTAGE" check "$@" 2>&1)
	RC=$?
}

# login_methods NAME: the method= of every successful login so far, in order.
login_methods() {
	local log
	log=$(_harness_var "$1" LOG)
	grep -o 'Login: user=<alice>, method=[A-Z0-9-]*' "$log" | sed 's/.*method=//' | tr '\n' ' '
}

for mech in plain login; do
	before=$(login_methods src)
	run_check "imap://alice@127.0.0.1:$SRC_PORT/" --tls=none --auth=$mech --password-file "$PW"
	assert_eq "$RC" 0 "--auth=$mech logs in to Dovecot"
	upper=$(echo "$mech" | tr a-z A-Z)
	assert_eq "$(login_methods src)" "${before}$upper " "Dovecot saw exactly one login, with $upper"
done

run_check "imap://alice@127.0.0.1:$SRC_PORT/" --tls=none --auth=ntlm --password-file "$PW"
assert_eq "$RC" 3 "--auth=ntlm against a server without NTLM: cannot log in (exit 3)"
assert_contains "$OUT" "does not offer AUTH=NTLM" "the refusal names the missing mechanism"
assert_contains "$OUT" "it offers AUTH=PLAIN AUTH=LOGIN" "and lists what the server offers"
case $OUT in
*"password"*) fail "a missing mechanism is not blamed on the password: $OUT" ;;
*) pass "the password is not blamed" ;;
esac

# After STARTTLS the capability list changes; the one after it counts.
run_check "imap://alice@localhost:$SRC_PORT/" --ca-file "$CA_FILE" --auth=xoauth2 \
	--oauth2-token-file "$PW"
assert_eq "$RC" 3 "--auth=xoauth2 over STARTTLS against a server without it: exit 3"
assert_contains "$OUT" "does not offer AUTH=XOAUTH2 (it offers AUTH=PLAIN AUTH=LOGIN)" \
	"the post-STARTTLS mechanisms are the ones named"

bad=$T/bad-password
(umask 077 && echo 'not-the-password' >"$bad")
run_check "imap://alice@127.0.0.1:$SRC_PORT/" --tls=none --auth=plain --password-file "$bad"
assert_eq "$RC" 3 "a wrong password with an offered mechanism: exit 3"
assert_contains "$OUT" "wrong user name or password" "and that one is blamed on the password"

if ! cyrus_available; then
	harness_log "Cyrus not available (scripts/setup.sh installs it): NTLM part not run"
	harness_done
fi

cyrus_start cy --mechs NTLM
CPW=$(pass_file cy alice)
URL="imap://alice@127.0.0.1:$CY_PORT/"

run_check "$URL" --tls=none --auth=ntlm --password-file "$CPW"
assert_eq "$RC" 0 "--auth=ntlm logs in to Cyrus"
assert_contains "$OUT" "AUTH=NTLM" "the greeting offers NTLM"
case $OUT in
*"AUTH=PLAIN"* | *"AUTH=LOGIN"*) fail "this Cyrus offers NTLM only: $OUT" ;;
*) pass "and nothing else" ;;
esac

run_check "$URL" --tls=none --password-file "$CPW"
assert_eq "$RC" 0 "without --auth the best offered mechanism (NTLM) is taken"

run_check "$URL" --tls=none --auth=plain --password-file "$CPW"
assert_eq "$RC" 3 "--auth=plain against an NTLM-only server: exit 3"
assert_contains "$OUT" "does not offer AUTH=PLAIN (it offers AUTH=NTLM)" \
	"the refusal says PLAIN is not offered and NTLM is"

run_check "$URL" --tls=none --auth=ntlm --password-file "$bad"
assert_eq "$RC" 3 "NTLM with a wrong password: exit 3"
assert_contains "$OUT" "wrong user name or password" "blamed on the password"

rc_ok() { # rc_ok RC MSG LOG
	[ "$1" = 0 ] || cat "$3" >&2
	assert_eq "$1" 0 "$2"
}

# Copy Dovecot (PLAIN) -> Cyrus (NTLM) -> a Maildir, one mechanism a side.
for i in 1 2 3 4 5; do
	printf 'From: a%d@example.org\r\nTo: alice@example.org\r\nSubject: ntlm %d\r\nMessage-ID: <ntlm-%d@example.org>\r\n\r\nbody %d\r\n' \
		"$i" "$i" "$i" "$i" >"$T/m$i.eml"
	seed_message src alice INBOX "$T/m$i.eml" '\Flagged' >/dev/null
done
want=$(imap_dump src alice INBOX | cut -f5 | sort)

"$MAILSTAGE" copy "imap://alice@127.0.0.1:$SRC_PORT/" "$URL" --tls=none \
	--source-auth plain --dest-auth ntlm --source-password-file "$PW" \
	--dest-password-file "$CPW" --no-state --include INBOX -q >"$T/copy1.log" 2>&1
rc_ok $? "copy to the NTLM-only Cyrus with --dest-auth ntlm" "$T/copy1.log"

"$MAILSTAGE" copy "$URL" "$T/out" --tls=none --source-auth ntlm \
	--source-password-file "$CPW" --no-state --include INBOX -q >"$T/copy2.log" 2>&1
rc_ok $? "copy back from Cyrus with --source-auth ntlm" "$T/copy2.log"
got=$(find "$T/out" -path '*/cur/*' -type f -exec sha256sum {} + | cut -d' ' -f1 | sort)
assert_eq "$got" "$want" "the 5 messages came through Cyrus byte-exact (SHA-256)"
flagged=$(find "$T/out" -path '*/cur/*' -name '*:2,*F*' | wc -l)
assert_eq "$flagged" 5 "and still \\Flagged"

"$MAILSTAGE" copy "$URL" "$T/out2" --tls=none --auth=plain --source-auth ntlm \
	--source-password-file "$CPW" --no-state --include INBOX -q >"$T/copy3.log" 2>&1
rc_ok $? "--source-auth wins over --auth whatever the order" "$T/copy3.log"

harness_done
