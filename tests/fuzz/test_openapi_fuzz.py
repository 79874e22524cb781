"""Issue 17: schemathesis over the OpenAPI schema of a running portal, as an end user and as the owner: no 5xx."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import httpx
import hypothesis
import pytest
import requests
import schemathesis
from schemathesis import Case, GenerationMode

from tests.browser.server import demo_server

# Bounded: a fixed seed and a few examples per operation keep the run to a minute or two on this machine.
EXAMPLES = 12
SEED = 20261205
# Calls that would end the very session the fuzzer works with; they have their own tests.
SPARED = ("/api/auth/", "password", "two-factor", "2fa")


@pytest.fixture
def demo(tmp_path: Path, clean_state: None) -> Iterator[tuple[int, list[dict]]]:
    with demo_server(tmp_path) as running:
        yield running


def _token(port: int, host: str, email: str, password: str) -> str:
    basic = base64.b64encode(f"{email}:{password}".encode()).decode()
    response = httpx.post(
        f"http://127.0.0.1:{port}/api/auth/login", headers={"Host": host, "Authorization": f"Basic {basic}"}
    )
    assert response.status_code == 200, response.text
    return response.json()["token"]


def _server_errors(port: int, host: str, token: str) -> list[str]:
    """Every operation of the schema with generated valid and invalid input; the curl lines of the 5xx answers."""
    base = f"http://127.0.0.1:{port}"
    headers = {"Host": host, "Authorization": f"Bearer {token}"}
    schema = schemathesis.openapi.from_url(f"{base}/schema/openapi.json", headers={"Host": host})
    schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
    session = requests.Session()
    errors: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 50, "the schema lost its operations"
    for operation in operations:
        if any(word in operation.path for word in SPARED):
            continue

        @hypothesis.seed(SEED)
        @hypothesis.settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(hypothesis.HealthCheck),
            phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
        )
        @hypothesis.given(case=operation.as_strategy())
        def call(case: Case) -> None:
            response = case.call(base_url=base, session=session, headers=headers, timeout=30)
            if response.status_code >= 500:
                errors.append(f"{response.status_code}: {case.as_curl_command(headers=headers)}")

        call()
    return errors


@pytest.mark.browser
@pytest.mark.parametrize("role", ["end-user admin", "system owner admin"])
def test_no_generated_request_gets_a_server_error(demo: tuple[int, list[dict]], role: str) -> None:
    port, accounts = demo
    account = next(a for a in accounts if a["role"] == role)
    host = "demo.localhost" if role.startswith("system") else "reseller.localhost"
    errors = _server_errors(port, host, _token(port, host, account["email"], account["password"]))
    assert not errors, "\n".join(errors[:20])
