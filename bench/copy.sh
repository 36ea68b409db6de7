#!/usr/bin/env bash
# bench/copy.sh - mailstage copy against mbsync (Debian isync) and
# `doveadm backup` over imapc, IMAP -> IMAP between two private Dovecot 2.3
# instances on loopback (tests/lib/harness.sh), on a generated corpus of
# N messages (default 10,000, ~470 MB) in 4 folders, a fresh destination for
# every run, median of R runs (default 3): msg/s, MB/s, client CPU (user +
# sys) and peak RSS from /usr/bin/time -v.  Then mailstage's peak RSS on a
# folder holding a 50 MiB message.
#
#   sudo bench/copy.sh [N] [R]        (root: the harness runs Dovecot as vmail)
#
# mailstage runs with --connections 1, 2 (the default) and 3.  With
# MAILSTAGE_OLD=/path/to/older/mailstage each round also runs that binary
# (rows old-c1, old-c2, old-c3), alternating with the current one, so a
# change is measured under the same machine load as what it is compared to.
#
# Output: one line per run, then a table of medians and the ratios.
set -u
N=${1:-10000}
R=${2:-3}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../tests/lib/harness.sh"
. "$HERE/../tests/lib/copy_helpers.sh"
harness_init
harness_need_mailstage
harness_timeout 7200
command -v mbsync >/dev/null || skip "mbsync (isync) not installed"

dovecot_start src --sep .
SRC_PW=$(pass_file src alice)

# ---- corpus: Maildir files written straight into the source (fast), then indexed
gen_corpus() {
	"$HARNESS_PYTHON" - "$MAILSTAGE_CORPUS" "$SRC_MAILDIR/alice/Maildir" "$N" <<'PY'
import os, random, sys
corpus, md, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
files = sorted(os.path.join(d, f) for d, _, fs in os.walk(corpus) for f in fs if f.endswith(".eml"))
bodies = [open(f, "rb").read() for f in files]
rnd = random.Random(42)
folders = [("", 0.5), (".Sent", 0.2), (".Archive", 0.2), (".Work", 0.1)]
for sub, _ in folders:
    for d in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(md + "/" + sub if sub else md, d), exist_ok=True)
flags = ["S", "RS", "FS", "", "S", "DS"]
for i in range(n):
    r, acc = rnd.random(), 0
    for sub, p in folders:
        acc += p
        if r < acc:
            break
    body = bodies[i % len(bodies)]
    head = b"Message-ID: <bench-%d@example.org>\r\n" % i
    if i % 10 == 0:   # every tenth carries a ~250 KB attachment: ~47 KB on average
        pad = rnd.randbytes(190000).hex().encode()
        body = body + b"\r\n--pad\r\n" + b"\r\n".join(pad[k:k + 76] for k in range(0, len(pad), 76)) + b"\r\n"
    path = os.path.join(md + "/" + sub if sub else md, "cur",
                        "%d.M%dP1.bench:2,%s" % (1500000000 + i, i, flags[i % len(flags)]))
    with open(path, "wb") as f:
        f.write(head + body)
    t = 1500000000 + i * 3000
    os.utime(path, (t, t))
PY
	chown -R vmail:vmail "$SRC_MAILDIR/alice"
	for f in INBOX Sent Archive Work; do imap_tool src alice status "$f" >/dev/null; done
}
gen_corpus
TOTAL_BYTES=$(for f in INBOX Sent Archive Work; do imap_dump src alice "$f" | awk -F'\t' '{s += $4} END {printf "%d\n", s}'; done |
	awk '{s += $1} END {printf "%d\n", s}')
TOTAL_MSGS=$(for f in INBOX Sent Archive Work; do count_messages src alice "$f"; done | awk '{s += $1} END {printf "%d\n", s}')
echo "corpus: $TOTAL_MSGS messages, $((TOTAL_BYTES / 1000000)) MB in 4 folders"

# fresh_dst: a new destination server for each run
run_no=0
fresh_dst() {
	run_no=$((run_no + 1))
	DST=d$run_no
	dovecot_start "$DST" >/dev/null
	DST_PORT=$(_harness_var "$DST" PORT)
	DST_PW=$(pass_file "$DST" bob)
}

# timed LABEL CMD...: run CMD under /usr/bin/time -v; append "label wall cpu rss" to $T/runs
timed() {
	local label=$1 start end
	shift
	start=$(date +%s.%N)
	/usr/bin/time -v -o "$T/time.out" "$@" >"$T/cmd.out" 2>&1 || {
		cat "$T/cmd.out" >&2
		fail "$label failed"
	}
	end=$(date +%s.%N)
	local cpu rss
	cpu=$(awk -F': ' '/User time/ {u = $2} /System time/ {s = $2} END {printf "%.2f", u + s}' "$T/time.out")
	rss=$(awk -F': ' '/Maximum resident/ {printf "%d", $2 / 1024}' "$T/time.out")
	local wall
	wall=$(echo "$end - $start" | bc)
	printf '%s %.2f %s %s\n' "$label" "$wall" "$cpu" "$rss" | tee -a "$T/runs"
}

# check_copied TOOL [strict]: how many messages arrived (peers may skip some: noted, not fatal)
check_copied() {
	local got
	got=$(for f in INBOX Sent Archive Work; do count_messages "$DST" bob "$f"; done | awk '{s += $1} END {printf "%d\n", s}')
	[ "$got" = "$TOTAL_MSGS" ] && return 0
	[ "${2:-}" = strict ] && fail "$1: destination holds $got of $TOTAL_MSGS messages"
	echo "note: $1 copied $got of $TOTAL_MSGS messages" | tee -a "$T/notes"
}

# run_mailstage CONNS [BINARY LABEL-PREFIX]
run_mailstage() {
	local conns=$1 bin=${2:-$MAILSTAGE} prefix=${3:-mailstage}
	fresh_dst
	timed "$prefix-c$conns" "$bin" copy --tls none --progress none --no-state \
		--connections "$conns" --source-password-file "$SRC_PW" --dest-password-file "$DST_PW" \
		"imap://alice@127.0.0.1:$SRC_PORT/" "imap://bob@127.0.0.1:$DST_PORT/"
	check_copied "mailstage" strict
	dovecot_stop "$DST"
}

run_mbsync() {
	fresh_dst
	mkdir -p "$T/mbsync-$run_no"
	cat >"$T/mbsync-$run_no/rc" <<EOF
IMAPAccount src
Host 127.0.0.1
Port $SRC_PORT
User alice
PassCmd "cat $SRC_PW"
SSLType None
AuthMechs LOGIN PLAIN

IMAPAccount dst
Host 127.0.0.1
Port $DST_PORT
User bob
PassCmd "cat $DST_PW"
SSLType None
AuthMechs LOGIN PLAIN

IMAPStore src
Account src

IMAPStore dst
Account dst

Channel c
Far :src:
Near :dst:
Patterns *
Create Near
Sync Pull
CopyArrivalDate yes
SyncState $T/mbsync-$run_no/
EOF
	timed "mbsync" mbsync -q -c "$T/mbsync-$run_no/rc" c
	check_copied "mbsync"
	dovecot_stop "$DST"
}

run_dsync() {
	fresh_dst
	local conf=$T/$DST/imapc.conf
	cat >"$conf" <<EOF
!include $T/$DST/dovecot.conf
imapc_host = 127.0.0.1
imapc_port = $SRC_PORT
imapc_user = alice
imapc_password = $(cat "$SRC_PW")
imapc_features = rfc822.size fetch-headers
mail_prefetch_count = 20
EOF
	chmod 0600 "$conf"
	timed "doveadm-backup" doveadm -c "$conf" backup -R -u bob imapc:
	check_copied "doveadm backup"
	dovecot_stop "$DST"
}

: >"$T/runs"
LABELS="mailstage-c1 mailstage-c2 mailstage-c3"
[ -n "${MAILSTAGE_OLD:-}" ] && LABELS="$LABELS old-c1 old-c2 old-c3"
for i in $(seq 1 "$R"); do
	for c in 1 2 3; do
		run_mailstage "$c"
		[ -n "${MAILSTAGE_OLD:-}" ] && run_mailstage "$c" "$MAILSTAGE_OLD" old
	done
	run_mbsync
	run_dsync
done

# ---- 50 MiB message: mailstage's memory stays bounded
big_message "$T/m50.eml" 50 fifty
seed_message src alice Big "$T/m50.eml" '\Seen' '' >/dev/null
fresh_dst
timed "mailstage-50MiB" "$MAILSTAGE" copy --tls none --progress none --no-state --max-size 0 \
	--include Big --source-password-file "$SRC_PW" --dest-password-file "$DST_PW" \
	"imap://alice@127.0.0.1:$SRC_PORT/" "imap://bob@127.0.0.1:$DST_PORT/"
[ "$(count_messages "$DST" bob Big)" = 1 ] || fail "the 50 MiB message was not copied"

echo
echo "medians of $R runs ($TOTAL_MSGS messages, $((TOTAL_BYTES / 1000000)) MB):"
printf '%-16s %8s %8s %8s %8s %8s\n' tool wall_s msg/s MB/s cpu_s rss_MB
for label in $LABELS mbsync doveadm-backup; do
	grep "^$label " "$T/runs" | sort -k2 -n | awk -v n="$TOTAL_MSGS" -v b="$TOTAL_BYTES" -v l="$label" '
		{ w[NR] = $2; c[NR] = $3; r[NR] = $4 }
		END { m = int((NR + 1) / 2); printf "%-16s %8.2f %8.0f %8.1f %8.2f %8d\n", l, w[m], n / w[m], b / 1e6 / w[m], c[m], r[m] }'
done | tee "$T/medians"
cat "$T/notes" 2>/dev/null | sort | uniq -c
grep '^mailstage-50MiB ' "$T/runs" | awk '{ printf "mailstage, one 50 MiB message: peak RSS %d MB, CPU %.2f s\n", $4, $3 }'
awk '{ v[$1] = $3 } END {
	for (l in v) {
		if (l == "mbsync" || l == "doveadm-backup")
			continue
		printf "ratios (msg/s): %s / mbsync = %.2f, / doveadm = %.2f", l, v[l] / v["mbsync"], v[l] / v["doveadm-backup"]
		o = l; sub(/^mailstage-/, "old-", o)
		if (o != l && (o in v))
			printf ", / %s = %.2f", o, v[l] / v[o]
		printf "\n"
	} }' "$T/medians" | sort
harness_done
