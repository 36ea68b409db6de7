#!/usr/bin/env python3
"""lyingimap.py - a tiny scripted IMAP server whose RFC822.SIZE lies.

Serves one account (any user, password "pw") with one folder, INBOX, of
four messages whose advertised sizes are wrong in every direction:

  uid 1  small, advertised 300 bytes too large
  uid 2  small, advertised 1,000 bytes too small
  uid 3  large (2,000,000 bytes), advertised 1,500,000 (too small)
  uid 4  small, advertised right

With the word `huge` after PORTFILE (or after `--dump DIR`) there is a fifth:

  uid 5  128 MiB, advertised 2,000 bytes: the literal is far longer than
         the size the server listed (a liar, or worse)

Bodies are deterministic (seeded); `lyingimap.py --dump DIR` writes them to
DIR/<uid>.eml so a test can compare.  Run: `lyingimap.py PORTFILE [huge]`;
it binds 127.0.0.1:0, writes the port to PORTFILE and serves until killed.  Only what
mailstage's client sends is understood (CAPABILITY, AUTHENTICATE PLAIN,
LOGIN, NAMESPACE, LIST, STATUS, EXAMINE, UID FETCH, NOOP, LOGOUT).
Standard library only.
"""
import random
import re
import socketserver
import sys


def make_messages():
    r = random.Random(42)

    def body(n, subj):
        head = ("From: liar@example.org\r\nSubject: %s\r\nMessage-ID: <%s@example.org>\r\n\r\n"
                % (subj, subj)).encode()
        line = b"0123456789abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ\r\n"
        out = bytearray(head)
        while len(out) < n:
            out += line[: r.randint(10, len(line))]
        return bytes(out[: n - 2]) + b"\r\n"

    msgs = [
        (1, body(1200, "toolarge"), 1500),
        (2, body(4000, "toosmall"), 3000),
        (3, body(2000000, "bigsmall"), 1500000),
        (4, body(900, "right"), 900),
    ]
    if "huge" in sys.argv[2:]:
        head = b"From: liar@example.org\r\nSubject: huge\r\nMessage-ID: <huge@example.org>\r\n\r\n"
        lines = b"".join(b"%09d huge body line, far more than the 2,000 bytes listed\r\n" % i
                         for i in range((128 << 20) // 64 + 1))
        msgs.append((5, (head + lines)[: 128 << 20], 2000))
    return msgs


MSGS = make_messages()


def uid_set(spec, uids):
    """The uids of `uids` in an IMAP sequence set of UIDs like 1:3,7 or 4:*."""
    top = max(uids)
    want = set()
    for part in spec.split(","):
        a, _, b = part.partition(":")
        lo = top if a == "*" else int(a)
        hi = lo if not b else (top if b == "*" else int(b))
        want.update(u for u in uids if min(lo, hi) <= u <= max(lo, hi))
    return want
CAPS = "IMAP4rev1 AUTH=PLAIN LITERAL+ NAMESPACE"


class Handler(socketserver.StreamRequestHandler):
    def send(self, s):
        if isinstance(s, str):
            s = s.encode()
        self.wfile.write(s)
        self.wfile.flush()

    def handle(self):
        self.send("* OK [CAPABILITY %s] liar ready\r\n" % CAPS)
        while True:
            line = self.rfile.readline()
            if not line:
                return
            m = re.match(rb"(\S+) (.*?)\r?\n$", line)
            if not m:
                continue
            tag, cmd = m.group(1).decode(), m.group(2).decode()
            try:
                if self.dispatch(tag, cmd) == "bye":
                    return
            except (BrokenPipeError, ConnectionResetError):
                return  # the client stopped reading (uid 5: as it should)

    def dispatch(self, tag, cmd):
        up = cmd.upper()
        if up.startswith("AUTHENTICATE PLAIN"):
            if up == "AUTHENTICATE PLAIN":
                self.send("+ \r\n")
                self.rfile.readline()
            self.send("%s OK [CAPABILITY %s] logged in\r\n" % (tag, CAPS))
        elif up.startswith("LOGIN"):
            self.send("%s OK [CAPABILITY %s] logged in\r\n" % (tag, CAPS))
        elif up == "CAPABILITY":
            self.send("* CAPABILITY %s\r\n%s OK done\r\n" % (CAPS, tag))
        elif up == "NAMESPACE":
            self.send('* NAMESPACE (("" "/")) NIL NIL\r\n%s OK done\r\n' % tag)
        elif up.startswith("LIST"):
            if '""' in cmd.split(" ", 2)[2][:2] and cmd.rstrip().endswith('""'):
                self.send('* LIST (\\Noselect) "/" ""\r\n')
            else:
                self.send('* LIST (\\HasNoChildren) "/" INBOX\r\n')
            self.send("%s OK done\r\n" % tag)
        elif up.startswith("STATUS"):
            self.send("* STATUS INBOX (MESSAGES 4 UIDNEXT 5 UIDVALIDITY 7)\r\n%s OK done\r\n" % tag)
        elif up.startswith("EXAMINE"):
            self.send("* 4 EXISTS\r\n* 0 RECENT\r\n* OK [UIDVALIDITY 7] v\r\n* OK [UIDNEXT 5] n\r\n"
                      "* FLAGS (\\Seen)\r\n%s OK [READ-ONLY] examined\r\n" % tag)
        elif up.startswith("UID FETCH"):
            self.fetch(tag, cmd)
        elif up == "NOOP":
            self.send("%s OK done\r\n" % tag)
        elif up == "LOGOUT":
            self.send("* BYE bye\r\n%s OK done\r\n" % tag)
            return "bye"
        else:
            self.send("%s BAD unknown\r\n" % tag)

    def fetch(self, tag, cmd):
        m = re.match(r"UID FETCH (\S+) \((.*)\)$", cmd, re.I)
        which, items = m.group(1), m.group(2).upper()
        for seq, (uid, body, adv) in enumerate(MSGS, 1):
            if uid not in uid_set(which, [m[0] for m in MSGS]):
                continue
            if "BODY.PEEK[]" in items:
                pm = re.search(r"BODY\.PEEK\[\]<(\d+)\.(\d+)>", items)
                if pm:
                    off, n = int(pm.group(1)), int(pm.group(2))
                    part = body[off:off + n]
                    self.send(b"* %d FETCH (UID %d BODY[]<%d> {%d}\r\n" % (seq, uid, off, len(part))
                              + part + b")\r\n")
                else:
                    self.send(b"* %d FETCH (UID %d BODY[] {%d}\r\n" % (seq, uid, len(body))
                              + body + b")\r\n")
            else:
                hdr = b"Message-ID: <m%d@example.org>\r\n\r\n" % uid
                self.send(b'* %d FETCH (UID %d FLAGS (\\Seen) INTERNALDATE "01-Jan-2024 00:00:0%d +0000" '
                          b"RFC822.SIZE %d BODY[HEADER.FIELDS (MESSAGE-ID)] {%d}\r\n"
                          % (seq, uid, uid, adv, len(hdr)) + hdr + b")\r\n")
        self.send("%s OK done\r\n" % tag)


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    if sys.argv[1] == "--dump":
        for uid, body, _ in MSGS:
            with open("%s/%d.eml" % (sys.argv[2], uid), "wb") as f:
                f.write(body)
        return
    srv = Server(("127.0.0.1", 0), Handler)
    with open(sys.argv[1], "w") as f:
        f.write("%d\n" % srv.server_address[1])
    srv.serve_forever()


if __name__ == "__main__":
    main()
