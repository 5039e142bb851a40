"""Where webhooks may go (a guard against server-side request forgery).

Allowed: an absolute `http` or `https` address with a host name or a public IP address, no
user name or password in it. Refused: every other scheme, and (unless the setting
`AFTALEFLOW_WEBHOOKS_ALLOW_PRIVATE=1`) any host that is or resolves to a loopback, private,
link-local (cloud metadata), multicast, reserved or unspecified address. The address is
checked when a subscription is made and resolved and checked again before every attempt;
redirects are not followed.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from urllib.parse import urlsplit

from workflow.engine import values
from workflow.engine.values import InvalidValue

URL_MAX_LENGTH = 2000
ALLOW_PRIVATE_SETTING = "AFTALEFLOW_WEBHOOKS_ALLOW_PRIVATE"


def allow_private() -> bool:
    """Whether the deployment lets webhooks reach internal addresses (tests: the loopback)."""
    return os.environ.get(ALLOW_PRIVATE_SETTING, "").strip().lower() in {"1", "true", "yes"}


def _refused(host: str) -> InvalidValue:
    return InvalidValue(
        f"Adressen {host} er intern (loopback, privat eller link-local). Webhooks sendes kun "
        "til offentlige adresser.",
        f"The address {host} is internal (loopback, private or link-local). Webhooks go only "
        "to public addresses.",
    )


def _is_internal(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return not address.is_global or address.is_multicast


def receiver_url(value: str, *, private: bool | None = None) -> str:
    """The address a subscription may post to, or InvalidValue saying why not. A literal IP
    address is checked here; a host name when it is resolved (`check_resolved`)."""
    text = values.single_line(value.strip(), URL_MAX_LENGTH)
    parts = urlsplit(text)
    if not values.is_web_url(text):
        raise InvalidValue(
            "Modtageren skal være en webadresse, der begynder med https:// eller http://.",
            "The receiver must be a web address starting with https:// or http://.",
        )
    if parts.username is not None or parts.password is not None:
        raise InvalidValue(
            "Adressen må ikke indeholde brugernavn eller adgangskode.",
            "The address must not contain a user name or password.",
        )
    try:
        parts.port  # noqa: B018 - raises on a port outside 0-65535
    except ValueError:
        raise InvalidValue("Portnummeret er ugyldigt.", "The port number is invalid.") from None
    host = parts.hostname or ""
    allowed = allow_private() if private is None else private
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if not allowed and ((literal is not None and _is_internal(literal)) or host == "localhost"):
        raise _refused(host)
    return text


def check_resolved(url: str, *, private: bool | None = None) -> None:
    """Resolve the address's host and refuse it if any address it names is internal."""
    allowed = allow_private() if private is None else private
    if allowed:
        return
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        found = socket.getaddrinfo(host, parts.port or 443, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError) as error:
        raise InvalidValue(
            f"Værten {host} kan ikke slås op.", f"The host {host} cannot be resolved."
        ) from error
    for _family, _type, _proto, _name, sockaddr in found:
        if _is_internal(ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])):
            raise _refused(host)
