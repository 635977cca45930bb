#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
# Writes the small seed corpora of tests/fuzz/corpus/edf and tests/fuzz/corpus/brainvision
# (valid EDF, EDF+C with annotations, EDF+D, BDF with a Status channel, mixed rates, and a
# few broken variants; BrainVision triplets joined by the fuzz target's separator line).
# Run from the repository root: /usr/bin/python3 tests/data/edf/make-fuzz-seeds.py
import os
import struct

OUT_EDF = 'tests/fuzz/corpus/edf'
OUT_BV = 'tests/fuzz/corpus/brainvision'


def put(b, off, width, text):
    s = text.encode('latin1')[:width]
    b[off:off + width] = s + b' ' * (width - len(s))


def edf(bdf=False, reserved='', nrec=2, rdur='1', sigs=(), tals=None):
    ns = len(sigs)
    bps = 3 if bdf else 2
    hb = 256 * (ns + 1)
    rec = sum(s[1] for s in sigs) * bps
    b = bytearray(hb + rec * nrec)
    if bdf:
        b[0:8] = b'\xffBIOSEMI'
    else:
        put(b, 0, 8, '0')
    put(b, 8, 80, 'X X X X')
    put(b, 88, 80, 'Startdate 01-JAN-2020 X X X')
    put(b, 168, 8, '01.01.20')
    put(b, 176, 8, '10.00.00')
    put(b, 184, 8, str(hb))
    put(b, 192, 44, reserved)
    put(b, 236, 8, str(nrec))
    put(b, 244, 8, rdur)
    put(b, 252, 4, str(ns))
    p = 256
    for i, (label, spr, pmin, pmax, dmin, dmax) in enumerate(sigs):
        put(b, p + 16 * i, 16, label)
        put(b, p + 16 * ns + 80 * i, 80, '')
        put(b, p + 96 * ns + 8 * i, 8, 'uV')
        put(b, p + 104 * ns + 8 * i, 8, pmin)
        put(b, p + 112 * ns + 8 * i, 8, pmax)
        put(b, p + 120 * ns + 8 * i, 8, dmin)
        put(b, p + 128 * ns + 8 * i, 8, dmax)
        put(b, p + 136 * ns + 80 * i, 80, '')
        put(b, p + 216 * ns + 8 * i, 8, str(spr))
        put(b, p + 224 * ns + 32 * i, 32, '')
    o = hb
    for r in range(nrec):
        for i, (label, spr, *_rest) in enumerate(sigs):
            n = spr * bps
            if 'Annotations' in label:
                t = (tals[r] if tals else b'+%d\x14\x14\x00' % r)[:n]
                b[o:o + len(t)] = t
            else:
                for k in range(spr):
                    v = ((r * spr + k) * (i + 1)) % 200 - 100
                    if label == 'Status':
                        v = 0 if k % 3 else (r + 1)
                    b[o + k * bps:o + (k + 1) * bps] = (v & (1 << 8 * bps) - 1).to_bytes(bps, 'little')
            o += n
    return bytes(b)


def write(d, name, data):
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data)


S = ('EEG', 4, '-100', '100', '-100', '100')
A = ('EDF Annotations', 30, '-1', '1', '-32768', '32767')
os.makedirs(OUT_EDF, exist_ok=True)
write(OUT_EDF, 'plain.edf', edf(sigs=[S, ('Slow', 2, '-50', '50', '-100', '100')]))
write(OUT_EDF, 'edfplus-c.edf', edf(reserved='EDF+C', sigs=[S, A],
      tals=[b'+0\x14\x14\x00+0.5\x150.2\x14T1\x14\x00', b'+1\x14\x14\x00+1.5\x14T2\x14\x00']))
write(OUT_EDF, 'edfplus-d.edf', edf(reserved='EDF+D', sigs=[S, A]))
bdfsig = [('C3', 6, '-1000', '1000', '-8388608', '8388607'),
          ('Status', 6, '-8388608', '8388607', '-8388608', '8388607')]
write(OUT_EDF, 'status.bdf', edf(bdf=True, reserved='24BIT', sigs=bdfsig))
good = edf(sigs=[S])
write(OUT_EDF, 'truncated.edf', good[:300])
write(OUT_EDF, 'badmagic.edf', b'1' + good[1:])
huge = bytearray(good)
put(huge, 236, 8, '99999999')
write(OUT_EDF, 'huge-records.edf', bytes(huge))

SEP = b'\n--8<--\n'
os.makedirs(OUT_BV, exist_ok=True)
HDR = b'Brain Vision Data Exchange Header File Version 1.0\r\n'
MRK = b'Brain Vision Data Exchange Marker File, Version 1.0\r\n[Marker Infos]\r\n' \
      b'Mk1=New Segment,,1,1,0,20200101000000000000\r\nMk2=Stimulus,S  1,3,1,0\r\n'
mux = HDR + (b'[Common Infos]\r\nCodepage=UTF-8\r\nDataFile=a.eeg\r\nMarkerFile=a.vmrk\r\n'
             b'DataFormat=BINARY\r\nDataOrientation=MULTIPLEXED\r\nNumberOfChannels=2\r\n'
             b'SamplingInterval=1000\r\n[Binary Infos]\r\nBinaryFormat=INT_16\r\n'
             b'[Channel Infos]\r\nCh1=Fp1,,0.5,\xc2\xb5V\r\nCh2=Fp2,,0.5\r\n')
write(OUT_BV, 'int16-mux.bv', mux + SEP + struct.pack('<8h', 1, -2, 3, -4, 5, -6, 7, -8) + SEP + MRK)
vec = HDR + (b'[Common Infos]\nDataFile=a.eeg\nDataOrientation=VECTORIZED\nNumberOfChannels=2\n'
             b'SamplingInterval=4000\n[Binary Infos]\nBinaryFormat=IEEE_FLOAT_32\n'
             b'UseBigEndianOrder=NO\n[Channel Infos]\nCh1=A\\1B,Ref,2,mV\nCh2=C,,,\n')
write(OUT_BV, 'float-vec.bv', vec + SEP + struct.pack('<4f', 1.5, -2, 3, 4))
write(OUT_BV, 'bad-channels.bv', mux.replace(b'NumberOfChannels=2', b'NumberOfChannels=99999')
      + SEP + b'\x00' * 8)
write(OUT_BV, 'bad-marker.bv', mux + SEP + b'\x00' * 8 + SEP +
      MRK.replace(b'S  1,3', b'S  1,-3'))
