"""Who may change anything: the access token for non-loopback binds, and form tokens against cross-site posts."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress

# Hosts a loopback-bound server answers to. Checking the Host header stops DNS rebinding: a page on
# another site whose name is made to resolve to 127.0.0.1 would otherwise be same-origin with us and
# could read the form tokens.
LOOPBACK_HOSTS = ["127.0.0.1", "localhost", "::1", "[::1]"]


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name other than localhost may resolve anywhere


def form_token(secret: bytes, review_id: str) -> str:
    """Only a page this server rendered carries it: another site cannot read our pages to copy it."""
    return hmac.new(secret, f"decide:{review_id}".encode(), hashlib.sha256).hexdigest()


def form_token_ok(secret: bytes, review_id: str, presented: str) -> bool:
    return hmac.compare_digest(form_token(secret, review_id), presented)


def access_token_ok(configured: str | None, presented: str | None) -> bool:
    if configured is None:
        return True
    return presented is not None and hmac.compare_digest(configured.encode(), presented.encode())
