"""Latency histograms (HdrHistogram-like, mergeable across processes) and summaries.

Values are recorded as integer microseconds into log-linear buckets: exact below
128 µs, then 64 sub-buckets per power of two, so any reported percentile is within
1.6% of the true value. `min`, `max`, `count` and `sum` are exact.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

SUB_BITS = 6  # 64 sub-buckets per power of two above 128 µs


def _key(v: int) -> int:
    e = v.bit_length() - (SUB_BITS + 1)
    if e <= 0:
        return v
    return (e << (SUB_BITS + 1)) | (v >> e)


def _value(key: int) -> int:
    e = key >> (SUB_BITS + 1)
    if e == 0:
        return key
    mant = key & ((1 << (SUB_BITS + 1)) - 1)
    return (mant << e) + (1 << (e - 1))  # bucket midpoint


class Histogram:
    __slots__ = ("buckets", "count", "max", "min", "total")

    def __init__(self) -> None:
        self.buckets: Counter[int] = Counter()
        self.count = 0
        self.total = 0
        self.min = 0
        self.max = 0

    def record(self, us: float) -> None:
        v = int(us) if us > 0 else 0
        self.buckets[_key(v)] += 1
        if self.count == 0 or v < self.min:
            self.min = v
        if v > self.max:
            self.max = v
        self.count += 1
        self.total += v

    def record_many(self, values: Iterable[float]) -> None:
        for v in values:
            self.record(v)

    def merge(self, other: Histogram) -> None:
        if other.count == 0:
            return
        self.buckets.update(other.buckets)
        if self.count == 0 or other.min < self.min:
            self.min = other.min
        self.max = max(self.max, other.max)
        self.count += other.count
        self.total += other.total

    def percentile(self, p: float) -> int:
        """The value at percentile p (0..100), in µs; 0 when empty."""
        if self.count == 0:
            return 0
        if p >= 100:
            return self.max
        rank = max(1, int(p / 100.0 * self.count + 0.5))
        seen = 0
        for key in sorted(self.buckets):
            seen += self.buckets[key]
            if seen >= rank:
                return min(max(_value(key), self.min), self.max)
        return self.max

    def summary_ms(self) -> dict[str, float | int]:
        """count, mean and p50/p90/p99/p99.9/max in milliseconds (3 decimals)."""

        def ms(us: float) -> float:
            return round(us / 1000.0, 3)

        return {
            "count": self.count,
            "mean_ms": ms(self.total / self.count) if self.count else 0.0,
            "p50_ms": ms(self.percentile(50)),
            "p90_ms": ms(self.percentile(90)),
            "p99_ms": ms(self.percentile(99)),
            "p999_ms": ms(self.percentile(99.9)),
            "max_ms": ms(self.max),
        }


def merged(hists: Iterable[Histogram]) -> Histogram:
    out = Histogram()
    for h in hists:
        out.merge(h)
    return out


def add_counters(counters: Iterable[dict[str, int]]) -> dict[str, int]:
    out: Counter[str] = Counter()
    for c in counters:
        out.update(c)
    return dict(sorted(out.items()))
