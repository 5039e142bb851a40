"""From what an identity provider says about a person to the user and memberships Aftaleflow
gives them: the rules of data/sso.toml applied, nothing written."""

from __future__ import annotations

from dataclasses import dataclass

from models import Role
from workflow.sso.settings import ASSURANCE_LEVELS, Provider, SamlProvider, SsoSettings
from workflow.web.i18n import _l


@dataclass(frozen=True)
class Identity:
    """A verified sign-in: the provider's stable subject and what it told us."""

    provider: str
    subject: str
    name: str
    email: str
    groups: tuple[str, ...]
    cvr: str | None = None
    assurance: str | None = None
    # What ends the provider's own session (OIDC id_token, SAML NameID and session index).
    logout_hint: dict[str, str] | None = None


@dataclass(frozen=True)
class Grant:
    """The user a sign-in makes or updates, and the memberships they are to hold now."""

    name: str
    email: str
    party: str | None
    memberships: frozenset[tuple[str, Role]]
    admin: bool
    unknown_groups: tuple[str, ...]


class Refusal(Exception):
    """A sign-in that is turned away; `message` is shown to the person (lazy, Danish)."""

    def __init__(self, code: str, message: object, detail: dict[str, object] | None = None):
        super().__init__(code)
        self.code = code
        self.message = message
        self.detail = detail or {}


NO_KNOWN_GROUP = _l(
    "Din organisation har ikke givet dig adgang til Aftaleflow: ingen af dine grupper eller "
    "rettigheder svarer til en rolle her. Kontakt din lokale it-administrator eller "
    "sekretariatet."
)
MISSING_CLAIM = _l(
    "Identitetsudbyderen sendte ikke dit navn og din e-mailadresse, som Aftaleflow skal bruge. "
    "Kontakt din lokale it-administrator."
)
ASSURANCE_TOO_LOW = _l(
    "Dit login har for lavt sikringsniveau (NSIS) til Aftaleflow. Log ind med MitID Erhverv "
    "på mindst betydeligt niveau."
)
NOT_VERIFIED = _l(
    "Svaret fra identitetsudbyderen kunne ikke godkendes, så du er ikke logget ind. "
    "Start forfra fra Aftaleflows login-side."
)
UNKNOWN_CVR = _l(
    "Din organisations CVR-nummer er ikke part i sundhedsaftalen i Aftaleflow. Kontakt "
    "sekretariatet."
)


def grant(settings: SsoSettings, provider: Provider, identity: Identity) -> Grant:
    """The grant for `identity`, or Refusal saying why the person may not sign in."""
    if not identity.subject or not identity.name or "@" not in identity.email:
        raise Refusal("missing_claim", MISSING_CLAIM, {"subject": identity.subject})
    if isinstance(provider, SamlProvider):
        _check_assurance(provider, identity)
    party = provider.party
    if identity.cvr is not None:
        party = settings.parties_by_cvr.get(identity.cvr)
        if party is None:
            raise Refusal("unknown_cvr", UNKNOWN_CVR, {"cvr": identity.cvr})
    known = {rule.group for rule in provider.groups}
    memberships = frozenset(
        (rule.body, rule.role)
        for rule in provider.groups
        if rule.group in identity.groups and rule.body is not None and rule.role is not None
    )
    admin = any(rule.admin and rule.group in identity.groups for rule in provider.groups)
    unknown = tuple(sorted(group for group in identity.groups if group not in known))
    if not memberships and not admin:
        raise Refusal("no_known_group", NO_KNOWN_GROUP, {"groups": list(identity.groups)})
    return Grant(
        name=identity.name.strip()[:200],
        email=identity.email.strip().lower()[:254],
        party=party,
        memberships=memberships,
        admin=admin,
        unknown_groups=unknown,
    )


def _check_assurance(provider: SamlProvider, identity: Identity) -> None:
    level = identity.assurance or ""
    if level not in ASSURANCE_LEVELS or ASSURANCE_LEVELS.index(level) < ASSURANCE_LEVELS.index(
        provider.minimum_assurance
    ):
        raise Refusal(
            "assurance_too_low",
            ASSURANCE_TOO_LOW,
            {"assurance": level, "minimum": provider.minimum_assurance},
        )
