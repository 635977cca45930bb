# SPDX-License-Identifier: GPL-3.0-or-later
"""The fMRI domain verbs of libxai-formats (xai/domain-fmri.h, xai/nifti.h) over NumPy arrays.

    run = libxai.fmri.run_input(model, "sub-01_task-x_run-3_bold.nii.gz")
    rel = model.explain(run.x, init="logit", bias_factor=1)    # (volumes, *model.input_shape)
    vol = run.native(rel)                                        # (X, Y, Z, volumes), NIfTI order
    img = libxai.nibabel.to_image(rel, run)                      # with the run's affine

A BOLD run becomes model input as `xai-fmri explain` makes it: the voxel grid, voxel size and
orientation must be the model's (nothing is resampled), each voxel is linearly detrended (when
the model was trained so) and z-scored over the run, and voxels outside the model's mask are 0.
"""
import ctypes
import json
from dataclasses import dataclass

import numpy as np

from . import _lib
from ._lib import POINTER, bind, c_char_p, c_double, c_int, c_int64, c_void_p, check
from .errors import XaiValueError
from .model import Model

_D44 = (c_double * 4) * 4


class _NiftiInfo(ctypes.Structure):
    """xai_nifti_info, field for field."""
    _c_name_ = "xai_nifti_info"
    _fields_ = [("version", c_int), ("dim", c_int64 * 8), ("pixdim", c_double * 8), ("vox_offset", c_int64),
                ("datatype", c_int), ("scl_slope", c_double), ("scl_inter", c_double), ("cal_min", c_double),
                ("cal_max", c_double), ("intent_code", c_int), ("intent_name", ctypes.c_char * 17),
                ("descrip", ctypes.c_char * 81), ("qform_code", c_int), ("sform_code", c_int),
                ("quatern_b", c_double), ("quatern_c", c_double), ("quatern_d", c_double), ("qoffset_x", c_double),
                ("qoffset_y", c_double), ("qoffset_z", c_double), ("qfac", c_double), ("qform", _D44),
                ("sform", _D44), ("affine", _D44), ("affine_source", c_int), ("xyzt_units", c_int),
                ("xyz_units", c_int), ("time_units", c_int), ("toffset", c_double), ("tr_s", c_double),
                ("tr_assumed_ms", c_int)]


class _Nifti(ctypes.Structure):
    _c_name_ = "xai_nifti"
    _fields_ = [("info", _NiftiInfo), ("shape", c_int64 * 4), ("n", ctypes.c_size_t),
                ("data", POINTER(ctypes.c_float))]


class _Prep(ctypes.Structure):
    _c_name_ = "xai_fmri_prep"
    _fields_ = [("nv", c_int64), ("nt", c_int64), ("nin", c_int64), ("mask", POINTER(ctypes.c_uint8)),
                ("mean", POINTER(ctypes.c_float)), ("slope", POINTER(ctypes.c_float)),
                ("scale", POINTER(ctypes.c_float))]


_f = _lib.formats
_open = bind(_f, "xai_nifti_open", c_int, c_char_p, POINTER(POINTER(_Nifti)))
_close = bind(_f, "xai_nifti_close", None, POINTER(_Nifti))
_smooth = bind(_f, "xai_fmri_smooth", c_int, POINTER(_Nifti), ctypes.c_double)
_prep_init = bind(_f, "xai_fmri_prep_init", c_int, POINTER(_Prep), c_void_p, c_int64, c_int64, c_void_p, c_int)
_prep_apply = bind(_f, "xai_fmri_prep_apply", None, POINTER(_Prep), c_void_p, c_int64, c_void_p)
_prep_free = bind(_f, "xai_fmri_prep_free", None, POINTER(_Prep))
_mask_decode = bind(_f, "xai_fmri_mask_decode", c_int, c_char_p, c_int64, c_void_p)
_orientation = bind(_f, "xai_fmri_orientation", None, POINTER(_NiftiInfo), ctypes.c_char * 4)


@dataclass
class Run:
    """One BOLD run as model input, with the geometry to put maps back on its grid."""
    x: np.ndarray          # (volumes, *model.input_shape) float32
    mask: np.ndarray       # (X, Y, Z) bool: the voxels the model sees
    affine: np.ndarray     # (4, 4) voxel (i, j, k) -> world mm, the one viewers use
    shape: tuple           # (X, Y, Z, volumes) of the file
    tr: float              # repetition time in s (0 when unknown)
    orientation: str       # e.g. "LAS"
    path: str
    preprocessing: dict

    def native(self, maps, spread_outside_mask=True):
        """Maps in the model's input layout -> (X, Y, Z, volumes) float32, NIfTI index order.

        spread_outside_mask: inputs outside the mask are 0, yet a rule may put relevance there
        (the share that bias factor 1 or the flat rule spreads over every input); as in
        xai-fmri, that share is spread evenly over the mask instead, so nothing lands outside
        and each volume's map keeps its sum. False keeps the maps as they are."""
        nx, ny, nz, nt = self.shape
        a = np.asarray(maps, dtype=np.float32)
        if a.size != nt * nx * ny * nz:
            raise XaiValueError("maps: %d values for %d volumes of %dx%dx%d" % (a.size, nt, nx, ny, nz))
        v = a.reshape(nt, nz * ny * nx)  # [T][Z][Y][X], x fastest: the model's memory order
        if spread_outside_mask:
            inside = self.mask.transpose(2, 1, 0).reshape(-1)
            fin = np.isfinite(v)
            out = np.where(~inside & fin, v, 0).astype(np.float64)
            # sequential sums, as the program adds them
            add = (np.cumsum(out, axis=1)[:, -1] / max(int(inside.sum()), 1)).astype(np.float32)
            v = np.where(inside & fin, v + add[:, None], np.float32(0)).astype(np.float32)
        return np.ascontiguousarray(v.reshape(nt, nz, ny, nx).transpose(3, 2, 1, 0))


def _record(model):
    text = model.metadata("xai_preprocessing")
    rec = json.loads(text) if text else model.card.get("preprocessing")
    if not rec or rec.get("domain") != "fmri":
        raise XaiValueError("%s: not an xai-fmri model (no fMRI pre-processing record)" % model.path)
    return rec


def _check_geometry(model, rec, img, path):
    info = img.info
    o = (ctypes.c_char * 4)()
    _orientation(ctypes.byref(info), o)
    orient = o.value.decode()
    if rec.get("orientation") and rec["orientation"] != orient:
        raise XaiValueError("%s: voxel axes point %s, but the model was trained on %s data (%s): reorient the run "
                            "to the model's orientation" % (path, orient, rec["orientation"], model.path))
    nx, ny, nz = img.shape[3], img.shape[2], img.shape[1]
    grid = rec.get("grid")
    if (grid and list(grid) != [nx, ny, nz]) or model.input_size != nx * ny * nz:
        raise XaiValueError("%s: voxel grid %dx%dx%d does not match the model's %s (%s); nothing is resampled"
                            % (path, nx, ny, nz, "x".join(map(str, grid or [])), model.path))
    for k, want in enumerate(rec.get("voxel_size") or []):
        if abs(want - info.pixdim[k + 1]) > 0.01 * abs(want):
            raise XaiValueError("%s: voxel size %s mm does not match the model's %s mm (%s)"
                                % (path, list(info.pixdim[1:4]), rec["voxel_size"], model.path))
    return orient


def _mask(rec, nv, prep):
    mask = np.ones(nv, np.uint8)
    if rec.get("mask_voxels") is not None:
        check(_mask_decode(json.dumps(rec["mask_voxels"]).encode(), nv, mask.ctypes.data_as(c_void_p)))
    elif rec.get("mask") == "file":
        raise XaiValueError("the model was trained with a mask file and records no mask: use xai-fmri --mask")
    return (mask != 0) & (np.ctypeslib.as_array(prep.mask, (nv,)) != 0)


def run_input(model, bold):
    """The volumes of the 4-D BOLD run `bold` as the model's input, as xai-fmri explain makes them."""
    if not isinstance(model, Model):
        model = Model(model)
    rec = _record(model)
    h = POINTER(_Nifti)()
    check(_open(_lib.encode(bold), ctypes.byref(h)))
    prep = _Prep()
    try:
        img = h.contents
        nt, nz, ny, nx = img.shape
        nv = nx * ny * nz
        if img.info.dim[0] != 4 or nt < 3:
            raise XaiValueError("%s: not a 4-D BOLD run (dim %d, %d volumes)" % (bold, img.info.dim[0], nt))
        orient = _check_geometry(model, rec, img, bold)
        # the spatial smoothing the model was trained with, before detrending, as xai-fmri does
        check(_smooth(h, float(rec.get("smoothing_fwhm_mm") or 0.0)), bold)
        data = np.ctypeslib.as_array(img.data, (nt * nv,))
        ones = np.ones(nv, np.uint8)
        check(_prep_init(ctypes.byref(prep), data.ctypes.data_as(c_void_p), nt, nv, ones.ctypes.data_as(c_void_p),
                         1 if rec.get("detrend") == "linear" else 0), bold)
        mask = _mask(rec, nv, prep)
        x = np.empty((nt, nv), np.float32)
        for t in range(nt):
            _prep_apply(ctypes.byref(prep), ctypes.c_void_p(data.ctypes.data + 4 * t * nv), t,
                        x[t].ctypes.data_as(c_void_p))
        x[:, ~mask] = 0
        affine = np.array([list(r) for r in img.info.affine])
        return Run(x=x.reshape((nt,) + model.input_shape), mask=mask.reshape(nz, ny, nx).transpose(2, 1, 0).copy(),
                   affine=affine, shape=(nx, ny, nz, nt), tr=img.info.tr_s, orientation=orient, path=str(bold),
                   preprocessing=rec)
    finally:
        _prep_free(ctypes.byref(prep))
        _close(h)
