#!/usr/bin/env bash
# t-mount-misbehave.sh - `mailstage mount` against a server that breaks the
# protocol (the scripted fake tests/fake/faultimap.py, as in t-misbehave.sh
# for check/ls/copy).  For each fault a reader can meet:
#   wrongsize   RFC822.SIZE lies (too small, too large): cat serves exactly
#               the message's bytes (no zero padding, no cut) and after the
#               open stat's size equals the bytes read
#   short, long, cut, huge   a body literal that lies about its size (too
#               short, too long, cut, absurd), bye (* BYE mid-FETCH),
#               endless, trickle (a reply that never ends: fast, or a byte
#               every 0.3 s), stall (half a reply, then silence)
#               each read ends within the -o timeout (3 s, + margin) with
#               EIO or gives the exact bytes, never other bytes; stat keeps
#               the true size (no cut length recorded); ls -l of the cached
#               folder still answers at once
#   droplogin   sessions after the first one dropped right after login (the
#               body connections): reads fail fast with EIO, listings work
# and at mount time: every login dropped, or the folder list broken (short,
# long, huge, bye, endless, trickle, stall in the LIST reply): the mount
# refuses with exit 3 and plain words within a deadline, leaving nothing
# mounted.  Every mount that came up unmounts cleanly: fusermount3 -u works
# and the mount process exits 0; no process ends by a signal or with a
# sanitizer report.
# Usage: t-mount-misbehave.sh [CONNECTIONS]: 2 (the default) has the kernel
# send an OPEN per file, 3 or more none (faults are met at the first read).
set -u
. "$(dirname "$0")/lib/harness.sh"
. "$(dirname "$0")/lib/mount.sh"
. "$(dirname "$0")/lib/fake.sh"
harness_init
harness_timeout 600
harness_need_mailstage
harness_need_fuse

mkdir -p "$T/want"
"$HARNESS_PYTHON" "$FAKE" --dump "$T/want"
echo pw >"$T/pw"
chmod 600 "$T/pw"
M=$T/mnt
OPTS="timeout=3,connect_timeout=3,connections=${1:-2},dir_timeout=60"
LIMIT=15 # seconds a failing read may take: the 3 s deadline, one retry on a new connection, margin for ASan on a loaded machine

# faults: fake_start MODE [COUNT] (tests/lib/fake.sh)

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# no_sanitizer WHAT: the mount's log holds no sanitizer report
no_sanitizer() {
	if grep -q 'Sanitizer\|runtime error:' "$T/mount-mnt.log"; then
		cat "$T/mount-mnt.log" >&2
		fail "$1: a sanitizer report"
	fi
}

# unmount WHAT: fusermount3 -u, then the mount process must exit 0
unmount() {
	mount_is_up "$M" || { cat "$T/mount-mnt.log" >&2; fail "$1: the mount went away"; }
	mount_stop "$M"
	[ "$MOUNT_RC" = 0 ] || { tail -n 20 "$T/mount-mnt.log" >&2; fail "$1: the mount process exits $MOUNT_RC"; }
	mount_is_up "$M" && fail "$1: still mounted after fusermount3 -u"
	pass "$1: unmounted, the mount process exits 0"
	no_sanitizer "$1"
}

# listing_ok WHAT [MS]: ls -l of INBOX/cur shows the three messages (within
# MS ms: a cached listing answers at once, whatever the body connections do)
listing_ok() {
	local t0 n el
	t0=$(now_ms)
	n=$(timeout 30 ls -l "$M/INBOX/cur" | grep -c mailstage)
	el=$(($(now_ms) - t0))
	assert_eq "$n" 3 "$1: ls -l shows the three messages"
	[ "$el" -le "${2:-30000}" ] || fail "$1: ls -l took ${el} ms (limit ${2:-30000} ms)"
}

# file_of UID: the mount's file for UID
file_of() { ls "$M"/INBOX/cur/*".U$1V"*; }

# read_each WHAT: cat every message once: the exact bytes, or EIO within
# $LIMIT s; sets NEIO (how many failed) and shows each outcome
read_each() {
	local what=$1 uid f t0 el rc err want
	NEIO=0
	for uid in 1 2 3; do
		f=$(file_of "$uid") || fail "$what: no file for uid $uid"
		want=$(stat -c %s "$T/want/$uid.eml")
		t0=$(now_ms)
		timeout -k 5 60 cat "$f" >"$T/got" 2>"$T/cat.err"
		rc=$?
		el=$(($(now_ms) - t0))
		err=$(cat "$T/cat.err")
		echo "# $what: uid $uid: cat exit $rc in ${el} ms, $(wc -c <"$T/got") bytes ($want wanted) $err"
		[ "$rc" = 124 ] || [ "$rc" = 137 ] && fail "$what: uid $uid: cat hangs"
		if [ "$rc" = 0 ]; then
			cmp -s "$T/got" "$T/want/$uid.eml" ||
				fail "$what: uid $uid: cat succeeded with other bytes than the message's"
			pass "$what: uid $uid: the exact bytes"
		else
			[[ "$err" == *"Input/output error"* ]] || fail "$what: uid $uid: cat failed without EIO: $err"
			[ "$el" -le $((LIMIT * 1000)) ] || fail "$what: uid $uid: EIO after ${el} ms (limit ${LIMIT} s)"
			NEIO=$((NEIO + 1))
		fi
		assert_eq "$(stat -c %s "$f")" "$want" "$what: uid $uid: stat still gives the true size"
	done
}

# ---- wrong RFC822.SIZE: served exactly, stat follows the true size
fake_start wrongsize
mount_url "$FURL" "$T/pw" "$M" "$OPTS"
declare -A ADV
for uid in 1 2 3; do # all before any read: an open reads ahead
	f=$(file_of "$uid") || fail "wrongsize: no file for uid $uid"
	ADV[$uid]=$(stat -c %s "$f")
	assert_ne "${ADV[$uid]}" "$(stat -c %s "$T/want/$uid.eml")" \
		"wrongsize: uid $uid: before any read stat gives the advertised size (${ADV[$uid]})"
done
for uid in 1 2 3; do
	f=$(file_of "$uid")
	n=$(stat -c %s "$T/want/$uid.eml")
	adv=${ADV[$uid]}
	timeout -k 5 60 cat "$f" >"$T/got" || fail "wrongsize: uid $uid: cat failed"
	cmp "$T/got" "$T/want/$uid.eml" ||
		fail "wrongsize: uid $uid: $(wc -c <"$T/got") bytes read, not the message's $n"
	pass "wrongsize: uid $uid: cat gives exactly the $n bytes (advertised $adv)"
	for _ in $(seq 100); do [ "$(stat -c %s "$f")" = "$n" ] && break; sleep 0.1; done
	assert_eq "$(stat -c %s "$f")" "$n" "wrongsize: uid $uid: after the open stat's size equals the bytes read"
done
listing_ok wrongsize
unmount wrongsize
fake_stop

# ---- body faults: EIO within the deadline or exact bytes, never others
for mode in short long cut huge bye endless trickle stall; do
	fake_start "$mode"
	mount_url "$FURL" "$T/pw" "$M" "$OPTS"
	listing_ok "$mode"
	read_each "$mode"
	# (long: the literal holds the whole message, garbage follows it)
	[ "$mode" = long ] || assert_ne "$NEIO" 0 "$mode: the broken replies gave EIO ($NEIO of 3 reads)"
	listing_ok "$mode (after the faults)" 10000
	unmount "$mode"
	fake_stop
done

# ---- later sessions dropped after login: the body connections
fake_start droplogin 1
mount_url "$FURL" "$T/pw" "$M" "$OPTS"
listing_ok droplogin
read_each droplogin
assert_eq "$NEIO" 3 "droplogin: every read failed with EIO"
listing_ok "droplogin (after the faults)" 10000
unmount droplogin
fake_stop

# ---- faults at mount time: a refusal with exit 3, nothing left mounted
# refused MODE [COUNT] WORDS: mount MODE's fake; the mount must end by
# itself within 60 s (deadlines 3 s each) with exit 3 and WORDS
refused() {
	local mode=$1 words=$2 pid rc t0 el
	fake_start "$mode"
	mkdir -p "$M"
	harness_register_mount "$M"
	t0=$(now_ms)
	"$MAILSTAGE" mount "$FURL" "$M" -f -o "tls=none,password_file=$T/pw,$OPTS" \
		2>"$T/mount-mnt.log" &
	pid=$!
	harness_register_pid "$pid"
	for _ in $(seq 600); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	if kill -0 "$pid" 2>/dev/null; then
		cat "$T/mount-mnt.log" >&2
		fail "$mode: the mount neither came up usable nor ended within 60 s"
	fi
	wait "$pid"
	rc=$?
	el=$(($(now_ms) - t0))
	[ "$rc" = 3 ] || { cat "$T/mount-mnt.log" >&2; fail "$mode: the mount exits $rc, want 3"; }
	pass "$mode: the mount refuses with exit 3 (in ${el} ms)"
	assert_contains "$(cat "$T/mount-mnt.log")" "$words" "$mode: it says '$words'"
	mount_is_up "$M" && fail "$mode: something is mounted"
	no_sanitizer "$mode"
	fake_stop
}
refused droplogin "the server closed the connection"
refused short@list "timeout"
refused long@list "bad server response"
refused huge@list "literal larger than the configured limit"
refused bye@list "the server closed the connection"
refused endless@list "item too long"
refused trickle@list "did not end within 3 s"
refused stall@list "timeout"

harness_done
