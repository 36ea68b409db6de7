# courier.sh - a private Courier-IMAP server for the interoperability tests.
#
# Source it after harness.sh.  The imapd is Courier's own (Debian's
# courier-imap, unpacked to /opt/courier-imap by scripts/setup.sh: the
# package Conflicts with dovecot-imapd).  Courier's login half (imaplogin
# with courier-authlib and its daemon) is replaced by tests/lib/courier_front.py,
# which answers LOGIN for one account and then relays the connection to the
# real imapd, started pre-authenticated in the account's home.  So what a
# client sees after LOGIN - folders, APPEND, FETCH, flags, keywords, dates -
# is Courier-IMAP itself.
#
# Conventions (like Cyrus's in cyrus.sh): Maildir++ in $T/NAME/home/Maildir,
# personal namespace "INBOX." with separator '.'; one account per instance,
# USER with password pw-USER-Secret1 in $T/NAME/pass-USER, so pass_file,
# imap_tool, imap_dump, seed_message and seed_corpus work unchanged.
#
# Functions:
#   courier_available             true if the unpacked imapd is there
#   courier_start NAME USER       start; exports NAME_PORT NAME_DIR NAME_LOG
#                                 NAME_MAILDIR (the account's Maildir)
#   courier_copy_test_init SECS   harness_init, root, mailstage, timeout
#   courier_seed_dir MAILDIR DIR LIST [STEP]
#                                 write corpus files into a folder on disk
# shellcheck shell=bash

COURIER_ROOT=${COURIER_ROOT:-/opt/courier-imap}
COURIER_IMAPD=$COURIER_ROOT/usr/bin/imapd
COURIER_FRONT=$(dirname "${BASH_SOURCE[0]}")/courier_front.py

courier_available() {
	[ -x "$COURIER_IMAPD" ] && [ -f "$COURIER_FRONT" ]
}

# courier_start NAME USER
courier_start() {
	local name=$1 user=$2 up dir port i
	courier_available || skip "Courier-IMAP not available (run scripts/setup.sh: unpacked to $COURIER_ROOT)"
	up=$(_harness_upper "$name") || exit 1
	dir=$T/$name
	[ -e "$dir" ] && fail "courier_start: server $name already exists"
	mkdir -p "$dir/home/Maildir/cur" "$dir/home/Maildir/new" "$dir/home/Maildir/tmp"
	chmod 0700 "$dir/home/Maildir"
	(umask 077 && printf 'pw-%s-Secret1' "$user" >"$dir/pass-$user")
	port=$(harness_free_port) || fail "no free port"
	printf -v "${up}_PORT" '%s' "$port"
	printf -v "${up}_DIR" '%s' "$dir"
	printf -v "${up}_LOG" '%s' "$dir/imapd.log"
	printf -v "${up}_MAILDIR" '%s' "$dir/home/Maildir"
	export "${up}_PORT" "${up}_DIR" "${up}_LOG" "${up}_MAILDIR"
	"$HARNESS_PYTHON" "$COURIER_FRONT" --port "$port" --imapd "$COURIER_IMAPD" \
		--libpath "$COURIER_ROOT/usr/lib/x86_64-linux-gnu:$COURIER_ROOT/usr/lib" \
		--home "$dir/home" --user "$user" --password-file "$dir/pass-$user" \
		--log "$dir/imapd.log" --pid-file "$dir/front.pid" >>"$dir/front.log" 2>&1 &
	harness_register_pid $!
	for i in $(seq 1 300); do
		harness_port_open "$port" && return 0
		kill -0 $! 2>/dev/null || break
		sleep 0.1
	done
	cat "$dir/front.log" >&2
	fail "courier_start: $name did not listen on 127.0.0.1:$port within 30 s"
}

# courier_copy_test_init SECONDS: the set-up of a copy test against Courier.
courier_copy_test_init() {
	harness_init
	harness_need_root
	harness_need_mailstage
	harness_timeout "$1"
}

# courier_seed_dir MAILDIR DIR LIST [STEP]: the corpus files named in LIST
# (one corpus-relative path a line) into DIR/cur as Courier keeps a tree it
# reads without having written it: flags in the file names (chosen from the
# line number), dates in the mtimes (STEP seconds apart, default 86399, from
# 2010-01-01).  A DIR other than the account's MAILDIR is marked as a
# Maildir++ folder.
courier_seed_dir() {
	local md=$1 dir=$2 list=$3 step=${4:-86399} i=0 f flags t
	local letters=("" S FS RS DS ST FRS)
	mkdir -p "$dir/cur" "$dir/new" "$dir/tmp"
	[ "$dir" = "$md" ] || touch "$dir/maildirfolder"
	while IFS= read -r f; do
		i=$((i + 1))
		flags=${letters[$((i % ${#letters[@]}))]}
		t=$((1262304000 + i * step))
		cp "$MAILSTAGE_CORPUS/$f" "$dir/cur/$t.M${i}P1.seed:2,$flags"
		touch -d "@$t" "$dir/cur/$t.M${i}P1.seed:2,$flags"
	done <"$list"
}
