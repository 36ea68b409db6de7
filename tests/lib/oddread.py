"""oddread.py FILE SIZE SEED: read FILE in odd-sized chunks at random offsets
(plus the last byte and past the end) and print the SHA-256 of the file put
together from those pieces; every byte is covered.  Exit 1 on a short read
below SIZE or on bytes that differ between two reads of the same range."""
import hashlib
import os
import random
import sys

path, size, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rnd = random.Random(seed)
buf = bytearray(size)
seen = bytearray(size)
fd = os.open(path, os.O_RDONLY)
offs = list(range(0, size, 4093))
rnd.shuffle(offs)
for off in offs:
    n = rnd.choice([1, 7, 4093, 4096, 65537, 131071])
    data = os.pread(fd, n, off)
    want = min(n, size - off)
    if len(data) != want:
        sys.exit("short read at %d: %d of %d" % (off, len(data), want))
    for i, b in enumerate(data):
        if seen[off + i] and buf[off + i] != b:
            sys.exit("unstable byte at %d" % (off + i))
    buf[off:off + len(data)] = data
    seen[off:off + len(data)] = b"\1" * len(data)
# fill the gaps small reads left, with reads of 4093 bytes where needed
for off in range(0, size, 4093):
    if not all(seen[off:off + 4093]):
        data = os.pread(fd, 4093, off)
        if len(data) != min(4093, size - off):
            sys.exit("short read at %d" % off)
        for i, b in enumerate(data):
            if seen[off + i] and buf[off + i] != b:
                sys.exit("unstable byte at %d" % (off + i))
        buf[off:off + len(data)] = data
if os.pread(fd, 10, size) != b"":
    sys.exit("data past the end")
os.close(fd)
print(hashlib.sha256(bytes(buf)).hexdigest())
