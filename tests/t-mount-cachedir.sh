#!/usr/bin/env bash
# t-mount-cachedir.sh - -o cache_dir=DIR: whole messages kept on disk.
# Mount, read every INBOX message (byte-exact against a direct fetch),
# unmount, remount and read everything again: Dovecot's own counter
# (body_count= in its logout lines) shows no body was fetched the second
# time, the 3 MB one above whole_max=1M (read by chunks) included.  A cache
# file with a flipped byte and a truncated one are misses: the mount still
# serves the exact bytes, fetching just those two.  Modes are 0700/0600; a
# small cache_dir_max keeps the directory under it.  Two mounts of the same
# account sharing one cache_dir, reading the same messages at once, give the
# exact bytes and leave only whole, valid files.  A cache_dir that another
# user owns (holding a forged copy of a message, with a valid header and
# hash) or that others may open (mode 0755) is refused before mounting.
set -u
. "$(dirname "$0")/lib/harness.sh"
. "$(dirname "$0")/lib/mount.sh"
mount_test_init 600 # ASan on a loaded machine: ~220 s

dovecot_start src
seed_corpus src alice INBOX 'cpython-email/*.eml'
"$HARNESS_PYTHON" -c 'import base64, random, sys
r = random.Random(7)
body = base64.encodebytes(bytes(r.getrandbits(8) for _ in range(2300000))).replace(b"\n", b"\r\n")
sys.stdout.buffer.write(b"From: a@example.org\r\nSubject: big\r\n\r\n" + body)' >"$T/big.eml"
seed_message src alice INBOX "$T/big.eml" '\Seen' >/dev/null
want=$(imap_dump src alice INBOX | awk -F'\t' '{print $1 "\t" $5}')
n=$(printf '%s\n' "$want" | wc -l)
M=$T/mnt
C=$T/cache

# uid TAB sha256 of every message read through the mount (at $1, default $M)
read_all() { mount_listing "${1:-$M}/INBOX" | awk -F'\t' '{print $1 "\t" $6}'; }
# body_count of the server's logout lines after line $1 of its log, summed
bodies_since() {
	tail -n +"$(($1 + 1))" "$SRC_LOG" | grep -o 'body_count=[0-9]*' |
		awk -F= '{s += $2} END {print s + 0}'
}
log_lines() { wc -l <"$SRC_LOG"; }

mark=$(log_lines)
mount_start src alice "$M" "whole_max=1M,cache_dir=$C"
assert_eq "$(read_all)" "$want" "first mount: all $n messages byte-exact"
mount_stop "$M"
assert_eq "$MOUNT_RC" 0 "clean unmount"
first=$(bodies_since "$mark")
[ "$first" -ge "$n" ] && pass "first mount fetched the bodies from the server ($first)" ||
	fail "server counted $first body fetches for $n messages: is body_count= logged?"
files=$(find "$C" -type f ! -name '.tmp.*' | wc -l)
assert_eq "$files" "$n" "one cache file per message"
big=$(find "$C" -type f -size +3M | wc -l)
assert_eq "$big" 1 "the 3 MB message (above whole_max, read by chunks) is cached too"
assert_eq "$(find "$C" -type d ! -perm 0700 | wc -l)" 0 "cache directories are 0700"
assert_eq "$(find "$C" -type f ! -perm 0600 | wc -l)" 0 "cache files are 0600"
grep -rqF "pw-alice" "$C" && fail "the password is in the cache" || pass "no password in the cache"

mark=$(log_lines)
mount_start src alice "$M" "whole_max=1M,cache_dir=$C"
assert_eq "$(read_all)" "$want" "remount: all $n messages byte-exact"
mount_stop "$M"
assert_eq "$(bodies_since "$mark")" 0 "remount fetched no body from the server"

# damage two files: flip the last byte of one, cut another short
mapfile -t cf < <(find "$C" -type f ! -name '.tmp.*' | sort)
last=$(($(stat -c %s "${cf[0]}") - 1))
b=$(dd if="${cf[0]}" bs=1 skip="$last" count=1 2>/dev/null | od -An -tu1 | tr -d ' ')
printf "$(printf '\\%03o' $(((b + 1) % 256)))" |
	dd of="${cf[0]}" bs=1 seek="$last" conv=notrunc 2>/dev/null
truncate -s -10 "${cf[1]}"
mark=$(log_lines)
mount_start src alice "$M" "whole_max=1M,cache_dir=$C"
assert_eq "$(read_all)" "$want" "with a flipped byte and a short file: still byte-exact"
mount_stop "$M"
assert_eq "$(bodies_since "$mark")" 2 "exactly the two damaged messages came from the server"
assert_contains "$(cat "$T/mount-mnt.log")" "damaged" "the mount said so"
assert_eq "$(find "$C" -type f ! -name '.tmp.*' | wc -l)" "$n" "and re-cached them"

# two mounts of the same account on one cache_dir, reading the same messages at once
C2=$T/shared
mark=$(log_lines)
mount_start src alice "$M" "cache_dir=$C2"
mount_start src alice "$T/mnt2" "cache_dir=$C2"
readers=()
for r in 1 2 3; do
	read_all "$M" >"$T/a.$r" &
	readers+=($!)
	read_all "$T/mnt2" >"$T/b.$r" &
	readers+=($!)
done
wait "${readers[@]}" # not a bare wait: the mounts are children too
for r in 1 2 3; do
	assert_eq "$(cat "$T/a.$r")" "$want" "shared cache_dir, mount 1, reader $r: byte-exact"
	assert_eq "$(cat "$T/b.$r")" "$want" "shared cache_dir, mount 2, reader $r: byte-exact"
done
mount_stop "$T/mnt2"
mount_stop "$M"
assert_eq "$(find "$C2" -name '.tmp.*' | wc -l)" 0 "no temporary file left in the shared cache_dir"
assert_eq "$(find "$C2" -type f | wc -l)" "$n" "one file per message in the shared cache_dir"
mark=$(log_lines)
mount_start src alice "$M" "cache_dir=$C2"
assert_eq "$(read_all)" "$want" "a third mount on the shared cache_dir: byte-exact"
mount_stop "$M"
assert_eq "$(bodies_since "$mark")" 0 "every shared cache file was whole and valid: no fetch"
if grep -q damaged "$T/mount-mnt.log"; then fail "a shared cache file was damaged"; else pass "no damaged file"; fi

# a small bound: the directory stays under it
S=$T/small
mount_start src alice "$M" "cache_dir=$S,cache_dir_max=64K"
assert_eq "$(read_all)" "$want" "with cache_dir_max=64K: byte-exact"
used=$(find "$S" -type f -printf '%s\n' | awk '{s += $1} END {print s + 0}')
kept=$(find "$S" -type f | wc -l)
[ "$used" -le 65536 ] && [ "$kept" -gt 0 ] &&
	pass "cache_dir_max=64K: $used bytes in $kept files" ||
	fail "cache_dir_max=64K: $used bytes in $kept files"
mount_stop "$M"
assert_eq "$MOUNT_RC" 0 "clean unmount"

# ---- a cache_dir that is not the user's own: refused before mounting
# nobody's directory, holding the valid cache of $C with one message forged
# by nobody (same length, header and SHA-256 rewritten to match)
E=$T/evil
mkdir "$E" && cp -a "$C/." "$E/" && chown -R nobody: "$E" || fail "cannot make nobody's cache_dir"
victim=$(find "$E" -type f -name '*.1' | head -1)
[ -n "$victim" ] || fail "no cache file of UID 1"
forged_sha=$(setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups \
	"$HARNESS_PYTHON" - "$victim" <<'PY'
import hashlib, sys
path = sys.argv[1]
data = open(path, "rb").read()
lines = data.split(b"\n", 4)                 # magic, server, "uv uid len sha", folder, body
uv, uid, blen, _ = lines[2].split(b" ")
body = b"From: forger@example.org\r\nSubject: forged\r\n\r\n"
body = (body + b"x" * int(blen))[: int(blen)]
sha = hashlib.sha256(body).hexdigest().encode()
lines[2] = b" ".join([uv, uid, blen, sha])
open(path, "wb").write(b"\n".join(lines[:4]) + b"\n" + body)
print(sha.decode())
PY
) || fail "nobody could not forge the cache file"

# refused_cache_dir DIR WORDS MSG: a mount with cache_dir=DIR exits 2 saying
# WORDS, and mounts nothing (were it mounted: what UID 1 reads as)
refused_cache_dir() {
	local dir=$1 words=$2 msg=$3 mnt=$T/refused got rc=0
	if mount_try "imap://alice@127.0.0.1:$SRC_PORT/" "$(pass_file src alice)" "$mnt" \
		"cache_dir=$dir"; then
		got=$(sha256sum "$mnt"/INBOX/cur/*.U1V*.mailstage:2,* | cut -d' ' -f1)
		mount_stop "$mnt"
		[ "$got" = "$forged_sha" ] && fail "$msg: mounted, and serves nobody's forged message as UID 1"
		fail "$msg: mounted anyway"
	fi
	wait "$MOUNT_PID" || rc=$?
	assert_eq "$rc" 2 "$msg: the mount exits 2"
	assert_contains "$(cat "$T/mount-refused.log")" "$words" "$msg: it says '$words'"
}
refused_cache_dir "$E" "belongs to nobody" "cache_dir owned by nobody"
chmod 0700 "$E"
refused_cache_dir "$E" "belongs to nobody" "cache_dir owned by nobody, mode 0700"
O=$T/open
mkdir -m 0755 "$O"
refused_cache_dir "$O" "has mode 0755; it must be 0700" "a cache_dir of ours with mode 0755"
chmod 0700 "$O"
mount_start src alice "$M" "cache_dir=$O"
assert_eq "$(read_all)" "$want" "the same directory, mode 0700: mounted, byte-exact"
mount_stop "$M"
harness_done
