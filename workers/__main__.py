"""`python -m workers`: the Procfile's `worker` process.

What `arq workers.settings.WorkerSettings` runs, on `ResilientWorker` (workers/worker.py)
rather than arq's own Worker, which the arq CLI offers no way to replace: the process
rides out a Redis restart instead of exiting on it. `--burst` runs until the queue
is empty, as arq's flag does.
"""

from __future__ import annotations

import argparse
import logging.config
import sys

from arq.worker import get_kwargs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m workers", description=__doc__)
    parser.add_argument("--burst", action="store_true", help="exit once the queue is empty")
    args = parser.parse_args(argv)
    # Imported here: the settings module reads the environment, opens Redis and sets up
    # the one log handler (app/logs.py): arq's own config would write every line twice.
    from workers.settings import LOG_CONFIG, SETTINGS, WorkerSettings
    from workers.worker import ResilientWorker

    # What arq's CLI does with `--custom-log-dict workers.settings.LOG_CONFIG`: arq's
    # loggers propagate to our handler from the first line on.
    logging.config.dictConfig(LOG_CONFIG)

    worker = ResilientWorker(
        **get_kwargs(dict(vars(WorkerSettings))),
        burst=args.burst,
        retry_max_s=SETTINGS.redis_retry_max_s,
    )
    worker.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
