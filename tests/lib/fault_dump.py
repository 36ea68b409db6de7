"""fault_dump.py - what t-fault.sh compares after each fault point, read
with one login (a loaded machine pays seconds per login) through the
independent client imaptool.py, read-only (EXAMINE, BODY.PEEK):

  fault_dump.py IMAPTOOL-OPTIONS content FOLDER...
      per folder "== FOLDER", then one line per message
      flags TAB internaldate-epoch TAB size TAB sha256, sorted (no UIDs:
      what a clean copy must equal, duplicates show as repeated lines)
  fault_dump.py IMAPTOOL-OPTIONS full
      every folder (LIST), its UIDVALIDITY and UIDNEXT, then imap_dump's
      lines (UIDs included): a source must not change at all

IMAPTOOL-OPTIONS are imaptool.py's (--port, --user, --password-file, ...).
"""
import hashlib
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import imaptool  # noqa: E402


UID_OF = re.compile(rb"\bUID (\d+)")


def bodies(c):
    """Every message's BODY[] by UID, in one command (one round trip per
    message costs a loaded machine a second per dump)."""
    typ, dat = c.uid("FETCH", "1:*", "(UID BODY.PEEK[])")
    imaptool.check(typ, dat, "UID FETCH 1:* BODY.PEEK[]")
    out = {}
    for k, item in enumerate(dat):
        if isinstance(item, tuple) and b"BODY[]" in item[0]:
            # the UID comes before the literal or in the line after it
            rest = dat[k + 1] if k + 1 < len(dat) and isinstance(dat[k + 1], bytes) else b""
            uid = UID_OF.search(item[0]) or UID_OF.search(rest)
            if not uid:
                raise imaptool.ToolError("no UID in %r" % item[0][:200])
            out[int(uid.group(1))] = item[1]
    return out


def lines_of(c, folder, with_uid):
    out = []
    if imaptool.open_box(c, folder, readonly=True) == 0:
        return out
    metas = imaptool.fetch_meta(c)
    got = bodies(c)
    for m in metas:
        body = got.get(m["uid"])
        if body is None:  # expunged in between, or a FETCH that left it out
            body = imaptool.fetch_body(c, m["uid"])
        line = "%s\t%d\t%d\t%s" % (" ".join(m["flags"]), m["epoch"], m["size"],
                                   hashlib.sha256(body).hexdigest())
        out.append("%d\t%s" % (m["uid"], line) if with_uid else line)
    return out if with_uid else sorted(out)


def folders(c):
    typ, dat = c.list('""', "*")
    imaptool.check(typ, dat, "LIST")
    names = []
    for item in dat:
        if item is None:
            continue
        name, _, attrs = imaptool.parse_list(item)
        if not any(a.lower() in ("\\noselect", "\\nonexistent") for a in attrs):
            names.append(name)
    return sorted(names)


def status(c, folder):
    typ, dat = c.status(imaptool.qbox(folder), "(UIDVALIDITY UIDNEXT MESSAGES)")
    imaptool.check(typ, dat, "STATUS %s" % folder)
    return imaptool._text(dat)


def main(argv):
    i = next(k for k, a in enumerate(argv) if a in ("content", "full"))
    args = imaptool.build_parser().parse_args(argv[:i] + ["login"])
    mode, wanted = argv[i], argv[i + 1:]
    c = imaptool.connect(args)
    try:
        imaptool.login(c, args)
        for f in folders(c) if mode == "full" else wanted:
            print("== %s" % f)
            if mode == "full":
                print(status(c, f))
            for line in lines_of(c, f, mode == "full"):
                print(line)
    finally:
        try:
            c.logout()
        except Exception:
            pass
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except (imaptool.ToolError, OSError) as e:
        print("fault_dump: %s" % e, file=sys.stderr)
        sys.exit(1)
