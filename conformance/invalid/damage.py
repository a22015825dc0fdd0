#!/usr/bin/env python3
"""Damage the codec data of an nvc elementary stream (.nvces) while keeping
the container valid: record_size, payload_size, packet sizes and every CRC
are rewritten, so that only a decoder can tell (conformance/README.md).

  damage.py IN.nvces OUT.nvces EDIT...

EDIT (offsets in bytes, payload = the record's codec payload):
  rset:OFF:HEXBYTES   overwrite payload bytes at OFF
  rxor:OFF:HEXBYTES   xor payload bytes at OFF
  rcut:LEN            keep the first LEN payload bytes
  radd:HEXBYTES       append bytes to the payload
  pset:I:OFF:HEXBYTES overwrite bytes of packet I's payload
  pxor:I:OFF:HEXBYTES xor bytes of packet I's payload
  pcut:I:LEN          keep the first LEN bytes of packet I
  padd:I:HEXBYTES     append bytes to packet I
  info                print the payload size and packet sizes (no OUT written)
"""
import struct
import sys
import zlib

SIG = bytes([0x8B, 0x4E, 0x56, 0x43, 0x0D, 0x0A, 0x1A, 0x0A])


def parse(data):
    if data[:8] != SIG:
        sys.exit("damage.py: not an nvc elementary stream")
    rs = struct.unpack(">I", data[12:16])[0]
    rec = data[8:8 + rs]
    n = struct.unpack(">I", rec[52:56])[0]
    head, payload = rec[:56], rec[56:56 + n]
    pos, pkts = 8 + rs, []
    while True:
        size, flags, pts = struct.unpack(">IIq", data[pos:pos + 16])
        if size == 0xFFFFFFFF:
            break
        pkts.append([flags, pts, bytearray(data[pos + 16:pos + 16 + size])])
        pos += 20 + size
    return bytearray(head), bytearray(payload), pkts


def build(head, payload, pkts):
    n = len(payload)
    rec = bytearray(head) + payload + (b"\0" if n % 2 else b"")
    struct.pack_into(">I", rec, 4, len(rec) + 4)
    struct.pack_into(">I", rec, 52, n)
    rec += struct.pack(">I", zlib.crc32(rec))
    out = bytearray(SIG) + rec
    for flags, pts, p in pkts:
        h = struct.pack(">IIq", len(p), flags, pts) + p
        out += h + struct.pack(">I", zlib.crc32(h))
    end = struct.pack(">IIq", 0xFFFFFFFF, 0, len(pkts))
    return out + end + struct.pack(">I", zlib.crc32(end))


def main():
    if len(sys.argv) == 3 and sys.argv[2] == "info":
        head, payload, pkts = parse(open(sys.argv[1], "rb").read())
        print("payload", len(payload), "packets", [len(p[2]) for p in pkts])
        return
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    data = open(sys.argv[1], "rb").read()
    head, payload, pkts = parse(data)
    if build(head, payload, pkts) != data:
        sys.exit("damage.py: %s does not rebuild to the same bytes" % sys.argv[1])
    for e in sys.argv[3:]:
        f = e.split(":")
        if f[0] == "rset":
            b = bytes.fromhex(f[2])
            payload[int(f[1]):int(f[1]) + len(b)] = b
        elif f[0] == "rxor":
            for i, x in enumerate(bytes.fromhex(f[2])):
                payload[int(f[1]) + i] ^= x
        elif f[0] == "pxor":
            p = pkts[int(f[1])][2]
            for i, x in enumerate(bytes.fromhex(f[3])):
                p[int(f[2]) + i] ^= x
        elif f[0] == "rcut":
            del payload[int(f[1]):]
        elif f[0] == "radd":
            payload += bytes.fromhex(f[1])
        elif f[0] == "pset":
            p, b = pkts[int(f[1])][2], bytes.fromhex(f[3])
            p[int(f[2]):int(f[2]) + len(b)] = b
        elif f[0] == "pcut":
            del pkts[int(f[1])][2][int(f[2]):]
        elif f[0] == "padd":
            pkts[int(f[1])][2] += bytes.fromhex(f[2])
        else:
            sys.exit("damage.py: unknown edit " + e)
    open(sys.argv[2], "wb").write(build(head, payload, pkts))


main()
