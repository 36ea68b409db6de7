"""rawfetch.py PORT USER PASSFILE FOLDER [ITEMS]: log in (plain IMAP),
EXAMINE FOLDER, send ONE `UID FETCH 1:* BODY.PEEK[]` (or `UID FETCH 1:*
(ITEMS)`) and read the answer to the end; print the literal bytes (all the
bytes, with ITEMS) received and the seconds it took.  The yardstick for the
mount's throughput and for its first listing (no parsing beyond literal
sizes)."""
import re
import socket
import sys
import time

port, user, pwfile, folder = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
items = sys.argv[5] if len(sys.argv) > 5 else None
pw = open(pwfile).read().splitlines()[0]
s = socket.create_connection(("127.0.0.1", port))
f = s.makefile("rb", buffering=1 << 20)


def cmd(tag, text):
    s.sendall(("%s %s\r\n" % (tag, text)).encode())
    while True:
        line = f.readline()
        if line.startswith(tag.encode() + b" "):
            return line


f.readline()
cmd("a1", 'LOGIN "%s" "%s"' % (user, pw))
cmd("a2", 'EXAMINE "%s"' % folder)
t0 = time.time()
s.sendall(("a3 UID FETCH 1:* %s\r\n" % ("(%s)" % items if items else "BODY.PEEK[]")).encode())
total = 0
lit = re.compile(rb"\{(\d+)\}\r\n$")
while True:
    line = f.readline()
    if line.startswith(b"a3 "):
        break
    if items:
        total += len(line)
        continue
    m = lit.search(line)
    if m:
        n = int(m.group(1))
        left = n
        while left:
            chunk = f.read(min(left, 1 << 20))
            left -= len(chunk)
        total += n
print(total, "%.3f" % (time.time() - t0))
