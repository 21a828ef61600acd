"""Children a parent stops with SIGINT hear it, however the parent itself was started."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parent.parent
# a parent started as a script's background command is (SIGINT ignored), with a child
# started plainly and one started inside children_hear_ctrl_c, each saying if it ignores SIGINT
PARENT = """
import signal, subprocess, sys
signal.signal(signal.SIGINT, signal.SIG_IGN)
from snapline.until_signalled import children_hear_ctrl_c
PROBE = "import signal; print(signal.getsignal(signal.SIGINT) is signal.SIG_IGN)"
def child():
    return subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True).stdout
plain = child()
with children_hear_ctrl_c():
    heard = child()
print(plain.strip(), heard.strip(), signal.getsignal(signal.SIGINT) is signal.SIG_IGN)
"""


def test_children_started_inside_hear_sigint_and_the_parent_still_ignores_it() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PARENT], capture_output=True, text=True, cwd=ROOT, check=True
    )
    plain_ignores, heard_ignores, parent_ignores = done.stdout.split()
    assert plain_ignores == "True"  # what POSIX does without the fix
    assert heard_ignores == "False"
    assert parent_ignores == "True"  # the parent's own disposition is put back
