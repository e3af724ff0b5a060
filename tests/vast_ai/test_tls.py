"""TLS with a pinned self-signed certificate: made once and kept, fingerprinted as openssl
does, and a client pinning it talks to a real uvicorn while any other certificate is
refused before a request (and the key in it) leaves the client."""

from __future__ import annotations

import ssl
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from fastapi import FastAPI

from tests.fakes.live import serve
from tests.vast_ai.conftest import AUTH
from vast_ai.app import create_app
from vast_ai.settings import Settings
from vast_ai.tls import (
    CERT_FILE,
    KEY_FILE,
    TlsError,
    ensure_certificate,
    fingerprint,
    make_certificate,
    parse_fingerprint,
    pinned_context,
)

REPO = Path(__file__).resolve().parents[2]


# --- fingerprints ---------------------------------------------------------------------------


def test_fingerprint_is_the_sha256_of_the_certificate_as_openssl_writes_it() -> None:
    cert_pem, _ = make_certificate()
    expected = x509.load_pem_x509_certificate(cert_pem.encode()).fingerprint(hashes.SHA256())

    printed = fingerprint(cert_pem)

    assert printed == ":".join(f"{byte:02X}" for byte in expected)
    assert len(printed) == 95


def test_fingerprint_of_something_else_is_a_clear_error() -> None:
    with pytest.raises(TlsError, match="not a PEM certificate"):
        fingerprint("hello")


PIN = ":".join(["AB", "CD", "EF", "01"] * 8)


@pytest.mark.parametrize(
    "text",
    [
        PIN,
        PIN.lower(),
        PIN.replace(":", ""),
        PIN.replace(":", "").lower(),
        f"  {PIN}\n",
        f"sha256 Fingerprint={PIN}",  # openssl 3
        f"SHA256 Fingerprint={PIN}",  # openssl 1.1
        PIN.replace(":", " "),
    ],
)
def test_fingerprints_are_read_in_every_usual_spelling(text: str) -> None:
    assert parse_fingerprint(text) == PIN


@pytest.mark.parametrize(
    "text",
    [
        "",
        PIN[:-3],  # 31 bytes
        PIN + ":00",  # 33 bytes
        PIN.replace("AB", "XY"),
        ":".join(["AB"] * 20),  # a SHA-1 fingerprint
        f"md5 Fingerprint={PIN}",
    ],
)
def test_anything_else_is_not_a_fingerprint(text: str) -> None:
    with pytest.raises(ValueError, match="is not a SHA-256 fingerprint"):
        parse_fingerprint(text)


# --- the certificate, made once and kept ----------------------------------------------------


def test_the_certificate_is_made_once_then_kept(tmp_path: Path) -> None:
    folder = tmp_path / "tls"

    made, was_made = ensure_certificate(folder)
    kept, was_made_again = ensure_certificate(folder)

    assert (was_made, was_made_again) == (True, False)
    assert made == kept == fingerprint((folder / CERT_FILE).read_text())
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE((folder / KEY_FILE).stat().st_mode) == 0o600
    assert sorted(p.name for p in folder.iterdir()) == [CERT_FILE, KEY_FILE]


def test_the_certificate_is_for_a_server_and_long_lived(tmp_path: Path) -> None:
    ensure_certificate(tmp_path)
    cert = x509.load_pem_x509_certificate((tmp_path / CERT_FILE).read_bytes())

    assert cert.issuer == cert.subject  # self-signed
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    usage = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert [oid._name for oid in usage] == ["serverAuth"]
    assert (cert.not_valid_after_utc - datetime.now(UTC)).days >= 3649


def test_a_key_without_its_certificate_is_replaced(tmp_path: Path) -> None:
    (tmp_path / KEY_FILE).write_text("left by a start that stopped half way")
    pin, made = ensure_certificate(tmp_path)
    assert made and pin == fingerprint((tmp_path / CERT_FILE).read_text())


def _break_missing_key(folder: Path) -> None:
    (folder / KEY_FILE).unlink()


def _break_other_key(folder: Path) -> None:
    (folder / KEY_FILE).write_text(make_certificate()[1])


def _break_garbled(folder: Path) -> None:
    (folder / CERT_FILE).write_text("-----BEGIN CERTIFICATE-----\nnot base64\n")


def _break_expired(folder: Path) -> None:
    cert_pem, key_pem = make_certificate(now=datetime(2000, 1, 1, tzinfo=UTC))
    (folder / CERT_FILE).write_text(cert_pem)
    (folder / KEY_FILE).write_text(key_pem)


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (_break_missing_key, "has no key.pem beside it"),
        (_break_other_key, "do not belong together"),
        (_break_garbled, "cannot be read"),
        (_break_expired, "expired on 2009-12-29"),
    ],
    ids=["key missing", "another key", "garbled", "expired"],
)
def test_a_certificate_that_cannot_serve_is_never_replaced_silently(
    tmp_path: Path, damage: Callable[[Path], None], message: str
) -> None:
    ensure_certificate(tmp_path)
    damage(tmp_path)
    before = (tmp_path / CERT_FILE).read_text()

    with pytest.raises(TlsError, match=message):
        ensure_certificate(tmp_path)
    assert (tmp_path / CERT_FILE).read_text() == before  # its fingerprint may be pinned


def test_a_folder_that_cannot_be_written_is_named(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(TlsError, match=r"cannot use .*file/tls for the TLS certificate"):
        ensure_certificate(tmp_path / "file" / "tls")


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vast_ai.tls", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_command_line_prints_the_fingerprint_alone(tmp_path: Path) -> None:
    made = _cli("ensure", str(tmp_path / "tls"))
    kept = _cli("ensure", str(tmp_path / "tls"))
    shown = _cli("fingerprint", str(tmp_path / "tls" / CERT_FILE))

    assert made.returncode == kept.returncode == shown.returncode == 0
    pin = fingerprint((tmp_path / "tls" / CERT_FILE).read_text())
    assert made.stdout == kept.stdout == shown.stdout == pin + "\n"
    assert "made a new TLS certificate" in made.stderr
    assert "kept the TLS certificate" in kept.stderr


def test_the_command_line_fails_with_a_message_not_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    result = _cli("ensure", str(tmp_path / "file" / "tls"))
    assert result.returncode == 1
    assert result.stderr.startswith("TLS: cannot use ") and "Traceback" not in result.stderr


# --- a real uvicorn serving TLS, and a client pinning its certificate -----------------------


def _requests_seen(app: FastAPI) -> float:
    """How many HTTP requests the app has answered (its own metrics)."""
    metrics = app.state.service.metrics
    return sum(
        sample.value
        for family in metrics.requests.collect()
        for sample in family.samples
        if sample.name == "ert_requests_total"
    )


@pytest.fixture
def tls_server(
    make_settings: Callable[..., Settings], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[[], tuple[str, str, FastAPI]]]:
    """`start()`: the GPU tier on uvicorn over TLS with a certificate of its own:
    `(url, fingerprint, app)`."""
    with ExitStack() as servers:

        def start() -> tuple[str, str, FastAPI]:
            folder = tmp_path_factory.mktemp("tls")
            pin, _ = ensure_certificate(folder)
            app = create_app(make_settings())
            url = servers.enter_context(
                serve(app, ssl_certfile=str(folder / CERT_FILE), ssl_keyfile=str(folder / KEY_FILE))
            )
            return url, pin, app

        yield start


def test_a_client_pinning_the_certificate_talks_to_the_tls_server(
    tls_server: Callable[[], tuple[str, str, FastAPI]],
) -> None:
    url, pin, app = tls_server()
    assert url.startswith("https://")

    context = pinned_context(url, pin, timeout=5)
    with httpx.Client(base_url=url, verify=context, headers=AUTH, timeout=30) as client:
        assert client.get("/models").status_code == 200
        assert client.get("/health").json()["status"] == "healthy"
    assert _requests_seen(app) == 2


def test_a_client_pinning_another_certificate_is_refused_before_it_sends(
    tls_server: Callable[[], tuple[str, str, FastAPI]],
) -> None:
    url, _, app = tls_server()
    _, other_pin, _ = tls_server()

    with pytest.raises(TlsError) as refused:
        pinned_context(url, other_pin, timeout=5)

    message = str(refused.value)
    assert "presented a certificate with fingerprint" in message
    assert f"not the pinned {other_pin}; nothing was sent" in message
    assert _requests_seen(app) == 0


def test_a_server_with_another_certificate_later_is_refused_in_the_handshake(
    tls_server: Callable[[], tuple[str, str, FastAPI]],
) -> None:
    """The pinned context, made for the real server, meets an impostor at the same name
    (a man in the middle): OpenSSL refuses its certificate and the key never leaves."""
    url, pin, real = tls_server()
    impostor_url, _, impostor = tls_server()
    context = pinned_context(url, pin, timeout=5)

    with httpx.Client(verify=context, headers=AUTH, timeout=30) as client:
        with pytest.raises(httpx.ConnectError, match="certificate verify failed"):
            client.get(f"{impostor_url}/models")
        assert client.get(f"{url}/models").status_code == 200
    assert _requests_seen(impostor) == 0
    assert _requests_seen(real) == 1


def test_pinning_a_server_that_does_not_speak_tls_says_so(
    make_settings: Callable[..., Settings],
) -> None:
    with serve(create_app(make_settings())) as url:
        with pytest.raises(TlsError, match="did not complete a TLS handshake"):
            pinned_context(url.replace("http://", "https://"), PIN, timeout=5)
        with pytest.raises(TlsError, match="needs an https:// URL"):
            pinned_context(url, PIN, timeout=5)


def test_the_server_refuses_plain_http_on_its_tls_port(
    tls_server: Callable[[], tuple[str, str, FastAPI]],
) -> None:
    url, _, app = tls_server()
    with pytest.raises(httpx.HTTPError):
        httpx.get(url.replace("https://", "http://") + "/models", headers=AUTH, timeout=5)
    assert _requests_seen(app) == 0


def test_the_standard_trust_store_refuses_the_self_signed_certificate(
    tls_server: Callable[[], tuple[str, str, FastAPI]],
) -> None:
    url, _, _ = tls_server()
    with pytest.raises(httpx.ConnectError, match="self-signed certificate"):
        httpx.get(f"{url}/health", verify=ssl.create_default_context(), timeout=5)


def test_the_pinned_context_is_strict_about_the_protocol(
    tls_server: Callable[[], tuple[str, str, FastAPI]],
) -> None:
    url, pin, _ = tls_server()
    context = pinned_context(url, pin, timeout=5)
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.minimum_version >= ssl.TLSVersion.TLSv1_2
    assert context.cert_store_stats()["x509"] == 1  # the pinned certificate, nothing else
