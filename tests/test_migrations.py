"""The committed aerich migrations match the models and build the ballot key."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tortoise import connections

from app.config import Settings
from app.db import close_db, open_db

ROOT = Path(__file__).resolve().parent.parent


def test_migrations_have_no_pending_changes(tmp_path: Path) -> None:
    # --offline compares the models with the state stored in the last migration file,
    # so it needs no server; it runs in a copy so a detected change writes nothing here.
    shutil.copytree(ROOT / "migrations", tmp_path / "migrations")
    shutil.copy(ROOT / "aerich.ini", tmp_path / "aerich.ini")
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": "mysql://root@127.0.0.1:3306/unused",
        "AERICH_MYSQL_VERSION": "8.0",
    }
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "aerich",
            "-c",
            "aerich.ini",
            "migrate",
            "--offline",
            "--name",
            "pending",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert "No changes detected" in out.stdout, out.stdout + out.stderr
    assert sorted(p.name for p in (tmp_path / "migrations" / "models").glob("*.py")) == sorted(
        p.name for p in (ROOT / "migrations" / "models").glob("*.py")
    )


async def test_schema_has_the_unique_ballot_key(settings: Settings, live_schema: None) -> None:
    await open_db(settings)
    try:
        conn = connections.get("default")
        if settings.is_mysql:
            _, rows = await conn.execute_query(
                "SELECT INDEX_NAME, GROUP_CONCAT(COLUMN_NAME ORDER BY SEQ_IN_INDEX) AS cols "
                "FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() "
                "AND TABLE_NAME = 'ballots' AND NON_UNIQUE = 0 GROUP BY INDEX_NAME"
            )
            unique = {row["cols"] for row in rows}
        else:
            _, indexes = await conn.execute_query("PRAGMA index_list('ballots')")
            unique = set()
            for index in indexes:
                if index["unique"]:
                    _, cols = await conn.execute_query(f"PRAGMA index_info('{index['name']}')")
                    unique.add(",".join(c["name"] for c in cols))
        assert "poll_id,user_id" in unique
        _, tables = await conn.execute_query(
            "SELECT table_name AS name FROM information_schema.tables "
            "WHERE table_schema = DATABASE()"
            if settings.is_mysql
            else "SELECT name FROM sqlite_master WHERE type = 'table'"
        )
        assert {"users", "polls", "poll_options", "ballots"} <= {t["name"] for t in tables}
    finally:
        await close_db()
