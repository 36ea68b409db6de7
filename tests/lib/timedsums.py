"""timedsums.py DIR [back]: for each message file in DIR (a cur/ of the
mount), in UID order (listing order) or backwards, print UID TAB SHA-256
TAB milliseconds its open and read took.  One process reads them all, as
fast as the mount serves them: a reader that starts a process per file
never catches up with the read-ahead, and its time is the machine's load."""
import hashlib
import os
import sys
import time


def uid(name):
    return int(name.split(".U", 1)[1].split("V", 1)[0])


d = sys.argv[1]
for name in sorted(os.listdir(d), key=uid, reverse=sys.argv[2:] == ["back"]):
    t = time.monotonic()
    with open(os.path.join(d, name), "rb") as f:
        sha = hashlib.sha256(f.read()).hexdigest()
    print("%d\t%s\t%d" % (uid(name), sha, (time.monotonic() - t) * 1000))
