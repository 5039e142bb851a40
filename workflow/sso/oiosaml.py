"""OIOSAML 3 attribute values: the basic privilege profile sent as `privilegesIntermediate`.

The attribute is a base64-encoded `PrivilegeList` (OIO Basic Privilege Profile 1.2): groups of
privileges, each scoped to the CVR number (or production unit) it holds for. Aftaleflow maps
privilege URIs to memberships; the scope's CVR must be the person's own organisation.
"""

from __future__ import annotations

import base64
import binascii

from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException

CVR_SCOPE = "urn:dk:gov:saml:cvrNumberIdentifier:"


def privileges(encoded: str, cvr: str | None) -> list[str]:
    """The privilege URIs in `encoded` that hold for `cvr` (all of them when no CVR is sent).

    A value that is not base64 XML gives no privileges (the mapping then refuses the login).
    """
    try:
        root = ElementTree.fromstring(base64.b64decode(encoded.strip(), validate=True))
    except (binascii.Error, ValueError, ElementTree.ParseError, DefusedXmlException):
        return []
    found: list[str] = []
    for group in root.iter():
        if _local(group.tag) != "PrivilegeGroup":
            continue
        scope = group.get("Scope", "")
        if cvr is not None and scope.startswith(CVR_SCOPE) and scope != CVR_SCOPE + cvr:
            continue
        for privilege in group:
            if _local(privilege.tag) == "Privilege" and privilege.text:
                found.append(privilege.text.strip())
    return found


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]
