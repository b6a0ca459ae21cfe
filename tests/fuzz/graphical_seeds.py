#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_graphical_reader
(tests/fuzz/corpus/fuzz_graphical_reader/): small graphical recordings in
the format of docs/recordings.md ("Graphical recordings"), whole and torn.
Compresses with the zstd command. Run from the repository root."""
import os, struct, subprocess, tempfile

OUT = 'tests/fuzz/corpus/fuzz_graphical_reader'
HEADER = (b'{"format": "portcullis-graphical/1", "timestamp": 1795424400, '
          b'"portcullis": {"session_id": "s", "channel": 0, "protocol": "vnc"}}\n')


def zstd(data):
    with tempfile.NamedTemporaryFile() as f:  # from a file: the frame says its size
        f.write(data)
        f.flush()
        return subprocess.run(['zstd', '-q', '-c', f.name], capture_output=True, check=True).stdout


def rec(kind, t, payload):
    return struct.pack('>IBQ', len(payload), kind, t) + payload


def size(w, h):
    return struct.pack('>II', w, h)


def main():
    os.makedirs(OUT, exist_ok=True)
    w, h = 16, 8
    pixels = bytes((i * 7) & 0xff if i % 4 != 3 else 0 for i in range(w * h * 4))
    xor = bytes([0x11, 0x22, 0x33, 0]) * 6
    delta = struct.pack('>I', 2) + struct.pack('>IIII', 1, 1, 2, 2) + struct.pack('>IIII', 5, 6, 2, 1)
    body = (rec(3, 0, size(w, h)) + rec(1, 1000, size(w, h) + zstd(pixels)) +
            rec(2, 34000, delta + zstd(xor)) +
            rec(5, 40000, struct.pack('>III', 3, 4, 1)) + rec(5, 50000, struct.pack('>III', 3, 4, 0)) +
            rec(6, 60000, struct.pack('>IB', 0x61, 1)) + rec(6, 61000, struct.pack('>IB', 0x61, 0)) +
            rec(6, 62000, struct.pack('>IB', 0xff08, 1)) +
            rec(7, 70000, b'\x01' + struct.pack('>Q', 5) + bytes(32)) +
            rec(4, 80000, struct.pack('>IIII', 1, 1, 2, 2) + zstd(bytes(16))) +
            rec(4, 81000, struct.pack('>IIII', 0, 0, 0, 0)) +
            rec(3, 90000, size(4, 4)) +
            rec(8, 99000, b'end: client-closed'))
    whole = HEADER + body
    seeds = {
        'whole.pgr': whole,
        'torn.pgr': whole[:len(whole) - 7],
        'header.pgr': HEADER,
        'keyframe.pgr': HEADER + rec(3, 0, size(w, h)) + rec(1, 5, size(w, h) + zstd(pixels)),
    }
    for name, data in seeds.items():
        with open(os.path.join(OUT, name), 'wb') as f:
            f.write(data)


if __name__ == '__main__':
    main()
