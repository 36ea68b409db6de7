#!/usr/bin/env bash
# bench/imap.sh - benchmarks of the IMAP layer (not a test): the same data,
# the peers side by side in one run, ratios reported.
#
#   1. metadata of a 100,000-message folder: one UID FETCH 1:* of UID FLAGS
#      INTERNALDATE RFC822.SIZE + Message-ID (ours), cold and warm
#   2. fetch of the corpus (420 messages, 9.6 MB) from IMAP: ours (one
#      batched UID FETCH BODY.PEEK[]) vs mbsync pulling into a Maildir vs
#      doveadm backup over imapc
#   3. APPEND of the corpus: ours pipelined / MULTIAPPEND / one at a time vs
#      mbsync pushing a Maildir
#
# Usage: bench/imap.sh [RUNS]   (median of RUNS, default 3)
# Needs a build in build/ (or MESON_BUILD_ROOT) and scripts/setup.sh done.
set -u
RUNS=${1:-3}
. "$(dirname "$0")/../tests/lib/harness.sh"
harness_init
BUILD=${MESON_BUILD_ROOT:-$REPO_TOP/build}
PROBE=$BUILD/tests/tools/imapprobe
[ -x "$PROBE" ] || { echo "build first: $PROBE missing" >&2; exit 2; }

dovecot_start src
dovecot_start dst
seed_corpus src alice INBOX
SRCURL="imap://alice@127.0.0.1:$SRC_PORT/"
SRCPW=$(pass_file src alice)

# seconds of wall time and peak RSS of a command: "secs kib"
measure() {
	/usr/bin/time -f '%e %M %U %S' -o "$T/time" "$@" >/dev/null 2>"$T/err" || {
		echo "FAILED: $*" >&2
		cat "$T/err" >&2
		return 1
	}
	cat "$T/time"
}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# ---- 1. metadata of 100,000 messages
big=$SRC_MAILDIR/alice/Maildir/Big
mkdir -p "$big/cur" "$big/new" "$big/tmp"
"$HARNESS_PYTHON" - "$big/cur" <<'PY'
import os, sys
d = sys.argv[1]
for i in range(100000):
    name = "%d.M%dP1.bench:2,%s" % (1600000000 + i, i, "S" if i % 3 else "")
    with open(os.path.join(d, name), "w") as f:
        f.write("From: a@example.org\nMessage-ID: <%d@bench>\nSubject: m%d\n\nbody %d\n" % (i, i, i))
PY
chown -R vmail:vmail "$SRC_MAILDIR/alice"
cold=$(measure "$PROBE" --tls none "$SRCURL" "$SRCPW" meta Big)
warm=$(for i in $(seq "$RUNS"); do measure "$PROBE" --tls none "$SRCURL" "$SRCPW" meta Big; done | median)
count=$("$PROBE" --tls none "$SRCURL" "$SRCPW" meta Big)
echo "metadata of $count messages: cold $(echo "$cold" | cut -d' ' -f1) s (includes Dovecot indexing), warm ${warm} s, client peak RSS $(echo "$cold" | cut -d' ' -f2) KiB"

# ---- 2. fetch of the corpus
bytes=$(imap_dump src alice INBOX | awk -F'\t' '{s+=$4} END {print s}')
n=$(imap_dump src alice INBOX | wc -l)
ours=$(for i in $(seq "$RUNS"); do measure "$PROBE" --tls none "$SRCURL" "$SRCPW" dump INBOX | cut -d' ' -f1; done | median)

mbsync_cfg() { # mbsync_cfg DIR PORT USER PASSFILE SYNC
	cat <<CFG
IMAPAccount acc
Host 127.0.0.1
Port $2
User $3
PassCmd "cat $4"
SSLType None
AuthMechs LOGIN

IMAPStore remote
Account acc

MaildirStore local
Path $1/
Inbox $1/INBOX

Channel ch
Far :remote:
Near :local:
Patterns INBOX
Create Both
Sync $5
CopyArrivalDate yes
SyncState *
CFG
}
mb=$(for i in $(seq "$RUNS"); do
	rm -rf "$T/mb" && mkdir -p "$T/mb"
	mbsync_cfg "$T/mb" "$SRC_PORT" alice "$SRCPW" Pull >"$T/mbsyncrc"
	measure mbsync -c "$T/mbsyncrc" -a | cut -d' ' -f1
done | median)

cat >"$T/imapc.conf" <<CFG
!include $DST_CONF
imapc_host = 127.0.0.1
imapc_port = $SRC_PORT
imapc_user = alice
imapc_password = $(cat "$SRCPW")
imapc_features = rfc822.size fetch-headers
CFG
chmod 600 "$T/imapc.conf"
dsync=$(for i in $(seq "$RUNS"); do
	rm -rf "$DST_MAILDIR/carol"
	measure doveadm -c "$T/imapc.conf" -o mail_fsync=never backup -R -u carol imapc: | cut -d' ' -f1
done | median)
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", b / a}'; }
echo "fetch of $n messages ($bytes bytes): mailstage ${ours} s ($(awk -v n="$n" -v s="$ours" 'BEGIN {printf "%.0f", n/s}') msg/s), mbsync ${mb} s, doveadm backup ${dsync} s; mbsync/mailstage = $(ratio "$ours" "$mb"), dsync/mailstage = $(ratio "$ours" "$dsync")"

# ---- 3. APPEND of the corpus
append_run() { # MODE FOLDER
	PROBE_DST_TLS=none measure "$PROBE" --tls none "$SRCURL" "$SRCPW" copy INBOX \
		"imap://bob@127.0.0.1:$DST_PORT/" "$(pass_file dst bob)" "$2" "$1" | cut -d' ' -f1
}
fetch_only=$ours
for mode in pipeline multi single; do
	t=$(for i in $(seq "$RUNS"); do append_run "$mode" "B-$mode-$i"; done | median)
	eval "app_$mode=$t"
done
mbp=$(for i in $(seq "$RUNS"); do
	rm -rf "$T/mbp" && cp -r "$T/mb" "$T/mbp" && find "$T/mbp" -name '.mbsyncstate*' -delete -o -name '.uidvalidity' -delete
	mbsync_cfg "$T/mbp" "$DST_PORT" dave "$(pass_file dst dave)" Push >"$T/mbsyncrc"
	sed -i "s/^Patterns INBOX/Patterns INBOX/" "$T/mbsyncrc"
	"$HARNESS_PYTHON" "$IMAPTOOL" --port "$DST_PORT" --user dave --password-file "$(pass_file dst dave)" expunge-all INBOX >/dev/null 2>&1
	measure mbsync -c "$T/mbsyncrc" -a | cut -d' ' -f1
done | median)
echo "fetch+APPEND of $n messages: pipelined ${app_pipeline} s, MULTIAPPEND ${app_multi} s, one at a time ${app_single} s (each includes the ${fetch_only} s fetch); mbsync push from a Maildir ${mbp} s; mbsync/pipelined = $(ratio "$app_pipeline" "$mbp"), mbsync/MULTIAPPEND = $(ratio "$app_multi" "$mbp")"
