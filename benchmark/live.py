"""Optional live logging of a run's curves to TensorBoard or Weights & Biases (``--log-to``).

Off by default; the packages (``tensorboard``, ``wandb``) are imported only when chosen. Every value
the trainer records in ``curves.csv`` is mirrored as it is logged, under ``<phase>/<split>/<quantity>``
with the tracked step as the x axis; ``curves.csv`` stays the record (a live logger that fails warns
and the run goes on). TensorBoard writes ``<log dir>/<run key>/``; W&B logs one run per run key in
project ``xbench`` (``WANDB_MODE=offline`` keeps it local), with the resolved config attached.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from xbench.errors import ConfigError

log = logging.getLogger(__name__)
BACKENDS = ("tensorboard", "wandb")


class LiveLogger:
    def __init__(self, backend: str, key: str, log_dir: Path, config: dict[str, Any]):
        self.backend, self._step, self.failed = backend, 0, False
        if backend == "tensorboard":
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError:
                raise ConfigError("--log-to tensorboard needs the package: pip install tensorboard") from None
            self.writer = SummaryWriter(log_dir=str(Path(log_dir) / key))
        elif backend == "wandb":
            try:
                import wandb
            except ImportError:
                raise ConfigError("--log-to wandb needs the package: pip install wandb") from None
            self.run = wandb.init(project="xbench", name=key, id=key, dir=str(log_dir), config=config,
                                  reinit="create_new", resume="allow")
        else:
            raise ConfigError(f"--log-to {backend!r}: choose {' or '.join(BACKENDS)}.")

    def __call__(self, row: dict[str, Any]) -> None:
        if self.failed:
            return
        tag = f"{row['phase']}/{row['split']}/{row['quantity']}"
        self._step += 1
        try:
            if self.backend == "tensorboard":
                self.writer.add_scalar(tag, row["value"], self._step)
            else:
                self.run.log({tag: row["value"]}, step=self._step)
        except Exception as e:  # noqa: BLE001 - live logging never fails a run; curves.csv has every value
            self.failed = True
            log.warning("live logging to %s stopped (%s: %s); curves.csv keeps every value", self.backend,
                        type(e).__name__, e)

    def close(self) -> None:
        try:
            self.writer.close() if self.backend == "tensorboard" else self.run.finish()
        except Exception as e:  # noqa: BLE001
            log.warning("closing the %s logger failed (%s)", self.backend, e)
