"""xbench: a benchmarking suite for cross-modal fine-tuning.

The distribution installs this folder (``benchmark/``) as the package ``xbench`` and the
``tasks/`` folder as ``xbench.tasks``. The library logs through :mod:`logging`; only the
CLI prints.
"""

__version__ = "0.1.0"
