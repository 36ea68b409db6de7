#!/usr/bin/env python3
"""faultimap.py - a scripted IMAP server that misbehaves on purpose.

A sibling of lyingimap.py for tests/t-misbehave.sh: it injects the faults a
real server (Dovecot) cannot be made to produce.  One account (any user and
password), one folder INBOX.  As a source it holds three messages (uids 1-3,
deterministic bodies: `faultimap.py --dump DIR` writes DIR/<uid>.eml); as a
destination (modes *-append) INBOX starts empty and every stored
message is also written to OUTDIR/<uid>.eml so the test can compare bytes.

Run: faultimap.py PORTFILE MODE [COUNT] [OUTDIR]; binds 127.0.0.1:0, writes
the port to PORTFILE, serves until killed.  MODE says what goes wrong when a
client fetches a body (UID FETCH ... BODY.PEEK[]) unless said otherwise:

  none            nothing: a well-behaved server
  short           the literal announces {N} but only N-100 bytes follow,
                  then the rest of the response; then silence
  long            {N} announced, N+100 bytes sent, then ")" and the tag
  cut             {N-100} announced, the whole body (N bytes) sent
  huge            {99999999999} announced, a few bytes, then silence
  bye             "* BYE" instead of the data, then the connection closes
  endless         "* OK " and then bytes without CRLF, without end
  trickle         "* OK " and then one byte every 0.3 s, without end
  stall           half a FETCH response, then silence
  wrongsize       no body fault, but RFC822.SIZE lies (too small, too large)
  droplogin       the connection closes right after a successful login;
                  with COUNT N > 0 only from the (N+1)th login on (the first
                  N sessions are served: a mount's later connections drop)
  throttle-fetch  the first COUNT body fetches: NO [THROTTLED] with an
                  Exchange-style "Suggested Backoff Time: 700 milliseconds"
  throttle-append the first COUNT APPENDs: the same refusal (destination)
  exchange-fetch  like throttle-fetch, the hint in the words only (no code)
  plain-append    like throttle-append, NO [THROTTLED] without a hint
  evilflags       no body fault; the FLAGS of the metadata FETCH are hostile:
                  uid 1 has a keyword literal holding CRLF and two commands
                  (EVIL_LITERAL), uid 2 a quoted string with a space, a
                  system flag that is none (\Bogus) and NIL; each also has
                  \Seen and $Good
  flood           the metadata FETCH answers, then valid untagged responses
                  ("* OK still counting") without end and no completion
  flood-fetch     the metadata FETCH answers with FETCH responses of ever
                  new UIDs, without end
  flood-body      a body FETCH answers with the same small body over and
                  over, without end
  manyfolders     LIST gives COUNT folders f0000001, f0000002, ... besides
                  INBOX (COUNT 0: a million)

MODE@list puts short, long, huge, bye, endless, trickle, stall or flood into the reply to
LIST (the folder name INBOX as the lying literal; trickle as is; flood: the
line for INBOX again and again) instead of a FETCH.

Counters are per server, not per connection, so a client that reconnects
and retries sees the fault COUNT times in all.  Standard library only.
"""
import os
import random
import re
import socketserver
import sys
import threading
import time

CAPS = "IMAP4rev1 AUTH=PLAIN LITERAL+ NAMESPACE UIDPLUS"
# evilflags: a keyword literal that would end an APPEND line and start two
# commands of its own if it were sent on as it is
EVIL_LITERAL = b'Evil\r\nINJ1 DELETE "Important"\r\nINJ2 NOOP'
EVIL_FLAGS = {1: b"\\Seen {%d}\r\n%s $Good" % (len(EVIL_LITERAL), EVIL_LITERAL),
              2: b'\\Seen "two words" \\Bogus NIL $Good'}
THROTTLE = "Request is throttled. Suggested Backoff Time: 700 milliseconds"
REFUSAL = {"throttle-fetch": "[THROTTLED] " + THROTTLE, "throttle-append": "[THROTTLED] " + THROTTLE,
           "exchange-fetch": THROTTLE, "plain-append": "[THROTTLED] try again later"}


def make_messages():
    r = random.Random(7)
    line = b"0123456789abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ\r\n"
    msgs = []
    for uid, n in ((1, 3000), (2, 9000), (3, 20000)):
        out = bytearray(("From: fault@example.org\r\nSubject: m%d\r\nMessage-ID: <f%d@example.org>\r\n\r\n"
                         % (uid, uid)).encode())
        while len(out) < n:
            out += line[: r.randint(10, len(line))]
        msgs.append({"uid": uid, "body": bytes(out[: n - 2]) + b"\r\n", "flags": "\\Seen",
                     "date": "01-Jan-2024 00:00:0%d +0000" % uid})
    return msgs


class State:
    lock = threading.Lock()
    mode = "none"
    at = "fetch"
    count = 0
    outdir = None
    msgs = []
    uidnext = 4
    seen = {}

    @classmethod
    def spare(cls, what):
        """droplogin: True for the first COUNT logins (served as usual);
        with COUNT 0 never."""
        with cls.lock:
            cls.seen[what] = cls.seen.get(what, 0) + 1
            return cls.seen[what] <= cls.count

    @classmethod
    def take(cls):
        """True while the COUNT faults last (one is used up per call)."""
        with cls.lock:
            if cls.count > 0:
                cls.count -= 1
                return True
            return False


def uid_set(spec, uids):
    """The uids of `uids` in an IMAP sequence set of UIDs like 1:3,7 or 4:*."""
    top = max(uids) if uids else 0
    want = set()
    for part in spec.split(","):
        a, _, b = part.partition(":")
        lo = top if a == "*" else int(a)
        hi = lo if not b else (top if b == "*" else int(b))
        if lo > hi:
            lo, hi = hi, lo
        want.update(u for u in uids if lo <= u <= hi)
    return want


class Handler(socketserver.StreamRequestHandler):
    def send(self, s):
        if isinstance(s, str):
            s = s.encode()
        self.wfile.write(s)
        self.wfile.flush()

    def silence(self):
        """Say nothing more; hold the connection until the client leaves."""
        while self.rfile.read(1):
            pass
        raise EOFError

    def handle(self):
        self.send("* OK [CAPABILITY %s] fault ready\r\n" % CAPS)
        try:
            while True:
                line = self.rfile.readline()
                if not line:
                    return
                m = re.match(rb"(\S+) (.*?)\r?\n$", line, re.S)
                if m and self.dispatch(m.group(1).decode(), m.group(2).decode()) == "bye":
                    return
        except (EOFError, BrokenPipeError, ConnectionResetError):
            return

    def logged_in(self, tag):
        if State.mode == "droplogin" and not State.spare("login"):
            self.send("%s OK [CAPABILITY %s] logged in\r\n" % (tag, CAPS))
            return "bye"
        self.send("%s OK [CAPABILITY %s] logged in\r\n" % (tag, CAPS))
        return None

    def dispatch(self, tag, cmd):
        up = cmd.upper()
        if up.startswith("AUTHENTICATE PLAIN"):
            if up == "AUTHENTICATE PLAIN":
                self.send("+ \r\n")
                self.rfile.readline()
            return self.logged_in(tag)
        if up.startswith("LOGIN"):
            return self.logged_in(tag)
        if up == "CAPABILITY":
            self.send("* CAPABILITY %s\r\n%s OK done\r\n" % (CAPS, tag))
        elif up == "NAMESPACE":
            self.send('* NAMESPACE (("" "/")) NIL NIL\r\n%s OK done\r\n' % tag)
        elif up.startswith("LIST"):
            if cmd.rstrip().endswith('""'):
                self.send('* LIST (\\Noselect) "/" ""\r\n')
            elif State.at == "list" and self.list_fault(tag):
                return None
            elif State.mode == "manyfolders":
                self.many_folders()
            else:
                self.send('* LIST (\\HasNoChildren) "/" INBOX\r\n')
            self.send("%s OK done\r\n" % tag)
        elif up.startswith("STATUS"):
            self.send("* STATUS INBOX (MESSAGES %d UIDNEXT %d UIDVALIDITY 7)\r\n%s OK done\r\n"
                      % (len(State.msgs), State.uidnext, tag))
        elif up.startswith("EXAMINE") or up.startswith("SELECT"):
            self.send("* %d EXISTS\r\n* 0 RECENT\r\n* OK [UIDVALIDITY 7] v\r\n* OK [UIDNEXT %d] n\r\n"
                      "* FLAGS (\\Seen)\r\n%s OK [%s] opened\r\n"
                      % (len(State.msgs), State.uidnext, tag,
                         "READ-ONLY" if up.startswith("EXAMINE") else "READ-WRITE"))
        elif up.startswith("CREATE"):
            self.send("%s NO [ALREADYEXISTS] exists\r\n" % tag)
        elif up.startswith("APPEND"):
            self.append(tag, cmd)
        elif up.startswith("UID FETCH"):
            self.fetch(tag, cmd)
        elif up.startswith("UID STORE") or up == "NOOP":
            self.send("%s OK done\r\n" % tag)
        elif up == "LOGOUT":
            self.send("* BYE bye\r\n%s OK done\r\n" % tag)
            return "bye"
        else:
            self.send("%s BAD unknown\r\n" % tag)
        return None

    def append(self, tag, cmd):
        m = re.search(r"\{(\d+)(\+?)\}$", cmd)
        if not m:
            self.send("%s BAD literal expected\r\n" % tag)
            return
        if not m.group(2):
            self.send("+ go\r\n")
        data = self.rfile.read(int(m.group(1)))
        self.rfile.readline()  # the CRLF that ends the command
        if State.mode.endswith("-append") and State.take():
            self.send("%s NO %s\r\n" % (tag, REFUSAL[State.mode]))
            return
        with State.lock:
            uid = State.uidnext
            State.uidnext += 1
            State.msgs.append({"uid": uid, "body": data, "flags": "", "date": "01-Jan-2024 00:00:00 +0000"})
        if State.outdir:
            with open(os.path.join(State.outdir, "%d.eml" % uid), "wb") as f:
                f.write(data)
        self.send("%s OK [APPENDUID 7 %d] stored\r\n" % (tag, uid))

    def list_fault(self, tag):
        """The folder list misbehaves (MODE@list): the name INBOX as a bad literal."""
        mode, head = State.mode, b'* LIST () "/" '
        if mode == "short":
            self.send(head + b"{10}\r\nINBOX\r\n%s OK done\r\n" % tag.encode())
            self.silence()
        elif mode == "long":
            self.send(head + b"{3}\r\nINBOX\r\n%s OK done\r\n" % tag.encode())
        elif mode == "huge":
            self.send(head + b"{99999999999}\r\nINBOX")
            self.silence()
        elif mode in ("bye", "endless", "trickle"):
            self.body_fault(tag, 0, None)
        elif mode == "stall":
            self.send(head + b"{5}\r\nIN")
            self.silence()
        elif mode == "flood":
            self.endless(lambda i: b'* LIST (\\HasNoChildren) "/" INBOX\r\n')
        else:
            return False
        return True

    def many_folders(self):
        """manyfolders: INBOX and COUNT more (a million when COUNT is 0), in big writes."""
        n = State.count or 1000000
        self.send(b'* LIST (\\HasNoChildren) "/" INBOX\r\n')
        for start in range(1, n + 1, 10000):
            self.send(b"".join(b'* LIST (\\HasNoChildren) "/" f%07d\r\n' % i
                               for i in range(start, min(start + 10000, n + 1))))

    def endless(self, line):
        """Valid untagged responses, line(i) for i = 1, 2, ..., until the client leaves."""
        i = 0
        while True:
            chunk = b"".join(line(i + k) for k in range(1, 1001))
            i += 1000
            self.send(chunk)

    def body_fault(self, tag, seq, msg):
        """Send one message's body the way the mode says; False: nothing was sent."""
        mode = State.mode
        body, uid = (msg["body"], msg["uid"]) if msg else (b"", 0)
        head = b"* %d FETCH (UID %d BODY[] " % (seq, uid)
        if mode == "short":
            self.send(head + b"{%d}\r\n" % len(body) + body[:-100] + b")\r\n%s OK done\r\n" % tag.encode())
            self.silence()
        elif mode == "long":
            self.send(head + b"{%d}\r\n" % len(body) + body + b"X" * 100 + b")\r\n")
        elif mode == "cut":
            self.send(head + b"{%d}\r\n" % (len(body) - 100) + body + b")\r\n")
        elif mode == "huge":
            self.send(head + b"{99999999999}\r\n" + body[:500])
            self.silence()
        elif mode == "bye":
            self.send("* BYE shutting down for maintenance\r\n")
            raise EOFError
        elif mode == "endless":
            self.send(b"* OK ")
            while True:
                self.send(b"z" * 65536)
        elif mode == "trickle":
            self.send(b"* OK ")
            while True:
                self.send(b"z")
                time.sleep(0.3)
        elif mode == "stall":
            self.send(head + b"{%d}\r\n" % len(body) + body[: len(body) // 2])
            self.silence()
        elif mode == "flood-body":
            self.endless(lambda i: head + b"{5}\r\nhello)\r\n")
        else:
            return False
        return True

    def fetch(self, tag, cmd):
        m = re.match(r"UID FETCH (\S+) \((.*)\)$", cmd, re.I)
        if not m:
            self.send("%s BAD syntax\r\n" % tag)
            return
        items = m.group(2).upper()
        want = uid_set(m.group(1), [x["uid"] for x in State.msgs])
        body = "BODY.PEEK[]" in items
        if body and State.mode.endswith("-fetch") and State.take():
            self.send("%s NO %s\r\n" % (tag, REFUSAL[State.mode]))
            return
        for seq, msg in enumerate(State.msgs, 1):
            if msg["uid"] not in want:
                continue
            if body:
                if not self.body_fault(tag, seq, msg):
                    self.send(b"* %d FETCH (UID %d BODY[] {%d}\r\n" % (seq, msg["uid"], len(msg["body"]))
                              + msg["body"] + b")\r\n")
                continue
            size = len(msg["body"])
            if State.mode == "wrongsize":
                size = size - 1000 if msg["uid"] % 2 else size + 5000
            mid = re.search(rb"(?im)^Message-ID:[^\r\n]*\r\n", msg["body"])
            hdr = (mid.group(0) if mid else b"") + b"\r\n"
            flags = msg["flags"].encode()
            if State.mode == "evilflags":
                flags = EVIL_FLAGS.get(msg["uid"], flags)
            self.send(b'* %d FETCH (UID %d FLAGS (%s) INTERNALDATE "%s" RFC822.SIZE %d '
                      b"BODY[HEADER.FIELDS (MESSAGE-ID)] {%d}\r\n"
                      % (seq, msg["uid"], flags, msg["date"].encode(), size, len(hdr))
                      + hdr + b")\r\n")
        if not body and State.mode == "flood":
            self.endless(lambda i: b"* OK still counting\r\n")
        if not body and State.mode == "flood-fetch":
            self.endless(lambda i: b'* %d FETCH (UID %d FLAGS () INTERNALDATE "01-Jan-2024 00:00:00 '
                         b'+0000" RFC822.SIZE 10)\r\n' % (i + 3, i + 3))
        self.send("%s OK done\r\n" % tag)


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    if sys.argv[1] == "--dump":
        for msg in make_messages():
            with open("%s/%d.eml" % (sys.argv[2], msg["uid"]), "wb") as f:
                f.write(msg["body"])
        return
    State.mode, _, State.at = sys.argv[2].partition("@")
    State.count = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    State.outdir = sys.argv[4] if len(sys.argv) > 4 else None
    if State.mode.endswith("-append"):
        State.msgs, State.uidnext = [], 1
    else:
        State.msgs = make_messages()
    srv = Server(("127.0.0.1", 0), Handler)
    with open(sys.argv[1] + ".tmp", "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(sys.argv[1] + ".tmp", sys.argv[1])
    srv.serve_forever()


if __name__ == "__main__":
    main()
