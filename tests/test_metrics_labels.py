"""Label values that come from requests are bounded: /metrics cannot be grown at will."""

from __future__ import annotations

import random
import string

import httpx

SERIES = ("livepolls_http_requests_total{", "livepolls_http_request_seconds_count{")


async def series(client: httpx.AsyncClient) -> set[str]:
    text = (await client.get("/metrics")).text
    return {line.rsplit(" ", 1)[0] for line in text.splitlines() if line.startswith(SERIES)}


async def test_made_up_methods_and_paths_add_a_bounded_number_of_series(
    client: httpx.AsyncClient,
) -> None:
    rng = random.Random(12)
    before = await series(client)
    for i in range(2000):
        method = "".join(rng.choices(string.ascii_uppercase, k=rng.randint(3, 12)))
        path = "/" + "".join(rng.choices(string.ascii_lowercase + string.digits, k=12))
        target = "/healthz" if i % 2 else path
        r = await client.request(method if i % 4 else "GET", target)
        assert r.status_code in (200, 404, 405), (method, target, r.status_code)
    added = await series(client) - before
    # method: one of a fixed set or "other"; route: a route's pattern or "unmatched";
    # status as is: a handful of combinations, whatever the requests made up.
    assert len(added) <= 10, sorted(added)
    methods = {s.split('method="')[1].split('"')[0] for s in added if 'method="' in s}
    assert methods <= {"GET", "other"}, methods
