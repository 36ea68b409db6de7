# mount.sh - mount helpers for the `mailstage mount` integration tests.
# Source after lib/harness.sh and harness_init.
#
# mount_start NAME USER MNT [OPTS] (mount_url URL PASSWORD-FILE MNT [OPTS]): mount server NAME's account USER on MNT
#   in the foreground (-f) as a child, registered with the harness (lazy
#   unmount and kill in teardown); waits up to 30 s for the mount.  Sets
#   MOUNT_PID; the daemon's stderr goes to $T/mount-<basename MNT>.log.
# mount_try URL PASSWORD-FILE MNT [OPTS]: the same as mount_url, but returns 1
#   (instead of failing the test) when the daemon ends without mounting.
# mount_stop MNT: fusermount3 -u, then wait for the daemon (10 s); sets MOUNT_RC.
# mount_is_up MNT: 0 if MNT is a mailstage mount now.
# shellcheck shell=bash

mount_is_up() {
	grep -qF " $1 fuse.mailstage " /proc/mounts
}

mount_start() {
	local name=$1 user=$2 mnt=$3 opts=${4:-}
	mount_url "imap://$user@127.0.0.1:$(_harness_var "$name" PORT)/" "$(pass_file "$name" "$user")" \
		"$mnt" "$opts"
}

# mount_url URL PASSWORD-FILE MNT [OPTS]: the same for any server (plain IMAP).
# PASSWORD-FILE "-": no password_file, the password is in $MAILSTAGE_PASSWORD.
mount_url() {
	mount_try "$@" && return 0
	cat "$T/mount-$(basename "$3").log" >&2
	fail "mount of $1 on $3 did not come up"
}

mount_try() {
	local url=$1 pw=$2 mnt=$3 opts=${4:-} i
	[ "$pw" = - ] || opts="password_file=$pw${opts:+,$opts}"
	mkdir -p "$mnt"
	harness_register_mount "$mnt"
	# MOUNT_IMPLICIT=1: the form mount.fuse3 uses, without the subcommand
	"$MAILSTAGE" $([ "${MOUNT_IMPLICIT:-0}" = 1 ] || echo mount) "$url" "$mnt" -f -o "tls=none${opts:+,$opts}" \
		2>"$T/mount-$(basename "$mnt").log" &
	MOUNT_PID=$!
	harness_register_pid "$MOUNT_PID"
	for i in $(seq 300); do
		mount_is_up "$mnt" && return 0
		kill -0 "$MOUNT_PID" 2>/dev/null || break
		sleep 0.1
	done
	return 1
}

mount_stop() {
	local mnt=$1 i
	fusermount3 -u "$mnt" || fusermount3 -uz "$mnt"
	for i in $(seq 100); do
		kill -0 "$MOUNT_PID" 2>/dev/null || break
		sleep 0.1
	done
	wait "$MOUNT_PID"
	MOUNT_RC=$?
}

# mount_listing DIR: uid TAB flags-letters TAB mtime TAB size TAB bytes-read TAB sha256
# for every file in DIR/cur, sorted by uid (reads every message once).
mount_listing() {
	local f uid
	for f in "$1"/cur/*; do
		[ -e "$f" ] || continue
		uid=$(getfattr --absolute-names --only-values -n user.imap.uid "$f") || return 1
		printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$uid" "${f##*:2,}" "$(stat -c %Y "$f")" \
			"$(stat -c %s "$f")" "$(wc -c <"$f")" "$(sha256sum <"$f" | cut -d' ' -f1)"
	done | sort -n
}

# mutt_count DIR: the message count mutt shows for Maildir DIR, opened
# read-only (-R) on a pseudo-terminal (script(1)); the status line is set to
# "MSGS=<count>=" and mutt quits at once; the last status drawn counts (a slow
# mount may be drawn while mutt is still reading).  What mutt drew is kept
# in $T/mutt.screen; mutt_shown prints its printable tail (for a failure).
mutt_count() {
	command -v mutt >/dev/null && command -v script >/dev/null || return 1
	TERM=vt100 timeout 120 script -qec "mutt -n -F /dev/null -R -e 'set folder=$T status_format=\"MSGS=%m=\"' -e 'push <quit>' -f '$1'" /dev/null </dev/null >"$T/mutt.screen"
	grep -ao 'MSGS=[0-9]*=' "$T/mutt.screen" | tail -n1 | tr -dc 0-9
}
mutt_shown() {
	tr -c '[:print:]\n' ' ' <"$T/mutt.screen" | tr -s ' ' | tail -c 600
}

# mount_test_init SECS: the common start of a mount test that seeds real
# Dovecot servers: a fresh $T, the whole test bounded by SECS, and a skip
# (77) without root, the mailstage binary or FUSE.
mount_test_init() {
	harness_init
	harness_timeout "$1"
	harness_need_root
	harness_need_mailstage
	harness_need_fuse
}
