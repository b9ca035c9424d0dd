"""The committed JSON Schemas agree with what the library accepts and emits.

devx.schema.json must accept every valid devx.yaml of the golden corpus and reject the structural
mistakes the loader rejects; project.schema.json must accept every golden resolved project.
"""
import json
import pathlib

import jsonschema
import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "docs" / "schemas"
CASES = ROOT / "tests" / "data" / "config"


def schema(name):
    return json.loads((SCHEMAS / name).read_text())


def validator(name):
    store = {s["$id"]: s for s in (schema(p.name) for p in SCHEMAS.glob("*.json"))}
    resolver = jsonschema.RefResolver(base_uri=store[schema(name)["$id"]]["$id"], referrer=schema(name), store=store)
    return jsonschema.Draft202012Validator(schema(name), resolver=resolver)


def valid_files():
    for case in sorted(CASES.iterdir()):
        if case.name.startswith("valid_"):
            for f in sorted(case.rglob("devx.yaml")):
                yield pytest.param(f, id=str(f.relative_to(CASES)))


@pytest.mark.parametrize("path", list(valid_files()))
def test_valid_configs_match_the_devx_yaml_schema(path):
    document = yaml.safe_load(path.read_text()) or {}
    validator("devx.schema.json").validate(document)


@pytest.mark.parametrize(
    "case",
    ["unknown_key_typo", "bad_types", "port_ranges", "actions_and_pipeline", "provider_and_bridge"],
)
def test_structural_mistakes_are_rejected_by_the_schema(case):
    document = yaml.safe_load((CASES / case / "devx.yaml").read_text())
    errors = list(validator("devx.schema.json").iter_errors(document))
    assert errors, f"{case} should not validate"


@pytest.mark.parametrize("path", sorted(CASES.glob("*/expected.json")), ids=lambda p: p.parent.name)
def test_resolved_projects_match_the_project_schema(path):
    validator("project.schema.json").validate(json.loads(path.read_text()))


def test_every_schema_is_a_valid_draft_2020_12_schema():
    for path in SCHEMAS.glob("*.json"):
        jsonschema.Draft202012Validator.check_schema(json.loads(path.read_text()))
