"""Password hashing with Argon2id (argon2-cffi's recommended parameters)."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from workflow.web.i18n import _

if TYPE_CHECKING:
    from argon2 import PasswordHasher

# ASVS 5.0 (6.2.1, 6.2.9): at least 8 characters, long passphrases allowed; we ask for 12.
MIN_LENGTH = 12
# Long enough for any passphrase, short enough that hashing it costs nothing extra.
MAX_LENGTH = 256


@cache
def _hasher() -> PasswordHasher:
    # argon2-cffi (its C bindings) is loaded by the first login or password change, not at start.
    from argon2 import PasswordHasher

    return PasswordHasher()


def hash_password(password: str) -> str:
    """Return an Argon2id hash of `password` with the current parameters."""
    return _hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Say whether `password` matches `password_hash`; a missing or broken hash never matches."""
    from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

    if not password_hash:
        return False
    try:
        return _hasher().verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Say whether the hash was made with other parameters than the current ones."""
    from argon2.exceptions import InvalidHashError

    try:
        return _hasher().check_needs_rehash(password_hash)
    except (InvalidHashError, ValueError):
        return True


@cache
def _dummy_hash() -> str:
    return _hasher().hash("ingen bruger har denne adgangskode")


def burn_verification_time(password: str) -> None:
    """Spend the time a real verification takes, so unknown e-mails are not told apart."""
    verify_password(_dummy_hash(), password)


def policy_problem(password: str, email: str) -> str | None:
    """Say in Danish what is wrong with `password` as a new password for `email`, or None."""
    if len(password) < MIN_LENGTH:
        return _("Adgangskoden skal være mindst %(count)s tegn.", count=MIN_LENGTH)
    if len(password) > MAX_LENGTH:
        return _("Adgangskoden må højst være %(count)s tegn.", count=MAX_LENGTH)
    if password.strip().lower() == email.strip().lower():
        return _("Adgangskoden må ikke være din e-mailadresse. Vælg en anden.")
    return None
