#!/usr/bin/env bash
# t-backup.sh - mailstage backup / restore / backup --verify against real
# Dovecot servers: the corpus INBOX in every format, read back with bsdtar
# (listing, extraction byte-exact with the server's FETCH, manifest hashes);
# restore into an empty account (bytes, flags, keywords, dates equal; a
# second restore copies nothing; copy ARCHIVE DEST works too); --verify on a
# good archive and on one with a flipped message byte; truncated, bomb-like,
# '../' and absolute-path archives refused with nothing written outside; a
# 50 MiB message through backup and restore with bounded peak RSS.
# Everything a test checks on a server comes from the independent client.
set -u
. "$(dirname "$0")/lib/harness.sh"
. "$(dirname "$0")/lib/copy_helpers.sh"
harness_init
harness_need_mailstage
harness_timeout 900

dovecot_start src --sep /
dovecot_start dst --sep /
SRC_PW=$(pass_file src alice)
DST_PW=$(pass_file dst bob)
SRC_URL=imap://alice@127.0.0.1:$SRC_PORT/
PY=$HARNESS_PYTHON

seed_corpus src alice INBOX
imap_tool src alice create Junk >/dev/null
seed_corpus src alice Junk 'spamassassin/spam*.eml'
src_dump=$(imap_dump src alice INBOX)
n_src=$(grep -c . <<<"$src_dump")

# assert_rc GOT WANT MSG: an exit status already collected.
assert_rc() {
	if [ "$1" = "$2" ]; then pass "$3"; else fail "$3 (exit status $1, want $2)"; fi
}

ms_backup() {
	"$MAILSTAGE" backup --tls none --progress none --password-file "$SRC_PW" \
		--max-size 0 "$@"
}
ms_restore() {
	"$MAILSTAGE" restore --tls none --progress none --dest-password-file "$DST_PW" "$@"
}

# manifest_check ARCHIVE DIR: DIR (extracted) against the manifest and the
# source's dump: every path, size and SHA-256; prints "uid TAB sha" sorted.
manifest_check() {
	"$PY" - "$1" "$2" <<'PY'
import hashlib, json, os, subprocess, sys
arch, root = sys.argv[1:3]
man = json.loads(subprocess.run(["bsdtar", "-xOf", arch, "mailstage-manifest.json"],
                                check=True, capture_output=True).stdout)
assert man["mailstage_backup"] == 1 and man["count"] == len(man["messages"])
for m in man["messages"]:
    data = open(os.path.join(root, m["path"]), "rb").read()
    assert len(data) == m["size"], m["path"]
    assert hashlib.sha256(data).hexdigest() == m["sha256"], m["path"]
    st = os.stat(os.path.join(root, m["path"]))
    print("%d\t%s\t%d" % (m["uid"], m["sha256"], int(st.st_mtime)))
PY
}

# ---- backup in every format; bsdtar lists and extracts it
want=$(cut -f1,3,5 <<<"$src_dump" | awk -F'\t' '{print $1"\t"$3"\t"$2}' | sort)
for fmt in tar.zst tar.xz tar.gz zip; do
	a=$T/inbox.$fmt
	ms_backup "$SRC_URL" "$a" >"$T/out-$fmt" 2>"$T/err-$fmt"
	assert_rc $? 0 "backup $fmt exits 0"
	[ -z "$(find "$T" -maxdepth 1 -name ".inbox.$fmt.part-*")" ] || fail "$fmt: temporary file left"
	list=$(bsdtar -tf "$a") || fail "bsdtar -tf $fmt"
	assert_eq "$(grep -c '^INBOX/cur/.' <<<"$list")" "$n_src" "bsdtar -tf $fmt lists $n_src messages"
	assert_eq "$(tail -1 <<<"$list")" mailstage-manifest.json "$fmt: the manifest is the last entry"
	grep -q '^Junk' <<<"$list" && fail "$fmt: Junk backed up without --all"
	# private mail stays private when unpacked: files 0600, directories 0700
	modes=$(bsdtar -tvf "$a" | awk '{ print $1 }' | sort | uniq -c | awk '{ print $2 "=" $1 }')
	assert_eq "$(tr '\n' ' ' <<<"$modes")" "-rw-------=$((n_src + 1)) drwx------=4 " \
		"bsdtar -tvf $fmt: every file -rw------- (messages and manifest), every directory drwx------"
	mkdir -p "$T/x-$fmt"
	bsdtar -xf "$a" -C "$T/x-$fmt" || fail "bsdtar -xf $fmt"
	assert_eq "$(find "$T/x-$fmt" -mindepth 1 -perm /077 | head -3)" "" \
		"$fmt: nothing unpacked is readable by group or others"
	got=$(manifest_check "$a" "$T/x-$fmt" | sort) || fail "$fmt: manifest check"
	assert_eq "$got" "$want" "$fmt: extracted files byte-exact with FETCH (sha256), mtimes = INTERNALDATE"
done
[ -d "$T/x-tar.zst/INBOX/new" ] && [ -d "$T/x-tar.zst/INBOX/tmp" ] || fail "no new/ tmp/"
pass "the extraction is a Maildir (cur/ new/ tmp/)"
a=$T/inbox.tar.zst
names_ok=$(cd "$T/x-tar.zst/INBOX/cur" && ls | grep -cE '^[0-9]+\.U[0-9]+V[0-9]+\.mailstage:2,[DFRST]*$')
assert_eq "$names_ok" "$n_src" "message files named as the mount names them"
gflags=$(getfattr --absolute-names -n user.imap.flags --only-values \
	"$(ls -d "$T"/x-tar.zst/INBOX/cur/* | head -1)" 2>/dev/null) || true
printf '%s' "$gflags" | grep -q '\\' && pass "bsdtar restores the user.imap.* xattrs" ||
	harness_log "xattrs not restored by bsdtar here (not checked)"

# the archive exists already: refused, the old one untouched
sum=$(sha256sum <"$a")
ms_backup "$SRC_URL" "$a" >/dev/null 2>"$T/err-exists"
assert_rc $? 2 "backup over an existing archive: usage error"
assert_eq "$(sha256sum <"$a")" "$sum" "the existing archive is untouched"

# --all takes Junk too; --format overrides the name
ms_backup --all --format tar.gz "$SRC_URL" "$T/all.bin" >/dev/null 2>&1
assert_rc $? 0 "backup --all --format tar.gz"
assert_eq "$(gzip -t "$T/all.bin" && echo gz)" gz "--format tar.gz gives gzip whatever the name"
assert_eq "$(bsdtar -tf "$T/all.bin" | grep -c '^Junk/cur/.')" \
	"$(count_messages src alice Junk)" "--all backs up Junk too"

# ---- verify
out=$("$MAILSTAGE" backup --verify "$a")
assert_rc $? 0 "--verify passes on a good archive"
assert_contains "$out" "$n_src messages checked" "--verify counts every message"

# a flipped byte in one message (the archive re-made by bsdtar, manifest last)
victim=$(cd "$T/x-tar.zst" && ls INBOX/cur | sed -n 5p)
cp -a "$T/x-tar.zst" "$T/bad"
"$PY" - "$T/bad/INBOX/cur/$victim" <<'PY'
import sys
p = sys.argv[1]; b = bytearray(open(p, "rb").read()); b[len(b) // 2] ^= 0x01
open(p, "wb").write(bytes(b))
PY
(cd "$T/bad" && bsdtar -n -cf - $(bsdtar -tf "$a") | zstd -q >"$T/flipped.tar.zst") ||
	fail "re-making the flipped archive"
out=$("$MAILSTAGE" backup --verify "$T/flipped.tar.zst" 2>&1)
assert_rc $? 1 "--verify fails on a flipped byte"
assert_contains "$out" "INBOX/cur/$victim" "--verify names the damaged message"
assert_contains "$out" "1 differ" "--verify reports exactly one difference"

# ---- restore into an empty account, twice; copy ARCHIVE DEST
DST_URL=imap://bob@127.0.0.1:$DST_PORT/
ms_restore --state "$T/state" "$a" "$DST_URL" >"$T/r1" 2>&1
assert_rc $? 0 "restore exits 0"
assert_eq "$(imap_dump dst bob INBOX | cut -f2- | LC_ALL=C sort)" \
	"$(cut -f2- <<<"$src_dump" | LC_ALL=C sort)" \
	"restored INBOX: bytes, flags, keywords, dates equal the source"
ms_restore --state "$T/state" "$a" "$DST_URL" >"$T/r2" 2>&1
assert_rc $? 0 "second restore exits 0"
assert_contains "$(cat "$T/r2")" "done: 0 copied" "second restore copies nothing"
assert_eq "$(count_messages dst bob INBOX)" "$n_src" "no duplicates after two restores"
"$MAILSTAGE" copy --tls none --progress none --dest-password-file "$DST_PW" --no-state \
	--dedupe "$a" "$DST_URL" >"$T/r3" 2>&1
assert_rc $? 0 "copy ARCHIVE DEST works (no state, dedupe)"
assert_contains "$(cat "$T/r3")" "done: 0 copied" "copy ARCHIVE DEST finds everything there"
ms_restore --state "$T/state2" "$T/all.bin" "imap://carol@127.0.0.1:$DST_PORT/" \
	--dest-password-file "$(pass_file dst carol)" >"$T/r4" 2>&1
assert_rc $? 0 "restore of a tar.gz named .bin (found by its content)"
assert_eq "$(imap_dump dst carol Junk | cut -f2- | LC_ALL=C sort)" \
	"$(imap_dump src alice Junk | cut -f2- | LC_ALL=C sort)" "restored Junk equals the source"
XX
[ "$(count_messages dst dave INBOX)" -lt "$n_src" ] || fail "damaged message restored"
pass "the damaged message is not restored"

# ---- bad archives: refused, nothing written outside
# files called evil* made after the stamp near $T (where ../ would lead)
outside_evil() {
	find /tmp "$(dirname "$T")" "$PWD" -maxdepth 3 -newer "$T/stamp" -name 'evil*' 2>/dev/null |
		grep -v "^$T/" | head -3
}
check_refused() { # ARCHIVE WHAT EXPECTED-WORDS
	local before out
	before=$(outside_evil)
	out=$(ms_restore --no-state "$1" "imap://erin@127.0.0.1:$DST_PORT/" \
		--dest-password-file "$(pass_file dst erin)" 2>&1)
	local rc=$?
	[ "$rc" -ne 0 ] || fail "$2: restore accepted it"
	assert_contains "$out" "$3" "$2: refused ($3)"
	mkdir -p "$T/dirdest"
	"$MAILSTAGE" copy --progress none --no-state "$1" "$T/dirdest/m" >/dev/null 2>&1 &&
		fail "$2: copy into a directory accepted it"
	assert_eq "$(count_messages dst erin INBOX)" 0 "$2: nothing restored"
	assert_eq "$(outside_evil)" \
		"$before" "$2: nothing written outside the destination"
	assert_eq "$(find "$T/dirdest" -name 'evil*' | head -1)" "" "$2: nothing extracted"
}
touch "$T/stamp"
head -c $(( $(stat -c %s "$a") / 2 )) "$a" >"$T/trunc.tar.zst"
check_refused "$T/trunc.tar.zst" "truncated archive" "damaged or truncated"
"$MAILSTAGE" backup --verify "$T/trunc.tar.zst" >/dev/null 2>&1
assert_rc $? 1 "--verify fails on a truncated archive"
(cd "$T/x-tar.zst" && bsdtar -cf - INBOX) | zstd -q >"$T/nomanifest.tar.zst"
check_refused "$T/nomanifest.tar.zst" "archive without a manifest" "not a mailstage backup"

# forged archives (Python's tarfile, so the paths are as written)
"$PY" - "$a" "$T" <<'PY'
import io, json, subprocess, sys, tarfile, hashlib
arch, T = sys.argv[1:3]
man = json.loads(subprocess.run(["bsdtar", "-xOf", arch, "mailstage-manifest.json"],
                                check=True, capture_output=True).stdout)
def forge(name, path, body, declared=None, link=None):
    m = dict(man); msg = dict(man["messages"][0])
    msg["path"] = path if path.startswith("INBOX/cur/") else msg["path"]
    msg["size"] = len(body) if declared is None else declared
    msg["sha256"] = hashlib.sha256(body).hexdigest()
    m["messages"] = [msg]; m["count"] = 1; m["bytes"] = msg["size"]
    with tarfile.open(T + "/" + name, "w:gz", format=tarfile.PAX_FORMAT) as t:
        ti = tarfile.TarInfo(path)
        if link:
            ti.type = tarfile.SYMTYPE; ti.linkname = link; t.addfile(ti)
        else:
            ti.size = len(body); t.addfile(ti, io.BytesIO(body))
        mb = json.dumps(m).encode()
        ti = tarfile.TarInfo("mailstage-manifest.json"); ti.size = len(mb)
        t.addfile(ti, io.BytesIO(mb))
body = b"Subject: evil\r\n\r\nx\r\n"
forge("dotdot.tar.gz", "../../evil-dotdot", body)
forge("abs.tar.gz", T + "/evil-abs", body)
forge("link.tar.gz", "INBOX/cur/evil-link", b"", link="/etc/passwd")
# bomb-like: 64 MiB of zeros compress to ~64 KiB; the manifest says 19 bytes
with open(T + "/bomb.bin", "wb") as f:
    f.write(b"\0" * (64 << 20))
big = open(T + "/bomb.bin", "rb").read()
forge("bomb.tar.gz", "INBOX/cur/1.U1V1.mailstage:2,", big, declared=19)
PY
[ $? -eq 0 ] || fail "forging archives"
rm -f "$T/bomb.bin"
check_refused "$T/dotdot.tar.gz" "'../' path" "unsafe path"
check_refused "$T/abs.tar.gz" "absolute path" "unsafe path"
check_refused "$T/link.tar.gz" "symbolic link" "is a link"
check_refused "$T/bomb.tar.gz" "bomb-like entry" "in the manifest"

# ---- a 50 MiB message, bounded memory
big_message "$T/m50.eml" 50 fifty
seed_message src alice Big "$T/m50.eml" '\Seen $Label1' '12-Feb-2023 10:11:12 +0100' >/dev/null
/usr/bin/time -v "$MAILSTAGE" backup --tls none --progress none --password-file "$SRC_PW" \
	--max-size 0 --folder Big "$SRC_URL" "$T/big.tar.zst" >/dev/null 2>"$T/time-backup"
assert_rc $? 0 "backup of a 50 MiB message"
/usr/bin/time -v "$MAILSTAGE" restore --tls none --progress none --dest-password-file "$DST_PW" \
	--max-size 0 --no-state "$T/big.tar.zst" "$DST_URL" >/dev/null 2>"$T/time-restore"
assert_rc $? 0 "restore of a 50 MiB message"
assert_eq "$(imap_dump dst bob Big | cut -f2-)" "$(imap_dump src alice Big | cut -f2-)" \
	"the 50 MiB message restored byte-exact with flags and date"
rss_b=$(awk -F': ' '/Maximum resident/ {print $2}' "$T/time-backup")
rss_r=$(awk -F': ' '/Maximum resident/ {print $2}' "$T/time-restore")
printf 'peak RSS: backup %s KiB, restore %s KiB (50 MiB message)\n' "$rss_b" "$rss_r"
lim=$(harness_rss_limit_kib 32768) # still under the 50 MiB one message would take
[ "$rss_b" -lt "$lim" ] || fail "backup peak RSS $rss_b KiB >= $lim KiB"
pass "backup peak RSS ${rss_b} KiB < $lim KiB"
[ "$rss_r" -lt "$lim" ] || fail "restore peak RSS $rss_r KiB >= $lim KiB"
pass "restore peak RSS ${rss_r} KiB < $lim KiB"

harness_done
