#!/usr/bin/env bash
# bench/wan.sh - mailstage copy against mbsync (Debian isync) and OfflineIMAP
# (Debian offlineimap3) across a modelled wide-area link, into servers that
# announce what Exchange Online, Gmail or an older server announces.
#
#   sudo bench/wan.sh [ROW...]      (root: the harness runs Dovecot as vmail)
#
# The source is a private Dovecot 2.3 (tests/lib/harness.sh) on loopback
# holding a generated mailbox: WAN_MSGS messages (default 1,000, ~47 MB;
# every tenth carries a ~390 KB attachment; the corpus's well-formed
# messages only) in 13 folders, hierarchy
# separator '/'.  For each row and tool, a fresh destination Dovecot started
# with `dovecot_start --profile PROFILE` sits behind tests/tools/relay
# --delay-ms RTT/2 --rate WAN_RATE (each direction), and the tool copies
# the whole mailbox into it, configured as a user would (one line each):
#   mailstage    `mailstage copy SOURCE DEST`, default options (two
#                connections; --tls none, --progress none, a private --state)
#   mbsync       one channel, Patterns *, Create Near, Sync Pull,
#                CopyArrivalDate yes, SSLType None; nothing else
#   offlineimap  one account, two IMAP repositories (the source readonly),
#                ssl and starttls off; nothing else (maxconnections 1)
# No tool uses TLS: none pays for handshakes or encryption.
#
# A ROW is PROFILE:RTT[:SOURCE-RTT], round-trip times in ms (even numbers):
# PROFILE exchange, gmail or plain (see dovecot_profile_caps in
# tests/lib/harness.sh); SOURCE-RTT puts the source behind its own relay as
# well ("both remote").  Default rows, in ONE run:
#   exchange:40 gmail:40 plain:40          the three kinds at 40 ms
#   exchange:0 exchange:10 exchange:100    the RTT sweep (with exchange:40)
#   exchange:40:40                         both remote, the source 20 ms each way
# Knobs (environment):
#   WAN_TOOLS="mailstage mbsync offlineimap"  the tools, in this order; add
#                    "old" to run $MAILSTAGE_OLD (an older mailstage build)
#                    with the same options, beside the current one
#   WAN_RATE=25M     bytes/s each way on each link: 25M is 200 Mbit/s
#                    (K, M, G: 10^3, 10^6, 10^9)
#   WAN_MSGS=1000    messages in the generated mailbox
#   WAN_MS_ARGS=""   more options for mailstage (and old), e.g. "--connections 4"
#   WAN_RUN_TIMEOUT=1800  seconds before one copy is given up
#   WAN_OUT=FILE     also append the table to FILE
# One line while working on the engine:
#   WAN_TOOLS=mailstage sudo bench/wan.sh exchange:40
#
# Before the rows, `mailstage check` against each profile's server must
# show exactly the profile's capabilities.  Then one line per row and tool:
#   profile rtt src_rtt tool secs msg/s bound_s link% cpu_s rss_MB relay_cpu check
#   secs     wall time of the copy
#   bound_s  the link's bound: B / RATE + 4 x (RTT + SOURCE-RTT), B the
#            mailbox's message bytes: every byte through the link once at
#            the rate, plus 4 round trips that cannot overlap it (TCP
#            handshake and greeting 2, login 1, the last APPEND's answer 1).
#            Protocol bytes are left out, so a tool stays just under it.
#   link%    bound_s / secs: the share of the link the tool used
#   cpu_s, rss_MB  the tool's user + system CPU and peak RSS (/usr/bin/time -v)
#   relay_cpu  the relays' own CPU seconds (the instrument's cost)
#   check    "ok": every message is in its folder, byte for byte, once
#            (each one's SHA-256 by Message-ID, bench/wan_digest.py, read
#            directly, not through the relay); ",stripped=N": after
#            removing the N tracking header lines a peer inserted (mbsync's
#            X-TUID, OfflineIMAP's X-OfflineIMAP); else what is wrong:
#            missing=N, altered=N (copied, other bytes), extra=N, exit=N,
#            timeout.  A tool that fails silently cannot look fast.
# After each row: mailstage/PEER = PEER secs / mailstage secs (how many
# times faster mailstage was).  At the end the source must be unchanged.
#
# What the model leaves out: loss, TCP slow start (the relay terminates TCP
# on both sides), and the servers' own time: Dovecot stores a message in
# well under a millisecond, Exchange and Gmail take much longer per APPEND.
# Dovecot also takes LITERAL+ and MULTIAPPEND when a profile does not
# announce them, and sends APPENDUID without UIDPLUS (tests/lib/harness.sh):
# a row measures a client that follows the announced capabilities.  The
# numbers depend on the machine's load (Dovecot, the tools and the relays
# share its cores): compare runs made on one machine at one time; use
# MAILSTAGE_OLD for a before/after in the same run.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../tests/lib/harness.sh"
harness_init
harness_need_mailstage
harness_need_root
harness_timeout "${WAN_TIMEOUT:-21600}"
command -v mbsync >/dev/null || skip "mbsync (isync) not installed: scripts/setup.sh"
command -v offlineimap >/dev/null || skip "offlineimap (offlineimap3) not installed: scripts/setup.sh"
[ -x /usr/bin/time ] || skip "/usr/bin/time (package time) not installed"

# for WAN_OUT: when, and which commit the relays and mailstage were built from
STARTED=$(date -u +%Y-%m-%dT%H:%MZ)
REV=$(git -C "$REPO_TOP" describe --always --dirty 2>/dev/null)
TOOLS=${WAN_TOOLS:-mailstage mbsync offlineimap}
MSGS=${WAN_MSGS:-1000}
RUN_TIMEOUT=${WAN_RUN_TIMEOUT:-1800}
ROWS=("$@")
[ ${#ROWS[@]} -gt 0 ] || ROWS=(exchange:40 gmail:40 plain:40 exchange:0 exchange:10
	exchange:100 exchange:40:40)
RATE=${WAN_RATE:-25M}
RATE_BPS=$(awk -v r="$RATE" 'BEGIN {
	m = 1; s = substr(r, length(r))
	if (s == "K" || s == "k") m = 1e3; else if (s == "M") m = 1e6; else if (s == "G") m = 1e9
	if (m > 1) r = substr(r, 1, length(r) - 1)
	if (r !~ /^[0-9]+$/ || r == 0) exit 1
	printf "%d\n", r * m }') || fail "WAN_RATE: bytes/s with K, M or G, not '$RATE'"
case " $TOOLS " in
*" old "*) [ -x "${MAILSTAGE_OLD:-}" ] || fail "WAN_TOOLS has old: set MAILSTAGE_OLD to a mailstage binary" ;;
esac
for t in $TOOLS; do
	case $t in mailstage | old | mbsync | offlineimap) ;; *) fail "WAN_TOOLS: no tool '$t'" ;; esac
done
for row in "${ROWS[@]}"; do
	[[ "$row" =~ ^[a-z]+:[0-9]*[02468](:[0-9]*[02468])?$ ]] ||
		fail "row '$row': PROFILE:RTT[:SOURCE-RTT], even RTTs in ms"
	dovecot_profile_caps "${row%%:*}" >/dev/null || fail "row '$row': no profile ${row%%:*}"
done

# ---- the source: Maildir files written straight into a local Dovecot
dovecot_start src
SRC_PW=$(pass_file src alice)
FOLDERS="INBOX Sent Drafts Trash Junk Archive Archive/2022 Archive/2023 Work
Work/Projects Work/Clients Lists Lists/dev"

gen_mailbox() {
	"$HARNESS_PYTHON" - "$MAILSTAGE_CORPUS" "$SRC_MAILDIR/alice/Maildir" "$MSGS" $FOLDERS <<'PY'
import email, os, random, re, sys
corpus, md, n, folders = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
# shares of the 13 folders, in their order: an ordinary mailbox's shape
share = [30, 12, 1, 3, 2, 8, 10, 10, 6, 6, 4, 3, 5]
files = sorted(os.path.join(d, f) for d, _, fs in os.walk(corpus) for f in fs if f.endswith(".eml"))
# CRLF on disk, as Dovecot serves it, and no lone CR (an APPEND drops one at
# the end): what the source serves is what a destination can store
bodies = [re.sub(rb"\r\n|\r|\n", b"\r\n", open(f, "rb").read()) for f in files]
# only well-formed messages (a header, a blank line, a body; nothing a MIME
# parser calls a defect): the corpus's malformed ones are for the tests,
# here a peer that skips or repairs them would fail the check for it
bodies = [b for b in bodies if b"\r\n\r\n" in b and not b.startswith(b"From ") and
          not any(p.defects for p in email.message_from_bytes(b).walk())]
rnd = random.Random(16)
dirs = [md if f == "INBOX" else os.path.join(md, f) for f in folders]
for d in dirs:
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(d, sub), exist_ok=True)
flags = ["S", "RS", "FS", "", "S", "DS"]
for i in range(n):
    d = rnd.choices(dirs, weights=share)[0]
    body = bodies[i % len(bodies)]
    if i % 10 == 0:  # a ~390 KB attachment: ~47 KB a message on average
        pad = rnd.randbytes(190000).hex().encode()
        body += b"\r\n--pad\r\n" + b"\r\n".join(pad[k:k + 76] for k in range(0, len(pad), 76)) + b"\r\n"
    path = os.path.join(d, "cur", "%d.M%dP1.wan:2,%s" % (1500000000 + i, i, flags[i % len(flags)]))
    with open(path, "wb") as f:
        f.write(b"Message-ID: <wan-%d@example.org>\r\n" % i + body)
    t = 1500000000 + i * 3000
    os.utime(path, (t, t))
PY
	chown -R vmail:vmail "$SRC_MAILDIR/alice"
}

# digest NAME USER: bench/wan_digest.py's lines for that mailbox (direct, no relay)
digest() {
	"$HARNESS_PYTHON" "$HERE/wan_digest.py" --port "$(_harness_var "$1" PORT)" \
		--user "$2" --password-file "$(pass_file "$1" "$2")"
}

gen_mailbox || fail "generating the mailbox"
digest src alice >"$T/src.digest" || fail "reading the source"
read -r TOTAL_MSGS TOTAL_BYTES NFOLDERS < <(awk -F'\t' '$1 != "stripped" {
	n++; b += $3; f[$1] = 1 } END { printf "%d %d %d\n", n, b, length(f) }' "$T/src.digest")
[ "$TOTAL_MSGS" = "$MSGS" ] || fail "the source holds $TOTAL_MSGS messages, not $MSGS"
[ "$(cut -f2 "$T/src.digest" | sort | uniq -d)" = "" ] || fail "two source messages share a Message-ID"
echo "# source: $TOTAL_MSGS messages, $((TOTAL_BYTES / 1000000)) MB in $NFOLDERS folders;" \
	"link $RATE bytes/s each way"

# ---- each profile as mailstage check sees it
for profile in $(printf '%s\n' "${ROWS[@]}" | cut -d: -f1 | sort -u); do
	dovecot_start "chk$profile" --profile "$profile"
	got=$("$MAILSTAGE" check --tls none --password-file "$(pass_file "chk$profile" bob)" \
		"imap://bob@127.0.0.1:$(_harness_var "chk$profile" PORT)/" | sed -n 's/^Capabilities: *//p')
	want=$(dovecot_profile_caps "$profile")
	[ "$(tr ' ' '\n' <<<"$got" | sort)" = "$(tr ' ' '\n' <<<"$want" | sort)" ] ||
		fail "profile $profile: mailstage check shows '$got', want '$want'"
	echo "# profile $profile: mailstage check: $got"
	dovecot_stop "chk$profile"
done

# ---- the tools: each writes its configuration into RUN and sets CMD
RUN_NO=0

cmd_mailstage() { # BINARY RUN SRC-PORT DST-PORT DST-PW
	# shellcheck disable=SC2206
	CMD=("$1" copy --tls none --progress none --state "$2/state.sqlite"
		--source-password-file "$SRC_PW" --dest-password-file "$5" ${WAN_MS_ARGS:-}
		"imap://alice@127.0.0.1:$3/" "imap://bob@127.0.0.1:$4/")
}

cmd_mbsync() { # RUN SRC-PORT DST-PORT DST-PW
	cat >"$1/mbsyncrc" <<EOF
IMAPAccount old
Host 127.0.0.1
Port $2
User alice
PassCmd "cat $SRC_PW"
SSLType None

IMAPStore old
Account old

IMAPAccount new
Host 127.0.0.1
Port $3
User bob
PassCmd "cat $4"
SSLType None

IMAPStore new
Account new

Channel migrate
Far :old:
Near :new:
Patterns *
Create Near
Sync Pull
CopyArrivalDate yes
SyncState $1/mbsync-state/
EOF
	mkdir -p "$1/mbsync-state"
	CMD=(mbsync -q -c "$1/mbsyncrc" migrate)
}

cmd_offlineimap() { # RUN SRC-PORT DST-PORT DST-PW
	cat >"$1/offlineimaprc" <<EOF
[general]
accounts = migrate
metadata = $1/offlineimap

[Account migrate]
localrepository = new
remoterepository = old

[Repository old]
type = IMAP
remotehost = 127.0.0.1
remoteport = $2
remoteuser = alice
remotepassfile = $SRC_PW
ssl = no
starttls = no
readonly = True

[Repository new]
type = IMAP
remotehost = 127.0.0.1
remoteport = $3
remoteuser = bob
remotepassfile = $4
ssl = no
starttls = no
EOF
	CMD=(offlineimap -c "$1/offlineimaprc" -o -u quiet)
}

# timed RUN: run CMD (at most RUN_TIMEOUT s) under /usr/bin/time -v: SECS,
# CPU (user + system s), RSS (MB), RC; its output in RUN/out.
timed() {
	local t0 t1
	t0=$(date +%s.%N)
	/usr/bin/time -v -o "$1/time" timeout "$RUN_TIMEOUT" "${CMD[@]}" >"$1/out" 2>&1
	RC=$?
	t1=$(date +%s.%N)
	SECS=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
	CPU=$(awk -F': ' '/User time/ { u = $2 } /System time/ { s = $2 } END { printf "%.2f", u + s }' "$1/time")
	RSS=$(awk -F': ' '/Maximum resident/ { printf "%d", $2 / 1024 }' "$1/time")
}

# verdict RUN: the check column, RUN/digest against the source's: "ok"
# (",stripped=N": tracking header lines a peer added, removed before
# comparing); else missing=N (not in its folder), altered=N (there, other
# bytes), extra=N (copied twice or not from the source); then the exit
# status when not 0.
verdict() {
	local v
	v=$(awk -F'\t' '
		$1 == "stripped" { if (FILENAME != src) stripped = $2; next }
		FILENAME == src { want[$1 FS $2] = $4; next }
		{ if (($1 FS $2) in got || !(($1 FS $2) in want)) extra++; got[$1 FS $2] = $4 }
		END {
			for (k in want)
				if (!(k in got)) missing++
				else if (got[k] != want[k]) altered++
			v = missing ? "missing=" missing : ""
			if (altered) v = v (v ? "," : "") "altered=" altered
			if (extra) v = v (v ? "," : "") "extra=" extra
			if (v == "") v = "ok"
			if (stripped) v = v ",stripped=" stripped
			print v
		}' src="$T/src.digest" "$T/src.digest" "$1/digest")
	[ "$RC" = 124 ] && v+=",timeout"
	[ "$RC" != 0 ] && [ "$RC" != 124 ] && v+=",exit=$RC"
	printf '%s\n' "$v"
}

# relay_cpu: user + system seconds from RELAY_STATS (0 without).
relay_cpu() {
	awk '{ for (i = 1; i < NF; i++) if ($i == "cpu") c = $(i + 1) + $(i + 4) }
		END { printf "%.2f\n", c }' <<<"${RELAY_STATS:-}"
}

# run_copy TOOL PROFILE RTT SOURCE-RTT: one copy into a fresh destination;
# its line goes to stdout and to $T/rows.
run_copy() {
	local tool=$1 profile=$2 rtt=$3 srtt=$4 run dst sport dport dpw rcpu check
	RUN_NO=$((RUN_NO + 1))
	dst=d$RUN_NO run=$T/run-$RUN_NO
	mkdir -p "$run"
	dovecot_start "$dst" --profile "$profile"
	dpw=$(pass_file "$dst" bob)
	harness_relay "$dst" "$(_harness_var "$dst" PORT)" --delay-ms $((rtt / 2)) --rate "$RATE"
	dport=$RELAY_PORT sport=$SRC_PORT
	if [ -n "$srtt" ]; then
		harness_relay src "$SRC_PORT" --delay-ms $((srtt / 2)) --rate "$RATE"
		sport=$RELAY_PORT
	fi
	case $tool in
	mailstage) cmd_mailstage "$MAILSTAGE" "$run" "$sport" "$dport" "$dpw" ;;
	old) cmd_mailstage "$MAILSTAGE_OLD" "$run" "$sport" "$dport" "$dpw" ;;
	*) "cmd_$tool" "$run" "$sport" "$dport" "$dpw" ;;
	esac
	timed "$run"
	harness_relay_stop "$dst"
	rcpu=$(relay_cpu)
	if [ -n "$srtt" ]; then
		harness_relay_stop src
		rcpu=$(awk -v a="$rcpu" -v b="$(relay_cpu)" 'BEGIN { printf "%.2f", a + b }')
	fi
	digest "$dst" bob >"$run/digest" 2>"$run/digest.err" || : >"$run/digest"
	check=$(verdict "$run")
	dovecot_stop "$dst"
	[ "${KEEP_TMP:-0}" = 1 ] || rm -rf "$(_harness_var "$dst" MAILDIR)" # kept: to look into a bad check
	awk -v p="$profile" -v r="$rtt" -v s="${srtt:--}" -v t="$tool" -v w="$SECS" \
		-v n="$TOTAL_MSGS" -v b="$TOTAL_BYTES" -v rate="$RATE_BPS" -v c="$CPU" -v m="$RSS" \
		-v rc="$rcpu" -v k="$check" 'BEGIN {
		bound = b / rate + 4 * (r + (s == "-" ? 0 : s)) / 1000
		printf "%-8s %4s %4s %-11s %8.2f %6.1f %7.2f %5.1f%% %6.2f %6d %6.2f  %s\n",
			p, r, s, t, w, n / w, bound, 100 * bound / w, c, m, rc, k }' | tee -a "$T/rows"
	case $check in ok*) ;; *) tail -n 5 "$run/out" | sed 's/^/#   /' ;; esac
}

# ratios ROW-LINES: mailstage/PEER for one row.
ratios() {
	awk '{ secs[$4] = $5 } END {
		if (!("mailstage" in secs)) exit
		line = ""
		for (t in secs)
			if (t != "mailstage")
				line = line sprintf("  mailstage/%s %.2f", t, secs[t] / secs["mailstage"])
		if (line != "") print "#" line }'
}

HEAD=$(printf '%-8s %4s %4s %-11s %8s %6s %7s %6s %6s %6s %6s  %s' \
	profile rtt src tool secs msg/s bound_s link% cpu_s rss_MB relay check)
echo "$HEAD"
: >"$T/rows"
for row in "${ROWS[@]}"; do
	IFS=: read -r profile rtt srtt <<<"$row"
	lines=$(wc -l <"$T/rows")
	for tool in $TOOLS; do
		run_copy "$tool" "$profile" "$rtt" "$srtt"
	done
	tail -n +$((lines + 1)) "$T/rows" | ratios
done

digest src alice >"$T/src-after.digest" || fail "reading the source again"
cmp -s "$T/src.digest" "$T/src-after.digest" || fail "the source changed during the runs"
echo "# the source is unchanged"
if [ -n "${WAN_OUT:-}" ]; then
	{
		echo "# bench/wan.sh $STARTED $REV," \
			"$TOTAL_MSGS messages, $TOTAL_BYTES bytes, link $RATE bytes/s each way"
		echo "$HEAD"
		cat "$T/rows"
	} >>"$WAN_OUT"
fi
if awk '$4 == "mailstage" && $NF !~ /^ok/' "$T/rows" | grep -q .; then
	fail "a mailstage copy was incomplete (see check)"
fi
harness_done
