"""Read the next, write the previous, keep order: the three-stage pipeline of `p20 pseudonymise`
and `p20 load`.

A reader thread reads item i+1 while the caller works on item i (tokens, or a GX validation),
and a writer thread writes item i-1; results come back in item order, and a failure of a read
is raised in the caller, at that item's turn. At most one item waits to be written (write() waits
for the one before), so memory stays at about three items. The stages only pay off where each
lets go of the GIL (Arrow, DuckDB, hashlib); they run on one core otherwise.
"""

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Self, TypeVar

Item = TypeVar("Item")
Read = TypeVar("Read")


class Ordered:
    """`with Ordered() as pipe:` — `pipe.read_ahead(items, read)` and `pipe.write(fn, *args)`.
    Leaving the block waits for every write (and a read in flight) and stops the threads."""

    def __init__(self) -> None:
        self._reader = ThreadPoolExecutor(max_workers=1)
        self._writer = ThreadPoolExecutor(max_workers=1)
        self._written: list[Future] = []

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self._reader.shutdown()
        self._writer.shutdown()
        if exc[0] is None:
            self.wait()

    def read_ahead(self, items: Sequence[Item], read: Callable[[int, Item], Read]) -> Iterator[tuple[Item, Read]]:
        """(item, read(index, item)) in order, each read on the reader thread one item ahead:
        the next read starts when this one's result is handed over."""
        if not items:
            return
        pending = self._reader.submit(read, 0, items[0])
        for i, item in enumerate(items):
            result = pending.result()
            if i + 1 < len(items):
                pending = self._reader.submit(read, i + 1, items[i + 1])
            yield item, result
            del result  # not kept while the next one is read

    def write(self, fn: Callable[..., object], *args) -> Future:
        """fn(*args) on the writer thread, after the previous write has finished."""
        if self._written:
            self._written[-1].result()
        future = self._writer.submit(fn, *args)
        self._written.append(future)
        return future

    def wait(self) -> None:
        """Every write done (and its failure raised here)."""
        for future in self._written:
            future.result()
