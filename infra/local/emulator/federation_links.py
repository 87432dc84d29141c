"""Federated identities linked to native users: `AdminLinkProviderForUser` and
`AdminDisableProviderForUser` (which moto lacks), and the `identities` attribute they keep (part
of `federation`, whose install installs this module's).

**`AdminLinkProviderForUser`** links `SourceUser` `{ProviderName: <IdP>, ProviderAttributeName:
Cognito_Subject, ProviderAttributeValue: <sub>}` to a native `DestinationUser` (`ProviderName:
Cognito`), kept in its `identities` attribute as AdminGetUser shows it (a JSON string,
`"primary":false`, `"dateCreated"` a number): a destination missing is `UserNotFoundException`; a
provider not of the pool, or any other `ProviderAttributeName` (only `Cognito_Subject` is
emulated), `InvalidParameterException`; an identity that signed in already (its `<IdP>_<sub>` user
exists) `InvalidParameterException` "Merging is not currently supported, ..."; an identity linked
to another user `AliasExistsException` (AWS documents no error for it: this is the emulator's
choice); a sixth link `LimitExceededException`; the same link again a success. A federated sign-in
of a linked identity signs in as the native user (`federation_idp`), and any ID token of a user
with linked identities lists them (`federation`).

**`AdminDisableProviderForUser`** removes the identity's link (the attribute dropped when none is
left) and disables its `EXTERNAL_PROVIDER` user, if any; neither is a success, a provider not of
the pool `InvalidParameterException`.
"""
import json
import time as clock

from moto.cognitoidp import models, responses
from moto.cognitoidp.exceptions import InvalidParameterException, UserNotFoundError
from moto.core.responses import EmptyResult

from .common import CognitoError, patch

EXTERNAL = "EXTERNAL_PROVIDER"
LINKS_PER_USER = 5


def now_ms():
    return int(clock.time() * 1000)


def identities_of(user):
    try:
        return json.loads(user.attribute_lookup.get("identities") or "[]")
    except ValueError:
        return []


def has_identity(user, provider, value):
    return any(i.get("providerName") == provider and i.get("userId") == value for i in identities_of(user))


def identities_claim(user):
    """The `identities` claim of an ID token: the attribute's entries with string values."""
    return [
        {"dateCreated": str(i.get("dateCreated")), "userId": i.get("userId"),
         "providerName": i.get("providerName"), "providerType": i.get("providerType"),
         "issuer": i.get("issuer"), "primary": "true" if i.get("primary") else "false"}
        for i in identities_of(user)
    ]


def provider_of(user_pool, named):
    idp = user_pool.identity_providers.get((named or {}).get("ProviderName") or "")
    if idp is None:
        raise InvalidParameterException(f"The identity provider {(named or {}).get('ProviderName')} does not exist in the user pool.")
    if named.get("ProviderAttributeName") != "Cognito_Subject":
        raise InvalidParameterException("Only ProviderAttributeName Cognito_Subject is emulated.")
    value = named.get("ProviderAttributeValue")
    if not value:
        raise InvalidParameterException("ProviderAttributeValue is required.")
    return idp, value


def admin_link_provider_for_user(self, user_pool_id, destination, source):
    user_pool = self.describe_user_pool(user_pool_id)
    destination = destination or {}
    if destination.get("ProviderName") != "Cognito":
        raise InvalidParameterException("DestinationUser must be a native user (ProviderName Cognito).")
    user = user_pool._get_user(destination.get("ProviderAttributeValue") or "")
    if user is None:
        raise UserNotFoundError("User does not exist.")
    if user.status == EXTERNAL:
        raise InvalidParameterException("DestinationUser must be a native user, not a federated one.")
    idp, value = provider_of(user_pool, source)
    if f"{idp.name}_{value}" in user_pool.users:
        raise InvalidParameterException(
            "Merging is not currently supported, provide a SourceUser that has not been signed up in order to link")
    for other in user_pool.users.values():
        if other is not user and has_identity(other, idp.name, value):
            raise CognitoError("AliasExistsException", "The identity is already linked to another user.")
    held = identities_of(user)
    if has_identity(user, idp.name, value):
        return
    if len(held) >= LINKS_PER_USER:
        raise CognitoError("LimitExceededException", "The user has the most linked identities allowed.")
    held.append({"userId": value, "providerName": idp.name,
                 "providerType": idp.extended_config.get("ProviderType") or "OIDC",
                 "issuer": None, "primary": False, "dateCreated": now_ms()})
    user.update_attributes([{"Name": "identities", "Value": json.dumps(held, separators=(",", ":"))}])


def admin_disable_provider_for_user(self, user_pool_id, named):
    user_pool = self.describe_user_pool(user_pool_id)
    idp, value = provider_of(user_pool, named)
    for user in user_pool.users.values():
        if user.status == EXTERNAL or not has_identity(user, idp.name, value):
            continue
        kept = [i for i in identities_of(user)
                if not (i.get("providerName") == idp.name and i.get("userId") == value)]
        if kept:
            user.update_attributes([{"Name": "identities", "Value": json.dumps(kept, separators=(",", ":"))}])
        else:
            user.delete_attributes(["identities"])
    federated = user_pool.users.get(f"{idp.name}_{value}")
    if federated is not None and federated.status == EXTERNAL:
        federated.enabled = False


def respond_link(self):
    self.backend.admin_link_provider_for_user(
        self._get_param("UserPoolId"), self._get_param("DestinationUser"), self._get_param("SourceUser"))
    return EmptyResult()


def respond_disable(self):
    self.backend.admin_disable_provider_for_user(self._get_param("UserPoolId"), self._get_param("User"))
    return EmptyResult()


def install(settings):
    backend, response = models.CognitoIdpBackend, responses.CognitoIdpResponse
    patch(backend, "admin_link_provider_for_user", admin_link_provider_for_user)
    patch(backend, "admin_disable_provider_for_user", admin_disable_provider_for_user)
    patch(response, "admin_link_provider_for_user", respond_link)
    patch(response, "admin_disable_provider_for_user", respond_disable)
