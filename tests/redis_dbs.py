"""Redis database numbers of the suite's side worlds, so that no two test processes ever share one.

A test process owns the database it was given (REDIS_URL's, plus its pytest-xdist number: 1 and 2 in CI). Its
side worlds — `portal worker` processes, a world with no workers, the mail tests, the sign-up demo, the browser
tests' demo servers — each get one more: a block of five per process on a shared server (4 to 8 for gw0, 9 to 13 for
gw1), which leaves room for two test processes. An embedded Redis belongs to its process alone.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit

WORKER_PROCESSES, NO_WORKERS, MAIL, SIGN_UP, DEMO_SERVERS = range(5)
FIRST = 4
BLOCK = 5
LAST = 15  # a Redis server has databases 0 to 15


def side_db(url: str, purpose: int) -> str:
    """``url`` pointed at the database this test process keeps for ``purpose``."""
    if url.startswith("unix://"):
        return f"{url.split('?')[0]}?db={FIRST + purpose}"
    number = FIRST + BLOCK * int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")) + purpose
    if number > LAST:
        raise RuntimeError("a shared Redis server has room for two test processes: run with TEST_WORKERS=2 at most")
    return urlunsplit(urlsplit(url)._replace(path=f"/{number}"))
