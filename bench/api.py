"""The REST calls the bench needs (PROTOCOL.md), for both targets.

Our service lets only registered users create polls (register, then log in); the
node peer has no accounts and lets any token create one. `owner_token` tries the
registered path and falls back to a guest only when the server has no
`/auth/register` at all (404/405), so a real 403 is never papered over.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from typing import Any

import httpx
import orjson


class ApiError(Exception):
    def __init__(self, what: str, response: httpx.Response) -> None:
        super().__init__(f"{what}: HTTP {response.status_code} {response.text[:300]}")
        self.status = response.status_code


@dataclass(frozen=True, slots=True)
class User:
    id: int
    token: str


@dataclass(frozen=True, slots=True)
class PollRef:
    """A poll the generator votes in. A rating's `option_ids` are its values 1..scale;
    a ranking's `rank` is how many options a ballot orders."""

    id: int
    option_ids: tuple[int, ...]
    kind: str = "single"
    rank: int = 0

    def ballot(self, pos: int) -> tuple[bytes, tuple[str, ...]]:
        """The VOTE's ballot field(s) for the `pos`-th choice, and the counts fields it
        marks (docs/protocol.md, kinds): a ranking orders k options from `pos` on."""
        if self.kind == "rating":
            value = self.option_ids[pos]
            return b'"rating":%d' % value, (str(value),)
        if self.kind == "ranking":
            n = len(self.option_ids)
            order = [self.option_ids[(pos + i) % n] for i in range(self.rank)]
            ids = ",".join(map(str, order)).encode()
            return b'"option_ids":[%s]' % ids, tuple(f"{o}:{p}" for p, o in enumerate(order, 1))
        opt = self.option_ids[pos]
        return b'"option_ids":[%d]' % opt, (str(opt),)


@dataclass(frozen=True, slots=True)
class Results:
    poll_id: int
    status: str
    seq: int
    total: int
    counts: dict[str, int]


class Api:
    def __init__(self, base_url: str, *, concurrency: int = 32) -> None:
        self.base_url = base_url.rstrip("/")
        self.concurrency = concurrency
        self.http = httpx.AsyncClient(
            base_url=self.base_url,
            timeout=httpx.Timeout(30.0),
            limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency),
        )

    async def aclose(self) -> None:
        await self.http.aclose()

    async def _post(self, path: str, body: object, token: str | None = None) -> httpx.Response:
        headers = {"content-type": "application/json"}
        if token:
            headers["authorization"] = f"Bearer {token}"
        for _ in range(20):
            r = await self.http.post(path, content=orjson.dumps(body), headers=headers)
            if r.status_code != 429:
                return r
            await asyncio.sleep(float(r.headers.get("retry-after", "1")))
        return r

    async def ready(self) -> bool:
        try:
            r = await self.http.get("/readyz", timeout=2.0)
        except httpx.HTTPError:
            return False
        return r.status_code == 200

    async def guest(self) -> User:
        r = await self._post("/auth/guest", {})
        if r.status_code != 201:
            raise ApiError("POST /auth/guest", r)
        body = r.json()
        return User(int(body["user"]["id"]), str(body["access_token"]))

    async def guests(self, n: int) -> list[User]:
        """n new guest users, `concurrency` requests in flight."""
        out: list[User] = []
        sem = asyncio.Semaphore(self.concurrency)

        async def one() -> None:
            async with sem:
                out.append(await self.guest())

        await asyncio.gather(*(one() for _ in range(n)))
        out.sort(key=lambda u: u.id)
        return out

    async def owner(self) -> User:
        """A user allowed to create polls: registered when the server has accounts."""
        username = "bench_" + secrets.token_hex(6)
        password = secrets.token_urlsafe(18)
        r = await self._post("/auth/register", {"username": username, "password": password})
        if r.status_code in (404, 405):
            return await self.guest()
        if r.status_code != 201:
            raise ApiError("POST /auth/register", r)
        r = await self._post("/auth/login", {"username": username, "password": password})
        if r.status_code != 200:
            raise ApiError("POST /auth/login", r)
        body = r.json()
        return User(int(body["user"]["id"]), str(body["access_token"]))

    async def create_poll(
        self,
        owner: User,
        *,
        options: int = 4,
        allow_change: bool = False,
        question: str = "bench",
        kind: str = "single",
        **extra: Any,
    ) -> PollRef:
        """A poll of `kind`: a rating has `options` values (its scale), a ranking orders
        all but one of its `options`, a quiz's first option is its correct answer."""
        body: dict[str, Any] = {
            "question": question,
            "allow_change": allow_change,
            "results_visibility": "live",
            **extra,
        }
        if kind == "rating":
            body.update(kind=kind, scale=options)
        else:
            body["options"] = [f"option {i + 1}" for i in range(options)]
        if kind == "ranking":
            body.update(kind=kind, max_choices=options - 1)
        if kind == "quiz":  # one correct answer: a ballot is one option, as single's
            body.update(kind=kind, correct=[0])
        r = await self._post("/polls", body, owner.token)
        if r.status_code != 201:
            raise ApiError("POST /polls", r)
        poll = r.json()
        if kind == "rating":
            return PollRef(int(poll["id"]), tuple(range(1, options + 1)), kind)
        ids = tuple(int(o["id"]) for o in sorted(poll["options"], key=lambda o: o["position"]))
        return PollRef(int(poll["id"]), ids, kind, int(poll["max_choices"]))

    async def create_polls(self, owner: User, n: int, **kw: Any) -> list[PollRef]:
        sem = asyncio.Semaphore(min(self.concurrency, 8))

        async def one() -> PollRef:
            async with sem:
                return await self.create_poll(owner, **kw)

        polls = list(await asyncio.gather(*(one() for _ in range(n))))
        polls.sort(key=lambda p: p.id)
        return polls

    async def results(self, owner: User, poll_id: int) -> Results:
        r = await self.http.get(
            f"/polls/{poll_id}/results", headers={"authorization": f"Bearer {owner.token}"}
        )
        if r.status_code != 200:
            raise ApiError(f"GET /polls/{poll_id}/results", r)
        b = r.json()
        counts = {str(k): int(v) for k, v in (b.get("counts") or {}).items()}
        return Results(int(b["poll_id"]), str(b["status"]), int(b["seq"]), int(b["total"]), counts)

    async def create_session(self, owner: User, poll_ids: list[int]) -> int:
        r = await self._post("/sessions", {"title": "bench", "poll_ids": poll_ids}, owner.token)
        if r.status_code != 201:
            raise ApiError("POST /sessions", r)
        return int(r.json()["id"])

    async def present(self, owner: User, session_id: int, **body: Any) -> int | None:
        """`POST /sessions/{id}/present` (`step` or `poll_id`); the poll shown now."""
        r = await self._post(f"/sessions/{session_id}/present", body, owner.token)
        if r.status_code != 200:
            raise ApiError(f"POST /sessions/{session_id}/present", r)
        current = r.json()["current_poll_id"]
        return int(current) if current is not None else None

    async def set_hidden(self, owner: User, poll_id: int, hidden: bool) -> None:
        action = "hide" if hidden else "reveal"
        r = await self._post(f"/polls/{poll_id}/{action}", {}, owner.token)
        if r.status_code != 200:
            raise ApiError(f"POST /polls/{poll_id}/{action}", r)

    async def close_poll(self, owner: User, poll_id: int) -> None:
        r = await self._post(f"/polls/{poll_id}/close", {}, owner.token)
        if r.status_code != 200:
            raise ApiError(f"POST /polls/{poll_id}/close", r)
