"""The shipped price catalog and the rules for reading any price file."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from interlock.accounting.catalog import PriceCatalogError, load_catalog, parse_catalog


def test_the_shipped_catalog_loads_with_a_source_and_date_for_every_price() -> None:
    catalog = load_catalog()
    providers = {e.provider for e in catalog.models}
    assert {"openai", "anthropic"} <= providers
    for entry in catalog.models:
        assert entry.source.url.scheme == "https"
        assert entry.effective_date <= date.today()
        assert entry.cached_input_per_mtok is None or entry.cached_input_per_mtok <= entry.input_per_mtok


def test_lookup_by_alias_or_dated_version() -> None:
    catalog = load_catalog()
    assert catalog.require("gpt-4.1").version == "gpt-4.1-2025-04-14"
    assert catalog.require("claude-sonnet-4-20250514").model == "claude-sonnet-4"
    assert catalog.find("no-such-model") is None


def test_a_price_change_is_a_new_dated_entry() -> None:
    catalog = load_catalog()
    assert catalog.require("o3", at=date(2025, 5, 1)).input_per_mtok == Decimal("10.00")
    assert catalog.require("o3", at=date(2025, 6, 10)).input_per_mtok == Decimal("2.00")
    assert catalog.require("o3").output_per_mtok == Decimal("8.00")
    with pytest.raises(PriceCatalogError, match="on 2025-01-01"):
        catalog.require("o3", at=date(2025, 1, 1))


def test_the_default_baseline_is_the_most_expensive_current_model() -> None:
    catalog = load_catalog()
    baseline = catalog.most_expensive()
    assert baseline.blended_per_mtok == max(e.blended_per_mtok for e in catalog.current())
    assert baseline.version == "claude-opus-4-1-20250805"  # ties with Opus 4; the newer wins


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "prices.yaml"
    path.write_text(text)
    return path


ENTRY = """
  - provider: acme
    model: m
    version: m-1
    input_per_mtok: 1
    output_per_mtok: 2
    effective_date: 2025-01-01
    source: {url: "https://example.com/prices", title: "Acme prices"}
"""


def test_errors_name_the_path_of_the_bad_field(tmp_path: Path) -> None:
    bad = ENTRY.replace("input_per_mtok: 1", "input_per_mtok: -1").replace("title:", "titel:")
    path = write(tmp_path, f"schema: 1\ncurrency: USD\nmodels:\n{ENTRY}{bad}")
    with pytest.raises(PriceCatalogError) as caught:
        load_catalog(path)
    message = str(caught.value)
    assert str(path) in message
    assert "models[1].input_per_mtok: Input should be greater than or equal to 0" in message
    assert "models[1].source.titel: Extra inputs are not permitted" in message
    assert "models[1].source.title: Field required" in message


def test_two_entries_for_one_version_and_date_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path, f"schema: 1\ncurrency: USD\nmodels:\n{ENTRY}{ENTRY}")
    with pytest.raises(PriceCatalogError, match="m-1 has two entries effective 2025-01-01"):
        load_catalog(path)


def test_unreadable_and_malformed_files_are_catalog_errors(tmp_path: Path) -> None:
    with pytest.raises(PriceCatalogError, match="cannot read price file"):
        load_catalog(tmp_path / "missing.yaml")
    with pytest.raises(PriceCatalogError, match="not valid YAML"):
        load_catalog(write(tmp_path, "models: [\n"))
    with pytest.raises(PriceCatalogError, match="currency"):
        load_catalog(write(tmp_path, f"schema: 1\ncurrency: EUR\nmodels:\n{ENTRY}"))


def test_the_example_in_the_economics_doc_is_a_valid_price_file() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "economics.md").read_text()
    example = doc.split("```yaml\n", 1)[1].split("```", 1)[0]
    catalog = parse_catalog(yaml.safe_load(example), "docs/economics.md")
    assert catalog.require("o3").output_per_mtok == Decimal("8.00")
