#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Tiny audio fixtures for tests/test-audio.c and seeds for tests/fuzz/fuzz-audio.c.

Run:  /usr/bin/python3 make_fixtures.py   (standard library only)
Every file is written byte by byte from the specs, without any audio library:
  RIFF/WAVE: Microsoft "Multimedia Programming Interface and Data Specifications 1.0" (1991);
  FLAC: https://xiph.org/flac/format.html (STREAMINFO, frame header, VERBATIM subframes,
        CRC-8 poly 0x07 over the header, CRC-16 poly 0x8005 over the frame).

Valid files (2 channels, 16 kHz, 100 frames, 16-bit; left[i] = 300*i - 15000,
right[i] = 6*i*i - 29000 - i):
  stereo_s16.wav, stereo_s16.flac (one verbatim frame of 100 samples per channel)
  stereo_s16.aiff (same samples, big-endian AIFF), mono_float.wav (IEEE float, 8 kHz,
  50 frames, x[i] = (i - 25) / 8), mono_ulaw.au (Sun .snd, mu-law, 8 kHz, 64 bytes 0..63)
Malformed files (expected result in test-audio.c):
  bad_magic.wav        'RIFX' replaced by 'RIFQ'
  truncated_header.wav first 30 bytes of stereo_s16.wav
  truncated_data.wav   header intact, only 37 of 100 frames present
  zero_rate.wav        fmt sample rate 0
  zero_channels.wav    fmt channel count 0
  huge_data.wav        data chunk declares 0x7ffffff0 bytes
  flac_huge_total.flac STREAMINFO total samples 2^36 - 1 (file holds 100)
  flac_zero_rate.flac  STREAMINFO sample rate 0
  flac_bad_crc.flac    one sample byte flipped, so the frame CRC-16 fails
  garbage.bin          256 pseudo-random bytes
"""
import os
import shutil
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "..", "..", "fuzz", "corpus", "audio")

RATE, CH, N = 16000, 2, 100
LEFT = [300 * i - 15000 for i in range(N)]
RIGHT = [6 * i * i - 29000 - i for i in range(N)]
assert all(-32768 <= v <= 32767 for v in LEFT + RIGHT)


def wav(rate=RATE, ch=CH, frames=None, data_size=None):
    frames = N if frames is None else frames
    pcm = b"".join(struct.pack("<hh", LEFT[i], RIGHT[i]) for i in range(frames))
    nch = ch if ch else 1
    fmt = struct.pack("<HHIIHH", 1, ch, rate, rate * nch * 2, nch * 2, 16)
    dsz = len(pcm) if data_size is None else data_size
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", dsz) + pcm
    return b"RIFF" + struct.pack("<I", len(body)) + body


def crc8(data):
    c = 0
    for b in data:
        c ^= b
        for _ in range(8):
            c = ((c << 1) ^ 0x07) & 0xFF if c & 0x80 else (c << 1) & 0xFF
    return c


def crc16(data):
    c = 0
    for b in data:
        c ^= b << 8
        for _ in range(8):
            c = ((c << 1) ^ 0x8005) & 0xFFFF if c & 0x8000 else (c << 1) & 0xFFFF
    return c


def flac(rate=RATE, total=N, flip=False):
    # STREAMINFO: min/max block 16 bits, min/max frame 24 bits (0 = unknown),
    # rate 20 bits, channels-1 3 bits, bps-1 5 bits, total samples 36 bits, MD5 (0 = unset)
    bits = (rate << 44) | ((CH - 1) << 41) | ((16 - 1) << 36) | total
    info = struct.pack(">HH", N, N) + b"\0\0\0" + b"\0\0\0" + bits.to_bytes(8, "big") + bytes(16)
    assert len(info) == 34
    meta = bytes([0x80]) + len(info).to_bytes(3, "big") + info  # last block, type 0
    # frame header: sync 0xFFF8 (fixed block size), block size code 6 (8-bit size-1 at end),
    # rate code 0 (from STREAMINFO), channels code 1 (2 independent), sample size code 4
    # (16 bits), frame number 0 (UTF-8 coded), block size - 1, CRC-8
    hdr = bytes([0xFF, 0xF8, 0x60, 0x18, 0x00, N - 1])
    hdr += bytes([crc8(hdr)])
    sub = b""
    for chan in (LEFT, RIGHT):
        sub += bytes([0x02]) + b"".join(struct.pack(">h", v) for v in chan)  # VERBATIM, no wasted bits
    frame = hdr + sub
    frame += struct.pack(">H", crc16(frame))
    if flip:  # corrupt one sample byte after the CRC was computed
        frame = frame[:20] + bytes([frame[20] ^ 0x40]) + frame[21:]
    return b"fLaC" + meta + frame


def aiff():
    # COMM: channels, frames, bits, 80-bit extended sample rate (16000 = 1.953125 * 2^13)
    rate = struct.pack(">HQ", 16383 + 13, RATE << (63 - 13))
    comm = struct.pack(">hIh", CH, N, 16) + rate
    pcm = b"".join(struct.pack(">hh", LEFT[i], RIGHT[i]) for i in range(N))
    ssnd = struct.pack(">II", 0, 0) + pcm
    body = b"AIFF" + b"COMM" + struct.pack(">I", len(comm)) + comm + b"SSND" + struct.pack(">I", len(ssnd)) + ssnd
    return b"FORM" + struct.pack(">I", len(body)) + body


def float_wav():
    data = b"".join(struct.pack("<f", (i - 25) / 8.0) for i in range(50))
    fmt = struct.pack("<HHIIHH", 3, 1, 8000, 8000 * 4, 4, 32)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(data)) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


def ulaw_au():
    return b".snd" + struct.pack(">IIIII", 24, 64, 1, 8000, 1) + bytes(range(64))


def write(name, data, seed=False):
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(data)
    if seed:
        os.makedirs(CORPUS, exist_ok=True)
        shutil.copyfile(os.path.join(HERE, name), os.path.join(CORPUS, name))
    print(f"{name}: {len(data)} bytes")


good = wav()
write("stereo_s16.wav", good, seed=True)
write("stereo_s16.flac", flac(), seed=True)
write("stereo_s16.aiff", aiff(), seed=True)
write("mono_float.wav", float_wav(), seed=True)
write("mono_ulaw.au", ulaw_au(), seed=True)
write("bad_magic.wav", b"RIFQ" + good[4:], seed=True)
write("truncated_header.wav", good[:30])
write("truncated_data.wav", good[:44 + 37 * 4], seed=True)
write("zero_rate.wav", wav(rate=0), seed=True)
write("zero_channels.wav", wav(ch=0))
write("huge_data.wav", wav(data_size=0x7FFFFFF0), seed=True)
write("flac_huge_total.flac", flac(total=(1 << 36) - 1), seed=True)
write("flac_zero_rate.flac", flac(rate=0))
write("flac_bad_crc.flac", flac(flip=True), seed=True)
x, g = 12345, bytearray()
for _ in range(256):
    x = (1103515245 * x + 12345) & 0x7FFFFFFF
    g.append(x >> 16 & 0xFF)
write("garbage.bin", bytes(g))
