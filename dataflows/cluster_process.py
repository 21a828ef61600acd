"""One process of a local cluster: ``python -m bytewax.run``'s own command line, run so that
Ctrl-C is a quiet stop (exit 130, no panic, no traceback) as it is for a single process."""

from __future__ import annotations

import runpy
import sys

from dataflows.stop_panic import STOPPED_EXIT, stop_panic_hidden, stopped_by_ctrl_c


def main() -> None:
    sys.argv[0] = "bytewax.run"
    try:
        with stop_panic_hidden():
            runpy.run_module("bytewax.run", run_name="__main__", alter_sys=True)
    except BaseException as exc:
        if stopped_by_ctrl_c(exc):
            sys.exit(STOPPED_EXIT)
        raise


if __name__ == "__main__":
    main()
