"""The one way replicated work leaves the calling process: local worker processes or a Dask cluster.

Core object: :class:`Runner`. ``Runner(workers=K)`` runs tasks in ``K`` local processes (in the
calling process when ``K == 1``); ``Runner(scheduler="tcp://host:8786")`` sends them to an existing
Dask distributed cluster. Either way :meth:`Runner.map` returns results in task order and
:meth:`Runner.completed` yields ``(index, result)`` as tasks finish (for stores that write each
result as it arrives). Results never depend on where or in which order tasks ran: every task
carries its own seeds, fixed by the caller's seed plan (:func:`sim.seeding.seed_plan`) before any
work is dispatched.

Workers decide their days on one thread each: the processes are the parallelism. A runner is a
context manager; its local pool is started on first use and reused until :meth:`Runner.close`.
Functions and tasks must pickle (module-level functions, plain data, scenarios, policies).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed

from scenarios.errors import ConfigError

__all__ = ["Runner", "default_workers"]


def default_workers() -> int:
    """Worker processes to use by default: the machine's cores."""
    return max(1, os.cpu_count() or 1)


def _one_thread_worker() -> None:
    from sim.engines.vector import one_kernel_thread

    one_kernel_thread()


def _on_one_thread(fn: Callable, task):
    """Run ``fn(task)`` with the day kernel on one thread (Dask workers share a process)."""
    from sim.engines.vector import kernel_threads

    with kernel_threads(1):
        return fn(task)


class Runner:
    """Runs ``fn(task)`` for many tasks, locally or on a Dask cluster; see the module docstring."""

    def __init__(self, *, workers: int | None = None, scheduler: str | None = None) -> None:
        if workers is not None and workers < 1:
            raise ConfigError(f"workers must be >= 1; got {workers}")
        self.workers = default_workers() if workers is None else int(workers)
        self.scheduler = scheduler
        self._pool: ProcessPoolExecutor | None = None
        self._client = None

    def __enter__(self) -> Runner:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Stop the local worker processes or disconnect from the cluster."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        if self._client is not None:
            self._client.close()
            self._client = None

    def map(self, fn: Callable, tasks: list, *, progress: Callable[[int], None] | None = None) -> list:
        """``[fn(t) for t in tasks]``, computed wherever this runner runs tasks; order is preserved."""
        results: list = [None] * len(tasks)
        for i, value in self.completed(fn, tasks, progress=progress):
            results[i] = value
        return results

    def completed(self, fn: Callable, tasks: list, *, progress: Callable[[int], None] | None = None) -> Iterator:
        """Yield ``(index, fn(tasks[index]))`` as tasks finish."""
        tasks = list(tasks)
        if self.scheduler is not None:
            yield from self._dask(fn, tasks, progress)
            return
        if self.workers <= 1 or len(tasks) <= 1:
            for i, t in enumerate(tasks):
                value = fn(t)
                if progress is not None:
                    progress(1)
                yield i, value
            return
        if self._pool is None:
            self._pool = ProcessPoolExecutor(max_workers=self.workers, initializer=_one_thread_worker)
        futures = {self._pool.submit(fn, t): i for i, t in enumerate(tasks)}
        try:
            for fut in as_completed(futures):
                value = fut.result()
                if progress is not None:
                    progress(1)
                yield futures[fut], value
        finally:
            for fut in futures:
                fut.cancel()

    def _dask(self, fn: Callable, tasks: list, progress) -> Iterator:
        from distributed import Client
        from distributed import as_completed as dask_completed

        if self._client is None:
            try:
                self._client = Client(self.scheduler, timeout="10s")
            except (OSError, TimeoutError, ValueError, TypeError) as exc:
                raise ConfigError(f"scheduler {self.scheduler}: cannot reach a Dask scheduler there ({exc})") from None
        futures = self._client.map(_on_one_thread, [fn] * len(tasks), tasks, pure=False)
        index = {f.key: i for i, f in enumerate(futures)}
        for fut in dask_completed(futures):
            value = fut.result()
            if progress is not None:
                progress(1)
            yield index[fut.key], value
