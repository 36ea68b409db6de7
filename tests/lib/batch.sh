# batch.sh - helpers for the `mailstage batch` integration tests (source
# after harness.sh).  The destination Dovecot strips the domain from login
# names (auth_username_format = %Ln), so EmailAddress alice@example.org is
# the destination mailbox of user alice, reached by the master user admin
# as "alice@example.org*admin".
# shellcheck shell=bash

BATCH_DOMAIN=example.org

# batch_test_init SECONDS: the start of every batch test (harness up, a
# watchdog of SECONDS, root and the binary required).
batch_test_init() {
	harness_init
	harness_timeout "$1"
	harness_need_root
	harness_need_mailstage
}

# batch_servers: src and dst Dovecot, both '/' separated.
batch_servers() {
	dovecot_start src
	dovecot_start dst --extra 'auth_username_format = %Ln'
}

# batch_seed USER COUNT OFFSET: COUNT corpus messages (from OFFSET in the
# sorted list) into USER's INBOX on src, a few into Sent too.
batch_seed() {
	local user=$1 count=$2 off=$3 list=$T/seed-$1.list
	(cd "$MAILSTAGE_CORPUS" && find . -type f -name '*.eml' -size -200k |
		sed 's|^\./||' | LC_ALL=C sort | sed -n "$((off + 1)),$((off + count))p") >"$list"
	seed_corpus src "$user" INBOX "$list"
	sed -n 1,3p "$list" >"$list.sent"
	seed_corpus src "$user" Sent "$list.sent"
}

# batch_pw USER: the user's source password.
batch_pw() { cat "$(pass_file src "$1")"; }

# batch_run ARGS...: `mailstage batch run` against src and dst, admin
# login to dst; stdout+stderr to $T/run.log (appended).
batch_run() {
	MAILSTAGE_DEST_PASSWORD=$(cat "$(pass_file dst admin)") \
		"$MAILSTAGE" batch run "$@" \
		--source "imap://127.0.0.1:$SRC_PORT/" \
		--dest "imap://admin@127.0.0.1:$DST_PORT/" --dest-admin-style dovecot \
		--tls none >>"$T/run.log" 2>&1
}

# batch_same USER FOLDER: the destination holds exactly the source's
# messages (bytes, flags, INTERNALDATE; UIDs may differ).
batch_same() {
	local a b
	a=$(imap_dump src "$1" "$2" | cut -f2- | LC_ALL=C sort)
	b=$(imaptool --port "$DST_PORT" --user "$1@$BATCH_DOMAIN*admin" \
		--password-file "$(pass_file dst admin)" dump "$2" | cut -f2- | LC_ALL=C sort)
	[ -n "$a" ] && [ "$a" == "$b" ]
}

# batch_count_dst USER FOLDER: messages at the destination.
batch_count_dst() {
	imaptool --port "$DST_PORT" --user "$1@$BATCH_DOMAIN*admin" \
		--password-file "$(pass_file dst admin)" dump "$2" | grep -c . || true
}

# batch_max_concurrent LOG: the most users logged in at once, from Dovecot's
# log (Login: user=<u> ... mpid=N, then imap(u)<N>: Disconnected).
batch_max_concurrent() {
	awk '
		/imap-login: Info: Login: user=</ {
			u = $0; sub(/.*user=</, "", u); sub(/>.*/, "", u)
			p = $0; sub(/.*mpid=/, "", p); sub(/,.*/, "", p)
			open[p] = u; n[u]++; if (n[u] == 1) cur++
			if (cur > max) max = cur
		}
		/: Info: Disconnected/ && /^.*imap\(/ {
			p = $0; sub(/^[^<]*</, "", p); sub(/>.*/, "", p)
			if (p in open) { u = open[p]; delete open[p]; n[u]--; if (n[u] == 0) cur-- }
		}
		END { print max + 0 }' "$1"
}

# batch_csv_field FILE EMAIL COLUMN: a column of EMAIL's row (simple CSV:
# no quoted commas in the columns read).
batch_csv_field() {
	"$HARNESS_PYTHON" - "$@" <<'PY'
import csv, sys
path, email, col = sys.argv[1:4]
with open(path, newline="") as f:
    for row in csv.DictReader(f):
        if row.get("EmailAddress", "").lower() == email.lower():
            print(row[col])
            break
PY
}

# batch_no_secret WHAT FILES...: none of the CSV passwords ($T/secrets,
# one a line) appears in the files (binary ones too).
batch_no_secret() {
	local what=$1 s
	shift
	while IFS= read -r s; do
		[ -n "$s" ] || continue
		if grep -rqaF -- "$s" "$@" 2>/dev/null; then
			grep -rlaF -- "$s" "$@" >&2
			fail "$what: a CSV password appears"
		fi
	done <"$T/secrets"
	pass "$what: no CSV password in it"
}
