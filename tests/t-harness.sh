#!/usr/bin/env bash
# t-harness.sh - the test harness checks itself against real Dovecot servers,
# so that every other integration test can trust what it reports.
#
# What Dovecot 2.3 really does with the bytes of an APPEND (checked below,
# on the Maildir files themselves, and relied on by imaptool.py `expect`):
#   - it STORES lines ending in LF: a CRLF in the appended message is saved
#     as LF; a bare CR is kept as it is; a missing final newline stays
#     missing;
#   - it SERVES every LF as CRLF, so RFC822.SIZE and BODY[] are the
#     CRLF form (the W= "virtual size" in the Maildir file name);
#   - a NUL byte is taken in a plain {N} literal (RFC 3501 forbids it,
#     Dovecot stores it unchanged) and sent as 0x80 inside BODY[]; sent as
#     a literal8 (~{N}, RFC 3516) the message is rewritten instead: binary
#     parts are stored re-encoded as base64;
#   - a CR at the very end of a message is dropped on save, and "\r\r\n"
#     comes back as "\r\n";
#   - BINARY[] is no way around it: it decodes MIME parts, it is not the
#     stored bytes.
# So "byte-exact" through Dovecot means: equal after line ends are made
# CRLF, except for a final CR and NUL bytes (imaptool.py
# dovecot_served_form() models this).  Comparing BODY[] on both sides of a
# copy cannot see a lost NUL; the Maildir files on disk can.
set -euo pipefail
. "$(dirname "$0")/lib/harness.sh"

harness_init
harness_timeout 240
harness_need_root

dovecot_start src --sep /
dovecot_start dst --sep . --listescape
pass "two private Dovecot instances up (src '/' on $SRC_PORT, dst '.' on $DST_PORT)"

# ---- seed 20 corpus messages: every line-ending oddity first
list=$T/list
"$HARNESS_PYTHON" - "$MAILSTAGE_CORPUS" >"$list" <<'PY'
import sys
root = sys.argv[1]
rows = [l.rstrip("\n").split("\t") for l in open(root + "/manifest.tsv")][1:]
rows.sort()
want = ["bare CR", "NUL byte", "no final newline", "mixed CRLF+bare LF",
        "CRLF", "bare LF", "mbox From_ line", "8bit in header",
        "no header/body separator", "CTE binary", "line >998", "over 1MB"]
picked = []
for note in want:
    for r in rows:
        if note in r[3].split("; ") and r[0] not in picked:
            picked.append(r[0])
            break
for r in rows[::21]:
    if len(picked) == 20:
        break
    if r[0] not in picked:
        picked.append(r[0])
print("\n".join(picked))
PY
assert_eq "$(wc -l <"$list")" 20 "20 corpus messages picked"
seed_corpus src alice INBOX "$list"
plan=$SEED_PLAN
cut -f1 "$plan" >"$list"    # absolute paths from here on

dump=$(imap_dump src alice INBOX)
assert_eq "$(wc -l <<<"$dump")" 20 "dump lists 20 messages"
assert_eq "$(cut -f1 <<<"$dump" | tr '\n' ' ')" "$(seq -s ' ' 1 20) " "UIDs 1..20 in seed order"

expect=$(imaptool expect "$plan")
assert_eq "$(cut -f2,3 <<<"$dump")" "$(cut -f1,2 <<<"$expect")" \
	"flags, keywords and INTERNALDATEs are those requested"
for f in '\\Seen' '\\Flagged' '\\Answered' '\\Draft' '\$Forwarded' 'NonJunk' 'MsCustom-Tag' '^[0-9]+\t\t'; do
	grep -qP "$f" <<<"$dump" || fail "no seeded message matches $f: flags not varied"
done
pass "seed flags are varied (each system flag, keywords, custom keyword, none)"
assert_eq "$(cut -f2- <<<"$dump")" "$expect" \
	"IMAP view = source with LF->CRLF (size and sha256)"

# ---- second, independent path: the Maildir files Dovecot wrote
printf '%s\n' "$dump" >"$T/dump"
PYTHONPATH=$HARNESS_LIB "$HARNESS_PYTHON" - "$SRC_MAILDIR/alice/Maildir" "$plan" "$T/dump" \
	>"$T/maildir-check" <<'PY' ||
import hashlib, os, re, sys
from imaptool import dovecot_stored_form
maildir, plan, dump = sys.argv[1:4]
files = {}
for sub in ("cur", "new"):
    for f in os.listdir(os.path.join(maildir, sub)):
        files[f.split(":")[0]] = os.path.join(maildir, sub, f)
uid2file = {}
with open(os.path.join(maildir, "dovecot-uidlist")) as f:
    next(f)
    for line in f:
        uid, rest = line.split(" ", 1)
        uid2file[int(uid)] = files[rest.rsplit(":", 1)[1].strip()]
srcs = [l.split("\t")[0] for l in open(plan)]
bad = 0
for line in open(dump):
    uid, _f, _d, size, sha = line.rstrip("\n").split("\t")
    stored = open(uid2file[int(uid)], "rb").read()
    source = open(srcs[int(uid) - 1], "rb").read()
    if stored != dovecot_stored_form(source):
        print("uid %s: stored file is not the source with CRLF->LF" % uid)
        bad += 1
    served = re.sub(rb"(?<!\r)\n", b"\r\n", stored).replace(b"\0", b"\x80")
    if hashlib.sha256(served).hexdigest() != sha or len(served) != int(size):
        print("uid %s: IMAP BODY[] is not the stored file with LF->CRLF" % uid)
        bad += 1
    simple = re.sub(rb"\r?\n", b"\r\n", source)
    if hashlib.sha256(simple).hexdigest() != sha:
        print("DIFFERS", os.path.basename(srcs[int(uid) - 1]))
sys.exit(1 if bad else 0)
PY
	{ cat "$T/maildir-check" >&2; fail "Maildir files disagree with the IMAP view"; }
pass "Maildir files: stored = source with CRLF->LF; IMAP = stored with LF->CRLF"
assert_eq "$(sed -n 's/^DIFFERS //p' "$T/maildir-check" | sort | tr '\n' ' ')" \
	"legacy__049.eml thirdparty__005.eml " \
	"only the final-CR and the NUL message differ from source-with-CRLF"
nul=$(grep -n 'thirdparty__005' "$list" | cut -d: -f1)
[ -n "$nul" ] || fail "the NUL message is not among the picks"
imap_tool src alice fetch INBOX "$nul" >"$T/nul.imap"
assert_eq "$(tr -cd '\000' <"$T/nul.imap" | wc -c),$(tr -cd '\200' <"$T/nul.imap" | wc -c)" \
	"0,$(tr -cd '\000\200' <"$(sed -n "${nul}p" "$list")" | wc -c)" \
	"BODY[] sends each NUL byte as 0x80"
imap_tool src alice append --create --quiet --literal8 Lit8 "$(sed -n "${nul}p" "$list")"
assert_ne "$(imap_dump src alice Lit8 | cut -f4)" "$(sed -n "${nul}p" "$T/dump" | cut -f4)" \
	"a literal8 APPEND is rewritten by Dovecot (why imaptool sends {N})"

printf 'Subject: odd\r\n\r\na\r\r\nb\rc\r' >"$T/odd.eml"
seed_message src alice Odd "$T/odd.eml" >/dev/null
assert_eq "$(imap_tool src alice fetch Odd 1 | od -An -c | tr -s ' \n' ' ')" \
	"$(printf 'Subject: odd\r\n\r\na\r\nb\rc' | od -An -c | tr -s ' \n' ' ')" \
	"a final CR is lost and \\r\\r\\n comes back as \\r\\n"

imap_tool src alice setflags Odd 1 '\Flagged $Label1' --mode add
assert_eq "$(imap_dump src alice Odd | cut -f2)" '$Label1 \Flagged' "setflags adds flags"
imap_tool src alice setflags Odd 1:* '\Seen'
assert_eq "$(imap_dump src alice Odd | cut -f2)" '\Seen' "setflags replaces flags"
imap_tool src alice expunge-all Odd
assert_eq "$(imap_tool src alice status Odd | cut -d' ' -f1)" "messages=0" "expunge-all empties a folder"
imap_tool src alice delete Odd
assert_status 1 "a deleted folder is gone" imap_tool src alice status Odd

# ---- reading changes nothing
before=$(ls "$SRC_MAILDIR/alice/Maildir/cur" "$SRC_MAILDIR/alice/Maildir/new" | sort)
assert_eq "$(imap_dump src alice INBOX)" "$dump" "a second dump is identical (no \\Seen set)"
assert_eq "$(ls "$SRC_MAILDIR/alice/Maildir/cur" "$SRC_MAILDIR/alice/Maildir/new" | sort)" \
	"$before" "dumps left the Maildir file names (flags) untouched"

# ---- folders: decoded names, separators, special use
seed_message src alice 'Rëports' "$(sed -n 1p "$list")" '\Seen' 1000000000 >/dev/null
seed_message src alice 'Projects/2024' "$(sed -n 2p "$list")" >/dev/null
imap_tool src alice create Sent
folders=$(imap_folders src alice)
assert_contains "$folders" $'Rëports\t/\t' "non-ASCII folder name decoded from modified UTF-7"
assert_contains "$folders" $'Projects/2024\t/\t' "child folder on the '/' server"
assert_contains "$folders" $'Sent\t/\t\\Sent' "Sent carries \\Sent"
assert_eq "$(imap_dump src alice 'Rëports' | cut -f2,3)" $'\\Seen\t1000000000' \
	"seed_message sets flags and epoch INTERNALDATE"
seed_message dst alice 'Projects/2024' "$(sed -n 3p "$list")" >/dev/null
seed_message dst alice 'Deleted Items' "$(sed -n 4p "$list")" >/dev/null
folders=$(imap_folders dst alice)
assert_contains "$folders" $'Projects/2024\t.\t' "'.' server with listescape holds a '/' in a name"
assert_contains "$folders" $'Deleted Items\t.\t' "'.' server: folder with a space"

# ---- logins
assert_eq "$(imap_tool src 'alice*admin' status INBOX | sed 's/ uidvalidity=[0-9]*//')" \
	"messages=20 uidnext=21 unseen=$(grep -vc '\\Seen' <<<"$dump")" \
	"master login alice*admin sees alice's INBOX"
printf 'not-the-password' >"$T/badpass"
assert_status 1 "a wrong password is refused" \
	imaptool --port "$SRC_PORT" --user alice --password-file "$T/badpass" status INBOX
assert_status 1 "a wrong master password is refused" \
	imaptool --port "$SRC_PORT" --user 'alice*admin' --password-file "$T/badpass" status INBOX
start=$(date +%s)
for i in 1 2 3; do
	imaptool --port "$SRC_PORT" --user bob --password-file "$T/badpass" login 2>/dev/null && fail "bob got in"
done
[ $(($(date +%s) - start)) -le 5 ] || fail "bad-password answers are slow (penalty not disabled)"
pass "three bad passwords answered quickly"

# ---- TLS
tls() { imaptool --user alice --password-file "$SRC_DIR/pass-alice" "$@" status INBOX; }
assert_status 0 "IMAPS on 127.0.0.1 verifies with CA_FILE" \
	tls --port "$SRC_TLSPORT" --tls imaps --ca-file "$CA_FILE"
assert_status 0 "STARTTLS to localhost verifies with CA_FILE" \
	tls --host localhost --port "$SRC_PORT" --tls starttls --ca-file "$CA_FILE"
out=$(tls --port "$SRC_TLSPORT" --tls imaps 2>&1 || true)
assert_contains "$out" "CERTIFICATE_VERIFY_FAILED" "without the CA the private certificate is refused"
dovecot_start wrong --cert wrongname
dovecot_start self --cert selfsigned
out=$(imaptool --host localhost --port "$WRONG_TLSPORT" --tls imaps --ca-file "$CA_FILE" \
	--user alice --password-file "$WRONG_DIR/pass-alice" login 2>&1 || true)
assert_contains "$out" "mismatch" "certificate for wronghost.invalid refused for localhost"
out=$(imaptool --host localhost --port "$SELF_TLSPORT" --tls imaps --ca-file "$CA_FILE" \
	--user alice --password-file "$SELF_DIR/pass-alice" login 2>&1 || true)
assert_contains "$out" "self-signed" "self-signed certificate refused"
dovecot_stop wrong
dovecot_stop self
assert_eq "$(dovecot_pids wrong)$(dovecot_pids self)" "" "dovecot_stop leaves no process"

# ---- process lookup, kill and restart
"$HARNESS_PYTHON" - "$SRC_PORT" "$SRC_DIR/pass-bob" <<'PY' &
import imaplib, sys, time
c = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]))
c.login("bob", open(sys.argv[2]).read())
c.select("INBOX", readonly=True)
time.sleep(60)
PY
holder=$!
harness_register_pid "$holder"
for i in $(seq 50); do
	bobs=$(dovecot_imap_pids src bob)
	[ -n "$bobs" ] && break
	sleep 0.1
done
if [ -z "$bobs" ]; then
	ps -eo pid,args | grep -F "$(_dovecot_instance src)" >&2
	kill -0 "$holder" 2>/dev/null || echo "session holder died" >&2
fi
assert_eq "$(wc -w <<<"$bobs")" 1 "dovecot_imap_pids finds bob's imap process"
assert_eq "$(stat -c %U "/proc/$bobs")" vmail "it is an imap process running as vmail"
assert_eq "$(dovecot_imap_pids dst bob)$(dovecot_imap_pids src alice)" "" \
	"no match in another instance or for another user"
kill "$holder"

dst_before=$(imap_dump dst alice 'Deleted Items')
dovecot_kill dst
assert_eq "$(dovecot_pids dst)" "" "dovecot_kill leaves no process"
harness_port_open "$DST_PORT" && fail "port $DST_PORT still open after kill"
pass "killed server's port is closed"
dovecot_restart dst
assert_eq "$(imap_dump dst alice 'Deleted Items')" "$dst_before" "restart on the same port keeps the mail"

# ---- teardown and the watchdog, seen from outside a child test
fuse_hello=${MESON_BUILD_ROOT:-$REPO_TOP/build}/tests/fuse-hello
child=$T/child.sh
cat >"$child" <<EOF
. "$HARNESS_LIB/harness.sh"
harness_init
echo "\$T" >"$T/child-\$1.t"
dovecot_start c
_dovecot_instance c >"$T/child-\$1.inst"
case \$1 in
ok) exit 0 ;;
mount)
	mkdir "\$T/mnt"
	"$fuse_hello" -f "\$T/mnt" &
	harness_register_pid \$!
	harness_register_mount "\$T/mnt"
	echo \$! >"$T/child-mount.fusepid"
	for i in \$(seq 50); do [ -e "\$T/mnt/hello" ] && break; sleep 0.1; done
	[ "\$(cat "\$T/mnt/hello")" = hello ] || fail "fuse-hello did not mount"
	kill -STOP \$!
	(cat "\$T/mnt/hello" >/dev/null 2>&1 &)   # a reader stuck on the hung daemon
	exit 0 ;;
failing) fail "on purpose" ;;
hang) harness_timeout 2; sleep 30; exit 0 ;;
esac
EOF
check_child() { # MODE WANT-STATUS [setsid]
	local st=0 t0 inst
	t0=$(date +%s)
	if [ "${3:-}" = setsid ]; then
		setsid -w bash "$child" "$1" >"$T/child-$1.out" 2>&1 </dev/null || st=$?
	else
		bash "$child" "$1" >"$T/child-$1.out" 2>&1 </dev/null || st=$?
	fi
	[ "$st" = "$2" ] || { cat "$T/child-$1.out" >&2; fail "child '$1' exited $st, want $2"; }
	[ $(($(date +%s) - t0)) -le 20 ] || fail "child '$1' took too long"
	inst=$(cat "$T/child-$1.inst")
	[ -n "$inst" ] || fail "child '$1' did not start its server"
	if ps -eo args= | grep -q "^dovecot-$inst/"; then
		fail "child '$1' left dovecot processes behind"
	fi
	[ ! -e "$(cat "$T/child-$1.t")" ] || fail "child '$1' left its temp dir"
	pass "child test '$1' (${3:-same group}): exit $st, no process or temp dir left"
}
check_child ok 0
if [ -x "$fuse_hello" ] && [ -c /dev/fuse ]; then
	check_child mount 0
	grep -qF "$(cat "$T/child-mount.t")" /proc/self/mountinfo && fail "child's FUSE mount left behind"
	kill -0 "$(cat "$T/child-mount.fusepid")" 2>/dev/null && fail "child's FUSE daemon left running"
	pass "a mount whose daemon is stopped (SIGSTOP) is detached and its daemon ended"
else
	echo "# no $fuse_hello or /dev/fuse: hung-mount teardown not checked"
fi
check_child failing 1
check_child hang 1 setsid
cp "$T/child-hang.out" "$T/hang-setsid.out"
check_child hang 1
grep -q "timed out after 2s" "$T/child-hang.out" || fail "watchdog did not say why"
pass "watchdog reports the timeout"

harness_done
