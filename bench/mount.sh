#!/usr/bin/env bash
# bench/mount.sh - throughput and scale of `mailstage mount` on loopback
# against a private Dovecot (tests/lib/harness.sh).  Not a test: it prints
# figures.  Side by side in one run:
#   1. cat of every message of a 10,000-message INBOX (the corpus, cycled)
#      through the mount  vs  one raw `UID FETCH 1:* BODY.PEEK[]`
#      vs  mbsync pulling the same INBOX into a local Maildir.  The cat runs
#      twice on fresh mounts: into `wc -c` (which counts the bytes), and
#      into /dev/null, a reader as cheap as the raw fetch's (which reads and
#      drops): on 2 cores the pipe to wc costs the mount a share of the CPU
#      that its daemon and the server need;
#   2. ls -l of a 100,000-message folder, cold (first listing) and warm;
#   3. peak RSS of the mount daemon after reading everything.
# Each mount figure is the median of RUNS runs, and each run measures its
# raw peer right before it, so the ratios hold on a loaded machine.
# Usage: bench/mount.sh [MESSAGES] [BIGFOLDER] [RUNS]   (defaults 10000 100000 3)
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
RUNS=${3:-3}

dovecot_start src --sep .
MD=$SRC_MAILDIR/alice/Maildir
PW=$(pass_file src alice)

# Write the Maildirs directly (APPENDing 110,000 messages would dominate the run),
# named as Dovecot names what it delivers: with S=<size>.  Without it, Dovecot 2.3
# spends 0.65 s of CPU in every new session's first sync of the 10,000-message
# INBOX (maildir_filename_base_cmp), once inside the raw FETCH and once per
# connection of the mount: a cost of that naming, not of either reader.
"$HARNESS_PYTHON" - "$MD" "$MAILSTAGE_CORPUS" "$NMSG" "$NBIG" <<'PY'
import os, sys
md, corpus, nmsg, nbig = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
files = sorted(os.path.join(d, f) for d, _, fs in os.walk(corpus) for f in fs if f.endswith(".eml"))
blobs = [open(p, "rb").read() for p in files]
def fill(dirname, n, gen):
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(dirname, sub), exist_ok=True)
    for i in range(n):
        body = gen(i)
        with open(os.path.join(dirname, "cur", "%d.M%dP1.bench,S=%d:2,S" % (1600000000 + i, i, len(body))), "wb") as f:
            f.write(body)
fill(md, nmsg, lambda i: blobs[i % len(blobs)])
fill(os.path.join(md, ".Big"), nbig, lambda i: b"From: a@example.org\r\nSubject: message %d\r\nMessage-ID: <%d@bench>\r\n\r\nbody %d\r\n" % (i, i, i))
PY
chown -R vmail:vmail "$SRC_MAILDIR"
t0=$(date +%s.%N)
doveadm -c "$SRC_CONF" mailbox status -u alice 'messages vsize' INBOX >/dev/null
doveadm -c "$SRC_CONF" mailbox status -u alice 'messages vsize' Big >/dev/null
echo "# indexing by Dovecot: $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}') s"
sync # 110,000 new files: their writeback would otherwise run through the first measurements

el() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", b - a}'; }
mbs() { awk -v n="$1" -v s="$2" 'BEGIN {printf "%.1f", n / 1048576 / s}'; }
median() { tr ' ' '\n' | grep . | sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
pct() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.0f", 100 * a / b}'; }
now() { date +%s.%N; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; } # user + system, in clock ticks
TCK=$(getconf CLK_TCK)
META="UID FLAGS INTERNALDATE RFC822.SIZE"

# cat_all DIR wc|null: cat every file below DIR into wc -c (prints the byte
# count) or into /dev/null (prints nothing).
cat_all() {
	if [ "$2" = wc ]; then
		find "$1" -type f -print0 | xargs -0 cat | wc -c
	else
		find "$1" -type f -print0 | xargs -0 cat >/dev/null
	fi
}

# mount_cat wc|null: on a fresh mount, SECS (and BYTES with wc) of cat_all,
# CPU (the daemon's, during the cat) and RSS (its peak).
mount_cat() {
	local c0 t0
	mount_start src alice "$M" "cache_max=64M"
	ls "$M/INBOX/cur" >/dev/null
	c0=$(cpu_ticks "$MOUNT_PID")
	t0=$(now)
	BYTES=$(cat_all "$M/INBOX/cur" "$1")
	SECS=$(el "$t0" "$(now)")
	CPU=$(awk -v a="$c0" -v b="$(cpu_ticks "$MOUNT_PID")" -v t="$TCK" 'BEGIN {printf "%.2f", (b - a) / t}')
	RSS=$(awk '/VmHWM/ {print $2}' "/proc/$MOUNT_PID/status")
	mount_stop "$M"
}

# 1. raw fetch vs cat through the mount, RUNS triples
M=$T/mnt
raws="" mounts="" ratios="" cpus="" nulls="" nratios="" rssmax=0
for i in $(seq "$RUNS"); do
	read -r rawbytes rawsecs < <("$HARNESS_PYTHON" "$HERE/rawfetch.py" "$SRC_PORT" alice "$PW" INBOX)
	mount_cat wc
	[ "$BYTES" = "$rawbytes" ] || echo "# run $i: mount gave $BYTES bytes, raw $rawbytes"
	r=$(mbs "$rawbytes" "$rawsecs") m=$(mbs "$BYTES" "$SECS") cpu=$CPU
	[ "$RSS" -gt "$rssmax" ] && rssmax=$RSS
	mount_cat null
	[ "$RSS" -gt "$rssmax" ] && rssmax=$RSS
	z=$(mbs "$rawbytes" "$SECS")
	echo "# run $i: raw $r MB/s, mount cat|wc $m MB/s ($(pct "$m" "$r")%), cat>/dev/null $z MB/s" \
		"($(pct "$z" "$r")%), mount daemon CPU $cpu / $CPU s"
	raws+=" $r" mounts+=" $m" ratios+=" $(pct "$m" "$r")" cpus+=" $cpu"
	nulls+=" $z" nratios+=" $(pct "$z" "$r")"
done
echo "raw UID FETCH 1:* BODY.PEEK[] of $NMSG messages ($rawbytes bytes): $(echo "$raws" | median) MB/s (median of $RUNS)"
echo "mount: cat of the same into wc -c: $(echo "$mounts" | median) MB/s = $(echo "$ratios" | median)% of raw (median of the per-run ratios)"
echo "mount: cat of the same into /dev/null: $(echo "$nulls" | median) MB/s = $(echo "$nratios" | median)% of raw"
echo "mount: CPU of the mount daemon (user + system) during the cat into wc: $(echo "$cpus" | median) s"
echo "mount: peak RSS after reading everything (cache_max=64M): $((rssmax / 1024)) MB"
lbytes=$(find "$MD/cur" -type f -printf '%s\n' | awk '{n += $1} END {print n}')
for how in wc null; do
	t0=$(now)
	cat_all "$MD/cur" "$how" >/dev/null
	s=$(el "$t0" "$(now)")
	lm=$(mbs "$lbytes" "$s")
	if [ "$how" = wc ]; then mm=$(echo "$mounts" | median); else mm=$(echo "$nulls" | median); fi
	echo "floor: cat of the same $NMSG files in Dovecot's own local Maildir (page cache) into" \
		"$([ "$how" = wc ] && echo "wc -c" || echo /dev/null): $lm MB/s = $(pct "$lm" "$(echo "$raws" | median)")% of raw;" \
		"the mount's is $(pct "$mm" "$lm")% of it"
done
mount_start src alice "$M" "cache_max=64M"
find "$M/INBOX/cur" -type f -print0 | xargs -0 cat >/dev/null
t0=$(now)
cp -r "$M/INBOX" "$T/cpcopy"
echo "mount: cp -r of INBOX (second read, bodies partly cached): $(el "$t0" "$(now)") s"
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
t0=$(now)
mbsync -q -c "$T/mbsyncrc" pull >/dev/null 2>"$T/mbsync.err" || { cat "$T/mbsync.err"; echo "mbsync failed"; }
s=$(el "$t0" "$(now)")
echo "mbsync pull of INBOX into a local Maildir (FSync no): $s s = $(mbs "$rawbytes" "$s") MB/s ($(pct "$(mbs "$rawbytes" "$s")" "$(echo "$raws" | median)")% of raw)"

# 2. ls -l of the big folder, cold and warm, RUNS times
metas="" colds="" warms="" cratios="" flats=""
for i in $(seq "$RUNS"); do
	read -r _ msecs < <("$HARNESS_PYTHON" "$HERE/rawfetch.py" "$SRC_PORT" alice "$PW" Big "$META")
	mount_start src alice "$M"
	t0=$(now)
	n=$(ls -l "$M/Big/cur" | wc -l)
	c=$(el "$t0" "$(now)")
	t0=$(now)
	ls -l "$M/Big/cur" >/dev/null
	w=$(el "$t0" "$(now)")
	rss=$(awk '/VmHWM/ {print $2}' "/proc/$MOUNT_PID/status")
	mount_stop "$M"
	ls -l "$MD/.Big/cur" >/dev/null
	t0=$(now)
	ls -l "$MD/.Big/cur" >/dev/null
	f=$(el "$t0" "$(now)")
	echo "# run $i: raw metadata fetch $msecs s, ls -l cold $c s, warm $w s, local floor $f s"
	metas+=" $msecs" colds+=" $c" warms+=" $w" flats+=" $f"
	cratios+=" $(awk -v c="$c" -v m="$msecs" 'BEGIN {printf "%.1f", c / m}')"
done
echo "raw UID FETCH 1:* ($META) of $NBIG messages: $(echo "$metas" | median) s"
echo "ls -l of $((n - 1)) messages, cold: $(echo "$colds" | median) s ($(echo "$cratios" | median) x the raw metadata fetch)"
echo "ls -l of the same, warm: $(echo "$warms" | median) s"
echo "floor: ls -l of Dovecot's own local cur/ ($NBIG files, warm): $(echo "$flats" | median) s"
echo "mount: peak RSS with the $NBIG-message listing: $((rss / 1024)) MB"
mount_start src alice "$M"
t0=$(now)
n=$(ls -f "$M/Big/cur" | wc -l)
echo "ls -f (names only: the one metadata FETCH + readdir) of $((n - 2)) messages, cold: $(el "$t0" "$(now)") s"
mount_stop "$M"
harness_done
