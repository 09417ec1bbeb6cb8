"""Revision configurations from audit bodies (v1 and v2) and what changed between them."""

from __future__ import annotations

from typing import Any

from forensics.incidents.config_diff import config_changes, describe_change, run_config


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
