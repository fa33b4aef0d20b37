"""Schemathesis against the two OGC API documents, with a real server (uvicorn, as `serve` runs
it) on the server tests' release: every operation each document declares is called with
generated requests, valid and invalid (`mode = all`), and every response must be no server
error (5xx) and match the schema the document gives for its status and media type.

Offline: the documents are self-contained (publish.ogc.openapi), so schemathesis loads them as
served, with nothing to fetch. Bounded: MAX_EXAMPLES requests an operation, no deadline (the
machine is shared), no shrinking (schemathesis prints the failing request as a curl command).
No operation is left out, and each operation's first failure is reported, not only the first
operation's: the operations are driven here (operation.as_strategy under hypothesis) rather than
by `schemathesis.pytest.from_fixture(...).parametrize()`, whose lazy loader fails under pytest 9.2
(it reads the private `Function._nodeid`).
"""

from __future__ import annotations

from typing import Any

import httpx
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import response_schema_conformance

MAX_EXAMPLES = 15  # an operation, in each mode (valid, invalid)
CHECKS = [not_a_server_error, response_schema_conformance]
SETTINGS = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,  # the same requests on every run
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)


def _schema(url: str, headers: dict[str, str]) -> Any:
    r = httpx.get(url, headers=headers, timeout=30)
    assert r.status_code == 200, r.text
    return schemathesis.openapi.from_dict(r.json(), config=SchemathesisConfig())


def _failures(schema: Any, base_url: str, headers: dict[str, str]) -> list[str]:
    """Every operation, valid then invalid requests: the first failure of each, as reported."""
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    declared = [
        (path, method)
        for path, item in schema.raw_schema["paths"].items()
        for method in item
        if method in ("get", "put", "post", "delete", "options", "head", "patch", "trace")
    ]
    assert len(operations) == len(declared)  # every declared operation is exercised
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @SETTINGS
            @given(case=operation.as_strategy(generation_mode=mode))
            def check(case: Any) -> None:
                case.call_and_validate(base_url=base_url, headers=headers, checks=CHECKS)

            try:
                check()
            except (Failure, FailureGroup) as exc:  # keep going: report every operation's
                failures.append(f"{operation.label} ({mode}): {exc}")
    return failures


def test_public_api(server: Any) -> None:
    schema = _schema(f"{server[0]}/ogc/openapi", {})
    assert "/collections/hl/items" in schema.raw_schema["paths"]  # not a vacuous document
    failures = _failures(schema, f"{server[0]}/ogc", {})
    assert not failures, "\n\n".join(failures)


def test_internal_api(server: Any) -> None:
    auth = {"Authorization": f"Bearer {server[1]}"}
    schema = _schema(f"{server[0]}/internal/ogc/openapi", auth)
    assert "/collections/spxm/items" in schema.raw_schema["paths"]
    failures = _failures(schema, f"{server[0]}/internal/ogc", auth)
    assert not failures, "\n\n".join(failures)
