#!/usr/bin/env bash
# bench/mount.sh - throughput and scale of `mailstage mount` on loopback
# against a private Dovecot (tests/lib/harness.sh).  Not a test: it prints
# figures.  Side by side in one run:
#   1. cat of every message of a 10,000-message INBOX (the corpus, cycled)
#      through the mount  vs  one raw `UID FETCH 1:* BODY.PEEK[]`
#      vs  mbsync pulling the same INBOX into a local Maildir;
#   2. ls -l of a 100,000-message folder, cold (first listing) and warm;
#   3. peak RSS of the mount daemon after reading everything.
# Usage: bench/mount.sh [MESSAGES] [BIGFOLDER]   (defaults 10000 100000)
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../tests/lib/harness.sh"
. "$HERE/../tests/lib/mount.sh"
harness_init
harness_timeout 3000
harness_need_root
harness_need_mailstage
harness_need_fuse
NMSG=${1:-10000}
NBIG=${2:-100000}

dovecot_start src --sep .
MD=$SRC_MAILDIR/alice/Maildir
PW=$(pass_file src alice)

# Write the Maildirs directly (APPENDing 110,000 messages would dominate the run).
"$HARNESS_PYTHON" - "$MD" "$MAILSTAGE_CORPUS" "$NMSG" "$NBIG" <<'PY'
import os, sys
md, corpus, nmsg, nbig = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
files = sorted(os.path.join(d, f) for d, _, fs in os.walk(corpus) for f in fs if f.endswith(".eml"))
blobs = [open(p, "rb").read() for p in files]
def fill(dirname, n, gen):
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(dirname, sub), exist_ok=True)
    for i in range(n):
        with open(os.path.join(dirname, "cur", "%d.M%dP1.bench:2,S" % (1600000000 + i, i)), "wb") as f:
            f.write(gen(i))
fill(md, nmsg, lambda i: blobs[i % len(blobs)])
fill(os.path.join(md, ".Big"), nbig, lambda i: b"From: a@example.org\r\nSubject: message %d\r\nMessage-ID: <%d@bench>\r\n\r\nbody %d\r\n" % (i, i, i))
PY
chown -R vmail:vmail "$SRC_MAILDIR"
t0=$(date +%s.%N)
doveadm -c "$SRC_CONF" mailbox status -u alice 'messages vsize' INBOX >/dev/null
doveadm -c "$SRC_CONF" mailbox status -u alice 'messages vsize' Big >/dev/null
echo "# indexing by Dovecot: $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}') s"

el() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", b - a}'; }
mbs() { awk -v n="$1" -v s="$2" 'BEGIN {printf "%.1f", n / 1048576 / s}'; }

# 1a. raw fetch
read -r rawbytes rawsecs < <("$HARNESS_PYTHON" "$HERE/rawfetch.py" "$SRC_PORT" alice "$PW" INBOX)
echo "raw UID FETCH 1:* BODY.PEEK[]: $rawbytes bytes in $rawsecs s = $(mbs "$rawbytes" "$rawsecs") MB/s"

# 1b. the mount
M=$T/mnt
mount_start src alice "$M" "cache_max=64M"
ls "$M/INBOX/cur" >/dev/null
t0=$(date +%s.%N)
bytes=$(find "$M/INBOX/cur" -type f -print0 | xargs -0 cat | wc -c)
t1=$(date +%s.%N)
s=$(el "$t0" "$t1")
echo "mount: cat of $NMSG messages: $bytes bytes in $s s = $(mbs "$bytes" "$s") MB/s ($(awk -v a="$(mbs "$bytes" "$s")" -v b="$(mbs "$rawbytes" "$rawsecs")" 'BEGIN {printf "%.0f", 100 * a / b}')% of raw)"
t0=$(date +%s.%N)
lbytes=$(find "$MD/cur" -type f -print0 | xargs -0 cat | wc -c)
s=$(el "$t0" "$(date +%s.%N)")
echo "floor: cat of the same $NMSG files in Dovecot's own local Maildir (page cache): $lbytes bytes in $s s = $(mbs "$lbytes" "$s") MB/s"
t0=$(date +%s.%N)
cp -r "$M/INBOX" "$T/cpcopy"
echo "mount: cp -r of INBOX (second read, bodies partly cached): $(el "$t0" "$(date +%s.%N)") s"
rss=$(awk '/VmHWM/ {print $2}' "/proc/$MOUNT_PID/status")
echo "mount: peak RSS after reading everything (cache_max=64M): $((rss / 1024)) MB"
mount_stop "$M"

# 1c. mbsync
cat >"$T/mbsyncrc" <<EOF2
FSync no

IMAPAccount src
Host 127.0.0.1
Port $SRC_PORT
User alice
PassCmd "cat $PW"
SSLType None
AuthMechs LOGIN

IMAPStore src
Account src

MaildirStore local
Path $T/mbsync/
Inbox $T/mbsync/INBOX

Channel pull
Far :src:
Near :local:
Patterns INBOX
Create Near
Sync Pull
SyncState *
EOF2
mkdir -p "$T/mbsync"
t0=$(date +%s.%N)
mbsync -q -c "$T/mbsyncrc" pull >/dev/null 2>"$T/mbsync.err" || { cat "$T/mbsync.err"; echo "mbsync failed"; }
s=$(el "$t0" "$(date +%s.%N)")
echo "mbsync pull of INBOX into a local Maildir (FSync no): $s s = $(mbs "$rawbytes" "$s") MB/s"

# 2. ls -l of the 100,000-message folder, cold and warm
mount_start src alice "$M"
t0=$(date +%s.%N)
n=$(ls -l "$M/Big/cur" | wc -l)
echo "ls -l of $((n - 1)) messages, cold: $(el "$t0" "$(date +%s.%N)") s"
t0=$(date +%s.%N)
ls -l "$M/Big/cur" >/dev/null
echo "ls -l of the same, warm: $(el "$t0" "$(date +%s.%N)") s"
rss=$(awk '/VmHWM/ {print $2}' "/proc/$MOUNT_PID/status")
echo "mount: peak RSS with the $NBIG-message listing: $((rss / 1024)) MB"
mount_stop "$M"
mount_start src alice "$M"
t0=$(date +%s.%N)
n=$(ls -f "$M/Big/cur" | wc -l)
echo "ls -f (names only: the one metadata FETCH + readdir) of $((n - 2)) messages, cold: $(el "$t0" "$(date +%s.%N)") s"
mount_stop "$M"
ls -l "$MD/.Big/cur" >/dev/null
t0=$(date +%s.%N)
ls -l "$MD/.Big/cur" >/dev/null
echo "floor: ls -l of Dovecot's own local cur/ ($NBIG files, warm): $(el "$t0" "$(date +%s.%N)") s"
harness_done
