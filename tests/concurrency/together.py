"""Work started in threads at the same instant, each on its own database connection: the
races these tests reproduce need the requests to meet inside the database."""

import threading
from collections.abc import Callable, Sequence
from typing import Any

from django.db import connections

from customers.errors import ApplicationError


def run_together(works: Sequence[Callable[[], Any]]) -> list[Any]:
    """Each work's outcome, in the order given. A refusal (ApplicationError) is the outcome
    of its work; any other exception (a deadlock, an IntegrityError) is raised here once
    every thread is done, so it fails the test instead of only warning from its thread."""
    barrier = threading.Barrier(len(works))
    results: list[Any] = [None] * len(works)
    unexpected: list[BaseException] = []

    def runner(i: int, work: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            results[i] = work()
        except ApplicationError as exc:
            results[i] = exc
        except BaseException as exc:  # raised in the test's thread below
            unexpected.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=runner, args=(i, w)) for i, w in enumerate(works)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if unexpected:
        raise unexpected[0]
    return results


def run_n_together(n: int, work: Callable[[int], Any]) -> list[Any]:
    """`work(0)` ... `work(n - 1)` at once."""
    return run_together([lambda i=i: work(i) for i in range(n)])
