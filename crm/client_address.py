"""The client's address, decided once for the token throttle and django-axes alike."""

import ipaddress

from django.conf import settings
from django.http import HttpRequest
from rest_framework.request import Request


def client_address(request: HttpRequest | Request) -> str | None:
    """REMOTE_ADDR, unless CRM_TRUSTED_PROXIES says n proxies stand in front of us: then the
    n-th address from the right of X-Forwarded-For, the one our outermost trusted proxy saw
    (the rule of DRF's NUM_PROXIES). Addresses further left are the client's own claims and
    are never read. Anything that is not an IP address falls back to REMOTE_ADDR."""
    remote_addr = request.META.get("REMOTE_ADDR")
    proxies: int = settings.CRM_TRUSTED_PROXIES
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    if proxies <= 0 or not forwarded:
        return remote_addr
    hops = [hop.strip() for hop in forwarded.split(",")]
    candidate = hops[-min(proxies, len(hops))]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote_addr
