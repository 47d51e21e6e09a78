"""TLS for the test suites: certificates made with the `openssl` CLI at test time, client
contexts from Python's ssl module, and the suites' TLS mode.

With CAPSTAN_TEST_TLS=1 the fixtures (conftest.py) give every server they start a
[server.tls] listener with a session certificate (localhost, 127.0.0.1) signed by a session
CA, `Server.port` is that listener and `Server.url()` says wss://. SSL_CERT_FILE is set to the
CA for this process, so the default contexts of python-websockets and urllib trust it. The
raw-socket clients (rawws.open_socket, abuselib) wrap a socket to a port registered here as a
TLS port (every server's TLS listeners are registered, whatever the mode).
"""
import atexit
import functools
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

TLS_MODE = os.environ.get("CAPSTAN_TEST_TLS", "") not in ("", "0")

_tls_ports = set()


def register_port(port: int, tls: bool):
    """What a server listens with on `port` now (a port freed by one server may be reused by
    the next, plain or TLS)."""
    if tls:
        _tls_ports.add(port)
    else:
        _tls_ports.discard(port)


def is_tls_port(port: int) -> bool:
    return port in _tls_ports


def openssl(*args, cwd=None, env=None):
    r = subprocess.run(["openssl", *map(str, args)], cwd=cwd, env=env, capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(map(str, args))} failed:\n{r.stderr}")
    return r.stdout


@dataclass
class Ca:
    cert: Path
    key: Path


def make_ca(directory: Path, name="Capstan Test CA") -> Ca:
    directory.mkdir(parents=True, exist_ok=True)
    stem = name.replace(" ", "-").lower()
    cert, key = directory / f"{stem}.pem", directory / f"{stem}.key"
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", key, "-out", cert, "-subj", f"/CN={name}", "-days", "2",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    return Ca(cert, key)


def make_cert(directory: Path, ca: Ca, stem: str, names=("localhost",), ips=("127.0.0.1",), serial=None,
              cn=None, passphrase=None, key_type="ec") -> tuple:
    """A leaf certificate for `names` (DNS) and `ips` signed by `ca`; returns (cert, key)
    paths. `passphrase`: the key is written encrypted (AES-256) with it."""
    directory.mkdir(parents=True, exist_ok=True)
    cert, key, csr, ext = (directory / f"{stem}{suffix}" for suffix in (".pem", ".key", ".csr", ".ext"))
    alt = ",".join([f"DNS:{n}" for n in names] + [f"IP:{i}" for i in ips])
    ext.write_text(f"subjectAltName={alt}\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n"
                   "extendedKeyUsage=serverAuth\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n")
    if key_type == "ec":
        openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key)
    else:
        openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", key)
    openssl("req", "-new", "-key", key, "-out", csr, "-subj", f"/CN={cn or (names[0] if names else ips[0])}")
    openssl("x509", "-req", "-in", csr, "-CA", ca.cert, "-CAkey", ca.key, "-days", "2", "-out", cert,
            "-extfile", ext, *(["-set_serial", serial] if serial is not None else ["-CAcreateserial"]))
    if passphrase is not None:
        plain = key.with_suffix(".plain.key")
        key.rename(plain)
        openssl("pkey", "-in", plain, "-out", key, "-aes256", "-passout", "env:CAPSTAN_TEST_KEY_PASS",
                env={**os.environ, "CAPSTAN_TEST_KEY_PASS": passphrase})
        plain.unlink()
    return cert, key


@dataclass
class Pki:
    ca: Ca
    cert: Path
    key: Path


@functools.lru_cache(maxsize=None)
def session_pki() -> Pki:
    """One CA and one server certificate (localhost, 127.0.0.1) for the whole test session."""
    directory = Path(tempfile.mkdtemp(prefix="capstan-test-tls-"))
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    ca = make_ca(directory)
    cert, key = make_cert(directory, ca, "server", serial=1001)
    return Pki(ca, cert, key)


def tls_section(listen='"127.0.0.1:0"') -> str:
    pki = session_pki()
    return f'\n[server.tls]\nlisten = {listen}\ncert = "{pki.cert}"\nkey = "{pki.key}"\n'


def client_context(cafile=None, alpn=None) -> ssl.SSLContext:
    """A verifying client context trusting the session CA (or `cafile`)."""
    ctx = ssl.create_default_context(cafile=str(cafile or session_pki().ca.cert))
    if alpn:
        ctx.set_alpn_protocols(list(alpn))
    return ctx


@functools.lru_cache(maxsize=None)
def _default_client_context() -> ssl.SSLContext:
    return client_context()


def wrap_client(sock: socket.socket, host: str) -> ssl.SSLSocket:
    """TLS over a connected socket, handshake done (bounded by the socket's timeout)."""
    return _default_client_context().wrap_socket(sock, server_hostname=host)


def php_args() -> list:
    """php-cli options that make PHP's curl and stream clients trust the session CA (they
    read their CA bundle from php.ini, not SSL_CERT_FILE); none outside TLS mode."""
    if not TLS_MODE:
        return []
    ca = session_pki().ca.cert
    return ["-d", f"curl.cainfo={ca}", "-d", f"openssl.cafile={ca}"]


if TLS_MODE:
    # Default contexts (python-websockets for wss://, urllib for https://) trust the session CA.
    os.environ["SSL_CERT_FILE"] = str(session_pki().ca.cert)
