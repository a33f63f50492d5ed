"""A client generated from the served OpenAPI document runs a poll's whole life.

openapi-python-client writes the package into the test's tmp dir from
`GET /docs/openapi.json` of a live server; the test then registers, logs in, creates
a poll, opens it, votes, reads the results, closes and deletes it through that
package alone, and reads the documented errors as its typed `Error`. A reply that
strays from its schema fails the generated parser, so does a missing operation.
"""

from __future__ import annotations

import asyncio
import importlib
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from tests.conftest import LiveServer, unique_name

PACKAGE = "livepolls_client"
CONFIG = f"post_hooks: []\nproject_name_override: {PACKAGE}\npackage_name_override: {PACKAGE}\n"


@pytest.fixture
async def generated(live_server: LiveServer, tmp_path: Path) -> AsyncIterator[Any]:
    spec = tmp_path / "openapi.json"
    async with httpx.AsyncClient(base_url=live_server.base_url, timeout=30) as client:
        spec.write_bytes((await client.get("/docs/openapi.json")).content)
    (tmp_path / "config.yaml").write_text(CONFIG)
    out = tmp_path / "gen" / PACKAGE
    run = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).parent / "openapi-python-client"),
        "generate",
        "--path",
        str(spec),
        "--config",
        str(tmp_path / "config.yaml"),
        "--meta",
        "none",
        "--output-path",
        str(out),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output = (await asyncio.wait_for(run.communicate(), 300))[0].decode()
    assert run.returncode == 0, output
    # The generator warns about every schema it could not turn into a model.
    assert "Warning" not in output, output
    sys.path.insert(0, str(out.parent))
    try:
        yield lambda name: importlib.import_module(f"{PACKAGE}.{name}")
    finally:
        sys.path.remove(str(out.parent))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
            del sys.modules[name]


async def test_a_generated_client_runs_the_poll_lifecycle(
    live_server: LiveServer, generated: Any
) -> None:
    pkg: ModuleType = generated("client")
    api = {
        name: generated(f"api.default.{name}")
        for name in (
            "register",
            "login",
            "create_poll",
            "open_poll",
            "vote",
            "get_results",
            "get_poll",
            "close_poll",
            "delete_poll",
            "me",
        )
    }
    models = generated("models")
    async with pkg.Client(base_url=live_server.base_url) as anonymous:
        token = await account(api, models, anonymous)
    async with pkg.AuthenticatedClient(
        base_url=live_server.base_url, token=token.access_token
    ) as host:
        await lifecycle(api, models, host, token)


async def account(api: dict[str, Any], models: Any, anonymous: Any) -> Any:
    name, password = unique_name(), "lifecycle-password"

    r = await api["register"].asyncio_detailed(
        client=anonymous, body=models.RegisterBody(username=name, password=password)
    )
    assert r.status_code == 201
    assert r.parsed.user.username == name.lower()
    r = await api["login"].asyncio_detailed(
        client=anonymous, body=models.LoginBody(username=name, password="wrong-password")
    )
    assert r.status_code == 401
    assert isinstance(r.parsed, models.Error)
    assert r.parsed.error.code == "invalid_credentials"
    token = await api["login"].asyncio(
        client=anonymous, body=models.LoginBody(username=name, password=password)
    )
    assert isinstance(token, models.TokenReply)
    return token


async def lifecycle(api: dict[str, Any], models: Any, host: Any, token: Any) -> None:
    me = await api["me"].asyncio(client=host)
    assert me.user.id == token.user.id

    poll = await api["create_poll"].asyncio(
        client=host,
        body=models.CreatePoll(
            question="Tea or coffee?",
            options=["Tea", "Coffee"],
            status=models.CreatePollStatus.DRAFT,
        ),
    )
    assert isinstance(poll, models.Poll)
    assert poll.status == models.PollStatus.DRAFT
    opened = await api["open_poll"].asyncio(client=host, poll_id=poll.id)
    assert opened.status == models.PollStatus.OPEN

    coffee = poll.options[1].id
    receipt = await api["vote"].asyncio(
        client=host, poll_id=poll.id, body=models.VoteBody(option_ids=[coffee])
    )
    assert isinstance(receipt, models.VoteReceipt)
    assert receipt.status == models.VoteReceiptStatus.ACCEPTED
    bad = await api["vote"].asyncio_detailed(
        client=host, poll_id=poll.id, body=models.VoteBody(option_ids=[coffee + 1000])
    )
    assert bad.status_code == 422
    assert bad.parsed.error.code == "invalid_option"

    results = await api["get_results"].asyncio(client=host, poll_id=poll.id)
    assert isinstance(results, models.Results)
    assert results.total == 1
    assert results.counts.additional_properties == {str(poll.options[0].id): 0, str(coffee): 1}
    view = await api["get_poll"].asyncio(client=host, poll_id=poll.id)
    assert view.my_vote == [coffee]

    closed = await api["close_poll"].asyncio(client=host, poll_id=poll.id)
    assert isinstance(closed, models.ClosedPoll)
    assert closed.poll.status == models.PollStatus.CLOSED
    assert closed.results.seq == receipt.seq

    deleted = await api["delete_poll"].asyncio_detailed(client=host, poll_id=poll.id)
    assert deleted.status_code == 204
    gone = await api["get_poll"].asyncio_detailed(client=host, poll_id=poll.id)
    assert gone.status_code == 404
    assert gone.parsed.error.code == "not_found"
