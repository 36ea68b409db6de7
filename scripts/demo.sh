#!/usr/bin/env bash
# demo.sh - mailstage's main job on a built-in example, from nothing:
# set-up, build, two throwaway Dovecot servers (source with '/' as the
# folder separator, destination a Maildir++ server with '.'), a source
# mailbox (alice) filled from the test corpus, then the main job on it:
# `mailstage check` and `ls`; `mount` the source read-only and look at it
# with ls, du, grep and sha256sum; `copy` it to the destination with folder
# rules (twice: the second run is incremental and copies nothing); `backup`
# the Inbox to a tar.zst read back by bsdtar.  Everything it started is
# stopped at the end.
#
#   scripts/demo.sh          run it, tear everything down
#   scripts/demo.sh --keep   leave the servers running and say how to use them
#
# It reuses the test harness (tests/lib/harness.sh) for the servers, TLS
# certificates and seeding.  Needs root (private Dovecot with a mail user).
set -uo pipefail

keep=0
for a in "$@"; do
	case $a in
	--keep) keep=1 ;;
	-h|--help)
		sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'
		exit 0
		;;
	*)
		echo "demo.sh: unknown option $a (try --help)" >&2
		exit 2
		;;
	esac
done

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
step() { printf '\n== %s\n' "$*"; }

if [ "$(id -u)" -ne 0 ]; then
	echo "demo.sh: run as root (it installs packages and starts private Dovecot servers)" >&2
	exit 1
fi
step "set-up"
./scripts/setup.sh || exit 1

step "build"
if [ ! -f build/build.ninja ]; then
	meson setup build >/dev/null || echo "demo.sh: meson setup failed" >&2
fi
ninja -C build || echo "demo.sh: build failed" >&2

. tests/lib/harness.sh
harness_init

step "two throwaway Dovecot servers"
dovecot_start src --sep /
dovecot_start dst --sep .
echo "source:      127.0.0.1:$SRC_PORT (IMAP/STARTTLS), :$SRC_TLSPORT (IMAPS), separator '/'"
echo "destination: 127.0.0.1:$DST_PORT (IMAP/STARTTLS), :$DST_TLSPORT (IMAPS), separator '.'"

step "source mailbox alice: the corpus ($MAILSTAGE_CORPUS)"
seed_corpus src alice INBOX
seed_corpus src alice 'Deleted Items' 'cpython-email/msg_0*.eml'
seed_corpus src alice 'Junk E-Mail' 'spamassassin/*'
seed_corpus src alice 'Rëports' 'enmime/*'
seed_corpus src alice 'Projects/2024' 'ruby-mail/*'
seed_corpus src alice Sent 'mime4j/*'
# the source as the independent test client sees it
imap_folders src alice | awk -F'\t' '$4 !~ /Noselect/ { print $1 "\t" $3 }' |
	while IFS= read -r line; do
		name=${line%%$'\t'*}
		su=${line#*$'\t'}
		printf '  %s: %s%s\n' "$name" "$(imap_tool src alice status "$name" |
			sed 's/ uidvalidity=[0-9]*//; s/uidnext=[0-9]* //')" "${su:+ ($su)}"
	done

fail() { echo "demo.sh: $*" >&2; return 1; }

# The source as files: a read-only mount, looked at with everyday tools.
demo_mount() {
	local mnt=$T/alice-view one
	mkdir -p "$mnt"
	step "mailstage mount $url $mnt -o tls=starttls,ca_file=...,password_file=..."
	"$MAILSTAGE" mount "$url" "$mnt" \
		-o "tls=starttls,ca_file=$CA_FILE,password_file=$SRC_DIR/pass-alice" ||
		{ fail "mailstage mount failed"; return 1; }
	harness_register_mount "$mnt"
	echo "\$ ls $mnt"; ls "$mnt"
	echo "\$ ls $mnt/INBOX/cur | head -3"; ls "$mnt/INBOX/cur" | head -3
	echo "\$ du -sh $mnt"; du -sh "$mnt"
	echo "\$ grep -rl '^Subject:.*[Uu]nicode' $mnt | head -3"
	grep -rl '^Subject:.*[Uu]nicode' "$mnt" | head -3
	one=$(find "$mnt/INBOX/cur" -type f | head -1)
	echo "\$ sha256sum of one message, and an attempt to delete it"
	sha256sum "$one"
	rm -f "$one" 2>&1 | sed 's/^/  /'
	umount "$mnt" || fusermount3 -u "$mnt" || { fail "umount $mnt failed"; return 1; }
}

# Source to destination with rules; the second run only looks.
demo_copy() {
	local dsturl="imap://alice@127.0.0.1:$DST_PORT/" run rc
	local copts=(--tls=starttls --ca-file "$CA_FILE" --state "$T/alice.state"
		--source-password-file "$SRC_DIR/pass-alice"
		--dest-password-file "$DST_DIR/pass-alice"
		--exclude 'Deleted Items' --exclude-glob 'Junk*' --max-size 2M --report "$T/alice-skipped.csv")
	for run in first second; do
		step "mailstage copy ($run run) $url -> $dsturl --exclude 'Deleted Items' --exclude-glob 'Junk*' --max-size 2M"
		rc=0
		"$MAILSTAGE" copy --progress=none "${copts[@]}" "$url" "$dsturl" || rc=$?
		[ "$rc" -eq 0 ] || { fail "mailstage copy failed (exit status $rc)"; return 1; }
	done
	echo "\$ head -3 $T/alice-skipped.csv"; head -3 "$T/alice-skipped.csv"
	step "mailstage ls $dsturl (the destination)"
	"$MAILSTAGE" ls "$dsturl" --tls=starttls --ca-file "$CA_FILE" \
		--password-file "$DST_DIR/pass-alice" || { fail "ls of the destination failed"; return 1; }
}

# The Inbox to an offline archive, checked, and listed by bsdtar.
demo_backup() {
	local arc=$T/alice-inbox.tar.zst rc=0
	step "mailstage backup $url $arc; mailstage backup --verify $arc"
	"$MAILSTAGE" backup --progress=none "${opts[@]}" "$url" "$arc" || rc=$?
	[ "$rc" -eq 0 ] || { fail "mailstage backup failed (exit status $rc)"; return 1; }
	"$MAILSTAGE" backup --verify "$arc" || { fail "backup --verify found differences"; return 1; }
	echo "\$ bsdtar -tf $arc | head -4"; bsdtar -tf "$arc" | head -4
}

url="imap://alice@127.0.0.1:$SRC_PORT/"
opts=(--tls=starttls --ca-file "$CA_FILE" --password-file "$SRC_DIR/pass-alice")
status=0
if [ ! -x "$MAILSTAGE" ]; then
	step "mailstage"
	echo "demo.sh: the mailstage binary is missing ($MAILSTAGE): the build did not make it" >&2
	status=1
else
	for cmd in check ls; do
		step "mailstage $cmd $url ${opts[*]}"
		rc=0
		"$MAILSTAGE" "$cmd" "$url" "${opts[@]}" || rc=$?
		if [ "$rc" -ne 0 ]; then
			echo "demo.sh: mailstage $cmd failed (exit status $rc)" >&2
			status=1
		fi
	done
	demo_mount || status=1
	demo_copy || status=1
	demo_backup || status=1
fi

if [ "$keep" = 1 ]; then
	trap - EXIT INT TERM
	_harness_stop_watchdog
	step "servers left running (--keep)"
	cat <<EOF
source       imap://alice@127.0.0.1:$SRC_PORT/  (--tls=starttls)
             imaps://alice@127.0.0.1:$SRC_TLSPORT/
destination  imap://alice@127.0.0.1:$DST_PORT/  (--tls=starttls)
             imaps://alice@127.0.0.1:$DST_TLSPORT/
users        $HARNESS_USERS (and master user admin: USER*admin)
passwords    $SRC_DIR/pass-USER, $DST_DIR/pass-USER
CA file      $CA_FILE
try          $MAILSTAGE ls $url ${opts[*]}
stop with    kill \$(cat $SRC_DIR/run/master.pid $DST_DIR/run/master.pid); rm -rf $T
EOF
	exit "$status"
fi
step "tearing down"
exit "$status"
