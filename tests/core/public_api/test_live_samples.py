"""The guide's Python sample client and the API methods page's curl sample, unchanged, against a real server.

The app is served by uvicorn on a free port over TLS (the samples say https) with a certificate made here.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import html
import io
import ipaddress
import json
import os
import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import uvicorn
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from core.tenancy.tables import PortalHost
from tests.core.public_api import guide_sample
from tests.core.public_api.conftest import bearer, wait_for_edrs
from tests.factories import sign_in

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
ROOT = Path(__file__).resolve().parents[3]
AXIOS = ROOT / "node_modules" / "axios"


def make_certificate(folder: Path, names: list[str]) -> tuple[Path, Path]:
    """A self-signed certificate for ``names`` and 127.0.0.1; (certificate, key) files."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])])
    now = dt.datetime.now(dt.UTC)
    alt = [x509.DNSName(n) for n in names] + [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName(alt), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_file, key_file


@contextlib.asynccontextmanager
async def served(app: object, cert: Path, key: Path) -> AsyncIterator[int]:
    """The session's app (its runtime already started) behind uvicorn on a free port; yields the port."""
    config = uvicorn.Config(
        app,  # type: ignore[arg-type]
        host="127.0.0.1",
        port=0,
        lifespan="off",
        ssl_certfile=str(cert),
        ssl_keyfile=str(key),
        log_level="warning",
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield server.servers[0].sockets[0].getsockname()[1]
    finally:
        server.should_exit = True
        await task


async def test_the_guides_python_sample_sends_and_parses_every_result(app, sms, tmp_path, monkeypatch):
    await PortalHost.insert(PortalHost(portal=sms.tenant.portal_id, host="localhost"))
    cert, key = make_certificate(tmp_path, ["localhost"])
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))
    data = [
        {"channels": ["SMS"], "from": "BrandA", "to": "34612345001", "message": "Hello", "label": "sample"},
        {"channels": ["SMS"], "from": "BrandA", "to": "34607123456", "message": "Hello", "isFlashed": False},
        {"channels": ["SMS"], "from": "BrandA", "to": "49", "message": "Hello"},
    ]
    printed = io.StringIO()
    async with served(app, cert, key) as port:
        with contextlib.redirect_stdout(printed):
            # The sample blocks (requests): it runs in a thread while this loop serves it.
            await asyncio.to_thread(guide_sample.send_sms, data, sms.tenant.api_key, f"localhost:{port}")
    lines = printed.getvalue().splitlines()
    assert re.fullmatch(rf"Message successfully sent to number 34612345001\. Message id {UUID}", lines[0]), lines
    assert re.fullmatch(rf"Message successfully sent to number 34607123456\. Message id {UUID}", lines[1]), lines
    assert lines[2].startswith("Error sending message to number 49. Error = `Invalid number"), lines
    assert len(lines) == 3
    await wait_for_edrs({"DELIVERED"}, 2)


@pytest.mark.skipif(shutil.which("node") is None or not AXIOS.exists(), reason="node or axios (make assets) missing")
async def test_the_guides_javascript_sample_sends_and_parses_every_result(app, sms, tmp_path):
    await PortalHost.insert(PortalHost(portal=sms.tenant.portal_id, host="localhost"))
    cert, key = make_certificate(tmp_path, ["localhost"])
    data = [
        {"channels": ["SMS"], "from": "BrandA", "to": "34612345001", "message": "Hola", "acceptMO": False},
        {"channels": ["SMS"], "from": "Nobody", "to": "34612345002", "message": "Hola"},
    ]
    async with served(app, cert, key) as port:
        process = await asyncio.create_subprocess_exec(
            "node",
            str(Path(__file__).parent / "guide_sample.js"),
            json.dumps(data),
            sms.tenant.api_key,
            f"localhost:{port}",
            cwd=ROOT,  # where node_modules/axios is
            env={**os.environ, "NODE_EXTRA_CA_CERTS": str(cert)},
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await process.communicate()
    assert process.returncode == 0, err
    assert re.fullmatch(rf"Message successfully sent to number 34612345001\. Message id {UUID}\n", out.decode()), out
    assert err.decode() == "Error sending message to number 34612345002. Error = `For message`\n"
    await wait_for_edrs({"DELIVERED"}, 1)


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
async def test_the_curl_sample_of_the_api_methods_page_works(app, client_for, sms, tmp_path):
    client = client_for(sms.tenant.host)
    await sign_in(client, sms.tenant.end_user_admin)
    shown = await client.get("/api-methods")
    assert shown.status_code == 200
    assert 'href="/api-keys"' in shown.text and "700" in shown.text
    sample = html.unescape(re.search(r'data-testid="sample-curl">(.*?)</pre>', shown.text, re.S).group(1))
    assert f"https://{sms.tenant.host}/api/send_sms" in sample  # the user's own host
    assert f"https://{sms.tenant.host}/api/send_sms" in shown.text.split('data-testid="sample-python"')[1]
    command = sample.replace("YOUR_API_KEY", sms.tenant.api_key).replace("YOUR_SENDER", "BrandA")
    cert, key = make_certificate(tmp_path, [sms.tenant.host])
    async with served(app, cert, key) as port:
        # Only where to connect is added: the page's host is a name this machine cannot resolve.
        reach = f"curl --connect-to {sms.tenant.host}:443:127.0.0.1:{port} --cacert {cert} "
        process = await asyncio.create_subprocess_exec(
            "bash", "-c", command.replace("curl ", reach, 1), stdout=asyncio.subprocess.PIPE
        )
        out, _ = await process.communicate()
    assert process.returncode == 0
    assert re.fullmatch(rf'\{{"results":\["34612345678:{UUID}"\]\}}', out.decode().strip()), out
    await wait_for_edrs({"DELIVERED"}, 1)
    assert bearer(sms.tenant.api_key)  # the same key the sample was filled with
