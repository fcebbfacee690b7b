"""TLS on loopback for the vendor wire facades: a throwaway certificate authority per world.

Salesforce's and NetSuite's SDKs build `https://` URLs themselves, so the facades speak TLS;
serve makes a CA and a certificate for 127.0.0.1 and localhost in the services' directory
(`tls/`), and `tokens.json` names the CA file an SDK must trust. A resumed world reuses them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import trustme


@dataclass(frozen=True)
class Certificates:
    ca: Path  # what clients trust
    certificate: Path  # the server's chain
    key: Path


def certificates(directory: Path) -> Certificates:
    """The world's CA and server certificate, made on first use."""
    folder = directory / "tls"
    made = Certificates(folder / "ca.pem", folder / "server.pem", folder / "server.key")
    if made.ca.is_file() and made.certificate.is_file() and made.key.is_file():
        return made
    folder.mkdir(parents=True, exist_ok=True)
    authority = trustme.CA(organization_name="Syncline loopback CA")
    issued = authority.issue_cert("127.0.0.1", "localhost")
    authority.cert_pem.write_to_path(str(made.ca))
    made.certificate.write_bytes(b"".join(blob.bytes() for blob in issued.cert_chain_pems))
    issued.private_key_pem.write_to_path(str(made.key))
    made.key.chmod(0o600)
    return made
