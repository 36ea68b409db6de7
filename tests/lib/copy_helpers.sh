# copy_helpers.sh - helpers shared by the t-copy*.sh tests (source after
# harness.sh).  Everything a test checks on a server comes from the
# independent client (imap_dump / imap_folders), never from mailstage.
# shellcheck shell=bash

# big_message FILE MIB SEED: a message of about MIB MiB (base64 of
# pseudo-random bytes from SEED, CRLF lines), with a Message-ID.
big_message() {
	"$HARNESS_PYTHON" - "$1" "$2" "$3" <<'PY'
import base64, random, sys
path, mib, seed = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rnd = random.Random(seed)
raw = bytes(rnd.getrandbits(8) for _ in range(57 * 1024)) * (mib * 1024 * 1024 * 3 // 4 // (57 * 1024) + 1)
b64 = base64.encodebytes(raw[: mib * 1024 * 1024 * 3 // 4]).replace(b"\n", b"\r\n")
head = ("From: gen@example.org\r\nTo: a@example.org\r\nSubject: big %s\r\n"
        "Message-ID: <big-%s@example.org>\r\nDate: Mon, 1 Jan 2024 10:00:00 +0000\r\n"
        "MIME-Version: 1.0\r\nContent-Type: application/octet-stream\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\n" % (seed, seed)).encode()
open(path, "wb").write(head + b64)
PY
}

# small_message FILE N: a small distinct message.
small_message() {
	printf 'From: x@example.org\r\nSubject: new %s\r\nMessage-ID: <new-%s@example.org>\r\n\r\nbody %s\r\n' \
		"$2" "$2" "$2" >"$1"
}

# folder_dump NAME USER FOLDER: flags, date, size, sha256 (no UID), sorted.
folder_dump() {
	imap_dump "$1" "$2" "$3" | cut -f2- | LC_ALL=C sort
}

# snapshot NAME USER: every folder's full dump (UIDs and flags included),
# to prove a source unchanged.
snapshot() {
	local f
	imap_folders "$1" "$2" | grep -vi 'noselect\|nonexistent' | cut -f1 | LC_ALL=C sort |
	while IFS= read -r f; do
		printf '== %s\n' "$f"
		imap_tool "$1" "$2" status "$f"
		imap_dump "$1" "$2" "$f"
	done
}

# ms_copy ARGS...: mailstage copy between $SRC_URL and $DST_URL with the test's state.
ms_copy() {
	"$MAILSTAGE" copy --tls none --progress none \
		--source-password-file "$SRC_PW" --dest-password-file "$DST_PW" "$@"
}

# count_messages NAME USER FOLDER
count_messages() {
	imap_dump "$1" "$2" "$3" | grep -c . || true
}
