#!/usr/bin/env bash
# t-batch-oauth2.sh - `mailstage batch run --dest-oauth2-token-command CMD`
# against a Dovecot destination whose oauth2 passdb validates bearer tokens
# locally (JWT HS256 with a shared key, minted here with openssl): each row
# logs in as its EmailAddress with XOAUTH2 (Dovecot's log says so) using
# the token CMD printed for it; CMD runs once per mailbox with
# MAILSTAGE_USER set and no MAILSTAGE_*PASSWORD* in its environment; a
# failing CMD and a token the server refuses give clear per-row errors with
# a fix; no token appears in any report, state file, output or process
# listing; `batch sync` runs CMD again and copies new mail.  Then `check
# --oauth2-token-command` and `copy --dest-oauth2-token-command` (one side
# only) for a single account, and a failing command there.
set -euo pipefail
. "$(dirname "$0")/lib/harness.sh"
. "$(dirname "$0")/lib/batch.sh"

batch_test_init 400
command -v openssl >/dev/null || skip "openssl not installed"
command -v xxd >/dev/null || skip "xxd not installed"
cd "$T"

# ---- the key, Dovecot's oauth2 passdb (local validation), the token helper
O=$T/oauth
mkdir -p "$O/keys/default/HS256"
openssl rand -hex 32 >"$O/key.hex"
openssl rand -hex 32 >"$O/wrong.hex"
xxd -r -p "$O/key.hex" | openssl base64 -A >"$O/keys/default/HS256/default"
cat >"$O/oauth2.conf.ext" <<CONF
introspection_mode = local
local_validation_key_dict = fs:posix:prefix=$O/keys/
username_attribute = email
username_format = %Ln
CONF
chmod 755 "$O" "$O/keys" "$O/keys/default" "$O/keys/default/HS256"
chmod 644 "$O/oauth2.conf.ext" "$O/keys/default/HS256/default"
chmod 600 "$O/key.hex" "$O/wrong.hex"

cat >"$O/token.sh" <<'HELPER'
#!/usr/bin/env bash
# prints a JWT for $MAILSTAGE_USER (frank: fails; erin: signed with the wrong key)
set -eu
D=$(dirname "$0")
echo "$MAILSTAGE_USER" >>"$D/calls.log"
if env | grep -q '^MAILSTAGE_[A-Z_]*PASSWORD'; then echo "secret-in-env" >>"$D/calls.log"; fi
case $MAILSTAGE_USER in frank@*) echo "token.sh: no consent for frank" >&2; exit 3 ;; esac
key=$(cat "$D/key.hex")
case $MAILSTAGE_USER in erin@*) key=$(cat "$D/wrong.hex") ;; esac
b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
now=$(date +%s)
h=$(printf '{"alg":"HS256","typ":"JWT"}' | b64url)
p=$(printf '{"sub":"%s","email":"%s","iat":%d,"nbf":%d,"exp":%d}' "$MAILSTAGE_USER" \
	"$MAILSTAGE_USER" "$now" "$now" $((now + 600)) | b64url)
s=$(printf '%s.%s' "$h" "$p" | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$key" -binary | b64url)
echo "$h.$p.$s" >>"$D/tokens.issued"
echo "$h.$p.$s"
HELPER
chmod 700 "$O/token.sh"

dovecot_start src
dovecot_start dst --extra 'auth_username_format = %Ln' --extra "auth_mechanisms = plain login xoauth2 oauthbearer
passdb {
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = $O/oauth2.conf.ext
}"

i=0
for u in alice bob carol erin frank; do
	batch_seed "$u" 6 $((i * 6)) >/dev/null
	i=$((i + 1))
done
{
	echo 'EmailAddress,UserName,Password'
	for u in alice bob carol erin frank; do echo "$u@$BATCH_DOMAIN,$u,$(batch_pw "$u")"; done
} >users.csv
chmod 600 users.csv
B=$T/b

oauth_batch() {
	MAILSTAGE_SMTP_PASSWORD=not-for-helpers "$MAILSTAGE" batch "$@" >>"$T/run.log" 2>&1
}
rc=0
oauth_batch run users.csv --dir "$B" --concurrency 2 --source "imap://127.0.0.1:$SRC_PORT/" \
	--dest "imap://127.0.0.1:$DST_PORT/" --dest-oauth2-token-command "$O/token.sh" \
	--tls none &
pid=$!
for _ in $(seq 1 30); do
	ps -eo args= >>"$T/ps.log"
	cat /proc/"$pid"/environ /proc/"$pid"/cmdline >>"$T/ps.log" 2>/dev/null || true
	for c in $(pgrep -P "$pid" || true); do
		cat /proc/"$c"/cmdline >>"$T/ps.log" 2>/dev/null || true
	done
	sleep 0.05
done
wait "$pid" || rc=$?
assert_eq "$rc" 1 "batch run exits 1 (erin's and frank's rows fail)"

# before any check of ours logs in (the checks use the master user, PLAIN)
for u in alice bob carol; do
	grep -Eq "imap-login: Info: Login: user=<$u>, method=(XOAUTH2|OAUTHBEARER)," "$DST_LOG" ||
		fail "$u: Dovecot logged no OAuth2 login"
	if grep -Eq "Login: user=<$u>, method=(PLAIN|LOGIN)," "$DST_LOG"; then
		fail "$u: a password login reached the destination"
	fi
	pass "$u: the destination saw only bearer-token logins (Dovecot's log)"
done
for u in alice bob carol; do
	batch_same "$u" INBOX || fail "$u: INBOX differs between source and destination"
	batch_same "$u" Sent || fail "$u: Sent differs between source and destination"
	assert_eq "$(batch_csv_field "$B/report.csv" "$u@$BATCH_DOMAIN" State)" migrated "$u: migrated"
done
assert_eq "$(LC_ALL=C sort "$O/calls.log" | tr '\n' ' ')" \
	"alice@$BATCH_DOMAIN bob@$BATCH_DOMAIN carol@$BATCH_DOMAIN erin@$BATCH_DOMAIN frank@$BATCH_DOMAIN " \
	"the token command ran once per mailbox, with its EmailAddress in MAILSTAGE_USER"
if grep -q secret-in-env "$O/calls.log"; then
	fail "the token command saw a MAILSTAGE_*PASSWORD variable"
fi
pass "the token command's environment holds no MAILSTAGE_*PASSWORD variable"

e=$(cat "$B/errors.csv")
assert_contains "$(grep "frank@" <<<"$e")" \
	"destination: the token command for frank@$BATCH_DOMAIN failed (exit status 3)" \
	"errors.csv: frank's failing token command, with its exit status"
assert_contains "$(grep "frank@" <<<"$e")" "run it by hand with MAILSTAGE_USER set" \
	"errors.csv: the fix says how to try the command"
assert_contains "$(cat "$T/run.log")" "token.sh: no consent for frank" "the command's stderr reaches the log"
assert_contains "$(grep "erin@" <<<"$e")" "OAuth2 login as erin@$BATCH_DOMAIN refused" \
	"errors.csv: erin's refused token"
assert_contains "$(grep "erin@" <<<"$e")" "the destination refused the OAuth2 token: check that the token command" \
	"errors.csv: erin's fix points at the token the command printed"
assert_eq "$(batch_count_dst erin INBOX)" 0 "nothing reached erin's mailbox"

# ---- sync: the command runs again, new mail is copied
seed_message src alice INBOX "$MAILSTAGE_CORPUS/$(sed -n 1p "$T/seed-bob.list")" >/dev/null
rc=0
oauth_batch sync "$B" || rc=$?
assert_eq "$rc" 0 "batch sync exits 0"
batch_same alice INBOX || fail "alice: INBOX differs after sync"
pass "sync copied alice's new message through XOAUTH2"
assert_eq "$(grep -c "^alice@" "$O/calls.log")" 2 "sync ran the token command again for alice"

# ---- check and copy with a token command on the destination side only
batch_seed dave 4 40 >/dev/null
DAVE_DST="imap://dave%40$BATCH_DOMAIN@127.0.0.1:$DST_PORT/"
rc=0
MAILSTAGE_PASSWORD=not-for-helpers "$MAILSTAGE" check --tls none \
	--oauth2-token-command "$O/token.sh" "$DAVE_DST" >>"$T/run.log" 2>&1 || rc=$?
assert_eq "$rc" 0 "check --oauth2-token-command logs in to the destination as dave"
rc=0
"$MAILSTAGE" copy --tls none --progress none --no-state \
	--source-password-file "$(pass_file src dave)" --dest-oauth2-token-command "$O/token.sh" \
	"imap://dave@127.0.0.1:$SRC_PORT/" "$DAVE_DST" >>"$T/run.log" 2>&1 || rc=$?
assert_eq "$rc" 0 "copy --dest-oauth2-token-command exits 0"
grep -Eq "imap-login: Info: Login: user=<dave>, method=(XOAUTH2|OAUTHBEARER)," "$DST_LOG" ||
	fail "dave: Dovecot logged no OAuth2 login"
batch_same dave INBOX || fail "dave: INBOX differs after copy"
pass "copy reached the destination with the token, source with its password"
assert_eq "$(grep -c "^dave@$BATCH_DOMAIN\$" "$O/calls.log")" 2 \
	"check and copy ran the command with the URL's user in MAILSTAGE_USER"
rc=0
out=$("$MAILSTAGE" copy --tls none --progress none --no-state \
	--source-password-file "$(pass_file src frank)" --dest-oauth2-token-command "$O/token.sh" \
	"imap://frank@127.0.0.1:$SRC_PORT/" "imap://frank%40$BATCH_DOMAIN@127.0.0.1:$DST_PORT/" 2>&1) || rc=$?
assert_eq "$rc" 2 "copy with a failing token command exits 2"
assert_contains "$out" "the token command for frank@$BATCH_DOMAIN failed (exit status 3)" \
	"copy names the user and the exit status"
echo "$out" >>"$T/run.log"

# ---- no token anywhere we wrote or showed
[ "$(grep -c . "$O/tokens.issued")" -ge 5 ] || fail "fewer tokens issued than expected"
no_token() { # WHAT FILES...
	local what=$1 t
	shift
	while IFS= read -r t; do
		if grep -rqaF -- "$t" "$@" 2>/dev/null; then
			grep -rlaF -- "$t" "$@" >&2
			fail "$what: a token appears"
		fi
	done <"$O/tokens.issued"
	pass "$what: no token in it"
}
no_token "batch directory (reports, state files)" "$B"
no_token "mailstage output" "$T/run.log"
no_token "process listing and environment" "$T/ps.log"
harness_done
