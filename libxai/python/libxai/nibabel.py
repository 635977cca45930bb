# SPDX-License-Identifier: GPL-3.0-or-later
"""Relevance volumes as nibabel images (needs python3-nibabel).

    from libxai import nibabel as xnib
    img = xnib.to_image(rel, run)            # 4-D, one relevance volume per BOLD volume
    mean = xnib.to_image(rel.mean(0), run)   # a 3-D map works the same way
    img.to_filename("relevance.nii.gz")      # opens over the run in FSLeyes or nilearn

The image carries the run's affine (sform and qform as the input has them, when nibabel can read
its header), so it overlays the input in any viewer.
"""
import nibabel as nib
import numpy as np

from .errors import XaiValueError


def to_image(maps, run, spread_outside_mask=True):
    """maps in the model's input layout for all volumes of `run` (or one map for a 3-D image)
    -> a float32 nib.Nifti1Image on the run's grid with its affine."""
    a = np.asarray(maps, dtype=np.float32)
    nx, ny, nz, nt = run.shape
    if a.size == nx * ny * nz:  # one map: a 3-D image
        data = run.__class__(**{**run.__dict__, "shape": (nx, ny, nz, 1)}).native(a, spread_outside_mask)[..., 0]
    elif a.size == nx * ny * nz * nt:
        data = run.native(a, spread_outside_mask)
    else:
        raise XaiValueError("maps: %d values; the run has %d volumes of %dx%dx%d" % (a.size, nt, nx, ny, nz))
    try:
        img = nib.Nifti1Image(data, run.affine, header=nib.load(run.path).header.copy())
    except Exception:  # the run was read by libxai; nibabel may still refuse its header
        img = nib.Nifti1Image(data, run.affine)
    img.header.set_data_dtype(np.float32)
    img.header.set_slope_inter(1.0, 0.0)
    img.header["intent_name"] = b"LRP"
    return img
