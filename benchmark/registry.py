"""One registry type for everything xbench looks up by name.

Tasks, task families, methods, metrics, training losses, alignment losses, phase kinds and
baselines are each a :class:`Registry`: a read-only mapping from name to object that refuses a
duplicate name (a second registration would silently change what an existing name means, and with
it the numbers of runs that cite it), and answers an unknown name with a :class:`ConfigError` that
suggests the closest known names and says where to list them. A registry may name a ``loader``,
called once before the first failed lookup, that imports the modules whose import registers the
entries (task families register their tasks and metrics that way).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Generic, TypeVar

from xbench.errors import unknown_name

T = TypeVar("T")


class Registry(Mapping[str, T], Generic[T]):
    """A name -> object mapping with duplicate protection and typo suggestions.

    >>> losses = Registry("training loss")
    >>> _ = losses.register("mse", print)
    >>> sorted(losses)
    ['mse']
    """

    def __init__(self, kind: str, hint: str = "", loader: Callable[[], None] | None = None):
        self.kind, self.hint, self._loader = kind, hint, loader
        self._items: dict[str, T] = {}
        self._loaded = loader is None

    def register(self, name: str, obj: T) -> T:
        """Add ``obj`` under ``name``; a name registered twice is a programming error (ValueError)."""
        if name in self._items:
            raise ValueError(f"{self.kind} {name!r} is registered twice")
        self._items[name] = obj
        return obj

    def decorator(self, name: str) -> Callable[[T], T]:
        """``@registry.decorator("name")`` registers the decorated object under ``name``."""
        return lambda obj: self.register(name, obj)

    def load(self) -> None:
        """Run the loader (once), so that every module that registers entries has been imported."""
        if not self._loaded:
            self._loaded = True
            assert self._loader is not None
            self._loader()

    def peek(self, name: str) -> T | None:
        """The object registered as ``name`` so far, without running the loader (for registrations
        that derive entries from earlier ones while the loader runs)."""
        return self._items.get(name)

    def get(self, name: str, default: T | None = None) -> T:  # type: ignore[override]
        """The object registered as ``name``; a ConfigError with suggestions when there is none."""
        if name not in self._items:
            self.load()
        if name not in self._items:
            if default is not None:
                return default
            raise unknown_name(self.kind, name, self._items, self.hint)
        return self._items[name]

    def __getitem__(self, name: str) -> T:
        return self.get(name)

    def __contains__(self, name: object) -> bool:
        if name not in self._items:
            self.load()
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        self.load()
        return iter(self._items)

    def __len__(self) -> int:
        self.load()
        return len(self._items)

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, {sorted(self._items)})"
