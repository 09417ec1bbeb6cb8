"""Revision configurations from audit bodies (v1 and v2) and what changed between them."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from forensics.incidents.config_diff import _normed, config_changes, describe_change, run_config


def v1(
    image: str, env: dict[str, str], memory: str = "512Mi", **annotations: str
) -> dict[str, Any]:
    return {
        "request": {
            "service": {
                "spec": {
                    "template": {
                        "metadata": {"annotations": annotations},
                        "spec": {
                            "containerConcurrency": 80.0,
                            "containers": [
                                {
                                    "image": image,
                                    "env": [{"name": k, "value": v} for k, v in env.items()]
                                    + [
                                        {
                                            "name": "DB_PASSWORD",
                                            "valueFrom": {"secretKeyRef": {"name": "pw"}},
                                        }
                                    ],
                                    "resources": {"limits": {"cpu": "1", "memory": memory}},
                                }
                            ],
                        },
                    }
                }
            }
        }
    }


def test_v1_template_keeps_env_names_only_and_normalizes_values() -> None:
    config = run_config(
        v1(
            "img@sha256:" + "a" * 64,
            {"API_KEY": "s3cr3t-value"},
            **{
                "run.googleapis.com/startup-cpu-boost": "True",
                "run.googleapis.com/vpc-access-connector": "staging-connector",
            },
        )
    )
    assert config is not None
    assert config["env"] == ["API_KEY", "DB_PASSWORD"]
    assert "s3cr3t-value" not in repr(config) and "pw" not in config.values()
    assert config["startup_cpu_boost"] == "true" and config["concurrency"] == 80
    assert config["vpc_connector"] == "staging-connector"


def test_v2_update_service_template() -> None:
    payload = {
        "request": {
            "service": {
                "template": {
                    "containers": [
                        {
                            "image": "img:2",
                            "env": [{"name": "A", "value": "1"}],
                            "resources": {"limits": {"cpu": "2", "memory": "1Gi"}},
                        }
                    ],
                    "scaling": {"minInstanceCount": 1, "maxInstanceCount": 10},
                    "vpcAccess": {"connector": "c1", "egress": "ALL_TRAFFIC"},
                    "volumes": [{"cloudSqlInstance": {"instances": ["p:r:i"]}}],
                }
            }
        }
    }
    config = run_config(payload)
    assert config == {
        "image": "img:2",
        "env": ["A"],
        "cpu": "2",
        "memory": "1Gi",
        "min_instances": 1,
        "max_instances": 10,
        "vpc_connector": "c1",
        "vpc_egress": "ALL_TRAFFIC",
        "cloudsql_instances": "p:r:i",
    }


def test_changes_and_their_one_line_descriptions() -> None:
    before = run_config(v1("img@sha256:" + "a" * 64, {"A": "1", "B": "2"}))
    after = run_config(v1("img@sha256:" + "b" * 64, {"A": "9", "C": "3"}, memory="1Gi"))
    assert before and after
    changes = {c["field"]: c for c in config_changes(before, after)}
    assert set(changes) == {"env", "image", "memory"}  # A's value changed: not visible, not drift
    assert changes["env"]["added"] == ["C"] and changes["env"]["removed"] == ["B"]
    assert describe_change(changes["env"]) == "env added: C; env removed: B"
    assert describe_change(changes["memory"]) == "memory: 512Mi -> 1Gi"
    assert describe_change(changes["image"]) == (
        "image: img@sha256:aaaaaaaaaaaa… -> img@sha256:bbbbbbbbbbbb…"
    )
    assert config_changes(before, before) == []


def test_payload_without_a_template_has_no_config() -> None:
    assert run_config({"methodName": "SetIamPolicy", "request": {"policy": {}}}) is None


_value = st.one_of(
    st.none(),
    st.sampled_from(["", "True", "FALSE", "true", "False ", "img@sha256:" + "c" * 64, "2Gi"]),
    st.sampled_from([80, 80.0, 12.5, 0, 0.0, -3.0, True, False]),
    st.lists(st.sampled_from(["A", "B"]), max_size=2),
    st.just({}),
)
_env = st.lists(st.sampled_from(["A", "B", "C"]), max_size=3, unique=True)
_config = st.builds(
    lambda settings, env: {**settings, **env},
    st.dictionaries(st.sampled_from(["image", "memory", "timeout", "port", "x"]), _value),
    st.dictionaries(st.just("env"), st.one_of(st.none(), _env)),
)  # env names are a list (or none): run_config makes them so


def _plain_norm(value: Any) -> Any:
    """The normalization as first written: one isinstance chain per value."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        return value.lower() if value.lower() in ("true", "false") else value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


@given(_config)
def test_settings_kept_and_normalized_as_the_plain_rule_says(config: dict[str, Any]) -> None:
    expected = {k: _plain_norm(v) for k, v in config.items() if v not in (None, "", [])}
    got = _normed(config)
    assert got == expected
    assert [type(v) for v in got.values()] == [type(v) for v in expected.values()]


@given(_config, _config)
def test_changes_are_the_settings_that_differ_in_name_order(
    before: dict[str, Any], after: dict[str, Any]
) -> None:
    """Every setting of either whose values differ (a missing one reads as None), sorted."""
    fields = [k for k in sorted(set(before) | set(after)) if before.get(k) != after.get(k)]
    changes = config_changes(before, after)
    assert [c["field"] for c in changes] == fields
    for c in changes:
        if c["field"] != "env":
            assert (c["from"], c["to"]) == (before.get(c["field"]), after.get(c["field"]))
