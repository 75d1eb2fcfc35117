"""The real French CDA R2 examples and the CDA schema, read from ../shared/data (not shipped)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.cda import load_cda_schema

SHARED_CDA = Path(__file__).resolve().parents[3] / "shared" / "data" / "cda"
EXAMPLES = SHARED_CDA / "examples"
SCHEMA = SHARED_CDA / "schema" / "CDA_extended.xsd"
#: Sorted so that test ids are stable; empty in a clone without the shared data.
EXAMPLE_NAMES = sorted(p.name for p in EXAMPLES.glob("*.xml")) if EXAMPLES.is_dir() else []

SELF_RENDERING = "BIO-CR-BIO_2021.01_Auto-Presentable_avec-image.xml"
NON_STRUCTURED = ["IMG_CR_IMG_2024.01_CDA-R2-Niveau-1.xml", "DOC_NON_STRUCTURE_CDA-R2-N1.xml"]


def example(name: str) -> bytes:
    """The bytes of one example; skips the test when the shared data is absent."""
    path = EXAMPLES / name
    if not path.exists():
        pytest.skip(f"the CDA examples are not at {EXAMPLES} (they come with the shared test data)")
    return path.read_bytes()


def examples_or_skip() -> list[str]:
    """Parameters for a test over every example: one skipped case when there are none."""
    return EXAMPLE_NAMES or [pytest.param(None, marks=pytest.mark.skip(
        reason=f"the CDA examples are not at {EXAMPLES} (they come with the shared test data)"))]


@pytest.fixture(scope="session")
def cda_schema():
    if not SCHEMA.exists():
        pytest.skip(f"the CDA schema is not at {SCHEMA} (it comes with the shared test data)")
    return load_cda_schema(SCHEMA)
