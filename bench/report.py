"""Tables for the terminal and the JSON file.

One target: a wide table per scenario (a row per rate step or variant). Several
targets: a long table per scenario, one line per (variant, figure), a column per
target and the ratio livepolls/peer, marked `+` where ours is better.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from bench.scenarios import ScenarioResult

Better = Literal["lower", "higher", ""]

COLUMNS: dict[str, list[tuple[str, str, Better]]] = {
    "acks": [
        ("achieved_rate", "acked/s", "higher"),
        ("ack_p50_ms", "p50 ms", "lower"),
        ("ack_p99_ms", "p99 ms", "lower"),
        ("ack_max_ms", "max ms", "lower"),
        ("errors", "errors", "lower"),
        ("send_lag_p99_ms", "gen lag p99", ""),
        ("server_cpu_us_per_vote", "srv us/vote", "lower"),
        ("redis_cpu_us_per_vote", "redis us/vote", "lower"),
        ("gen_schedule_cpu_us_per_vote", "gen us/vote", ""),
        ("server_rss_mb", "srv RSS MB", "lower"),
        ("other_cpu_pct", "other CPU %", ""),
    ],
    "knee": [
        ("knee_rate", "knee /s", "higher"),
        ("first_failing_rate", "1st failing /s", ""),
        ("achieved_rate", "acked/s", "higher"),
        ("ack_p99_ms", "p99 ms", "lower"),
        ("within_goal", "within goal", ""),
        ("server_cpu_us_per_vote", "srv us/vote", "lower"),
        ("other_cpu_pct", "other CPU %", ""),
    ],
    "fanout": [
        ("results_p50_ms", "RESULTS p50", "lower"),
        ("results_p99_ms", "RESULTS p99", "lower"),
        ("results_max_ms", "RESULTS max", "lower"),
        ("ack_p99_ms", "ack p99", "lower"),
        ("members_reached_final", "reached", "higher"),
        ("frames_per_s", "frames/s", ""),
        ("server_cpu_us_per_frame", "srv us/frame", "lower"),
        ("server_cpu_us_per_vote", "srv us/vote", "lower"),
        ("gen_cpu_us_per_frame", "gen us/frame", ""),
        ("server_rss_mb", "srv RSS MB", "lower"),
        ("other_cpu_pct", "other CPU %", ""),
    ],
    "idle": [
        ("opened", "open", "higher"),
        ("drops", "drops", "lower"),
        ("connect_s", "connect s", "lower"),
        ("connect_join_p99_ms", "conn+join p99", "lower"),
        ("server_cpu_us_per_connect_join", "srv us/conn", "lower"),
        ("server_rss_kib_per_socket", "KiB/socket", "lower"),
        ("server_rss_after_mb", "srv RSS MB", "lower"),
        ("server_idle_cpu_pct", "idle CPU %", "lower"),
    ],
    "storm": [
        ("back", "back", "higher"),
        ("all_back_s", "all back s", "lower"),
        ("reconnect_p50_ms", "p50 ms", "lower"),
        ("reconnect_p99_ms", "p99 ms", "lower"),
        ("reconnect_max_ms", "max ms", "lower"),
        ("retries", "retries", "lower"),
        ("server_cpu_us_per_reconnect", "srv us/conn", "lower"),
        ("other_cpu_pct", "other CPU %", ""),
    ],
    "write-behind": [
        ("persisted_per_s_from_resume", "rows/s", "higher"),
        ("persisted_per_s", "rows/s 1st-last", "higher"),
        ("drain_s", "drain s", "lower"),
        ("server_cpu_us_per_row", "srv us/row", "lower"),
        ("mysql_cpu_us_per_row", "mysql us/row", "lower"),
        ("achieved_rate", "acked/s", "higher"),
        ("ack_p99_ms", "ack p99", "lower"),
        ("lag_p50_ms", "lag p50", "lower"),
        ("lag_p99_ms", "lag p99", "lower"),
        ("lag_max_ms", "lag max", "lower"),
    ],
    "slow": [
        ("healthy_results_p50_ms", "healthy p50", "lower"),
        ("healthy_results_p99_ms", "healthy p99", "lower"),
        ("healthy_results_max_ms", "healthy max", "lower"),
        ("healthy_reached_final", "reached", "higher"),
        ("slow_dropped_by_server", "slow dropped", ""),
        ("server_rss_start_mb", "RSS start", ""),
        ("server_rss_peak_mb", "RSS peak", "lower"),
        ("other_cpu_pct", "other CPU %", ""),
    ],
}
COLUMNS["next"] = COLUMNS["reveal"] = [
    ("p50_ms", "p50 ms", "lower"),
    ("p99_ms", "p99 ms", "lower"),
    ("max_ms", "max ms", "lower"),
    ("received", "received", "higher"),
    ("expected", "expected", ""),
    ("meets_goal", "p99 <= goal", ""),
    ("server_cpu_pct", "srv CPU %", ""),
    ("other_cpu_pct", "other CPU %", ""),
]
COLUMNS["fanout-large"] = COLUMNS["rooms"] = COLUMNS["fanout"]
COLUMNS["kinds"] = [
    *COLUMNS["knee"][:5],
    ("results_p50_ms", "RESULTS p50", "lower"),
    ("results_p99_ms", "RESULTS p99", "lower"),
    ("members_reached_final", "reached", "higher"),
    ("server_cpu_us_per_vote", "srv us/vote", "lower"),
    ("redis_cpu_us_per_vote", "redis us/vote", "lower"),
    ("other_cpu_pct", "other CPU %", ""),
]


def _fmt(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        if v >= 1000:
            return f"{v:,.0f}"
        return f"{v:.3g}" if v < 10 else f"{v:.1f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)
    ]
    lines = [
        "  ".join(
            h.rjust(w) if i else h.ljust(w)
            for i, (h, w) in enumerate(zip(header, widths, strict=True))
        )
    ]
    lines.append("  ".join("-" * w for w in widths))
    for r in rows:
        lines.append(
            "  ".join(
                c.rjust(w) if i else c.ljust(w)
                for i, (c, w) in enumerate(zip(r, widths, strict=True))
            )
        )
    return "\n".join(lines)


def _status(res: ScenarioResult) -> str:
    if res.skipped:
        return f"skipped: {res.skipped}"
    if res.error:
        return f"ERROR: {res.error}"
    failed = [c for c in res.checks if not c.ok]
    if failed:
        return "CHECK FAILED: " + "; ".join(f"{c.name} ({c.detail})" for c in failed)
    return f"checks ok ({len(res.checks)})"


def single(results: list[ScenarioResult]) -> str:
    out = []
    for res in results:
        cols = COLUMNS.get(res.name, [])
        out.append(f"\n== [{res.target}] {res.title} -- {_status(res)}")
        if res.rows:
            header = ["", *(c[1] for c in cols)]
            rows = [[str(r["label"]), *(_fmt(r.get(k)) for k, _, _ in cols)] for r in res.rows]
            out.append(_table(header, rows))
    return "\n".join(out)


def compare(by_target: dict[str, list[ScenarioResult]], ours: str = "livepolls") -> str:
    names = list(by_target)
    others = [n for n in names if n != ours]
    peer = others[0] if others else None
    out = []
    scenario_names: list[str] = []
    for results in by_target.values():
        for res in results:
            if res.name not in scenario_names:
                scenario_names.append(res.name)
    for sname in scenario_names:
        per = {t: next((r for r in by_target[t] if r.name == sname), None) for t in names}
        title = next(p.title for p in per.values() if p is not None)
        out.append(f"\n== {title}")
        for t, p in per.items():
            out.append(f"   {t}: {_status(p) if p else 'not run'}")
        labels: list[str] = []
        for p in per.values():
            for x in p.rows if p else []:
                if x["label"] not in labels:
                    labels.append(x["label"])
        header = ["", "figure", *names]
        if peer and ours in names:
            header.append(f"{ours}/{peer}")
        rows = []
        for label in labels:
            shown = label
            for key, name, better in COLUMNS.get(sname, []):
                vals: dict[str, Any] = {}
                for t, p in per.items():
                    found = [x for x in (p.rows if p else []) if x["label"] == label]
                    vals[t] = found[0].get(key) if found else None
                line = [shown, name, *(_fmt(vals[t]) for t in names)]
                if peer and ours in names:
                    a, b = vals.get(ours), vals.get(peer)
                    if isinstance(a, int | float) and isinstance(b, int | float) and b:
                        ratio = a / b
                        mark = ""
                        if (better == "lower" and ratio < 1) or (better == "higher" and ratio > 1):
                            mark = " +"
                        line.append(f"{ratio:.2f}{mark}")
                    else:
                        line.append("-")
                rows.append(line)
                shown = ""
        if rows:
            out.append(_table(header, rows))
    return "\n".join(out)


def write_json(path: Path, doc: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2, sort_keys=False, default=str) + "\n")
