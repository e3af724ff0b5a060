"""TLS for the link to the GPU tier: a self-signed certificate made on first start, its
SHA-256 fingerprint, and a client context that trusts only the certificate it pins.

    python -m vast_ai.tls ensure DIR          # DIR/cert.pem and DIR/key.pem, made unless
                                              # there; prints the certificate's fingerprint
    python -m vast_ai.tls fingerprint FILE    # the fingerprint of a PEM certificate

A fingerprint is written as `openssl x509 -noout -fingerprint -sha256` writes it: 32
upper-case hex bytes joined by colons. `parse_fingerprint` also takes plain hex, any case,
and openssl's `sha256 Fingerprint=` prefix.

Vast.ai gives an instance no stable name (its public IP and port change on restart), so
no CA can vouch for it; the client pins the certificate instead. Only the certificate
maker needs the `cryptography` package; fingerprints and pinning use the standard library.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import ssl
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

CERT_FILE = "cert.pem"
KEY_FILE = "key.pem"
COMMON_NAME = "ERT GPU tier"
# A pinned certificate is replaced by deleting it (the fingerprint changes), not by expiry.
VALID_DAYS = 3650
_HEX64 = re.compile(r"[0-9A-F]{64}")


class TlsError(Exception):
    """A certificate that cannot be used or a server that is not the pinned one: the message
    says what to do."""


class TlsUnreachable(TlsError):
    """The server did not answer at all: nothing is known about its certificate yet."""


def fingerprint(pem: str) -> str:
    """The SHA-256 fingerprint of a PEM certificate, as `AB:CD:...` (95 characters)."""
    try:
        der = ssl.PEM_cert_to_DER_cert(pem.strip())
    except ValueError:
        raise TlsError("not a PEM certificate") from None
    digest = hashlib.sha256(der).hexdigest().upper()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


def parse_fingerprint(text: str) -> str:
    """`text` as a fingerprint in the form `fingerprint` gives, or ValueError."""
    value = text.strip()
    if "=" in value:  # openssl's "sha256 Fingerprint=AB:CD:..."
        label, _, value = value.partition("=")
        if label.strip().lower() != "sha256 fingerprint":
            raise ValueError("is not a SHA-256 fingerprint")
    digits = re.sub(r"[\s:]", "", value).upper()
    if not _HEX64.fullmatch(digits):
        raise ValueError("is not a SHA-256 fingerprint: 64 hex digits, with or without colons")
    return ":".join(digits[i : i + 2] for i in range(0, 64, 2))


def make_certificate(now: datetime | None = None) -> tuple[str, str]:
    """A new self-signed certificate and its private key, both PEM: `(cert, key)`."""
    # Imported here: the image has `cryptography`; the dashboard, which only pins, needs not.
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, COMMON_NAME)])
    now = now or datetime.now(UTC)
    usage = x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )
    local_names = [
        x509.DNSName("localhost"),
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        x509.IPAddress(ipaddress.ip_address("::1")),
    ]
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))  # a client whose clock is a little behind
        .not_valid_after(now + timedelta(days=VALID_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(usage, critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(local_names), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return certificate.public_bytes(serialization.Encoding.PEM).decode(), key_pem.decode()


def ensure_certificate(folder: Path) -> tuple[str, bool]:
    """The fingerprint of the certificate in `folder`, made now if there is none, and whether
    it was made now. A certificate is never replaced silently: its fingerprint may be pinned."""
    cert_path, key_path = folder / CERT_FILE, folder / KEY_FILE
    try:
        if cert_path.exists():
            if not key_path.exists():
                raise TlsError(
                    f"{cert_path} has no {KEY_FILE} beside it: restore it, or delete the "
                    "certificate to make a new one (its fingerprint will change)"
                )
            _check_pair(cert_path.read_text(), key_path.read_text(), cert_path)
            return fingerprint(cert_path.read_text()), False
        # A key without its certificate is a start that stopped half way: never served.
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        cert_pem, key_pem = make_certificate()
        _write(key_path, key_pem, 0o600)
        _write(cert_path, cert_pem, 0o644)  # last: a certificate on disk has its key
        return fingerprint(cert_pem), True
    except OSError as exc:
        raise TlsError(
            f"cannot use {folder} for the TLS certificate ({exc.strerror or exc}): "
            "choose a folder the server can write with ERT_TLS_DIR"
        ) from None


def _write(path: Path, text: str, mode: int) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.unlink(missing_ok=True)
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(descriptor, "w") as file:
        file.write(text)
    os.replace(partial, path)


def _check_pair(cert_pem: str, key_pem: str, cert_path: Path) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    try:
        certificate = x509.load_pem_x509_certificate(cert_pem.encode())
        key = serialization.load_pem_private_key(key_pem.encode(), password=None)
    except (ValueError, TypeError) as exc:
        raise TlsError(
            f"{cert_path.parent} holds a certificate or key that cannot be read: {exc}"
        ) from None
    der, spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    if certificate.public_key().public_bytes(der, spki) != key.public_key().public_bytes(der, spki):
        raise TlsError(f"{cert_path} and the {KEY_FILE} beside it do not belong together")
    expires = certificate.not_valid_after_utc
    if expires <= datetime.now(UTC):
        raise TlsError(
            f"{cert_path} expired on {expires:%Y-%m-%d}: delete it and {KEY_FILE} to make "
            "a new one (its fingerprint will change)"
        )


def pinned_context(url: str, pin: str, timeout: float) -> ssl.SSLContext:
    """A client SSL context for `url` that trusts only the certificate whose fingerprint is
    `pin`, checked before anything is sent.

    The server's certificate is fetched in a handshake of its own (no request follows it)
    and compared with the pin; the context then trusts exactly that certificate, so every
    later connection is refused by OpenSSL itself if another one answers. The name is not
    checked: the pin identifies the server, whose address changes.
    """
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise TlsError(f"a pinned certificate needs an https:// URL, not {url!r}")
    wanted = parse_fingerprint(pin)
    address = (parts.hostname, parts.port or 443)
    where = f"{parts.hostname}:{address[1]}"
    try:
        pem = ssl.get_server_certificate(address, timeout=timeout)
    except ssl.SSLError as exc:
        raise TlsError(f"{where} did not complete a TLS handshake ({exc.reason})") from None
    except OSError as exc:
        raise TlsUnreachable(f"cannot reach {where}: {exc.strerror or exc}") from None
    presented = fingerprint(pem)
    if presented != wanted:
        raise TlsError(
            f"{where} presented a certificate with fingerprint {presented}, not the pinned "
            f"{wanted}; nothing was sent. If the GPU tier was set up anew, copy the "
            "ERT_LLM_TLS_FINGERPRINT its log prints; if not, the connection may be intercepted"
        )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.load_verify_locations(cadata=pem)
    return context


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m vast_ai.tls", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    ensure = commands.add_parser("ensure", help="make DIR's certificate unless there; print it")
    ensure.add_argument("folder", type=Path, metavar="DIR")
    show = commands.add_parser("fingerprint", help="print a PEM certificate's fingerprint")
    show.add_argument("file", type=Path, metavar="FILE")
    args = parser.parse_args(argv)
    try:
        if args.command == "ensure":
            pin, made = ensure_certificate(args.folder)
            how = "made a new" if made else "kept the"
            print(f"{how} TLS certificate {args.folder / CERT_FILE}", file=sys.stderr)
            print(pin)
        else:
            print(fingerprint(args.file.read_text()))
    except (TlsError, OSError) as exc:
        raise SystemExit(f"TLS: {exc}") from None


if __name__ == "__main__":
    main()
