"""Who may change anything: the access token for non-loopback binds; form tokens, sessions and the Origin check
against cross-site posts."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from urllib.parse import urlsplit

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


def form_token(secret: bytes, session: str, review_id: str) -> str:
    """Only a page this server rendered carries it, and only for the browser session it was rendered for:
    another site cannot read our pages to copy it, and a token that leaks is worth nothing without the
    session's cookie (HttpOnly: no script reads it)."""
    return hmac.new(secret, f"decide:{session}:{review_id}".encode(), hashlib.sha256).hexdigest()


def form_token_ok(secret: bytes, session: str | None, review_id: str, presented: str) -> bool:
    return session is not None and hmac.compare_digest(form_token(secret, session, review_id), presented)


def same_origin(host: str | None, origin: str | None, referer: str | None) -> bool:
    """Whether a POST came from a page of this server: its Origin (or, when a client sends none, its Referer)
    names the host the request was sent to. A request with neither is no browser's (every browser sends
    Origin on a POST), and the form token still guards it. The scheme is not compared: behind a proxy that
    ends TLS the browser says https and the server sees http."""
    claimed = origin if origin is not None else referer
    if claimed is None:
        return True
    if host is None:
        return False
    netloc = urlsplit(claimed).netloc if "://" in claimed else None  # `Origin: null` (a sandbox, a file)
    return netloc is not None and netloc.lower() == host.lower()


def access_token_ok(configured: str | None, presented: str | None) -> bool:
    if configured is None:
        return True
    return presented is not None and hmac.compare_digest(configured.encode(), presented.encode())
