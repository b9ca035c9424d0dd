"""Loading a multi-file project (includes, env_file, profiles) into typed attributes."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest

import devx


def test_version_and_abi() -> None:
    assert devx.version().count(".") == 2
    assert devx.version() == devx.__version__
    assert devx.abi_version() >= 1


def test_multi_file_project_has_typed_attributes(data: Path) -> None:
    multi = data / "multi"
    p = devx.Project.load(multi, user="tester")
    assert isinstance(p, devx.Project)
    assert p.name == "shop"  # the included file's name is dropped
    assert p.domain == "shop.example.test"
    assert p.provider == "podman"
    assert p.root_file == multi / "devx.yaml"
    assert p.files == [multi / "devx.yaml", multi / "payments" / "devx.yaml"]
    assert p.profiles == ["ci", "local"]
    assert p.active_profile == ""
    assert p.env == [f"file://{multi}/.env", f"file://{multi}/payments/.env"]

    assert [s.name for s in p.services] == ["api", "web", "payments"]
    api = p.services[0]
    assert isinstance(api, devx.Service)
    assert api.runtime == "host"
    assert api.command == ["./bin/api", "--port", "8080"]
    assert api.port == 8080
    assert api.env == {"LOG_LEVEL": "info"}
    assert [(d.name, d.condition) for d in api.depends_on] == [
        ("postgres", "service_healthy"),  # resolved: databases always have a health check
        ("payments", "service_started"),
    ]
    assert all(isinstance(d, devx.Dependency) for d in api.depends_on)
    assert api.depends_on[1].condition_declared
    assert api.healthcheck is not None
    assert api.healthcheck.http == "http://localhost:8080/health"
    assert api.healthcheck.interval == datetime.timedelta(seconds=2)
    assert api.working_dir == str(multi)  # root services run in the devx.yaml directory
    assert api.location.file == str(multi / "devx.yaml")
    assert (api.location.line, api.location.column) == (13, 5)

    web = p.find_service("web")
    assert web is not None
    assert web.command == ["/bin/sh", "-c", "npm run dev"]
    assert web.working_dir == str(multi / "web" / "app")
    assert web.healthcheck is None
    assert web.depends_on[0].condition == "service_healthy"

    payments = p.find_service("payments")
    assert payments is not None
    assert payments.dir == multi / "payments"  # included services keep their own directory
    assert payments.working_dir == str(multi / "payments")
    assert payments.healthcheck is not None and payments.healthcheck.tcp == "localhost:7000"
    assert payments.location.file == str(multi / "payments" / "devx.yaml")
    assert p.find_service("nope") is None

    assert [(d.name, d.engine, d.port) for d in p.databases] == [
        ("postgres", "postgres", 5433),
        ("redis", "redis", 6379),
    ]
    assert p.find_database("redis") is not None
    assert [(t.name, t.port) for t in p.tunnels] == [("web", 3000)]


def test_profile_overrides_and_is_recorded(data: Path) -> None:
    p = devx.Project.load(data / "multi", profile="ci")
    assert p.active_profile == "ci"
    api = p.find_service("api")
    assert api is not None
    assert api.port == 9090
    assert api.env == {"LOG_LEVEL": "debug"}
    local = devx.Project.load(data / "multi", profile="local")
    assert [(t.name, t.port) for t in local.tunnels] == [("web", 3001)]


def test_unknown_profile_is_a_config_error_listing_the_profiles(data: Path) -> None:
    with pytest.raises(devx.ConfigError) as info:
        devx.Project.load(data / "multi", profile="nope")
    assert "nope" in info.value.message
    assert "ci" in info.value.hint and "local" in info.value.hint


def test_directory_is_searched_upwards(data: Path) -> None:
    multi = data / "multi"
    assert devx.find_project(multi / "web" / "app") == multi / "devx.yaml"
    assert devx.Project.find(multi / "payments") == multi / "payments" / "devx.yaml"
    p = devx.load(multi / "web" / "app")
    assert p.root_file == multi / "devx.yaml"


def test_missing_project_raises_config_not_found(tmp_path: Path) -> None:
    with pytest.raises(devx.ConfigNotFoundError) as info:
        devx.Project.load(tmp_path / "nothing-here")
    assert info.value.code == "config_not_found"
    assert info.value.status == 3
    assert isinstance(info.value, devx.Error)


def test_to_json_is_stable_and_holds_the_resolved_model(data: Path) -> None:
    a = devx.Project.load(data / "multi", profile="ci", user="tester")
    b = devx.Project.load(data / "multi", profile="ci", user="tester")
    text = a.to_json()
    assert text == b.to_json()  # byte-identical: it is devx::project_to_json
    doc = json.loads(text)
    assert doc["v"] == 1
    assert doc["name"] == "shop"
    assert doc["profile"] == "ci"
    assert [s["name"] for s in doc["services"]] == ["api", "web", "payments"]
    assert doc["services"][0]["port"] == 9090
    assert a.to_dict() == doc


def test_to_yaml_round_trips_through_the_loader(data: Path, tmp_path: Path) -> None:
    original = devx.Project.load(data / "multi", profile="ci", user="tester")
    text = original.to_yaml()
    assert "shop" in text and "payments" in text
    (tmp_path / "devx.yaml").write_text(text)
    reloaded = devx.Project.load(tmp_path / "devx.yaml", user="tester")
    assert [s.name for s in reloaded.services] == [s.name for s in original.services]
    assert [s.port for s in reloaded.services] == [s.port for s in original.services]


def test_model_objects_outlive_their_project(data: Path) -> None:
    services = devx.Project.load(data / "multi").services
    assert services[2].name == "payments"  # the list keeps the Project alive
    assert "Service('api'" in repr(services[0])


def test_to_json_matches_the_document_shared_by_every_layer(data: Path) -> None:
    # tests/data/bindings/expected/multi-ci.json is also checked by the Node tests (and can be by
    # the C and CLI tests): every layer must produce these exact bytes. @DATA@ = fixture dir.
    expected = (data / "expected" / "multi-ci.json").read_text().strip()
    actual = devx.Project.load(data / "multi", profile="ci", user="tester").to_json()
    assert actual == expected.replace("@DATA@", str(data))
