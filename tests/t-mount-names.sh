#!/usr/bin/env bash
# t-mount-names.sh - folder names through the mount on a '.'-separator
# server: non-ASCII, spaces, '&', '%', a '/' inside a name, a child named
# `cur`, child folders as subdirectories, all visible and escaped
# reversibly (user.imap.name gives the server's name back); a public
# namespace appears under #shared/ and goes away with -o hide_shared;
# the same tree over imaps with a verified certificate.
set -u
. "$(dirname "$0")/lib/harness.sh"
. "$(dirname "$0")/lib/mount.sh"
mount_test_init 300

mkdir -p "$T/public"
chown vmail:vmail "$T/public"
dovecot_start src --sep . --listescape --extra "namespace public {
  type = public
  separator = .
  prefix = Public.
  location = maildir:$T/public
  subscriptions = no
  list = yes
}"
names=('Rëports' '日本語' 'R&D' 'with space' '50%' 'a/b' 'Lists' 'Lists.2024' 'Lists.cur' 'Public.Announcements')
imap_tool src alice create "${names[@]}" >/dev/null || fail "create folders"
msg=$MAILSTAGE_CORPUS/cpython-email/msg_01.eml
for n in "${names[@]}"; do
	seed_message src alice "$n" "$msg" >/dev/null || fail "seed $n"
done

M=$T/mnt
mount_start src alice "$M" "timeout=10"
# name on the server -> expected path in the mount
declare -A want=(
	['Rëports']='Rëports' ['日本語']='日本語' ['R&D']='R&D' ['with space']='with space'
	['50%']='50%25' ['a/b']='a%2Fb' ['Lists']='Lists' ['Lists.2024']='Lists/2024'
	['Lists.cur']='Lists/%63ur' ['Public.Announcements']='#shared/Public/Announcements'
)
for n in "${names[@]}"; do
	p=$M/${want[$n]}
	[ -d "$p/cur" ] && pass "'$n' is the directory '${want[$n]}'" || fail "'$n' not at '${want[$n]}' ($(ls "$M"))"
	assert_eq "$(getfattr --absolute-names --only-values -n user.imap.name "$p")" "$n" "user.imap.name of '${want[$n]}' gives '$n' back"
	assert_eq "$(cat "$p"/cur/* | sha256sum | cut -d' ' -f1)" "$(imap_dump src alice "$n" | cut -f5)" \
		"the message in '$n' reads byte-exact (SHA-256 of a direct fetch)"
done
assert_eq "$(ls "$M/Lists")" "$(printf '%%63ur\n2024\ncur\nnew\ntmp')" "Lists holds its Maildir dirs and the children 2024 and %63ur"

# the escape is reversible: unescape each path component, join with the separator
unesc() { "$HARNESS_PYTHON" -c 'import sys, urllib.parse
p = sys.argv[1]
print(".".join(urllib.parse.unquote(c) for c in p.split("/")))' "$1"; }
for n in "${names[@]}"; do
	case $n in Public.*) continue ;; esac
	assert_eq "$(unesc "${want[$n]}")" "$n" "'${want[$n]}' unescapes to '$n'"
done
mount_stop "$M"

# the same account over imaps with the test CA (certificate verified)
mount_url "imaps://alice@localhost:$SRC_TLSPORT/" "$(pass_file src alice)" "$M" "tls=ssl,ca_file=$CA_FILE"
assert_eq "$(getfattr --absolute-names --only-values -n user.imap.name "$M/Lists/%63ur")" "Lists.cur" "over imaps with a verified certificate the tree is the same"
mount_stop "$M"

mount_start src alice "$M" "timeout=10,hide_shared"
[ -e "$M/#shared" ] && fail "#shared visible with hide_shared" || pass "hide_shared leaves the public namespace out"
[ -d "$M/Lists/2024/cur" ] && pass "personal folders are still there" || fail "personal folders gone"
mount_stop "$M"
harness_done
