#!/usr/bin/env python3
"""Writes the seed corpora of fuzz_rfb_client_messages and
fuzz_rfb_server_stream (tests/fuzz/corpus/<name>/): hand-built RFB
messages, one file per message kind and encoding. Run from the repository
root. Server-stream seeds start with the target's three bytes: pixel
format (0 BGRX, 1 BGRX big-endian, 2/3 RGB565 little/big, 4 BGR233), the
framebuffer's width - 1 and height - 1."""
import os
import struct
import zlib

ROOT = 'tests/fuzz/corpus'


def write(target, name, data):
    d = os.path.join(ROOT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data)


def u16(v):
    return struct.pack('>H', v)


def u32(v):
    return struct.pack('>I', v & 0xffffffff)


# --- viewer to target -------------------------------------------------------
BGRX = bytes([32, 24, 0, 1]) + u16(255) * 3 + bytes([16, 8, 0, 0, 0, 0])
RGB565 = bytes([16, 16, 1, 1]) + u16(31) + u16(63) + u16(31) + bytes([11, 5, 0, 0, 0, 0])
client = {
    'set_pixel_format': bytes([0, 0, 0, 0]) + BGRX + bytes([0, 0, 0, 0]) + RGB565,
    'set_encodings': bytes([2, 0]) + u16(8) + b''.join(u32(e) for e in (7, 16, 5, 1, 0, -239, -223, -314)),
    'update_request': bytes([3, 0]) + u16(0) + u16(0) + u16(640) + u16(480) + bytes([3, 1]) + u16(8) * 4,
    'key_pointer': bytes([4, 1, 0, 0]) + u32(0xff0d) + bytes([5, 1]) + u16(100) + u16(200),
    'cut_text': bytes([6, 0, 0, 0]) + u32(5) + b'hello',
    'set_desktop_size': bytes([251, 0]) + u16(800) + u16(600) + bytes([1, 0]) + u32(1) + u16(0) * 2 + u16(800) +
                        u16(600) + u32(0),
}
for name, body in client.items():
    write('fuzz_rfb_client_messages', name, bytes([len(name)]) + body)


# --- target to viewer -------------------------------------------------------
def pixel(fmt, r, g, b):
    """A pixel of format `fmt` from 8-bit components."""
    if fmt in (0, 1):
        v = (r << 16) | (g << 8) | b
        return struct.pack('>I' if fmt == 1 else '<I', v)
    if fmt in (2, 3):
        v = ((r >> 3) << 11) | ((g >> 2) << 5) | (b >> 3)
        return struct.pack('>H' if fmt == 3 else '<H', v)
    return bytes([(r >> 5) | ((g >> 5) << 3) | ((b >> 6) << 6)])


def cpixel(fmt, r, g, b):
    p = pixel(fmt, r, g, b)
    if fmt == 0:
        return p[:3]
    if fmt == 1:
        return p[1:]
    return p


def tpixel(fmt, r, g, b):
    return bytes([r, g, b]) if fmt in (0, 1) else pixel(fmt, r, g, b)


def rect(x, y, w, h, enc):
    return u16(x) + u16(y) + u16(w) + u16(h) + u32(enc)


def update(*rects):
    return bytes([0, 0]) + u16(len(rects)) + b''.join(rects)


def colour(i):
    return ((i * 37) & 0xff, (i * 91) & 0xff, (i * 53) & 0xff)


def compact(n):
    out = bytes([(n & 0x7f) | (0x80 if n > 0x7f else 0)])
    if n > 0x7f:
        out += bytes([((n >> 7) & 0x7f) | (0x80 if n > 0x3fff else 0)])
        if n > 0x3fff:
            out += bytes([(n >> 14) & 0xff])
    return out


def deflate(data, z):
    return z.compress(data) + z.flush(zlib.Z_SYNC_FLUSH)


W, H = 32, 20
for fmt in range(5):
    seeds = {}
    raw = b''.join(pixel(fmt, *colour(i)) for i in range(8 * 4))
    seeds['raw_copyrect'] = update(rect(1, 1, 8, 4, 0) + raw, rect(10, 2, 8, 4, 1) + u16(1) + u16(1))
    # Hextile: raw tile, bg+fg+subrects, coloured subrects.
    tile_raw = bytes([1]) + b''.join(pixel(fmt, *colour(i)) for i in range(16 * 4))
    tile_sub = bytes([2 | 4 | 8]) + pixel(fmt, 10, 20, 30) + pixel(fmt, 200, 100, 0) + bytes([2, 0x00, 0x11, 0x23, 0x10])
    tile_col = bytes([8 | 16, 1]) + pixel(fmt, 0, 255, 0) + bytes([0x12, 0x21])
    seeds['hextile'] = update(rect(0, 0, 20, 4, 5) + tile_raw + tile_sub,
                              rect(0, 8, 16, 8, 5) + tile_col)
    # ZRLE (a 70-wide framebuffer): a rectangle of two tiles (solid, palette
    # runs), then a raw tile, on one zlib stream.
    z = zlib.compressobj()
    tiles = bytes([1]) + cpixel(fmt, 1, 2, 3)
    tiles += bytes([130]) + cpixel(fmt, 9, 9, 9) + cpixel(fmt, 250, 0, 0) + bytes([0x80, 2, 1, 0x80, 1])
    zr = deflate(tiles, z)
    tiles2 = bytes([0]) + b''.join(cpixel(fmt, *colour(i)) for i in range(4 * 2))
    zr2 = deflate(tiles2, z)
    seeds['zrle'] = update(rect(0, 0, 70, 1, 16) + u32(len(zr)) + zr, rect(2, 3, 4, 2, 16) + u32(len(zr2)) + zr2)
    # Tight: fill, copy (stream 0), palette (stream 1), gradient (stream 2).
    zs = [zlib.compressobj() for _ in range(4)]
    copy = b''.join(tpixel(fmt, *colour(i)) for i in range(6 * 4))
    dc = deflate(copy, zs[0])
    pal = bytes([1, 1]) + tpixel(fmt, 0, 0, 0) + tpixel(fmt, 255, 255, 255)
    dp = deflate(bytes([0xa5, 0x5a] * 8), zs[1])
    dg = deflate(bytes(len(copy)), zs[2])
    seeds['tight'] = update(rect(0, 0, 5, 5, 7) + bytes([0x80]) + tpixel(fmt, 7, 8, 9),
                            rect(5, 0, 6, 4, 7) + bytes([0x00]) + compact(len(dc)) + dc,
                            rect(0, 6, 16, 8, 7) + bytes([0x50]) + pal + compact(len(dp)) + dp,
                            rect(16, 6, 6, 4, 7) + bytes([0x62, 2]) + compact(len(dg)) + dg)
    # Pseudo-encodings and other messages.
    cursor = b''.join(pixel(fmt, 255, 0, 0) for _ in range(6)) + bytes([0xa0, 0x40])
    seeds['pseudo'] = (bytes([2]) + bytes([3, 0, 0, 0]) + u32(4) + b'clip' +
                       bytes([0, 0]) + u16(0xffff) + rect(0, 0, 24, 16, -223) + rect(3, 4, 0, 0, -232) +
                       rect(0, 0, 0, 0, -307) + u32(3) + b'HMI' + rect(1, 1, 3, 2, -239) + cursor +
                       rect(0, 0, 2, 1, -240) + bytes([255, 255, 255, 0, 0, 0, 0x80, 0xc0]) +
                       rect(0, 0, 0, 0, -224) +
                       update(rect(0, 0, 30, 18, -308) + bytes([1, 0, 0, 0]) + bytes(16)))
    for name, body in seeds.items():
        width = 70 if name == 'zrle' else W
        write('fuzz_rfb_server_stream', '%s_%d' % (name, fmt), bytes([fmt, width - 1, H - 1]) + body)

# Tight JPEG (32 bpp): an 8x8 picture from ffmpeg, when it is installed.
try:
    import subprocess
    jpeg = subprocess.run(['ffmpeg', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc=size=8x8', '-frames:v', '1',
                           '-f', 'mjpeg', '-'], capture_output=True, check=True).stdout
    write('fuzz_rfb_server_stream', 'tight_jpeg_0',
          bytes([0, W - 1, H - 1]) + update(rect(2, 2, 8, 8, 7) + bytes([0x90]) + compact(len(jpeg)) + jpeg))
except (OSError, subprocess.CalledProcessError):
    pass
