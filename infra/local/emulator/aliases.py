"""Usernames by alias and by `sub`.

Cognito's admin operations take, for `Username`, the username, any of the user's alias
attributes (`AliasAttributes`: a verified `email` or `phone_number`, a `preferred_username`), or
the user's `sub`; moto knows only `UsernameAttributes`. Here every user lookup
(`CognitoIdpUserPool._get_user`) also resolves an alias (case-insensitively, a contact only once
verified), a `sub`, and in a pool made case-insensitive (`UsernameConfiguration`) the username in
any case (moto matches it exactly).

Not as Cognito: moto uses the same lookup for sign-ins, where Cognito takes an alias but not a
`sub`: the product always signs in with the resolved username.
"""
from moto.cognitoidp.models import CognitoIdpUserPool
from moto.cognitoidp.utils import flatten_attrs

from .common import patch

VERIFIED_BY = {"email": "email_verified", "phone_number": "phone_number_verified"}

# moto's lookup, by the exact username (set by install())
by_username = None


def get_user(self, username):
    user = by_username(self, username)
    if user is not None or not username:
        return user
    wanted = username.lower()
    # a pool made case-insensitive (`UsernameConfiguration.CaseSensitive` false) finds a
    # username in any case, as Cognito does (moto matches it exactly)
    if (self.extended_config.get("UsernameConfiguration") or {}).get("CaseSensitive") is False:
        for name, candidate in self.users.items():
            if name.lower() == wanted:
                return candidate
    aliases = self.extended_config.get("AliasAttributes") or []
    for candidate in self.users.values():
        attrs = flatten_attrs(candidate.attributes)
        for alias in aliases:
            value = attrs.get(alias)
            proof = VERIFIED_BY.get(alias)
            if value and value.lower() == wanted and (not proof or attrs.get(proof) == "true"):
                return candidate
    for candidate in self.users.values():
        if candidate.id == username:
            return candidate
    return None


def install(settings):
    global by_username
    by_username = patch(CognitoIdpUserPool, "_get_user", get_user)
