"""A real Debian nginx on loopback in front of capstan, built from the files in deploy/nginx/
as they are: only the lines those files mark "test:" are changed (ports, certificate paths),
and each change must match exactly once, so a reshaped file fails here instead of drifting.
nginx runs in the foreground (daemon off) with its own prefix, temp folders, pid and logs in a
temporary folder, and is stopped by its PID at the end. The certificate is self-signed, made
by `openssl` at test time."""
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DEPLOY = REPO_ROOT / "deploy" / "nginx"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_certificate(directory: Path):
    """A self-signed P-256 certificate for 127.0.0.1 and localhost: (cert, key)."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True, timeout=60)
    return cert, key


def client_tls(cert: Path) -> ssl.SSLContext:
    """What a browser would do, trusting only the test's certificate."""
    return ssl.create_default_context(cafile=str(cert))


def _substitute(text: str, pattern: str, replacement: str) -> str:
    new, count = re.subn(pattern, replacement, text, flags=re.M)
    assert count == 1, f"{pattern!r} matched {count} times in a deploy/nginx file"
    return new


def http_site(capstan_port: int, listen_port: int, cert: Path, key: Path) -> str:
    """deploy/nginx/capstan.conf for this run."""
    text = (DEPLOY / "capstan.conf").read_text()
    text = _substitute(text, r"^(\s*server )127\.0\.0\.1:8080;", rf"\g<1>127.0.0.1:{capstan_port};")
    text = _substitute(text, r"^(\s*listen )443 ssl;", rf"\g<1>127.0.0.1:{listen_port} ssl;")
    text = _substitute(text, r"^\s*listen \[::\]:443 ssl;.*$", "")
    return _certificates(text, cert, key)


def stream_site(capstan_port: int, listen_port: int, cert: Path, key: Path) -> str:
    """deploy/nginx/capstan-stream.conf for this run."""
    text = (DEPLOY / "capstan-stream.conf").read_text()
    text = _substitute(text, r"^(\s*server )127\.0\.0\.1:8081;", rf"\g<1>127.0.0.1:{capstan_port};")
    text = _substitute(text, r"^(\s*listen )8443 ssl;", rf"\g<1>127.0.0.1:{listen_port} ssl;")
    return _certificates(text, cert, key)


def _certificates(text, cert, key):
    text = _substitute(text, r"^(\s*ssl_certificate )\s*\S+;", rf"\g<1>{cert};")
    return _substitute(text, r"^(\s*ssl_certificate_key )\S+;", rf"\g<1>{key};")


def _stream_module() -> str:
    out = subprocess.run([NGINX, "-V"], capture_output=True, text=True, timeout=10).stderr
    m = re.search(r"--modules-path=(\S+)", out)
    return str(Path(m.group(1) if m else "/usr/lib/nginx/modules") / "ngx_stream_module.so")


class Nginx:
    """nginx -p DIR -c DIR/nginx.conf in the foreground; `stop()` ends it by PID."""

    def __init__(self, directory: Path, http_site_text=None, stream_site_text=None):
        self.dir = directory
        (directory / "snippets").mkdir(parents=True, exist_ok=True)
        (directory / "temp").mkdir(exist_ok=True)
        shutil.copy(DEPLOY / "capstan-proxy.conf", directory / "snippets" / "capstan-proxy.conf")
        main = []
        if stream_site_text is not None:
            main.append(f"load_module {_stream_module()};")
        if os.geteuid() == 0:
            main.append("user root root;  # the test's folders are the test user's")
        main += ["daemon off;", "worker_processes 1;", f"pid {directory}/nginx.pid;",
                 f"error_log {directory}/error.log info;", "events { worker_connections 512; }"]
        if http_site_text is not None:
            (directory / "capstan.conf").write_text(http_site_text)
            temps = "\n".join(f"  {kind}_temp_path {directory}/temp/{kind};"
                              for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
            main.append(f"http {{\n  access_log {directory}/access.log;\n{temps}\n  include capstan.conf;\n}}")
        if stream_site_text is not None:
            (directory / "capstan-stream.conf").write_text(stream_site_text)
            main.append("stream {\n  include capstan-stream.conf;\n}")
        (directory / "nginx.conf").write_text("\n".join(main) + "\n")
        test = subprocess.run([NGINX, "-t", "-p", str(directory), "-c", str(directory / "nginx.conf"),
                               "-e", str(directory / "error.log")], capture_output=True, text=True, timeout=30)
        assert test.returncode == 0, f"nginx -t refused the deploy config:\n{test.stderr}"
        self.proc = subprocess.Popen([NGINX, "-p", str(directory), "-c", str(directory / "nginx.conf"),
                                      "-e", str(directory / "error.log")],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def wait_listening(self, port: int, timeout=10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"nginx exited with {self.proc.returncode}:\n{self.error_log()}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.05)
        raise AssertionError(f"nginx not listening on {port} within {timeout}s:\n{self.error_log()}")

    def error_log(self) -> str:
        path = self.dir / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self):
        """SIGQUIT (graceful) to the master's PID, then SIGKILL if it overstays; its workers
        are its children and leave with it."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.proc.stderr.close()
