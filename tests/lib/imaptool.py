#!/usr/bin/env python3
"""imaptool - the independent IMAP client of the test harness.

Tests must not judge mailstage with mailstage's own code, so every fact a
test checks on a server (what a folder holds, its flags, dates and bytes)
comes through this tool instead: Python's standard library only (imaplib,
ssl), no project code.  It runs under any Python 3.9+ (the pyenv python3 on
PATH and Debian's /usr/bin/python3 alike).

Rules it keeps:
  - message bytes go to the server unchanged: APPEND is written here with
    a {N} literal, not with imaplib.append(), which rewrites line endings
    to CRLF (what Dovecot then stores and serves: see dovecot_served_form
    and tests/t-harness.sh);
  - reading never changes a folder: dump/fetch/status use EXAMINE or STATUS
    and BODY.PEEK[]; only setflags/expunge-all/append/create/delete (test
    set-up) write;
  - the password comes from a file (--password-file), never from argv;
  - any failure exits non-zero with one clear line on stderr.

Folder names on the command line and in output are UTF-8; they are
converted to and from IMAP modified UTF-7 (RFC 3501 5.1.3) here.

Run `imaptool.py --help` and `imaptool.py SUBCOMMAND --help` for usage.
"""

import argparse
import base64
import calendar
import hashlib
import imaplib
import os
import re
import socket
import ssl
import sys
import time

MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun",
          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

# \Recent belongs to a session, not to a message: a read-only session may
# or may not see it, so dumps leave it out to stay comparable.
SESSION_FLAGS = {"\\recent"}


class ToolError(Exception):
    pass


# ---------------------------------------------------------------- mUTF-7

def mutf7_encode(name):
    """UTF-8 str -> IMAP modified UTF-7 str (RFC 3501 5.1.3)."""
    out, run = [], []

    def flush():
        if run:
            raw = "".join(run).encode("utf-16-be")
            b64 = base64.b64encode(raw).decode("ascii").rstrip("=")
            out.append("&" + b64.replace("/", ",") + "-")
            run.clear()

    for ch in name:
        if 0x20 <= ord(ch) <= 0x7e:
            flush()
            out.append("&-" if ch == "&" else ch)
        else:
            run.append(ch)
    flush()
    return "".join(out)


def mutf7_decode(name):
    """IMAP modified UTF-7 str -> UTF-8 str; raises ToolError if invalid."""
    out, i = [], 0
    while i < len(name):
        ch = name[i]
        if ch != "&":
            out.append(ch)
            i += 1
            continue
        end = name.find("-", i)
        if end < 0:
            raise ToolError("bad modified UTF-7 in %r" % name)
        chunk = name[i + 1:end]
        if chunk == "":
            out.append("&")
        else:
            b64 = chunk.replace(",", "/")
            b64 += "=" * (-len(b64) % 4)
            try:
                out.append(base64.b64decode(b64).decode("utf-16-be"))
            except Exception:
                raise ToolError("bad modified UTF-7 in %r" % name)
        i = end + 1
    return "".join(out)


def quote(s):
    """An IMAP quoted string (the caller has already encoded to mUTF-7)."""
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def qbox(name):
    return quote(mutf7_encode(name))


# ---------------------------------------------------------------- dates

def parse_internaldate(s):
    """'17-Jul-1996 02:44:25 -0700' -> epoch seconds."""
    m = re.match(r"\s*(\d{1,2})-([A-Za-z]{3})-(\d{4}) "
                 r"(\d\d):(\d\d):(\d\d) ([+-])(\d\d)(\d\d)\s*$", s)
    if not m:
        raise ToolError("cannot parse INTERNALDATE %r" % s)
    day, mon, year, hh, mi, ss, sign, zh, zm = m.groups()
    mon = MONTHS.index(mon.capitalize()) + 1
    t = calendar.timegm((int(year), mon, int(day), int(hh), int(mi),
                         int(ss), 0, 0, 0))
    off = (int(zh) * 3600 + int(zm) * 60) * (1 if sign == "+" else -1)
    return t - off


def format_internaldate(epoch, tz_minutes=0):
    """epoch seconds + zone offset in minutes -> IMAP date-time string."""
    tm = time.gmtime(epoch + tz_minutes * 60)
    sign = "+" if tz_minutes >= 0 else "-"
    z = abs(tz_minutes)
    return '%02d-%s-%04d %02d:%02d:%02d %s%02d%02d' % (
        tm.tm_mday, MONTHS[tm.tm_mon - 1], tm.tm_year, tm.tm_hour,
        tm.tm_min, tm.tm_sec, sign, z // 60, z % 60)


def date_arg(s):
    """--date accepts epoch seconds or an IMAP date-time string."""
    if s is None or s == "":
        return None
    if re.fullmatch(r"-?\d+", s):
        return format_internaldate(int(s))
    parse_internaldate(s)
    return s.strip()


# ---------------------------------------------------------------- seed plan

# Flags, keywords and dates a seeded message gets, decided by a hash of its
# name so every run (and every test) sees the same values.
PLAN_SYSTEM = ["\\Seen", "\\Flagged", "\\Answered", "\\Draft", None]
PLAN_KEYWORDS = ["$Forwarded", "$Label1", "NonJunk", "MsCustom-Tag"]
PLAN_ZONES = [0, -420, 330, 540, -210, 765, -720, 840, 60, -300]
PLAN_FIRST = 820454400          # 1996-01-01T00:00:00Z
PLAN_SPAN = 29 * 365 * 86400    # up to the end of 2024


def plan_for(key):
    """key (a corpus-relative path) -> (flags, epoch, IMAP date-time)."""
    h = hashlib.sha256(key.encode("utf-8")).digest()
    first = PLAN_SYSTEM[h[0] % len(PLAN_SYSTEM)]
    flags = [first] if first else []
    if first and first != "\\Seen" and h[1] % 3 == 0:
        flags.append("\\Seen")
    kw = h[2] % 8
    if kw < len(PLAN_KEYWORDS):
        flags.append(PLAN_KEYWORDS[kw])
    epoch = PLAN_FIRST + int.from_bytes(h[4:8], "big") % PLAN_SPAN
    zone = PLAN_ZONES[h[8] % len(PLAN_ZONES)]
    return flags, epoch, format_internaldate(epoch, zone)


# ---------------------------------------------------------------- session

class Client(imaplib.IMAP4):
    """imaplib.IMAP4 plus a byte-exact APPEND."""

    def append_raw(self, mailbox_arg, flags, date, data, literal8=False):
        """APPEND with a literal sent as it is.  Returns the OK data.

        A plain {N} literal even for a message holding NUL bytes: RFC 3501
        forbids that, but Dovecot takes it and stores the bytes unchanged.
        A literal8 (~{N}, RFC 3516) makes Dovecot 2.3 rewrite the message:
        parts with Content-Transfer-Encoding: binary are stored re-encoded
        as base64, so it is only sent when asked for (--literal8)."""
        lit = "~{%d}" if literal8 else "{%d}"
        parts = [mailbox_arg]
        if flags:
            parts.append("(" + " ".join(flags) + ")")
        if date:
            parts.append(quote(date))
        parts.append(lit % len(data))
        tag = self._new_tag()
        line = tag + b" APPEND " + " ".join(parts).encode("utf-8")
        self.send(line + b"\r\n")
        while self._get_response():
            if self.tagged_commands[tag]:  # NO/BAD before the literal
                typ, dat = self.tagged_commands.pop(tag)
                raise ToolError("APPEND refused: %s %s" % (typ, _text(dat)))
        self.send(data + b"\r\n")
        typ, dat = self._command_complete("APPEND", tag)
        if typ != "OK":
            raise ToolError("APPEND failed: %s %s" % (typ, _text(dat)))
        return dat


class ClientSSL(imaplib.IMAP4_SSL, Client):
    pass


def _text(dat):
    if isinstance(dat, (list, tuple)):
        return " ".join(_text(d) for d in dat if d is not None)
    if isinstance(dat, bytes):
        return dat.decode("utf-8", "replace")
    return str(dat)


def ssl_context(args):
    ctx = ssl.create_default_context(cafile=args.ca_file)
    if args.insecure:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


def read_password(path):
    try:
        with open(path, "rb") as f:
            pw = f.read()
    except OSError as e:
        raise ToolError("cannot read password file: %s" % e)
    if pw.endswith(b"\r\n"):
        pw = pw[:-2]
    elif pw.endswith(b"\n"):
        pw = pw[:-1]
    return pw.decode("utf-8")


def connect(args):
    host = args.host
    try:
        if args.tls == "imaps":
            c = ClientSSL(host, args.port, ssl_context=ssl_context(args),
                          timeout=args.timeout)
        else:
            c = Client(host, args.port, timeout=args.timeout)
            if args.tls == "starttls":
                c.starttls(ssl_context=ssl_context(args))
    except (OSError, imaplib.IMAP4.error) as e:
        raise ToolError("cannot connect to %s:%d (%s): %s"
                        % (host, args.port, args.tls, e))
    return c


def login(c, args):
    pw = read_password(args.password_file)
    try:
        if args.auth == "plain":
            authz = args.authzid or ""
            blob = ("%s\0%s\0%s" % (authz, args.user, pw)).encode("utf-8")
            c.authenticate("PLAIN", lambda _: blob)
        else:
            c.login(quote(args.user), pw)  # imaplib quotes the password
    except imaplib.IMAP4.error as e:
        raise ToolError("login as %s failed: %s" % (args.user, e))


def check(typ, dat, what):
    if typ != "OK":
        raise ToolError("%s failed: %s %s" % (what, typ, _text(dat)))
    return dat


def open_box(c, folder, readonly):
    cmd = "EXAMINE" if readonly else "SELECT"
    typ, dat = c.select(qbox(folder), readonly=readonly)
    check(typ, dat, "%s %s" % (cmd, folder))
    return int(dat[-1] or 0)


# ---------------------------------------------------------------- fetch

FETCH_META = re.compile(rb"^\d+ \((.*)\)\s*$", re.S)


def parse_meta(item):
    """b'3 (UID 7 FLAGS (\\Seen) INTERNALDATE "..." RFC822.SIZE 9)' ->
    dict(uid, flags, internaldate, size)."""
    m = FETCH_META.match(item)
    if not m:
        raise ToolError("unexpected FETCH line %r" % item[:200])
    body = m.group(1).decode("utf-8", "replace")
    uid = re.search(r"\bUID (\d+)", body)
    flags = re.search(r"\bFLAGS \(([^)]*)\)", body)
    date = re.search(r'\bINTERNALDATE "([^"]*)"', body)
    size = re.search(r"\bRFC822\.SIZE (\d+)", body)
    if not (uid and flags and date and size):
        raise ToolError("incomplete FETCH data %r" % body[:200])
    fl = [f for f in flags.group(1).split() if f.lower() not in SESSION_FLAGS]
    return {"uid": int(uid.group(1)), "flags": sorted(fl),
            "internaldate": date.group(1),
            "epoch": parse_internaldate(date.group(1)),
            "size": int(size.group(1))}


def fetch_meta(c):
    typ, dat = c.uid("FETCH", "1:*", "(UID FLAGS INTERNALDATE RFC822.SIZE)")
    check(typ, dat, "UID FETCH")
    out = []
    for item in dat:
        if item is None:
            continue
        if isinstance(item, tuple):
            raise ToolError("unexpected literal in metadata FETCH")
        out.append(parse_meta(item))
    out.sort(key=lambda m: m["uid"])
    return out


def fetch_body(c, uid):
    typ, dat = c.uid("FETCH", str(uid), "(BODY.PEEK[])")
    check(typ, dat, "UID FETCH %d BODY.PEEK[]" % uid)
    for item in dat:
        if isinstance(item, tuple) and b"BODY[]" in item[0]:
            return item[1]
    raise ToolError("no BODY[] for UID %d (expunged?)" % uid)


# ---------------------------------------------------------------- commands

def cmd_login(c, args):
    typ, dat = c.capability()
    print(_text(dat[-1:]))


def cmd_append(c, args):
    if args.create:
        ensure_folder(c, args.folder)
    if args.batch:
        append_batch(c, args)
        return
    if not args.file:
        raise ToolError("append needs FILE or --batch LIST")
    dat = append_file(c, args.folder, args.file, (args.flags or "").split(),
                      date_arg(args.date), args.literal8, args.crlf)
    m = re.search(r"APPENDUID (\d+) (\d+)", _text(dat))
    if m and not args.quiet:
        print("%s\t%s" % (m.group(1), m.group(2)))


def append_batch(c, args):
    """Append each plan line's file.  With --accepted OUT a message the
    server refuses (NO) is reported on stderr and skipped, and OUT gets the
    plan lines of the messages the server took, in order."""
    n = refused = 0
    out = open(args.accepted, "w", encoding="utf-8") if args.accepted else None
    with open(args.batch, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            path, flags, date = (line.split("\t") + ["", ""])[:3]
            try:
                append_file(c, args.folder, path, flags.split(),
                            date_arg(date), args.literal8, args.crlf)
            except ToolError as e:
                if out is None:
                    raise
                print("imaptool: refused %s: %s" % (path, e), file=sys.stderr)
                refused += 1
                continue
            if out is not None:
                out.write(line + "\n")
            n += 1
    if out is not None:
        out.close()
    if not args.quiet:
        print("appended %d messages to %s (%d refused)"
              % (n, args.folder, refused))


def crlf_form(data):
    """Each LF not already after a CR made CRLF: the line ends RFC 5322
    wants and Cyrus insists on (it refuses "bare newlines")."""
    return re.sub(rb"(?<!\r)\n", b"\r\n", data)


def append_file(c, folder, path, flags, date, literal8=False, crlf=False):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise ToolError("cannot read %s: %s" % (path, e))
    if crlf:
        data = crlf_form(data)
    return c.append_raw(qbox(folder), flags, date, data, literal8)


def ensure_folder(c, folder):
    if folder.upper() == "INBOX":
        return
    typ, dat = c.list('""', qbox(folder))
    if typ == "OK" and any(d for d in dat if d):
        return
    typ, dat = c._simple_command("CREATE", qbox(folder))
    check(typ, dat, "CREATE %s" % folder)


def cmd_create(c, args):
    for folder in args.folder:
        if args.special_use:   # RFC 6154 CREATE-SPECIAL-USE
            typ, dat = c._simple_command("CREATE", qbox(folder),
                                         "(USE (%s))" % args.special_use)
        else:
            typ, dat = c._simple_command("CREATE", qbox(folder))
        check(typ, dat, "CREATE %s" % folder)


def cmd_delete(c, args):
    for folder in args.folder:
        typ, dat = c._simple_command("DELETE", qbox(folder))
        check(typ, dat, "DELETE %s" % folder)


def cmd_dump(c, args):
    if open_box(c, args.folder, readonly=True) == 0:
        return
    for m in fetch_meta(c):
        body = fetch_body(c, m["uid"])
        if args.bodies:
            with open(os.path.join(args.bodies, "%d.eml" % m["uid"]), "wb") as f:
                f.write(body)
        print("%d\t%s\t%d\t%d\t%s" % (m["uid"], " ".join(m["flags"]),
                                      m["epoch"], m["size"],
                                      hashlib.sha256(body).hexdigest()))


def cmd_fetch(c, args):
    open_box(c, args.folder, readonly=True)
    body = fetch_body(c, args.uid)
    sys.stdout.buffer.write(body)
    sys.stdout.buffer.flush()


LIST_LINE = re.compile(rb'^\(([^)]*)\) (NIL|"(?:[^"\\]|\\.)") (.*)$', re.S)


def parse_list(item):
    if isinstance(item, tuple):      # name sent as a literal
        head, name = item
        m = re.match(rb'^\(([^)]*)\) (NIL|"(?:[^"\\]|\\.)") \{\d+\}$', head)
        if not m:
            raise ToolError("unexpected LIST line %r" % head)
        attrs, sep = m.group(1), m.group(2)
    else:
        m = LIST_LINE.match(item)
        if not m:
            raise ToolError("unexpected LIST line %r" % item)
        attrs, sep, name = m.groups()
        if name.startswith(b'"'):
            name = re.sub(rb'\\(.)', rb'\1', name[1:-1])
    sep = "NIL" if sep == b"NIL" else re.sub(r'\\(.)', r'\1', sep[1:-1].decode())
    name = mutf7_decode(name.decode("utf-8"))
    attrs = attrs.decode().split()
    return name, sep, attrs


SPECIAL_USE = {"\\all", "\\archive", "\\drafts", "\\flagged", "\\junk",
               "\\sent", "\\trash", "\\important"}


def cmd_folders(c, args):
    caps = c.capabilities
    if "SPECIAL-USE" in caps and "LIST-EXTENDED" in caps:
        typ, dat = c._simple_command("LIST", '""', '"*"', "RETURN",
                                     "(SPECIAL-USE)")
        typ, dat = c._untagged_response(typ, dat, "LIST")
    else:
        typ, dat = c.list('""', '"*"')
    check(typ, dat, "LIST")
    rows = [parse_list(d) for d in dat if d]
    for name, sep, attrs in sorted(rows):
        su = [a for a in attrs if a.lower() in SPECIAL_USE]
        other = [a for a in attrs if a.lower() not in SPECIAL_USE]
        print("%s\t%s\t%s\t%s" % (name, sep, " ".join(su), " ".join(other)))


def cmd_subscribed(c, args):
    typ, dat = c.lsub('""', '"*"')
    check(typ, dat, "LSUB")
    for name in sorted(parse_list(d)[0] for d in dat if d):
        print(name)


def cmd_subscribe(c, args):
    verb = "UNSUBSCRIBE" if args.off else "SUBSCRIBE"
    for folder in args.folder:
        typ, dat = c._simple_command(verb, qbox(folder))
        check(typ, dat, "%s %s" % (verb, folder))


def cmd_status(c, args):
    typ, dat = c._simple_command(
        "STATUS", qbox(args.folder), "(MESSAGES UIDNEXT UIDVALIDITY UNSEEN)")
    typ, dat = c._untagged_response(typ, dat, "STATUS")
    check(typ, dat, "STATUS %s" % args.folder)
    text = _text(dat)
    m = re.search(r"\(([^)]*)\)\s*$", text)
    items = m.group(1).split() if m else []
    print(" ".join("%s=%s" % (items[i].lower(), items[i + 1])
                   for i in range(0, len(items) - 1, 2)))


def cmd_setflags(c, args):
    open_box(c, args.folder, readonly=False)
    op = {"set": "FLAGS", "add": "+FLAGS", "remove": "-FLAGS"}[args.mode]
    typ, dat = c.uid("STORE", args.uids, op + ".SILENT",
                     "(" + " ".join(args.flags.split()) + ")")
    check(typ, dat, "UID STORE")


def cmd_expunge_all(c, args):
    if open_box(c, args.folder, readonly=False) == 0:
        return
    typ, dat = c.store("1:*", "+FLAGS.SILENT", "(\\Deleted)")
    check(typ, dat, "STORE \\Deleted")
    typ, dat = c.expunge()
    check(typ, dat, "EXPUNGE")


def cmd_plan(args):
    """Print PATH<TAB>FLAGS<TAB>DATE<TAB>EPOCH for each file: what
    seed_corpus asks the server to store (the key is the path relative to
    --root, so the plan does not depend on where the corpus sits)."""
    files = list(args.file)
    if args.from_file:
        with open(args.from_file, encoding="utf-8") as f:
            files += [line.rstrip("\n") for line in f if line.strip()]
    for path in files:
        key = os.path.relpath(path, args.root) if args.root else path
        flags, epoch, date = plan_for(key)
        print("%s\t%s\t%s\t%d" % (path, " ".join(flags), date, epoch))


def dovecot_stored_form(data):
    """The bytes Dovecot 2.3 writes to its Maildir for an APPENDed message
    (mail_save_crlf = no): each CRLF becomes LF, and a CR at the very end
    of the message is dropped.  A bare CR elsewhere, NUL bytes and a
    missing final newline are kept."""
    out = data.replace(b"\r\n", b"\n")
    if out.endswith(b"\r"):
        out = out[:-1]
    return out


def dovecot_served_form(data):
    """What Dovecot 2.3 sends as BODY[] for an APPENDed message: the stored
    form with each LF not already after a CR sent as CRLF, and each NUL
    byte sent as 0x80.  So a "\\r\\r\\n" comes back as "\\r\\n", a final
    CR is lost, and a NUL becomes 0x80: the only ways Dovecot's view of
    a message differed from the source with its line ends made CRLF in
    tests/t-harness.sh."""
    out = re.sub(rb"(?<!\r)\n", b"\r\n", dovecot_stored_form(data))
    return out.replace(b"\0", b"\x80")


def cmd_expect(args):
    """For each plan line: the dump line (without UID) that a Dovecot seeded
    with that plan should show: flags, epoch, size, sha256."""
    with open(args.plan, encoding="utf-8") as f:
        for line in f:
            path, flags, _date, epoch = line.rstrip("\n").split("\t")[:4]
            with open(path, "rb") as m:
                body = dovecot_served_form(m.read())
            print("%s\t%s\t%d\t%s" % (" ".join(sorted(flags.split())), epoch,
                                       len(body),
                                       hashlib.sha256(body).hexdigest()))


# ---------------------------------------------------------------- main

def build_parser():
    p = argparse.ArgumentParser(
        prog="imaptool.py",
        description="Independent IMAP client for mailstage's tests.")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=143)
    p.add_argument("--tls", choices=["none", "starttls", "imaps"],
                   default="none")
    p.add_argument("--ca-file", help="CA bundle for TLS verification")
    p.add_argument("--insecure", action="store_true",
                   help="do not verify the server certificate")
    p.add_argument("--user", help="login name (may be user*master)")
    p.add_argument("--password-file", help="file holding the password")
    p.add_argument("--auth", choices=["login", "plain"], default="login")
    p.add_argument("--authzid", help="SASL PLAIN authorization identity")
    p.add_argument("--timeout", type=float, default=60.0)
    sub = p.add_subparsers(dest="cmd", required=True)

    s = sub.add_parser("login", help="log in, print capabilities")
    s.set_defaults(func=cmd_login)

    s = sub.add_parser("append", help="append a file byte-exact")
    s.add_argument("folder")
    s.add_argument("file", nargs="?")
    s.add_argument("--flags", help="space-separated flags and keywords")
    s.add_argument("--date", help="INTERNALDATE: epoch or IMAP date-time")
    s.add_argument("--batch", help="file of PATH<TAB>FLAGS<TAB>DATE lines")
    s.add_argument("--create", action="store_true",
                   help="create the folder if missing")
    s.add_argument("--literal8", action="store_true",
                   help="send ~{N} (RFC 3516); Dovecot then re-encodes binary parts")
    s.add_argument("--crlf", action="store_true",
                   help="send each bare LF as CRLF (servers that refuse bare LF)")
    s.add_argument("--accepted", metavar="OUT",
                   help="with --batch: skip messages the server refuses, "
                        "write the plan lines of those it took to OUT")
    s.add_argument("--quiet", action="store_true")
    s.set_defaults(func=cmd_append)

    s = sub.add_parser("dump", help="one line per message (read-only)")
    s.add_argument("folder")
    s.add_argument("--bodies", help="also save each body as DIR/UID.eml")
    s.set_defaults(func=cmd_dump)

    s = sub.add_parser("fetch", help="write BODY.PEEK[] of UID to stdout")
    s.add_argument("folder")
    s.add_argument("uid", type=int)
    s.set_defaults(func=cmd_fetch)

    s = sub.add_parser("folders", help="NAME<TAB>SEP<TAB>SPECIAL-USE<TAB>ATTRS")
    s.set_defaults(func=cmd_folders)

    s = sub.add_parser("subscribed", help="the subscribed folders (LSUB), one a line")
    s.set_defaults(func=cmd_subscribed)

    s = sub.add_parser("subscribe", help="subscribe folders (--off: unsubscribe)")
    s.add_argument("folder", nargs="+")
    s.add_argument("--off", action="store_true")
    s.set_defaults(func=cmd_subscribe)

    s = sub.add_parser("create", help="create folders")
    s.add_argument("folder", nargs="+")
    s.add_argument("--special-use",
                   help="e.g. '\\Sent': CREATE ... (USE (...)) (RFC 6154)")
    s.set_defaults(func=cmd_create)

    s = sub.add_parser("delete", help="delete folders")
    s.add_argument("folder", nargs="+")
    s.set_defaults(func=cmd_delete)

    s = sub.add_parser("status", help="messages, uidnext, uidvalidity, unseen")
    s.add_argument("folder")
    s.set_defaults(func=cmd_status)

    s = sub.add_parser("setflags", help="UID STORE flags (uses SELECT)")
    s.add_argument("folder")
    s.add_argument("uids", help="UID set, e.g. 1:* or 3,5")
    s.add_argument("flags", help="space-separated flags")
    s.add_argument("--mode", choices=["set", "add", "remove"], default="set")
    s.set_defaults(func=cmd_setflags)

    s = sub.add_parser("expunge-all", help="delete every message of a folder")
    s.add_argument("folder")
    s.set_defaults(func=cmd_expunge_all)

    s = sub.add_parser("plan", help="print seed flags/dates (no server)")
    s.add_argument("--root", help="corpus root: keys are relative to it")
    s.add_argument("--from", dest="from_file",
                   help="file with one path a line")
    s.add_argument("file", nargs="*")
    s.set_defaults(func=None, offline=cmd_plan)

    s = sub.add_parser("expect",
                       help="dump lines (minus UID) a seeded plan should give")
    s.add_argument("plan")
    s.set_defaults(func=None, offline=cmd_expect)
    return p


def main(argv):
    args = build_parser().parse_args(argv)
    try:
        if args.cmd in ("plan", "expect"):
            args.offline(args)
            return 0
        if not args.user or not args.password_file:
            raise ToolError("--user and --password-file are required")
        c = connect(args)
        try:
            login(c, args)
            args.func(c, args)
        finally:
            try:
                c.logout()
            except Exception:
                pass
    except ToolError as e:
        print("imaptool: %s" % e, file=sys.stderr)
        return 1
    except (imaplib.IMAP4.error, OSError, ssl.SSLError) as e:
        print("imaptool: %s: %s" % (type(e).__name__, e), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
