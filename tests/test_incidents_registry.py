"""The issue registry: shipped file, user overrides by id, clear errors naming file and key."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from forensics.errors import ConfigError
from forensics.incidents import load_registry
from forensics.signatures import load_catalog

COMMISSIONED = {"#1278", "#1263", "#131", "#395", "#372", "#367", "#1176"}


def test_shipped_registry_has_the_commissioned_issues() -> None:
    registry = load_registry(None)
    assert {i.id for i in registry.issues} == COMMISSIONED
    known = {s.id for s in load_catalog().signatures}
    for issue in registry.issues:
        assert issue.url == f"https://github.com/netra-systems/zen/issues/{issue.id[1:]}"
        assert set(issue.signatures) <= known and set(issue.symptoms) <= known
        assert not set(issue.signatures) & set(issue.symptoms), issue.id
    assert registry.get("#1176").meta == "contradictions"
    assert registry.get("#367").drift
    # exit 3 and 503 are symptoms of #1278, never direct evidence
    assert "startup/exit-code-3" in registry.get("#1278").symptoms
    assert "startup/exit-code-3" not in registry.get("#1278").signatures


def test_user_file_overrides_by_id_and_extends(tmp_path: Path) -> None:
    user = tmp_path / "mine.yaml"
    user.write_text(
        "settings:\n  min_requests_after_fix: 50\n"
        "issues:\n"
        "  - id: '#395'\n"
        "    fixed_in: {service: netra-auth-service, revision: netra-auth-service-00090-abc}\n"
        "    claimed_resolved_at: null\n"
        "  - id: INC-7\n"
        "    title: Redis timeouts\n"
        "    url: https://example.com/INC-7\n"
        "    signatures: [auth/timeout]\n"
        "    claimed_status: fixed\n"
        "    claimed_resolved_at: 2025-10-01T12:00:00Z\n"
    )
    registry = load_registry(user)
    auth = registry.get("#395")
    assert auth.fixed_in is not None and auth.fixed_in.revision.endswith("00090-abc")
    assert auth.claimed_resolved_at is None  # null cleared the shipped claim
    assert auth.title.startswith("Auth service")  # keys not given are kept
    assert auth.min_requests_after_fix == 50  # user settings apply to shipped issues
    extra = registry.get("INC-7")
    assert extra.claimed_status == "resolved"  # "fixed" is an alias
    assert extra.claimed_resolved_at == datetime(2025, 10, 1, 12, tzinfo=UTC)
    assert registry.files[-1] == str(user)


def test_environment_variable_names_the_user_file(tmp_path: Path, monkeypatch) -> None:
    user = tmp_path / "env.yaml"
    user.write_text("issues:\n  - id: '#131'\n    claimed_status: resolved\n")
    monkeypatch.setenv("FORENSICS_ISSUES_FILE", str(user))
    assert load_registry().get("#131").claimed_status == "resolved"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("issues:\n  - id: '#1278'\n    signatures: [nope/missing]\n", "issues[#1278].signatures"),
        ("issues:\n  - id: '#1278'\n    claimed_status: maybe\n", "issues[#1278].claimed_status"),
        ("issues:\n  - id: '#1278'\n    colour: red\n", "issues[#1278].colour: unknown key"),
        ("issues:\n  - id: X\n    url: https://x\n", "issues[X].title: required"),
        ("issues:\n  - id: X\n    title: t\n    url: ftp://x\n", "issues[X].url"),
        ("issues:\n  - id: '#1278'\n    sources: [bigquery]\n", "issues[#1278].sources"),
        ("issues:\n  - id: '#1278'\n    claimed_resolved_at: 2025-09-17\n", "claimed_resolved_at"),
        ("issues:\n  - id: '#1278'\n    fixed_in: {rev: x}\n", "issues[#1278].fixed_in"),
        ("settings:\n  min_starts_after_fix: -1\n", "settings.min_starts_after_fix"),
        ("settings:\n  wobble: 1\n", "settings.wobble: unknown setting"),
        ("issues: {}\n", "issues: expected a list"),
        ("issues:\n  - id: '#1278'\n    symptoms: [startup/db-init-timeout]\n", "also listed"),
        ("issues:\n  - title: no id\n", "issues[0].id"),
        (
            "issues:\n  - {id: A, title: a, url: 'https://a'}\n  - {id: A, title: b, url: 'https://b'}\n",
            "issues[A]: the id appears twice",
        ),
        ("issues: [\n", "not valid YAML"),
        ("colour: red\n", "colour: unknown key"),
    ],
)
def test_bad_user_files_name_file_and_key(tmp_path: Path, body: str, expected: str) -> None:
    user = tmp_path / "bad.yaml"
    user.write_text(body)
    with pytest.raises(ConfigError) as err:
        load_registry(user)
    assert str(user) in str(err.value)
    assert expected in str(err.value)


def test_missing_user_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such issue registry file"):
        load_registry(tmp_path / "absent.yaml")
