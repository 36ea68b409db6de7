#!/usr/bin/env python3
"""relaycheck.py - both ends of tests/t-relay.sh's self-check of
tests/tools/relay's modelled link.

  relaycheck.py serve PORT-FILE       the far end: a TCP server on 127.0.0.1
  relaycheck.py greet PORT            ms from connect() to the greeting
  relaycheck.py rtt PORT N            N one-line round trips, ms each
  relaycheck.py bulk PORT c2s|s2c|both|two MB
                                      MB one way (two: on two connections
                                      at once, client to server), SHA-256
                                      checked; MB/s each way, timed at the
                                      receiver from its first to its last
                                      byte.  An upload ends with a half
                                      close (shutdown) before the answer
  relaycheck.py hold PORT SECS        write for SECS to a server that reads
                                      nothing; bytes the client got rid of

The server greets every connection with a line, then reads one command line:
  echo          answers each line at once with the same line
  sink N        reads N bytes, answers "SHA256 FIRST LAST" (its monotonic
                clock at the first and the last byte: this is one machine)
  source N      sends N pseudo-random bytes, then "SHA256 FIRST LAST"
  hold          reads nothing until the client closes
Results go to stdout as KEY=VALUE lines for the shell to judge.
"""
import hashlib
import os
import socket
import sys
import threading
import time

BLOCK = 65536


def now_ms():
    return time.monotonic() * 1000.0


def recv_line(s):
    line = b""
    while not line.endswith(b"\n"):
        b = s.recv(1)
        if not b:
            raise EOFError("connection closed")
        line += b
    return line.decode().strip()


def recv_exact(s, n, digest):
    first = last = None
    while n > 0:
        b = s.recv(min(n, BLOCK))
        if not b:
            raise EOFError("connection closed with %d bytes to go" % n)
        last = now_ms()
        first = first if first is not None else last
        digest.update(b)
        n -= len(b)
    return first, last


def send_random(s, n, digest):
    rnd = os.urandom(BLOCK * 4)
    off = 0
    while n > 0:
        # odd sizes on purpose: chunks never line up with the relay's reads
        k = min(n, 1000 + (off * 7919) % (BLOCK * 3))
        piece = rnd[off % BLOCK: off % BLOCK + k]
        s.sendall(piece)
        digest.update(piece)
        n -= len(piece)
        off += len(piece)


def serve_one(c):
    with c:
        c.sendall(b"* hello\n")
        cmd = recv_line(c).split()
        if cmd[0] == "echo":
            while True:
                c.sendall((recv_line(c) + "\n").encode())
        elif cmd[0] == "sink":
            h = hashlib.sha256()
            first, last = recv_exact(c, int(cmd[1]), h)
            c.sendall(("%s %.3f %.3f\n" % (h.hexdigest(), first, last)).encode())
            recv_line(c)
        elif cmd[0] == "source":
            h = hashlib.sha256()
            send_random(c, int(cmd[1]), h)
            c.sendall((h.hexdigest() + "\n").encode())
            recv_line(c)
        elif cmd[0] == "hold":
            while c.recv(1, socket.MSG_PEEK):
                time.sleep(0.1)


def serve(port_file):
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", 0))
    ls.listen(16)
    with open(port_file + ".tmp", "w") as f:
        f.write("%d\n" % ls.getsockname()[1])
    os.rename(port_file + ".tmp", port_file)
    while True:
        c, _ = ls.accept()
        threading.Thread(target=lambda: _quiet(serve_one, c), daemon=True).start()


def _quiet(fn, *a):
    try:
        fn(*a)
    except (EOFError, OSError):
        pass


def connect(port):
    # no create_connection(): its name lookup costs milliseconds
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.connect(("127.0.0.1", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def greet(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    t0 = now_ms()
    s.connect(("127.0.0.1", port))
    recv_line(s)
    print("greet_ms=%.1f" % (now_ms() - t0))


def rtt(port, n):
    s = connect(port)
    recv_line(s)
    s.sendall(b"echo\n")
    times = []
    for i in range(n):
        t0 = now_ms()
        s.sendall(b"ping %d\n" % i)
        if recv_line(s) != "ping %d" % i:
            raise SystemExit("rtt: wrong answer")
        times.append(now_ms() - t0)
    times.sort()
    print("rtt_min_ms=%.1f" % times[0])
    print("rtt_median_ms=%.1f" % times[len(times) // 2])
    print("rtt_max_ms=%.1f" % times[-1])


def upload(port, nbytes, out, key):
    s = connect(port)
    recv_line(s)
    s.sendall(b"sink %d\n" % nbytes)
    h = hashlib.sha256()
    send_random(s, nbytes, h)
    # a half close: the answer must still come back through the relay
    s.shutdown(socket.SHUT_WR)
    digest, first, last = recv_line(s).split()
    out[key] = (digest == h.hexdigest(), float(first), float(last))


def download(port, nbytes, out, key):
    s = connect(port)
    recv_line(s)
    s.sendall(b"source %d\n" % nbytes)
    h = hashlib.sha256()
    first, last = recv_exact(s, nbytes, h)
    digest = recv_line(s)
    s.sendall(b"bye\n")
    out[key] = (digest == h.hexdigest(), first, last)


def bulk(port, how, mb):
    nbytes = int(mb * 1e6)
    jobs = {"c2s": [("c2s", upload)], "s2c": [("s2c", download)],
            "both": [("c2s", upload), ("s2c", download)],
            "two": [("c2s_a", upload), ("c2s_b", upload)]}[how]
    out = {}
    threads = [threading.Thread(target=fn, args=(port, nbytes, out, key)) for key, fn in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if len(out) != len(jobs):
        raise SystemExit("bulk: a transfer failed")
    for key, (ok, first, last) in sorted(out.items()):
        print("%s_sha256=%s" % (key, "ok" if ok else "MISMATCH"))
        print("%s_MBps=%.2f" % (key, nbytes / 1e6 / ((last - first) / 1000.0)))
    if how == "two":
        first = min(v[1] for v in out.values())
        last = max(v[2] for v in out.values())
        print("sum_MBps=%.2f" % (2 * nbytes / 1e6 / ((last - first) / 1000.0)))


def hold(port, secs):
    s = connect(port)
    recv_line(s)
    s.sendall(b"hold\n")
    s.setblocking(False)
    junk = b"x" * BLOCK
    sent = 0
    end = time.monotonic() + secs
    while time.monotonic() < end:
        try:
            sent += s.send(junk)
        except BlockingIOError:
            time.sleep(0.01)
    print("hold_sent_bytes=%d" % sent)


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "serve":
        serve(args[0])
    elif cmd == "greet":
        greet(int(args[0]))
    elif cmd == "rtt":
        rtt(int(args[0]), int(args[1]))
    elif cmd == "bulk":
        bulk(int(args[0]), args[1], float(args[2]))
    elif cmd == "hold":
        hold(int(args[0]), float(args[1]))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
