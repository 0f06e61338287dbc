"""Checks of command-line input made before anything is planned, generated or trained.

Each raises a :class:`~xbench.errors.ConfigError` whose message says what to do, so a bad value
costs an exit with status 2 and nothing else: no failed rows, no half-written files.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from xbench.errors import ConfigError

DEVICE = re.compile(r"auto|cpu|cuda(:\d+)?|mps")
MAX_SEED = 2**32 - 1  # numpy's seed range


def seeds(values: list[int]) -> list[int]:
    """The seeds in order, each once; every one in [0, 2**32 - 1]."""
    bad = [s for s in values if not 0 <= s <= MAX_SEED]
    if bad:
        raise ConfigError(f"--seeds takes integers from 0 to {MAX_SEED}, got {bad[0]}. Example: --seeds 0 1 2.")
    return list(dict.fromkeys(values))


def device(name: str):
    """The torch device for ``name`` (auto | cpu | cuda | cuda:N | mps), checked against this machine."""
    import torch

    if not DEVICE.fullmatch(name):
        raise ConfigError(f"--device takes auto, cpu, cuda, cuda:N or mps, not {name!r}.")
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ConfigError(f"--device {name} was asked for, but torch sees no CUDA device (is this a CPU build "
                              "of torch? See README, 'Set up').")
        index = int(name.partition(":")[2] or 0)
        if index >= torch.cuda.device_count():
            raise ConfigError(f"--device {name}: this machine has {torch.cuda.device_count()} CUDA device(s), "
                              f"numbered from 0.")
    if name == "mps" and not torch.backends.mps.is_available():
        raise ConfigError("--device mps was asked for, but torch sees no Apple GPU here; use --device cpu.")
    return torch.device(name)


def backbone(name: str, reference: bool = False) -> None:
    """``name`` resolves to a local model folder or a model in the local Hugging Face cache
    (``reference``: it is the paper profile's default, the reference code's body)."""
    from transformers import AutoConfig

    from xbench.models.backbone import DEFAULT_BACKBONE, resolve_path

    random = name == "random" or name.startswith("random:")
    target = (name.partition(":")[2] or DEFAULT_BACKBONE) if random else name
    looks_like_path = target.startswith((os.sep, ".", "~"))  # "org/name" may be a cached hub id
    path = Path(target).expanduser()
    if looks_like_path and not path.is_dir():
        raise ConfigError(f"--backbone {name}: {path} is not a folder. Pass a folder saved with "
                          "`save_pretrained(DIR)`, or the offline default --backbone minilm.")
    try:
        AutoConfig.from_pretrained(resolve_path(target), local_files_only=True)
    except (OSError, ValueError) as e:
        where = f"the folder {path} has no readable config.json" if path.is_dir() else \
            f"{target!r} is neither a local folder nor in the local Hugging Face cache"
        if reference:
            raise ConfigError(f"the paper profile runs the reference code's body, {name}, and {where}. xbench never "
                              "downloads weights: put it in the Hugging Face cache, or save it with "
                              "`save_pretrained(DIR)` on a machine with access and pass --backbone DIR; or pass "
                              f"--backbone {DEFAULT_BACKBONE} to run the paper settings with the offline body (its rows "
                              "then say fidelity=deviating).") from None
        raise ConfigError(f"--backbone {name}: {where} ({type(e).__name__}). xbench never downloads weights: save "
                          "the model with `save_pretrained(DIR)` on a machine with access and pass --backbone DIR, "
                          f"or use the offline default --backbone {DEFAULT_BACKBONE}.") from None


def writable_dir(value: str | Path, option: str) -> Path:
    """``value`` is (or can be made) a folder this process can write to."""
    path = Path(value).expanduser()
    if path.exists() and not path.is_dir():
        raise ConfigError(f"{option} {path} is a file, not a folder. Pass a folder (it is created if missing).")
    try:
        path.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=path, prefix=".xbench-write-check-")
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise ConfigError(f"{option} {path} is not a writable folder ({e.strerror or e}). Pass a folder you can "
                          "write to.") from None
    return path


def folder_or_absent(value: str | Path, option: str) -> Path:
    """``value`` is a folder or does not exist yet (a read-only data root of real files is fine)."""
    path = Path(value).expanduser()
    if path.exists() and not path.is_dir():
        raise ConfigError(f"{option} {path} is a file, not a folder. Pass the folder that holds (or will hold) "
                          "the data.")
    return path
