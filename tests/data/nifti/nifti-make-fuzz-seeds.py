#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
# nifti-make-fuzz-seeds.py - writes the small seed corpus of tests/fuzz/corpus/nifti:
# valid NIfTI-1/NIfTI-2 images (plain and gzip, several datatypes, scaling, 4-D) and a few
# malformed ones (truncated, bad magic, huge and negative dims, NaN pixdim, bad datatype).
# Header layouts from nifti1.h / nifti2.h. Usage: nifti-make-fuzz-seeds.py OUTDIR
import gzip
import os
import struct
import sys


def n1(dims, dt, bitpix, data, pixdim=(1, 1, 1, 1, 2.5, 1, 1, 1), slope=0.0, inter=0.0,
       magic=b'n+1\0', sizeof=348, qform=1, sform=1, units=10):
    h = bytearray(348)
    struct.pack_into('<i', h, 0, sizeof)
    d = list(dims) + [1] * (8 - len(dims))
    struct.pack_into('<8h', h, 40, *d)
    struct.pack_into('<hh', h, 70, dt, bitpix)
    struct.pack_into('<8f', h, 76, *pixdim)
    struct.pack_into('<fff', h, 108, 352.0, slope, inter)
    h[123] = units
    struct.pack_into('<hh', h, 252, qform, sform)
    struct.pack_into('<6f', h, 256, 0.0, 0.0, 0.0, -10.0, 5.0, 2.0)
    struct.pack_into('<12f', h, 280, 2, 0, 0, -10, 0, 2, 0, 5, 0, 0, 2, 2)
    h[344:348] = magic
    return bytes(h) + b'\0\0\0\0' + data


def n2(dims, dt, bitpix, data, pixdim=(1, 1, 1, 1, 0.8, 1, 1, 1)):
    h = bytearray(540)
    struct.pack_into('<i', h, 0, 540)
    h[4:12] = b'n+2\0\r\n\x1a\n'
    struct.pack_into('<hh', h, 12, dt, bitpix)
    d = list(dims) + [1] * (8 - len(dims))
    struct.pack_into('<8q', h, 16, *d)
    struct.pack_into('<8d', h, 104, *pixdim)
    struct.pack_into('<q', h, 168, 544)
    struct.pack_into('<ii', h, 344, 1, 0)
    struct.pack_into('<i', h, 500, 10)
    return bytes(h) + b'\0\0\0\0' + data


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    i16 = struct.pack('<24h', *range(-12, 12))
    seeds = {
        'v1-int16-3d.nii': n1((3, 4, 3, 2), 4, 16, i16),
        'v1-uint8-4d-scaled.nii': n1((4, 2, 2, 1, 3), 2, 8, bytes(range(12)), slope=0.5,
                                     inter=1.0),
        'v1-float32.nii.gz': gzip.compress(n1((3, 2, 2, 2), 16, 32,
                                              struct.pack('<8f', *[i / 3 for i in range(8)])),
                                           mtime=0),
        'v1-float64-ms.nii': n1((4, 2, 1, 1, 2), 64, 64, struct.pack('<4d', 1, -2, 3.5, 1e10),
                                units=18, pixdim=(1, 1, 1, 1, 2000, 1, 1, 1)),
        'v2-int16.nii': n2((3, 4, 3, 2), 4, 16, i16),
        'v2-uint32-4d.nii.gz': gzip.compress(n2((4, 2, 2, 1, 2), 768, 32,
                                                struct.pack('<8I', *range(0, 80, 10))),
                                             mtime=0),
        'bad-truncated.nii': n1((3, 4, 3, 2), 4, 16, i16)[:360],
        'bad-magic.nii': n1((3, 4, 3, 2), 4, 16, i16, magic=b'n+3\0'),
        'bad-huge.nii': n1((4, 32767, 32767, 32767, 32767), 64, 64, i16),
        'bad-negdim.nii': n1((3, 4, -3, 2), 4, 16, i16),
        'bad-nanpixdim.nii': n1((3, 4, 3, 2), 4, 16, i16,
                                pixdim=(1, float('nan'), 1, 1, 1, 1, 1, 1)),
        'bad-datatype.nii': n1((3, 4, 3, 2), 9999, 16, i16),
    }
    for name, blob in seeds.items():
        with open(os.path.join(out, name), 'wb') as f:
            f.write(blob)


if __name__ == '__main__':
    main()
