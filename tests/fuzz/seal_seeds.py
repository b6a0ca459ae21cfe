#!/usr/bin/env python3
"""Writes the seed corpora of fuzz_seal_manifest and fuzz_recording_verify
(tests/fuzz/corpus/<name>/): sealed recordings in the formats of
docs/recordings.md. Signatures are placeholders; fuzz_recording_verify's
flag bits re-sign them with its fixed key. Run from the repository root."""
import base64, hashlib, json, os, subprocess


def fixed_key_id():
    """The key id of fuzz_recording_verify's fixed key (seed bytes i*7+1)."""
    seed = bytes((i * 7 + 1) & 0xff for i in range(32))
    der = bytes.fromhex('302e020100300506032b657004220420') + seed
    pub = subprocess.run(['openssl', 'pkey', '-inform', 'DER', '-pubout', '-outform', 'DER'],
                         input=der, capture_output=True, check=True).stdout
    return 'ed25519:' + hashlib.sha256(pub[-32:]).hexdigest()


KEY_ID = fixed_key_id()

HEADER = ('{"version":2,"width":80,"height":24,"timestamp":1795424400,'
          '"title":"bob: maint@rtu-01","env":{"TERM":"xterm"},"portcullis":{"session_id":"s",'
          '"channel":0,"user":"bob","login":"maint","target":"rtu-01","protocol":"ssh",'
          '"source":"127.0.0.1:50022","command":"","record_input":false,'
          '"started":"2026-11-23T09:00:00.000000Z"}}\n')
EVENTS = ['[%d.000000, "o", "line %02d of output\\r\\n"]\n' % (i + 1, i) for i in range(6)]
CAST = HEADER + ''.join(EVENTS) + '[7.000000, "m", "end: client closed"]\n'
SIG = base64.b64encode(bytes(64)).decode()
# A recording in a format of no interest to the verifier (ASCII bytes, NULs included).
BINARY = ''.join(chr((i * 37) % 128) for i in range(300))
SPLIT = '\n--8<--\n'


def sha(b):
    return hashlib.sha256(b.encode()).hexdigest()


def checkpoints(cast, cuts):
    out = []
    for seq, (off, secs) in enumerate(cuts):
        out.append({'seq': seq, 'offset': off, 'elapsed_micros': secs * 1000000,
                    'sha256': sha(cast[:off]), 'utc': '2026-11-23T09:00:%02d.000000Z' % secs})
    return out


def seal_line(rid, cp):
    return 'portcullis-checkpoint/1 %s %d %d %d.000000 %s %s %s\n' % (
        rid, cp['seq'], cp['offset'], cp['elapsed_micros'] // 1000000, cp['sha256'], cp['utc'], SIG)


def manifest(cast, rid='s.0', session='s', cps=None, media_type='asciicast/2'):
    m = {'format': 'portcullis-recording-manifest/1', 'recording_id': rid,
         'recording_file': rid + '.cast', 'media_type': media_type, 'session_id': session,
         'channel': 0, 'protocol': 'ssh', 'user': 'bob', 'login': 'maint', 'target': 'rtu-01',
         'target_address': '127.0.0.1:2222', 'source': '127.0.0.1:50022', 'command': '',
         'roles': ['ops'], 'rule': 'role ops allow', 'approvals': [], 'certificate_serial': 7,
         'record_input': False, 'started': '2026-11-23T09:00:00.000000Z',
         'ended': '2026-11-23T09:00:07.000000Z', 'duration_micros': 7000000,
         'end_reason': 'client closed', 'state': 'complete', 'failure': '',
         'size': len(cast), 'sha256': sha(cast),
         'key': KEY_ID,
         'checkpoints': cps if cps is not None else []}
    return json.dumps(m, indent=2) + '\n'


def write(name, seeds):
    d = os.path.join('tests/fuzz/corpus', name)
    os.makedirs(d, exist_ok=True)
    for fname, data in seeds.items():
        with open(os.path.join(d, fname), 'wb') as f:
            f.write(data if isinstance(data, bytes) else data.encode())


cuts = [(len(HEADER), 0), (len(HEADER) + len(EVENTS[0]) * 3, 3), (len(CAST), 7)]
cps = checkpoints(CAST, cuts)
good_manifest = manifest(CAST, cps=cps)
seal = ''.join(seal_line('s.0', cp) for cp in cps[:2])

write('fuzz_seal_manifest', {
    'manifest': good_manifest,
    'checkpoint_lines': seal,
    'unknown_key': good_manifest.replace('"user": "bob",', '"user": "bob", "admin": true,'),
    'duplicate_key': good_manifest.replace('"user": "bob",', '"user": "bob", "user": "eve",'),
    'deep': good_manifest.replace('"approvals": []', '"approvals": [[[[[[[]]]]]]]'),
    'leading_zero': seal.replace(' 1 ', ' 01 ', 1),
})

edited = CAST.replace('line 03', 'line 93')
flags_complete = bytes([1 | 8 | 16])
flags_seal = bytes([2 | 32])
write('fuzz_recording_verify', {
    'complete': flags_complete + (CAST + SPLIT + good_manifest + SPLIT + SPLIT).encode(),
    'edited_byte': flags_complete + (edited + SPLIT + good_manifest + SPLIT + SPLIT).encode(),
    'appended': flags_complete + (CAST + 'junk\n' + SPLIT + good_manifest + SPLIT + SPLIT).encode(),
    'other_recording': flags_complete + (CAST + SPLIT + manifest(CAST, 't.0', 't') + SPLIT +
                                         SPLIT).encode(),
    'over_cap': bytes([1 | 4 | 8 | 16]) + ((CAST * 4) + SPLIT + good_manifest + SPLIT +
                                          SPLIT).encode(),
    'unsigned_manifest': bytes([8 | 16]) + (CAST + SPLIT + good_manifest + SPLIT + 'x' * 64 +
                                            SPLIT).encode(),
    'truncated': flags_seal + (CAST + SPLIT + SPLIT + SPLIT + seal +
                               'portcullis-checkpoint/1 s.0 2').encode(),
    'seal_reordered': flags_seal + (CAST + SPLIT + SPLIT + SPLIT +
                                    ''.join(seal_line('s.0', cp) for cp in [cps[1], cps[0]])).encode(),
    'seal_short_file': flags_seal + (CAST[:len(HEADER) + 10] + SPLIT + SPLIT + SPLIT + seal).encode(),
    'nothing': bytes([0]) + CAST.encode(),
    'foreign_key': flags_complete + (CAST + SPLIT + good_manifest.replace(KEY_ID, 'ed25519:' + '0' * 64) +
                                     SPLIT + SPLIT).encode(),
    'garbage_header': bytes([0xff]) + b'\x00\xff{"portcullis":' + SPLIT.encode() + b'{' * 100,
    # Verified from the manifest, which names the recording.
    'from_manifest': bytes([1 | 8 | 16 | 64]) + (CAST + SPLIT + good_manifest + SPLIT +
                                                 SPLIT).encode(),
    # Not asciicast: the verifier never parses the recording.
    'binary': flags_complete + (BINARY + SPLIT + manifest(
        BINARY, cps=checkpoints(BINARY, [(100, 1), (len(BINARY), 3)]),
        media_type='application/x-portcullis-test-frames') + SPLIT + SPLIT).encode(),
})
