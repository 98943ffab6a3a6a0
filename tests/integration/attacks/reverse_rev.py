#!/usr/bin/python3
# SPDX-License-Identifier: ISC
# reverse_rev.py FILE.rev
# Turns a pack's reverse index into a lie with every checksum right: the entries are put in
# reverse order and the trailer's SHA-1 recomputed. The pack checksum it carries is kept.
import hashlib, os, sys

HEADER, TRAILER = 12, 40  # "RIDX", version, hash id; pack checksum + own checksum

path = sys.argv[1]
data = bytearray(open(path, "rb").read())
count = (len(data) - HEADER - TRAILER) // 4
entries = [data[HEADER + 4 * i:HEADER + 4 * i + 4] for i in range(count)]
data[HEADER:HEADER + 4 * count] = b"".join(reversed(entries))
data[-20:] = hashlib.sha1(bytes(data[:-20])).digest()
os.chmod(path, 0o644)
with open(path, "wb") as f:
    f.write(data)
