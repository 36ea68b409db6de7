#!/usr/bin/env python3
"""wan_digest.py IMAPTOOL-OPTIONS: what a mailbox holds, for bench/wan.sh
to tell a complete copy from one that only looks fast, read with one login
through the harness's independent client (tests/lib/imaptool.py),
read-only (EXAMINE, BODY.PEEK[]).

Output: one line per message, sorted,
    FOLDER TAB KEY TAB SIZE TAB SHA-256
KEY is the message's first Message-ID (bench/wan.sh makes them unique),
or its SHA-256 when it has none; then "stripped" TAB N.  Size and SHA-256
are the message's bytes after removing from its header the one line a
peer inserts to find a message again (mbsync's X-TUID:, OfflineIMAP's
X-OfflineIMAP:; N counts them).  Flags and dates are not compared:
bench/wan.sh measures speed, the tests check fidelity.

IMAPTOOL-OPTIONS are imaptool.py's (--port, --user, --password-file).
"""
import hashlib
import os
import re
import sys

LIB = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "lib")
sys.path.insert(0, LIB)
import fault_dump  # noqa: E402
import imaptool  # noqa: E402

PEER_HEADER = re.compile(rb"^(?:X-TUID|X-OfflineIMAP):[^\n]*\n", re.I | re.M)
MESSAGE_ID = re.compile(rb"^Message-ID:\s*(<[^>\s]*>)", re.I | re.M)


def unmarked(body):
    """body without a peer's tracking header line; and whether it had one."""
    end = body.find(b"\r\n\r\n")
    head, rest = (body, b"") if end < 0 else (body[:end + 2], body[end + 2:])
    head, n = PEER_HEADER.subn(b"", head)
    return head + rest, n


def key_of(body, sha):
    end = body.find(b"\r\n\r\n")
    m = MESSAGE_ID.search(body[:end] if end >= 0 else body)
    return m.group(1).decode("ascii", "replace") if m else sha


def mailbox_lines(argv):
    """The output's lines, read with one login (closed with the process)."""
    args = imaptool.build_parser().parse_args(argv + ["login"])
    c = imaptool.connect(args)
    imaptool.login(c, args)
    lines, stripped = [], 0
    for name in fault_dump.folders(c):
        if imaptool.open_box(c, name, readonly=True) == 0:
            continue
        for body in fault_dump.bodies(c).values():
            body, n = unmarked(body)
            stripped += n
            sha = hashlib.sha256(body).hexdigest()
            lines.append("%s\t%s\t%d\t%s" % (name, key_of(body, sha), len(body), sha))
    return sorted(lines) + ["stripped\t%d" % stripped]


if __name__ == "__main__":
    try:
        print("\n".join(mailbox_lines(sys.argv[1:])))
    except (imaptool.ToolError, OSError) as e:
        sys.exit("wan_digest: %s" % e)
