#!/usr/bin/env bash
# t-ls-rules.sh - `mailstage ls` with copy's rules options against real
# Dovecot: per folder whether the rules leave it out and why (--exclude with
# its subfolders, --exclude-glob, --exclude-special, --include, the shared
# namespace and --include-shared), messages over --max-size counted as the
# independent client's sizes say, the same in --json, the same folders as
# `copy --dry-run` reports, bad values refused, and the source unchanged.
set -u
. "$(dirname "$0")/lib/harness.sh"
. "$(dirname "$0")/lib/copy_helpers.sh"
harness_init
harness_need_root
harness_need_mailstage
harness_timeout 600

PUB=$T/public
dovecot_start src --extra "namespace public {
  type = public
  separator = /
  prefix = Public/
  location = maildir:$PUB:LAYOUT=fs:INDEX=$T/src/mail/%u/public-index
  subscriptions = no
}"
mkdir -p "$PUB/News/cur" "$PUB/News/new" "$PUB/News/tmp"
chown -R vmail:vmail "$PUB"
PW=$(pass_file src alice)
URL=imap://alice@127.0.0.1:$SRC_PORT/

seed_corpus src alice INBOX 'cpython-email/msg_0*.eml'
big_message "$T/big1.eml" 1 one
big_message "$T/big2.eml" 2 two
seed_message src alice INBOX "$T/big1.eml" '\Seen' >/dev/null
seed_message src alice INBOX "$T/big2.eml" '' >/dev/null
seed_corpus src alice 'Deleted Items' 'flanker/*.eml'
seed_corpus src alice 'Deleted Items/2019' 'nodemailer-mailparser/*.eml'
seed_corpus src alice Junk 'spamassassin/spam*.eml'
seed_corpus src alice 'Projekte/alt' 'enmime/*.eml'
seed_corpus src alice 'Projekte/neu' 'mime4j/*.eml'
before=$(snapshot src alice)

ls_ms() {
	"$MAILSTAGE" ls --tls=none --password-file "$PW" "$@" "$URL"
}
# row TABLE FOLDER: the table line of FOLDER (the name column is 32 wide)
row() {
	printf '%s\n' "$1" | grep -F -- "$(printf '%-32s ' "$2")" | head -n1
}

# ---- the rules as copy takes them
out=$(ls_ms --exclude 'Deleted Items' --exclude-glob 'Projekte/a*' --exclude-special junk \
	--max-size 512k) || fail "ls with rules failed"
assert_contains "$(printf '%s\n' "$out" | head -n1)" "RULE" "the table has a RULE column"
assert_contains "$(row "$out" 'Deleted Items')" "excluded: matches --exclude 'Deleted Items'" \
	"'Deleted Items' excluded, naming the option and its argument"
assert_contains "$(row "$out" 'Deleted Items/2019')" \
	"excluded: is inside 'Deleted Items', which matches --exclude 'Deleted Items'" \
	"its subfolder excluded along with it, and why"
assert_contains "$(row "$out" Junk)" 'excluded: has special use \Junk, excluded by --exclude-special' \
	"Junk excluded by its special use \\Junk"
assert_contains "$(row "$out" 'Projekte/alt')" "excluded: matches --exclude-glob 'Projekte/a*'" \
	"'Projekte/alt' excluded by the glob"
assert_eq "$(row "$out" 'Projekte/neu' | awk '{print $NF}')" "-" "'Projekte/neu' is taken (RULE -)"
assert_eq "$(row "$out" INBOX | awk '{print $NF}')" "-" "INBOX is taken"
assert_contains "$(row "$out" 'Public/News')" \
	"excluded: is in the shared namespace; such folders are left out unless --include-shared" \
	"a public folder is left out by default, and the line says how to take it"
over=$(imap_dump src alice INBOX | awk -F'\t' '$4 > 524288 {n++} END {print n+0}')
assert_eq "$over" 2 "the independent client sees 2 INBOX messages over 512 KiB"
assert_eq "$(row "$out" INBOX | awk '{print $(NF-1)}')" "$over" "OVER counts them against --max-size 512k"
n_del=$(count_messages src alice 'Deleted Items')
n_del19=$(count_messages src alice 'Deleted Items/2019')
n_junk=$(count_messages src alice Junk)
n_alt=$(count_messages src alice 'Projekte/alt')
assert_contains "$out" "excluded by the rules: 6 folders, $((n_del + n_del19 + n_junk + n_alt)) messages" \
	"the summary counts the excluded folders (Public and its child too) and their messages"

out=$(ls_ms) || fail "ls failed"
assert_eq "$(row "$out" INBOX | awk '{print $(NF-1)}')" 0 "no INBOX message is over the default 35M"
assert_eq "$(row "$out" 'Deleted Items' | awk '{print $NF}')" "-" "without rules, 'Deleted Items' is taken"
out=$(ls_ms --include-shared --max-size 0) || fail "ls --include-shared failed"
assert_eq "$(row "$out" 'Public/News' | awk '{print $NF}')" "-" "--include-shared takes the public folder"
out=$(ls_ms --include INBOX) || fail "ls --include failed"
assert_contains "$(row "$out" 'Projekte/neu')" "excluded: does not match --include 'INBOX'" \
	"--include INBOX leaves the others out, and says so"

# ---- JSON
js=$(ls_ms --json --exclude 'Deleted Items' --exclude-special '\Junk' --max-size 1M) || fail "ls --json failed"
line() { printf '%s\n' "$js" | grep -F "{\"folder\":\"$1\","; }
assert_contains "$(line 'Deleted Items/2019')" \
	"\"rule\":\"excluded-folder\",\"excluded\":true,\"reason\":\"folder is inside 'Deleted Items', which matches --exclude 'Deleted Items'\"" \
	"JSON: rule name, excluded, reason for a subfolder"
assert_contains "$(line Junk)" '"rule":"excluded-special-use","excluded":true,"reason":"folder has special use \\Junk, excluded by --exclude-special"' \
	"JSON: special use"
assert_contains "$(line INBOX)" '"rule":"take","excluded":false,"reason":""' "JSON: INBOX taken"
over1=$(imap_dump src alice INBOX | awk -F'\t' '$4 > 1048576 {n++} END {print n+0}')
assert_contains "$(line INBOX)" "\"over_limit\":$over1}" "JSON: $over1 INBOX messages over 1M, as the client counts"
assert_contains "$(line 'Public/News')" '"namespace":"shared"' "JSON: the public folder's namespace"
assert_contains "$(line 'Public/News')" '"rule":"excluded-namespace","excluded":true' "JSON: left out by namespace"

# ---- what ls says is what copy does
"$MAILSTAGE" copy --tls none --progress none --dry-run --no-state --source-password-file "$PW" \
	--dest-password-file "$(pass_file src bob)" --report "$T/dry.csv" \
	--exclude 'Deleted Items' --exclude-glob 'Projekte/a*' --exclude-special junk \
	"$URL" "imap://bob@127.0.0.1:$SRC_PORT/" >/dev/null 2>"$T/dry.err"
copy_ex=$(grep -E ',(excluded-folder|excluded-glob|excluded-special-use),no,' "$T/dry.csv" |
	cut -d, -f1 | tr -d '"' | LC_ALL=C sort -u)
js=$(ls_ms --json --exclude 'Deleted Items' --exclude-glob 'Projekte/a*' --exclude-special junk)
ls_ex=$(printf '%s\n' "$js" | grep '"excluded":true' | grep -v '"excluded-namespace"' |
	grep -v '"messages":0,' | sed 's/^{"folder":"\([^"]*\)".*/\1/' | LC_ALL=C sort)
assert_eq "$ls_ex" "$copy_ex" "ls excludes exactly the folders whose messages copy --dry-run leaves out"

# ---- bad values
assert_status 2 "a bad --max-size is a usage error" ls_ms --max-size 12X
assert_status 2 "an unknown --exclude-special is a usage error" ls_ms --exclude-special nosuch

assert_eq "$(snapshot src alice)" "$before" "the source is unchanged"
harness_done
