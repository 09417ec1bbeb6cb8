"""forensics.toml: the shipped example, validation that names file and key, flag overrides."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from forensics.config import Config, describe_keys, load_config
from forensics.errors import ConfigError

EXAMPLE = Path(__file__).resolve().parents[1] / "forensics.toml.example"


def test_the_example_loads_and_shows_every_key_with_its_default() -> None:
    config = load_config(EXAMPLE)
    assert config.project == "netra-staging"
    raw = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    text = EXAMPLE.read_text(encoding="utf-8").replace("\n# ", " ")  # wrapped comments
    for section, key, default, doc in describe_keys():
        table = raw.get(section, {}) if section else raw
        assert key in table, f"forensics.toml.example lacks [{section}] {key}"
        assert doc.split(";")[0].rstrip(".") in text, f"{key}: its doc is not in the example"
        if section == "collect" or section == "thresholds":
            assert table[key] == default, f"[{section}] {key} is not the default"


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("[collect]\npagesize = 10\n", "[collect] unknown key 'pagesize'"),
        ('[collect]\npage_size = "ten"\n', "[collect] page_size: expected an integer"),
        ("[collect]\npage_size = 0\n", "page_size: must be at least 1"),
        ('[resources]\nservices = "api"\n', "services: expected a list of names"),
        ("[thresholds]\nrun_cpu_utilization = true\n", "expected a number"),
        ("colour = 1\n", "unknown key 'colour'"),
        ("project = \n", "not valid TOML"),
    ],
)
def test_bad_configuration_names_the_file_and_key(tmp_path: Path, text: str, needle: str) -> None:
    path = tmp_path / "forensics.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(path) in str(err.value) and needle in str(err.value)


def test_flags_override_the_file_and_unset_flags_keep_it(tmp_path: Path) -> None:
    path = tmp_path / "forensics.toml"
    path.write_text(
        'project = "a"\n[resources]\nservices = ["x"]\n[collect]\npushdown = false\n',
        encoding="utf-8",
    )
    config = load_config(path).with_overrides(
        project="b", services=(), pushdown=None, page_size=200
    )
    assert config.project == "b" and config.resources.services == ("x",)
    assert config.collect.pushdown is False and config.collect.page_size == 200


def test_no_file_means_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FORENSICS_CONFIG", raising=False)
    assert load_config() == Config()
