"""User-facing errors.

Every error a user can cause (unknown name, bad option, missing or corrupt file, wrong shape) is an
:class:`XbenchError` whose message is one paragraph that says what is wrong and what to do. The CLI
prints it without a traceback and exits with status 2; the library never catches it.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class XbenchError(Exception):
    """Base class of errors caused by input: the message is written for the user."""


class ConfigError(XbenchError, ValueError):
    """A bad name, option or value."""


class DataError(XbenchError):
    """A data file is missing, unreadable, or does not have the expected layout."""


class NonFiniteLossError(RuntimeError):
    """Training produced a NaN/inf loss; the run is recorded as failed with this reason."""


def unknown_name(kind: str, name: str, known: Iterable[str], hint: str = "") -> ConfigError:
    """A :class:`ConfigError` for an unknown ``name`` that suggests the closest known names."""
    known = sorted(known)
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.4)
    msg = f"unknown {kind} {name!r}."
    if close:
        msg += " Did you mean " + " or ".join(repr(c) for c in close) + "?"
    msg += " Known: " + ", ".join(known) + "."
    if hint:
        msg += " " + hint
    return ConfigError(msg)
