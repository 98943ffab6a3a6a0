#!/usr/bin/python3
# SPDX-License-Identifier: ISC
# forge_pack.py OUTDIR [TYPE:CLAIMED_OID:CONTENT_FILE]...
# A pack + v2 index whose index names each entry by CLAIMED_OID, whatever its content hashes
# to. Checksums (the pack trailer, the index's copy of it, the index trailer) are all right,
# so only the object hashes lie.
import hashlib, struct, sys, zlib, os

TYPES = {"commit": 1, "tree": 2, "blob": 3, "tag": 4}

def entry_header(t, size):
    b = (t << 4) | (size & 15)
    size >>= 4
    out = bytearray()
    while size:
        out.append(b | 0x80)
        b = size & 0x7f
        size >>= 7
    out.append(b)
    return bytes(out)

def main():
    outdir = sys.argv[1]
    entries = []
    for spec in sys.argv[2:]:
        t, oid, path = spec.split(":", 2)
        entries.append((TYPES[t], bytes.fromhex(oid), open(path, "rb").read()))
    pack = bytearray(b"PACK" + struct.pack(">II", 2, len(entries)))
    index = []
    for t, oid, data in entries:
        off = len(pack)
        raw = entry_header(t, len(data)) + zlib.compress(data)
        pack += raw
        index.append((oid, zlib.crc32(raw) & 0xffffffff, off))
    pack_sum = hashlib.sha1(pack).digest()
    pack += pack_sum
    index.sort()
    idx = bytearray(b"\377tOc" + struct.pack(">I", 2))
    fan = [0] * 256
    for oid, _, _ in index:
        fan[oid[0]] += 1
    total = 0
    for i in range(256):
        total += fan[i]
        idx += struct.pack(">I", total)
    for oid, _, _ in index:
        idx += oid
    for _, crc, _ in index:
        idx += struct.pack(">I", crc)
    for _, _, off in index:
        idx += struct.pack(">I", off)
    idx += pack_sum
    idx += hashlib.sha1(idx).digest()
    name = "pack-" + pack_sum.hex()
    open(os.path.join(outdir, name + ".pack"), "wb").write(pack)
    open(os.path.join(outdir, name + ".idx"), "wb").write(idx)
    print(name)

main()
