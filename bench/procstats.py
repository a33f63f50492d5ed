"""CPU time and memory of process trees, read from /proc (Linux).

CPU of a tree = utime+stime of every live process in it, plus the cutime+cstime of
its root (children that exited and were reaped). Clock ticks are 10 ms on Linux, so
take deltas over phases of seconds, not milliseconds.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

TICK_S = 1.0 / os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


@dataclass(frozen=True, slots=True)
class Sample:
    cpu_s: float
    rss_bytes: int
    pids: tuple[int, ...]


def _stat(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # the command name may hold spaces and parentheses: split after the last ')'
    return raw[raw.rindex(")") + 2 :].split()


def descendants(roots: list[int]) -> list[int]:
    """roots and every process below them, by parent pid."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        fields = _stat(int(entry.name))
        if fields is not None:
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    out: list[int] = []
    todo = [r for r in roots if Path(f"/proc/{r}").exists()]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, []))
    return sorted(set(out))


def rss_bytes(pid: int) -> int:
    try:
        pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    except (OSError, ValueError, IndexError):
        return 0
    return pages * PAGE


def sample(roots: list[int]) -> Sample:
    """CPU seconds and summed RSS of the trees under roots, right now."""
    pids = descendants(roots)
    ticks = 0
    rss = 0
    for pid in pids:
        fields = _stat(pid)
        if fields is None:
            continue
        # fields[0] is state (field 3); utime=14, stime=15, cutime=16, cstime=17
        ticks += int(fields[11]) + int(fields[12])
        if pid in roots:
            ticks += int(fields[13]) + int(fields[14])
        rss += rss_bytes(pid)
    return Sample(ticks * TICK_S, rss, tuple(pids))


def machine_busy_s() -> tuple[float, float]:
    """(CPU seconds all cores spent busy outside interrupts, in interrupts) since boot.

    Interrupt time (irq + softirq) is not charged to any process; on loopback it is
    mostly the packets of the run itself."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in fields[:8])
    return (user + nice + system + steal) * TICK_S, (irq + softirq) * TICK_S


def find_pids(name: str) -> list[int]:
    """Pids whose command name (comm) is exactly name, e.g. 'mariadbd', 'redis-server'."""
    out = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                comm = Path(f"/proc/{entry.name}/comm").read_text().strip()
            except OSError:
                continue
            if comm == name:
                out.append(int(entry.name))
    return out
