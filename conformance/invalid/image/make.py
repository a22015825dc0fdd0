#!/usr/bin/env python3
"""Regenerate the learned image codec's invalid streams (conformance/invalid/image/).

Each is a valid elementary stream of conformance/image/ damaged in one way in
the codec's own bytes (doc/FORMAT.md, "Learned image codec"): the configuration
payload or a packet. Every container CRC and size is rewritten to match, so
the container layer accepts the stream and only the image decoder can refuse
it. The files are committed; run this only to change them:

    conformance/invalid/image/make.py NVDEC

It prints the codecs.list lines (FILE<TAB>nvdec: REASON), each checked:
NVDEC must fail with exit status 1 and one line on stderr holding REASON.
"""
import os
import struct
import subprocess
import sys
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
REF = os.path.join(HERE, '..', '..', 'image')
SIG = b'\x8bNVC\r\n\x1a\n'


def parse(data):
    """(record fields before the payload, payload, [(flags, pts, bytes)])"""
    assert data[:8] == SIG
    rsz = struct.unpack('>I', data[12:16])[0]
    rec = data[8:8 + rsz]
    n = struct.unpack('>I', rec[52:56])[0]
    head, payload = rec[:52], rec[56:56 + n]
    pkts, p = [], 8 + rsz
    while True:
        sz, flags, pts = struct.unpack('>IIq', data[p:p + 16])
        if sz == 0xFFFFFFFF:
            break
        pkts.append((flags, pts, data[p + 16:p + 16 + sz]))
        p += 20 + sz
    return head, payload, pkts


def build(head, payload, pkts):
    n = len(payload)
    body = head[:4] + struct.pack('>I', 60 + n + n % 2) + head[8:52] + struct.pack('>I', n) + payload
    body += b'\0' * (n % 2)
    rec = body + struct.pack('>I', zlib.crc32(body))
    out = SIG + rec
    for flags, pts, b in pkts:
        h = struct.pack('>IIq', len(b), flags, pts) + b
        out += h + struct.pack('>I', zlib.crc32(h))
    end = struct.pack('>IIq', 0xFFFFFFFF, 0, len(pkts))
    return out + end + struct.pack('>I', zlib.crc32(end))


def load(name):
    with open(os.path.join(REF, name), 'rb') as f:
        return parse(f.read())


def xor_at(b, off, mask):
    b = bytearray(b)
    b[off] ^= mask
    return bytes(b)


def main():
    nvdec = sys.argv[1]
    out = []

    def emit(fname, head, payload, pkts, reason='corrupt packet'):
        path = os.path.join(HERE, fname)
        with open(path, 'wb') as f:
            f.write(build(head, payload, pkts))
        r = subprocess.run([nvdec, '--md5', path], capture_output=True, text=True)
        lines = r.stderr.strip().splitlines()
        if r.returncode != 1 or len(lines) != 1 or r.stdout:
            sys.exit(f'make.py: {fname}: nvdec exit {r.returncode}, stderr {lines!r}')
        if 'image codec: ' + reason not in lines[0]:
            sys.exit(f'make.py: {fname}: nvdec said {lines[0]!r}, not {reason!r}')
        reason = 'image codec: ' + reason
        out.append(f'image/{fname}\tnvdec: {reason}')

    # configuration payload: version, prior, model CRC, name
    h, pl, pk = load('64x48-rgb-q0.nvces')
    emit('payload-version-0.nvces', h, b'\0' + pl[1:], pk, 'malformed stream configuration')
    emit('payload-version-2.nvces', h, b'\2' + pl[1:], pk, 'payload version 2 is newer')
    emit('payload-prior-1.nvces', h, pl[:1] + b'\1' + pl[2:], pk, 'the stream needs model')
    emit('payload-model-crc.nvces', h, xor_at(pl, 3, 1), pk, 'the stream needs model')
    emit('payload-truncated.nvces', h, pl[:5], pk, 'malformed stream configuration')
    emit('payload-empty.nvces', h, b'', pk, 'malformed stream configuration')
    emit('payload-trailing-byte.nvces', h, pl + b'\0', pk, 'malformed stream configuration')
    emit('payload-name-overrun.nvces', h, pl[:6] + bytes([pl[6] + 1]) + pl[7:], pk, 'malformed stream configuration')
    # picture formats the codec does not code (record fields 20..22)
    emit('layout-400.nvces', h[:20] + b'\0' + h[21:], pl, pk, 'pictures must be 8-bit RGB or YCbCr 4:2:0')
    emit('bpc-10.nvces', h[:21] + b'\x0a' + h[22:], pl, pk, 'pictures must be 8-bit RGB or YCbCr 4:2:0')
    emit('ycbcr-444.nvces', h[:22] + b'\1' + h[23:], pl, pk, 'pictures must be 8-bit RGB or YCbCr 4:2:0')
    # packets: header (quality, reserved byte), truncation, trailing bytes
    f, t, b = pk[0]
    emit('packet-1-byte.nvces', h, pl, [(f, t, b[:1])], 'bad packet header')
    emit('packet-q-64.nvces', h, pl, [(f, t, b'\x40' + b[1:])], 'bad packet header')
    emit('packet-q-255.nvces', h, pl, [(f, t, b'\xff' + b[1:])], 'bad packet header')
    emit('packet-reserved-1.nvces', h, pl, [(f, t, b[:1] + b'\1' + b[2:])], 'bad packet header')
    emit('packet-trailing-byte.nvces', h, pl, [(f, t, b + b'\0')])
    emit('packet-trailing-zeros.nvces', h, pl, [(f, t, b + b'\0' * 64)])
    for n in (2, 3, 6, 10, len(b) // 2, len(b) - 1):
        emit(f'packet-cut-{n}.nvces', h, pl, [(f, t, b[:n])])
    # the second packet of a two-packet 4:2:0 stream cut (the first decodes)
    h2, pl2, pk2 = load('64x48-420-q20-2f.nvces')
    f2, t2, b2 = pk2[1]
    emit('420-second-packet-cut.nvces', h2, pl2, [pk2[0], (f2, t2, b2[:len(b2) // 2])])
    # a sub-stream size field of the first entropy payload set beyond the packet
    emit('packet-substream-huge.nvces', h, pl, [(f, t, b[:2] + b'\xff' * 4 + b[6:])])
    print('\n'.join(out))


main()
