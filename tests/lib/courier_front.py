#!/usr/bin/env python3
"""courier_front.py - a real Courier-IMAP imapd on a 127.0.0.1 socket.

Courier's imapd speaks IMAP on stdin/stdout once somebody else (imaplogin
with courier-authlib) has logged the user in; run with AUTHENTICATED set it
greets "* PREAUTH".  This front takes that login's place for one test
account: it accepts TCP connections, answers the not-authenticated state
itself (CAPABILITY, NOOP, LOGOUT, LOGIN with atoms, quoted strings or
literals), checks the password against a file, then starts imapd in the
account's home and relays bytes unchanged both ways, with the PREAUTH
greeting turned into the LOGIN command's tagged OK.  Everything after the
login is the real Courier server.

usage: courier_front.py --port N --imapd PATH --libpath DIRS --home DIR
                        --user NAME --password-file FILE --log FILE
It writes its pid to --pid-file when listening, and ends on SIGTERM, with
its sessions and their imapd processes.
"""
import argparse
import os
import re
import select
import signal
import socket
import sys

CAPS = "IMAP4rev1"
CHILDREN = set()  # the front: its sessions; a session: its imapd


def end_children(signum, frame):
    """SIGTERM: take the sessions (or this session's imapd) along."""
    for pid in CHILDREN:
        try:
            os.kill(pid, signal.SIGTERM)
        except OSError:
            pass
    os._exit(0)


def read_line(sock):
    """One line up to CRLF, byte by byte: nothing after it is consumed."""
    out = bytearray()
    while not out.endswith(b"\r\n"):
        b = sock.recv(1)
        if not b:
            return None
        out += b
        if len(out) > 65536:
            return None
    return bytes(out[:-2])


def read_exact(sock, n):
    out = bytearray()
    while len(out) < n:
        b = sock.recv(n - len(out))
        if not b:
            return None
        out += b
    return bytes(out)


def parse_args(sock, line, count):
    """count astrings after the command word: atoms, "quoted" or {n} literals."""
    args, rest = [], line
    while len(args) < count:
        rest = rest.lstrip(b" ")
        if rest.startswith(b'"'):
            m = re.match(rb'"((?:[^"\\]|\\.)*)"', rest)
            if not m:
                return None
            args.append(re.sub(rb"\\(.)", rb"\1", m.group(1)))
            rest = rest[m.end():]
        elif re.match(rb"\{\d+\+?\}$", rest):
            n = int(re.match(rb"\{(\d+)", rest).group(1))
            if not rest.endswith(b"+}"):
                sock.sendall(b"+ OK\r\n")
            data = read_exact(sock, n)
            more = read_line(sock)
            if data is None or more is None:
                return None
            args.append(data)
            rest = more
        else:
            m = re.match(rb"[^ ]+", rest)
            if not m:
                return None
            args.append(m.group(0))
            rest = rest[m.end():]
    return args


def imapd_env(a):
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": a.home,
        "AUTHENTICATED": a.user,
        "TCPREMOTEIP": "127.0.0.1",
        "TCPREMOTEPORT": "0",
        "IMAP_KEYWORDS": "1",
        "IMAP_ENHANCEDIDLE": "0",
        # Debian's /etc/courier/imapd defaults
        "IMAP_CAPABILITY": "IMAP4rev1 UIDPLUS CHILDREN NAMESPACE "
                           "THREAD=ORDEREDSUBJECT THREAD=REFERENCES SORT QUOTA IDLE",
        "LD_LIBRARY_PATH": a.libpath,
    }


def relay(sock, a, tag):
    log = open(a.log, "ab")
    r_out, w_out = os.pipe()
    r_in, w_in = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.dup2(r_in, 0)
        os.dup2(w_out, 1)
        os.dup2(log.fileno(), 2)
        os.chdir(a.home)
        os.execve(a.imapd, [a.imapd, "Maildir"], imapd_env(a))
    CHILDREN.add(pid)
    os.close(r_in)
    os.close(w_out)
    # imapd's greeting: up to and including "* PREAUTH ..."
    buf = b""
    while b"* PREAUTH" not in buf or not buf.endswith(b"\n"):
        d = os.read(r_out, 4096)
        if not d:
            sock.sendall(tag + b" NO imapd did not start\r\n")
            return
        buf += d
    i = buf.index(b"* PREAUTH")
    end = buf.index(b"\n", i) + 1
    sock.sendall(tag + b" OK LOGIN Ok.\r\n" + buf[end:])
    fds = [sock.fileno(), r_out]
    while True:
        ready, _, _ = select.select(fds, [], [])
        if sock.fileno() in ready:
            d = sock.recv(65536)
            if not d:
                break
            os.write(w_in, d)
        if r_out in ready:
            d = os.read(r_out, 65536)
            if not d:
                break
            sock.sendall(d)
    os.close(w_in)
    os.close(r_out)
    os.waitpid(pid, 0)


def session(sock, a):
    password = open(a.password_file, "rb").read().strip()
    sock.sendall(b"* OK [CAPABILITY " + CAPS.encode() + b"] Courier-IMAP front ready\r\n")
    while True:
        line = read_line(sock)
        if line is None:
            return
        parts = line.split(b" ", 2)
        tag = parts[0]
        cmd = parts[1].upper() if len(parts) > 1 else b""
        rest = parts[2] if len(parts) > 2 else b""
        if cmd == b"CAPABILITY":
            sock.sendall(b"* CAPABILITY " + CAPS.encode() + b"\r\n" + tag + b" OK done\r\n")
        elif cmd == b"NOOP":
            sock.sendall(tag + b" OK done\r\n")
        elif cmd == b"LOGOUT":
            sock.sendall(b"* BYE bye\r\n" + tag + b" OK done\r\n")
            return
        elif cmd == b"LOGIN":
            args = parse_args(sock, rest, 2)
            if args and args[0].decode(errors="replace") == a.user and args[1] == password:
                relay(sock, a, tag)
                return
            sock.sendall(tag + b" NO [AUTHENTICATIONFAILED] Login failed.\r\n")
        else:
            sock.sendall(tag + b" BAD log in first (LOGIN)\r\n")


def main():
    p = argparse.ArgumentParser()
    for o in ("--port", "--imapd", "--libpath", "--home", "--user",
              "--password-file", "--log", "--pid-file"):
        p.add_argument(o, required=True)
    a = p.parse_args()
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", int(a.port)))
    srv.listen(16)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # sessions reap themselves
    signal.signal(signal.SIGTERM, end_children)
    with open(a.pid_file, "w") as f:
        f.write("%d\n" % os.getpid())
    while True:
        conn, _ = srv.accept()
        pid = os.fork()
        if pid == 0:
            srv.close()
            CHILDREN.clear()
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            try:
                session(conn, a)
            finally:
                conn.close()
                os._exit(0)
        CHILDREN.add(pid)
        CHILDREN.difference_update(
            [p for p in CHILDREN if not os.path.exists("/proc/%d" % p)])
        conn.close()


if __name__ == "__main__":
    sys.exit(main())
