"""`python -m examples.sdk_integration --services runs/live`: the example integration, on the
vendors' SDKs, listening for their webhooks (serve with `--wire vendor --webhooks` at it)."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import uvicorn

from examples.sdk_integration.app import create_app
from examples.sdk_integration.integration import Integration
from examples.sdk_integration.vendors import connect


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m examples.sdk_integration")
    parser.add_argument(
        "--services",
        type=Path,
        default=Path("runs/live"),
        help="the directory syncline serve printed (its tokens.json)",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument(
        "--without-idempotency-keys",
        action="store_true",
        help="the classic mistake: Stripe's writes retried without a key",
    )
    options = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(message)s")
    tokens = options.services / "tokens.json"
    if not tokens.is_file():
        raise SystemExit(f"{tokens} does not exist: give the directory syncline serve printed")
    integration = Integration(connect(tokens), not options.without_idempotency_keys)
    uvicorn.run(create_app(integration), host=options.host, port=options.port,
                log_level="warning")  # fmt: skip


if __name__ == "__main__":
    main()
