"""What the tests share: the server under test, tokens, unique names.

The tests call a real registry: ``TRAINING_REGISTRY_URL`` (the vitest wrapper
test/clients/python.test.ts starts one; by hand, ``npm start`` and
``TRAINING_REGISTRY_URL=http://127.0.0.1:54321/functions/v1``). Tokens are
minted here with the server's HS256 secret (the local development one unless
``SUPABASE_JWT_SECRET`` / ``JWT_SECRET`` is set), as ``npm run token`` does.
"""
import base64
import hashlib
import hmac
import json
import os
import time
import uuid

from training_registry import Client

URL = os.environ.get("TRAINING_REGISTRY_URL")
if not URL:
    raise RuntimeError("set TRAINING_REGISTRY_URL to a running registry (npm start: http://127.0.0.1:54321/functions/v1)")
#: wandb-webhook's bearer token (WANDB_WEBHOOK_TOKEN of the server); webhook tests need it.
WEBHOOK_TOKEN = os.environ.get("TRAINING_REGISTRY_WEBHOOK_TOKEN")
SECRET = os.environ.get("SUPABASE_JWT_SECRET") or os.environ.get("JWT_SECRET") or \
    "super-secret-jwt-token-with-at-least-32-characters-long"

# Fresh users per test process: nothing they own collides with an earlier run.
ALICE = str(uuid.uuid4())
BOB = str(uuid.uuid4())


def _b64(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def mint(role: str, sub: str = None, ttl: int = 3600) -> str:
    """A Supabase-shaped HS256 JWT."""
    now = int(time.time())
    claims = {"role": role, "iat": now, "exp": now + ttl}
    if sub:
        claims["sub"] = sub
    if role != "service_role":
        claims["aud"] = "authenticated"
    signing = _b64(b'{"alg":"HS256","typ":"JWT"}') + b"." + _b64(json.dumps(claims).encode())
    return (signing + b"." + _b64(hmac.new(SECRET.encode(), signing, hashlib.sha256).digest())).decode()


ALICE_TOKEN = mint("authenticated", ALICE)
BOB_TOKEN = mint("authenticated", BOB)
SERVICE_TOKEN = mint("service_role")


def client(token: str = ALICE_TOKEN, **options) -> Client:
    """A client of the server under test; fast retries so fault tests stay quick."""
    options.setdefault("backoff", 0.01)
    return Client(URL, token, webhook_token=WEBHOOK_TOKEN, **options)


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"
