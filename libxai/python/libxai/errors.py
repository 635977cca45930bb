# SPDX-License-Identifier: GPL-3.0-or-later
"""Exceptions for the xai_status codes of the C libraries (xai/status.h).

Every exception is an XaiError, whose message is the library's detail message
(xai_last_error()) and whose `status` is the numeric code; each also derives from the
built-in exception a Python user would catch for that kind of failure.
"""

STATUS_NAMES = ["XAI_OK", "XAI_ENOMEM", "XAI_EINVAL", "XAI_ESHAPE", "XAI_EIO", "XAI_EFORMAT",
                "XAI_EUNSUPPORTED", "XAI_ENUMERIC", "XAI_EDEP"]


class XaiError(Exception):
    """A libxai call failed; str(e) is the library's message, e.status its xai_status."""

    status = -1

    def __init__(self, message, status=None):
        super().__init__(message)
        if status is not None:
            self.status = status

    @property
    def status_name(self):
        return STATUS_NAMES[self.status] if 0 <= self.status < len(STATUS_NAMES) else "XAI_UNKNOWN"


class XaiMemoryError(XaiError, MemoryError):
    status = 1


class XaiValueError(XaiError, ValueError):
    """Invalid argument (XAI_EINVAL)."""
    status = 2


class XaiShapeError(XaiError, ValueError):
    """Tensor shapes that do not fit (XAI_ESHAPE)."""
    status = 3


class XaiIOError(XaiError, OSError):
    """A read or write failed (XAI_EIO)."""
    status = 4


class XaiFormatError(XaiError, ValueError):
    """A malformed file or stream (XAI_EFORMAT)."""
    status = 5


class XaiUnsupportedError(XaiError, NotImplementedError):
    """Valid but not supported: an operator, attribute or datatype (XAI_EUNSUPPORTED)."""
    status = 6


class XaiNumericError(XaiError, ArithmeticError):
    """Non-finite or otherwise unusable numbers (XAI_ENUMERIC)."""
    status = 7


class XaiDependencyError(XaiError, RuntimeError):
    """A library libxai relies on (BLAS, FFTW, nifti, ...) failed (XAI_EDEP)."""
    status = 8


_BY_STATUS = {c.status: c for c in (XaiMemoryError, XaiValueError, XaiShapeError, XaiIOError, XaiFormatError,
                                    XaiUnsupportedError, XaiNumericError, XaiDependencyError)}


def raise_for(status, message):
    cls = _BY_STATUS.get(status)
    raise (cls(message) if cls else XaiError(message, status))
