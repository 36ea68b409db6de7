#!/usr/bin/env bash
# t-copy-links.sh - root copies (and backs up) a Maildir++ tree that belongs
# to another user (nobody), who has planted in it:
#   cur/<name>:2,S          a link to a file only root can read ($T/secret)
#   .Evil                   a link to a folder only root can read ($T/rootmail)
#   .Linked/cur             a link to that folder's cur/
#   cur/<fifo>:2,S          a FIFO, and .Projects/dovecot-keywords a FIFO
# Nothing of $T/secret or $T/rootmail reaches the destination (real Dovecot,
# bodies fetched back) or the archive (read back by bsdtar); every regular
# message does, byte-exact; the copy neither hangs nor reads the FIFOs; each
# entry left out is in the report with its reason (not-a-file, exit 1) and
# each folder left out is a warning; a second run says the same again.
set -u
. "$(dirname "$0")/lib/harness.sh"
harness_init
harness_need_root
harness_need_mailstage
harness_timeout 600

dovecot_start dst
DST_PW=$(pass_file dst bob)
SECRET='TOP-SECRET-root-only-7f3a9c'
PRIVATE='Subject: root private mail 51d2e8'

# root's own things: a secret file and a Maildir folder, both 0600/0700
(umask 077 && printf 'From: root@example.org\r\n%s\r\n\r\n%s\r\n' "$SECRET" "$SECRET" >"$T/secret")
mkdir -m 0700 -p "$T/rootmail/cur" "$T/rootmail/new" "$T/rootmail/tmp"
printf 'From: root@example.org\r\n%s\r\nMessage-ID: <private@example.org>\r\n\r\nprivate\r\n' \
	"$PRIVATE" >"$T/rootmail/cur/1690000000.M1P1.host:2,S"

# nobody's Maildir++: corpus messages (CRLF, as the server keeps them) in
# INBOX and .Projects
S=$T/nobody-maildir
mkdir -p "$S"/{cur,new,tmp} "$S"/.Projects/{cur,new,tmp} "$S"/.Linked/{new,tmp}
crlf() { "$HARNESS_PYTHON" -c 'import sys
d = open(sys.argv[1], "rb").read().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
open(sys.argv[2], "wb").write(d)' "$1" "$2"; }
i=0
for f in "$MAILSTAGE_CORPUS"/cpython-email/msg_0[1-6].eml; do
	i=$((i + 1))
	crlf "$f" "$S/cur/17000000$i.M${i}P1.host:2,S"
done
for f in "$MAILSTAGE_CORPUS"/cpython-email/msg_1[1-3].eml; do
	i=$((i + 1))
	crlf "$f" "$S/.Projects/cur/17000000$i.M${i}P1.host:2,"
done
chown -R nobody: "$S"
want_inbox=$(sha256sum "$S"/cur/* | cut -d' ' -f1 | sort)
want_projects=$(sha256sum "$S"/.Projects/cur/* | cut -d' ' -f1 | sort)
as_nobody() { setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups "$@"; }
as_nobody ln -s "$T/secret" "$S/cur/1700000099.M99P1.host:2,S" &&
	as_nobody ln -s "$T/rootmail" "$S/.Evil" &&
	as_nobody ln -s "$T/rootmail/cur" "$S/.Linked/cur" || fail "nobody cannot plant the links"
pass "nobody planted a link to root's secret in cur/, and two linked folders"

# copy_links NAME ARGS...: copy nobody's tree to bob's account (report $T/NAME.csv)
copy_links() {
	local name=$1
	shift
	timeout -k 5 120 "$MAILSTAGE" copy --tls none --progress none --no-state \
		--dest-password-file "$DST_PW" --report "$T/$name.csv" "$@" \
		"$S" "imap://bob@127.0.0.1:$DST_PORT/" >"$T/$name.out" 2>"$T/$name.err"
	RC=$?
	[ "$RC" -lt 124 ] || fail "$name: the copy hung or died (status $RC)"
}
# dst_has TEXT: whether any message of bob's (any folder) holds TEXT
dst_has() {
	local f n=0
	rm -rf "$T/bodies"
	while IFS= read -r f; do
		mkdir -p "$T/bodies/$f"
		imap_dump dst bob "$f" --bodies "$T/bodies/$f" >/dev/null || fail "cannot fetch bob's $f"
	done < <(imap_folders dst bob | grep -vi noselect | cut -f1)
	n=$(find "$T/bodies" -type f | wc -l)
	[ "$n" -gt 0 ] || fail "no message fetched from bob's account"
	grep -rqF -- "$1" "$T/bodies"
}
# report_row KEY-PREFIX: "reason,error,detail" of the report row for that key
report_row() {
	"$HARNESS_PYTHON" - "$1" "$2" <<'PY'
import csv, sys
for row in csv.DictReader(open(sys.argv[1], newline="")):
    if row["key"].startswith(sys.argv[2]):
        print("%s,%s,%s" % (row["reason"], row["error"], row["detail"]))
PY
}

copy_links links
dst_has "$SECRET" && fail "root's secret file was uploaded through nobody's link"
pass "the linked secret is not at the destination"
dst_has "$PRIVATE" && fail "root's private folder was uploaded through nobody's linked folder"
pass "root's linked folder is not at the destination"
assert_eq "$RC" 1 "copy of nobody's tree: exit 1 (an entry was not copied)"
assert_eq "$(imap_dump dst bob INBOX | cut -f5 | sort)" "$want_inbox" \
	"every regular INBOX message copied byte-exact (SHA-256), nothing else"
assert_eq "$(imap_dump dst bob Projects | cut -f5 | sort)" "$want_projects" \
	"every Projects message copied byte-exact"
assert_eq "$(imap_folders dst bob | cut -f1 | grep -c 'Evil\|Linked')" 0 \
	"no folder Evil or Linked was made at the destination"
assert_eq "$(report_row "$T/links.csv" 1700000099.M99P1)" \
	"not-a-file,yes,a symbolic link: not followed" "the report lists the link with its reason"
errs=$(cat "$T/links.err")
assert_contains "$errs" "warning in 'Evil': not copied: a symbolic link: not followed" \
	"the linked folder .Evil is a warning"
assert_contains "$errs" "warning in 'Linked': not copied: its cur/ or new/ is a symbolic link" \
	"the folder with a linked cur/ is a warning"

# FIFOs: one in cur/, one where Dovecot keeps a folder's keywords
as_nobody mkfifo "$S/cur/1700000098.M98P1.host:2,S" "$S/.Projects/dovecot-keywords" ||
	fail "nobody cannot make FIFOs"
copy_links fifos
assert_eq "$RC" 1 "with FIFOs: the copy ends (no hang), exit 1"
assert_eq "$(report_row "$T/fifos.csv" 1700000098.M98P1)" \
	"not-a-file,yes,a FIFO, socket or device: not read" "the report lists the FIFO with its reason"
assert_eq "$(report_row "$T/fifos.csv" 1700000099.M99P1)" \
	"not-a-file,yes,a symbolic link: not followed" "a second run reports the link again"
assert_eq "$(imap_dump dst bob INBOX | cut -f5 | sort)" "$want_inbox" \
	"the second run (no state: matched at the destination) adds nothing"

# backup of the same tree: the archive holds nobody's mail and nothing else
timeout -k 5 120 "$MAILSTAGE" backup --all --progress none "$S" "$T/nobody.tar" >"$T/backup.out" 2>&1
RC=$?
[ "$RC" -lt 124 ] || fail "backup hung or died (status $RC)"
assert_eq "$RC" 1 "backup of nobody's tree: exit 1 (an entry was not copied)"
bsdtar -xOf "$T/nobody.tar" | grep -qF -- "$SECRET" && fail "root's secret is in the backup"
bsdtar -xOf "$T/nobody.tar" | grep -qF -- "$PRIVATE" && fail "root's private mail is in the backup"
pass "the backup holds neither the secret nor root's private mail"
assert_eq "$(bsdtar -tf "$T/nobody.tar" | grep -c '/cur/.')" "$(($(wc -l <<<"$want_inbox") + \
	$(wc -l <<<"$want_projects")))" "the backup holds every regular message"
harness_done
