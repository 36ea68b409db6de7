#!/usr/bin/env bash
# t-batch-root.sh - the UserRoot column and `copy --source-root` against
# real Dovecot: one login (carol, standing for an admin that sees every
# user's mailbox as a subtree, as with Courier's virtual shared folders)
# holds users/alice, users/alice/Sent, users/alice/Projects/X, users/bob
# ...; each row copies only its own subtree, with the root stripped
# (users/alice -> INBOX, users/alice/Sent -> Sent), nothing of carol's own
# folders or of the other user; a row whose UserRoot is not there fails with
# its reason and fix.  Then `copy --source-root user.erin` on a '.'
# separated server (Cyrus style: the root in the server's own form).
set -euo pipefail
. "$(dirname "$0")/lib/harness.sh"
. "$(dirname "$0")/lib/batch.sh"

batch_test_init 400
batch_servers
cd "$T"

(cd "$MAILSTAGE_CORPUS" && find . -type f -name '*.eml' -size -200k | sed 's|^\./||' |
	LC_ALL=C sort) >all.list
part() { sed -n "$1,$2p" all.list >"$T/p-$1.list"; echo "$T/p-$1.list"; }
seed_corpus src carol INBOX "$(part 1 6)" >/dev/null
seed_corpus src carol users/alice "$(part 7 14)" >/dev/null
seed_corpus src carol users/alice/Sent "$(part 15 17)" >/dev/null
seed_corpus src carol users/alice/Projects/X "$(part 18 19)" >/dev/null
seed_corpus src carol users/bob "$(part 20 24)" >/dev/null
seed_corpus src carol users/bob/Sent "$(part 25 25)" >/dev/null
seed_corpus src carol users/bobby "$(part 26 27)" >/dev/null
pass "carol's mailbox holds users/alice/..., users/bob/... and her own INBOX"

cpw=$(batch_pw carol)
{
	echo 'EmailAddress,UserName,Password,UserRoot'
	echo "alice@$BATCH_DOMAIN,carol,$cpw,users/alice"
	echo "bob@$BATCH_DOMAIN,carol,$cpw,users/bob"
	echo "dave@$BATCH_DOMAIN,carol,$cpw,users/nobody"
} >users.csv
chmod 600 users.csv
B=$T/b
rc=0
batch_run users.csv --dir "$B" --concurrency 2 || rc=$?
assert_eq "$rc" 1 "batch run exits 1 (dave's UserRoot is not there)"

# content SIDE USER FOLDER: sorted "sha256 size date flags" of a folder.
content() {
	if [ "$1" = src ]; then
		imap_dump src "$2" "$3"
	else
		imaptool --port "$DST_PORT" --user "$2@$BATCH_DOMAIN*admin" \
			--password-file "$(pass_file dst admin)" dump "$3"
	fi | awk -F'\t' '{print $5, $4, $3, $2}' | LC_ALL=C sort
}
dst_folders() {
	imaptool --port "$DST_PORT" --user "$1@$BATCH_DOMAIN*admin" \
		--password-file "$(pass_file dst admin)" folders | cut -f1 | LC_ALL=C sort | tr '\n' ' '
}
same() { # SRC-FOLDER DST-USER DST-FOLDER
	local a b
	a=$(content src carol "$1")
	b=$(content dst "$2" "$3")
	[ -n "$a" ] && [ "$a" == "$b" ] || fail "carol's $1 is not $2's $3 (bytes, flags, dates)"
	pass "carol's $1 -> $2's $3: same messages, flags and dates"
}
same users/alice alice INBOX
same users/alice/Sent alice Sent
same users/alice/Projects/X alice Projects/X
same users/bob bob INBOX
same users/bob/Sent bob Sent
assert_eq "$(dst_folders alice)" "INBOX Projects Projects/X Sent " \
	"alice got only her subtree (no users/..., nothing of bob's or carol's)"
assert_eq "$(dst_folders bob)" "INBOX Sent " "bob got only users/bob (not users/bobby)"
assert_eq "$(batch_csv_field "$B/report.csv" "alice@$BATCH_DOMAIN" MessagesCopied)" 13 \
	"report.csv: alice's 8 + 3 + 2 messages"
assert_eq "$(batch_csv_field "$B/report.csv" "dave@$BATCH_DOMAIN" State)" failed "dave: failed"
e=$(grep "dave@" "$B/errors.csv")
assert_contains "$e" "source root 'users/nobody': the source shows no mailbox there" \
	"errors.csv: dave's error names the UserRoot"
assert_contains "$e" "check the UserRoot column" "errors.csv: the fix points at UserRoot"

# a sync after new mail under alice's root: copied to her INBOX, once
seed_message src carol users/alice "$MAILSTAGE_CORPUS/$(sed -n 30p all.list)" '\Seen' >/dev/null
export MAILSTAGE_DEST_PASSWORD
MAILSTAGE_DEST_PASSWORD=$(cat "$(pass_file dst admin)")
rc=0
"$MAILSTAGE" batch sync "$B" >>"$T/run.log" 2>&1 || rc=$?
assert_eq "$rc" 0 "batch sync exits 0"
same users/alice alice INBOX

# ---- copy --source-root in the server's own form on a '.' server
dovecot_start dot --sep .
seed_corpus dot carol user.erin "$(part 31 34)" >/dev/null
seed_corpus dot carol user.erin.Drafts "$(part 35 36)" >/dev/null
seed_corpus dot carol user.frank "$(part 37 38)" >/dev/null
rc=0
"$MAILSTAGE" copy --tls none --progress none --no-state --source-root user.erin \
	--source-password-file "$(pass_file dot carol)" --dest-password-file "$(pass_file dst erin)" \
	"imap://carol@127.0.0.1:$DOT_PORT/" "imap://erin@127.0.0.1:$DST_PORT/" >copy.log 2>&1 || rc=$?
assert_eq "$rc" 0 "copy --source-root user.erin exits 0"
a=$(imap_dump dot carol user.erin | awk -F'\t' '{print $5, $4, $3, $2}' | LC_ALL=C sort)
b=$(imap_dump dst erin INBOX | awk -F'\t' '{print $5, $4, $3, $2}' | LC_ALL=C sort)
[ -n "$a" ] && [ "$a" == "$b" ] || fail "user.erin is not erin's INBOX"
pass "user.erin -> erin's INBOX (root in the server's own form, '.' separator)"
assert_eq "$(imap_dump dst erin Drafts | wc -l)" 2 "user.erin.Drafts -> erin's Drafts"
assert_eq "$(imap_folders dst erin | cut -f1 | LC_ALL=C sort | tr '\n' ' ')" "Drafts INBOX " \
	"erin got nothing of user.frank nor of carol's own folders"
rc=0
out=$("$MAILSTAGE" copy --tls none --progress none --no-state --source-root user.nobody \
	--source-password-file "$(pass_file dot carol)" --dest-password-file "$(pass_file dst erin)" \
	"imap://carol@127.0.0.1:$DOT_PORT/" "imap://erin@127.0.0.1:$DST_PORT/" 2>&1) || rc=$?
assert_eq "$rc" 2 "copy --source-root with no such folder exits 2"
assert_contains "$out" "source root 'user.nobody': the source shows no mailbox there" \
	"copy says the root is not there"
harness_done
