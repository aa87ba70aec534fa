"""A test CA and a broker certificate for 127.0.0.1, made with openssl (like a clinic's)."""

from __future__ import annotations

import subprocess
from pathlib import Path


def make_ca(folder: Path) -> dict[str, Path]:
    """``ca``, ``cert`` and ``key`` files: the CA, and the broker's certificate it signed."""
    folder.mkdir(parents=True, exist_ok=True)
    f = {name: folder / name for name in ("ca.pem", "ca.key", "broker.pem", "broker.key",
                                          "broker.csr", "san.cnf")}

    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True)

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
        "/CN=Test clinic CA", "-keyout", str(f["ca.key"]), "-out", str(f["ca.pem"]))
    run("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout",
        str(f["broker.key"]), "-out", str(f["broker.csr"]))
    f["san.cnf"].write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    run("x509", "-req", "-in", str(f["broker.csr"]), "-CA", str(f["ca.pem"]), "-CAkey",
        str(f["ca.key"]), "-CAcreateserial", "-days", "2", "-extfile", str(f["san.cnf"]),
        "-out", str(f["broker.pem"]))
    for key in ("ca.key", "broker.key"):
        f[key].chmod(0o644)   # mosquitto runs as this user and must read it
    return {"ca": f["ca.pem"], "cert": f["broker.pem"], "key": f["broker.key"]}
