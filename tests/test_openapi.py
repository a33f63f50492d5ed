"""The OpenAPI document describes the real API: schemathesis against a real server.

`test_schemathesis_finds_nothing` runs the schemathesis CLI with every check and every
phase (examples, coverage, fuzzing, stateful through the spec's links) against a
`python -m app.serve` process. The default suite runs SCHEMATHESIS_MAX_EXAMPLES (25)
examples per operation; `make schemathesis` runs 300. Its hooks (auth, the body rules
JSON Schema cannot state) are tests/schemathesis_hooks.py.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.context import App
from app.http.docs import build_spec, documented_routes

ROOT = Path(__file__).resolve().parent.parent
MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "25"))
SEED = os.environ.get("SCHEMATHESIS_SEED", "20261202")
# Routes that are not the REST API: the browser client, the socket, this document.
NOT_API = re.compile(r"^livepolls\.(web|ws|docs)\.")


@pytest.mark.multiprocess
def test_schemathesis_finds_nothing(server_process: Any, tmp_path: Path) -> None:
    # The fuzzer logs in hundreds of times from one address: the per-address cap would
    # turn its own token fetches into 429s. Per-name limits stay on (and get hit).
    # Poll creation and renewal buckets likewise: with them at their defaults most of
    # the run would test the 429.
    server = server_process(
        LOGIN_ATTEMPTS_PER_IP="100000000",
        POLL_CREATE_BURST="100000",
        POLL_CREATE_PER_S="1000",
        REFRESH_ATTEMPTS_PER_IP="100000000",
        MAX_POLLS_PER_USER="0",
    )
    spec = httpx.get(f"{server.base_url}/docs/openapi.json").json()
    methods = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
    operations = sum(len(methods & set(item)) for item in spec["paths"].values())
    env = {
        **os.environ,
        "LIVEPOLLS_BASE_URL": server.base_url,
        "SCHEMATHESIS_HOOKS": "tests.schemathesis_hooks",
        "PYTHONPATH": str(ROOT),
    }
    command = [
        str(Path(sys.executable).parent / "schemathesis"),
        "run",
        f"{server.base_url}/docs/openapi.json",
        "--checks",
        "all",
        "--phases",
        "examples,coverage,fuzzing,stateful",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        SEED,
        # One worker: parallel stateful scenarios share the fuzzer's account, so one
        # could delete the poll another just created and call it a missing resource.
        "--workers",
        "1",
        "--request-timeout",
        "30",
        "--no-color",
    ]
    run = subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=3000
    )
    report = run.stdout + run.stderr
    print(report)  # the whole run, for the CI log
    assert run.returncode == 0, report[-20000:]
    # Every operation was tested, and the stateful phase ran through the links.
    assert re.search(rf"Tested:\s+{operations}\b", report), report[-4000:]
    assert "Scenarios:" in report and re.search(r"API Links:\s+[1-9]", report), report[-4000:]


def test_every_rest_route_is_documented(app: App) -> None:
    missing = [
        f"{method} {path}"
        for method, path, _, doc, name in documented_routes(app)
        if doc is None and not NOT_API.match(name)
    ]
    assert missing == []


def test_spec_describes_bodies_errors_and_links(app: App) -> None:
    spec = build_spec(app)
    assert spec["openapi"].startswith("3.1")
    schemas = spec["components"]["schemas"]
    create = schemas["CreatePoll"]
    assert "model_config" not in create["properties"]
    # options are required for every kind but a rating (the server checks per kind)
    assert set(create["required"]) == {"question"}
    assert create["additionalProperties"] is False
    assert schemas["Poll"]["required"]
    post = spec["paths"]["/polls"]["post"]
    assert post["security"] == [{"bearer": []}]
    responses = post["responses"]
    assert {"201", "400", "401", "403", "413", "422"} <= set(responses)
    unauthorized = spec["components"]["responses"]["Unauthorized"]
    assert unauthorized["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"
    }
    assert unauthorized["headers"]["WWW-Authenticate"]["required"] is True
    assert spec["components"]["responses"]["RateLimited"]["headers"]["Retry-After"]["required"]
    assert "429" in spec["paths"]["/auth/login"]["post"]["responses"]
    links = responses["201"]["links"]
    linked = {link["operationId"] for link in links.values()}
    assert linked >= {
        "getPoll",
        "patchPoll",
        "deletePoll",
        "openPoll",
        "closePoll",
        "getResults",
        "vote",
    }
    assert links["GetPoll"]["parameters"] == {"poll_id": "$response.body#/id"}
    param = spec["paths"]["/polls/{poll_id}"]["get"]["parameters"][0]
    assert param["schema"]["type"] == "integer"
    operation_ids = [op["operationId"] for item in spec["paths"].values() for op in item.values()]
    assert linked <= set(operation_ids)
    assert len(operation_ids) == len(set(operation_ids))


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PUT", "/polls", {"GET", "POST"}),
        ("TRACE", "/polls/1", {"GET", "PATCH", "DELETE"}),
        ("DELETE", "/polls/1/open", {"POST"}),
        ("POST", "/polls/code/ABC234", {"GET"}),
        ("PUT", "/healthz", {"GET"}),
    ],
)
async def test_an_undeclared_method_is_405_with_allow(
    client: httpx.AsyncClient, method: str, path: str, allowed: set[str]
) -> None:
    r = await client.request(method, path)
    assert r.status_code == 405
    assert r.json()["error"]["code"] == "method_not_allowed"
    listed = {m.strip() for m in r.headers["allow"].split(",")}
    assert allowed <= listed
    assert method not in listed
