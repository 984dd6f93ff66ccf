"""The collector and the objects that live as long as the process."""

import gc


def freeze_startup_heap() -> None:
    """Take what start-up built out of the garbage collector's view.

    aiogram's ~900 types and their validators, SQLAlchemy's mappers, the catalogs: some 200,000
    objects after the imports alone, living as long as the process. Every full collection walked
    them all with the event loop stopped: 100–160 ms every few seconds under load, which every
    update in flight waited for (bench/README.md, round 8). Frozen, they are never walked again;
    objects made later are collected as before."""
    gc.collect()
    gc.freeze()
