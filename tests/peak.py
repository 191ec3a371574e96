"""Peak memory of a child process: its own high-water mark (``VmHWM``), written at its exit.

Not ``ru_maxrss``: Linux folds the memory a process had before ``exec`` into its
``ru_maxrss``, so a child forked from a pytest worker that holds a big network would report
that worker's size as its own peak.
"""

from __future__ import annotations

from pathlib import Path

PEAK_ENV = "ARVERNE_TEST_PEAK_FILE"

PEAK_AT_EXIT = (
    "import atexit as _atexit, os as _os\n"
    "def _report_peak():\n"
    "    with open('/proc/self/status') as f:\n"
    "        kb = next(int(line.split()[1]) for line in f if line.startswith('VmHWM:'))\n"
    f"    with open(_os.environ[{PEAK_ENV!r}], 'w') as f:\n"
    "        f.write(str(kb * 1024))\n"
    "_atexit.register(_report_peak)\n"
)
"""Python lines that make a child write its peak resident bytes to the file ``$PEAK_ENV``
names when it exits (not when a signal kills it)."""


def read_peak(path: Path) -> int:
    """The peak bytes a child wrote to ``path``; 0 when it died before writing them."""
    try:
        return int(path.read_text())
    except (OSError, ValueError):
        return 0
