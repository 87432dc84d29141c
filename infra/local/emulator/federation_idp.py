"""Federated sign-in, the IdP's side: `/oauth2/idpresponse`'s calls to the tenant's OpenID
Connect IdP, and the user pool user its sign-in is for (part of `federation`, which installs
nothing from here).

`/oauth2/idpresponse` exchanges the IdP's code (`client_secret_basic`, or `client_secret_post`
where discovery offers only that), verifies its ID token (joserfc: signature by the IdP's JWKS,
its only key where the token names no `kid`; `iss` the `oidc_issuer`, `aud` the IdP client id,
`exp`, the nonce sent), adds the IdP's userInfo (`attributes_request_method` GET or POST), maps
claims to attributes by the IdP's `AttributeMapping` (attribute <- claim; `username` <- `sub` by
default names the identity; with nothing else mapped, `email`, `email_verified`, `name`,
`given_name`, `family_name` pass straight through), and signs in the native user the identity is
linked to, else the user `<ProviderName>_<sub>` (made `EXTERNAL_PROVIDER`, enabled, with the
mapped attributes and `identities`; an existing one gets the mapped attributes again). An IdP's
error or failure redirects `error=invalid_request` with Cognito's descriptions where it documents
them (`<IdP> Error - <status> error getting token`, `Timeout occurred in calling IdP token
endpoint`, `Timeout in calling jwks uri`, `Connection reset`; the IdP's own refusal is `<IdP>
Error - <its error>`), a disabled user `User is disabled.`. The IdP is called with the
one-request-at-a-time lock let go, as a trigger is (the caller, `federation`, lets go of it), and
directly, never through a proxy from the environment; its endpoints must be https, plain http
only on a loopback address.

Not as Cognito: no SAML or social IdPs; error descriptions other than those quoted above are the
emulator's own; a linked native user's attributes are not updated from the IdP; the username
prefix is the `ProviderName` as given (Cognito's exact casing is not documented: do not parse
usernames).
"""
import base64
import ipaddress
import json
import urllib.error
import urllib.parse
import urllib.request

from joserfc import jwt as jose_jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from moto.cognitoidp import models

from .federation_links import EXTERNAL, has_identity, now_ms

PASS_THROUGH = ("email", "email_verified", "name", "given_name", "family_name")

# the IdP is called directly, never through a proxy from the environment
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class Refused(Exception):
    """An authorize or idpresponse error, answered by a redirect to the app's redirect_uri."""

    def __init__(self, error, description=None):
        super().__init__(error)
        self.error, self.description = error, description


def text(value):
    """A claim's value as a user attribute's string."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else json.dumps(value)


# -- calls to the IdP (made without the lock) ---------------------------------------------------

def loopback(host):
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def call(url, what, data=None, headers=None, method=None):
    parts = urllib.parse.urlsplit(url or "")
    if not (parts.scheme == "https" or (parts.scheme == "http" and loopback(parts.hostname or ""))):
        raise Refused("invalid_request", f"The IdP's {what} must be https (plain http only on a loopback address): {url!r}")
    asked = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with opener.open(asked, timeout=10) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
    except (TimeoutError, urllib.error.URLError, OSError) as e:
        if isinstance(e, TimeoutError) or isinstance(getattr(e, "reason", None), TimeoutError):
            # Cognito's documented wordings
            raise Refused("invalid_request", "Timeout in calling jwks uri" if what == "jwks uri"
                          else f"Timeout occurred in calling IdP {what}")
        raise Refused("invalid_request", "Connection reset")


def json_of(body, name, what):
    try:
        out = json.loads(body)
    except ValueError:
        out = None
    if not isinstance(out, dict):
        raise Refused("invalid_request", f"{name} Error - the IdP's {what} is not a JSON object")
    return out


def endpoints(name, details):
    """The IdP's endpoints: ProviderDetails' own, else its OpenID discovery document."""
    found = {
        "authorization_endpoint": details.get("authorize_url"),
        "token_endpoint": details.get("token_url"),
        "userinfo_endpoint": details.get("attributes_url"),
        "jwks_uri": details.get("jwks_uri"),
        "token_endpoint_auth_methods_supported": None,
    }
    issuer = (details.get("oidc_issuer") or "").rstrip("/")
    if not issuer:
        raise Refused("invalid_request", f"{name} Error - the identity provider has no oidc_issuer")
    if not all(found[k] for k in ("authorization_endpoint", "token_endpoint", "jwks_uri")):
        status, body = call(f"{issuer}/.well-known/openid-configuration", "discovery endpoint")
        if status != 200:
            raise Refused("invalid_request", f"{name} Error - {status} error getting the OpenID configuration")
        discovered = json_of(body, name, "OpenID configuration")
        for key, value in found.items():
            found[key] = value or discovered.get(key)
    if not all(found[k] for k in ("authorization_endpoint", "token_endpoint", "jwks_uri")):
        raise Refused("invalid_request", f"{name} Error - the OpenID configuration lacks an endpoint")
    # OpenID Connect Discovery's default
    found["token_endpoint_auth_methods_supported"] = found["token_endpoint_auth_methods_supported"] or ["client_secret_basic"]
    return found


def claims_from_idp(name, details, code, nonce, idp_redirect_uri):
    """The IdP's code exchanged, its ID token verified, its userInfo added: the claims."""
    found = endpoints(name, details)
    client_id, client_secret = details.get("client_id") or "", details.get("client_secret")
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": idp_redirect_uri}
    headers = {"content-type": "application/x-www-form-urlencoded", "accept": "application/json"}
    if client_secret and "client_secret_basic" in found["token_endpoint_auth_methods_supported"]:
        pair = f"{urllib.parse.quote(client_id, safe='')}:{urllib.parse.quote(client_secret, safe='')}"
        headers["authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
    else:
        form["client_id"] = client_id
        if client_secret:
            form["client_secret"] = client_secret
    status, body = call(found["token_endpoint"], "token endpoint",
                        data=urllib.parse.urlencode(form).encode(), headers=headers, method="POST")
    if status != 200:
        raise Refused("invalid_request", f"{name} Error - {status} error getting token")
    tokens = json_of(body, name, "token response")
    id_token = tokens.get("id_token")
    if not isinstance(id_token, str):
        raise Refused("invalid_request", f"{name} Error - the token response has no id_token")
    status, body = call(found["jwks_uri"], "jwks uri")
    if status != 200:
        raise Refused("invalid_request", f"{name} Error - {status} error getting the jwks")
    try:
        keys = KeySet.import_key_set(json_of(body, name, "jwks"))
        header = json.loads(base64.urlsafe_b64decode(id_token.split(".")[0] + "=" * (-len(id_token.split(".")[0]) % 4)))
        # an ID token without `kid`: the JWKS's only key
        key = keys.get_by_kid(header.get("kid"))
        verified = jose_jwt.decode(id_token, key, algorithms=["RS256"])
        jose_jwt.JWTClaimsRegistry(
            iss={"essential": True, "value": details.get("oidc_issuer")},
            aud={"essential": True, "value": client_id},
            exp={"essential": True},
            sub={"essential": True},
            nonce={"essential": True, "value": nonce},
        ).validate(verified.claims)
    except (JoseError, ValueError, TypeError, KeyError, IndexError) as e:
        raise Refused("invalid_request", f"{name} Error - the id_token does not verify ({type(e).__name__}: {e})")
    claims = dict(verified.claims)
    access_token = tokens.get("access_token")
    if found["userinfo_endpoint"] and isinstance(access_token, str):
        method = (details.get("attributes_request_method") or "GET").upper()
        status, body = call(found["userinfo_endpoint"], "userInfo endpoint",
                            data=b"" if method == "POST" else None, method=method,
                            headers={"authorization": f"Bearer {access_token}", "accept": "application/json"})
        if status != 200:
            raise Refused("invalid_request", f"{name} Error - {status} error getting user attributes")
        info = json_of(body, name, "userInfo")
        if info.get("sub") != claims.get("sub"):
            raise Refused("invalid_request", f"{name} Error - the userInfo subject is not the id_token's")
        claims.update(info)
    return claims


# -- the user a federated sign-in is for (under the lock again) -----------------------------------

def user_for(user_pool, idp, claims):
    mapping = dict(idp.extended_config.get("AttributeMapping") or {})
    subject_claim = mapping.pop("username", None) or "sub"
    subject = claims.get(subject_claim)
    if subject in (None, ""):
        raise Refused("invalid_request", f"{idp.name} Error - the IdP's claims have no {subject_claim}")
    subject = text(subject)
    if not mapping:
        mapping = {attribute: attribute for attribute in PASS_THROUGH}
    attributes = [{"Name": attribute, "Value": text(claims[claim])}
                  for attribute, claim in mapping.items() if claims.get(claim) is not None]
    # an identity linked to a native user signs in as that user (Cognito: the DestinationUser)
    for candidate in user_pool.users.values():
        if candidate.status != EXTERNAL and has_identity(candidate, idp.name, subject):
            if not candidate.enabled:
                raise Refused("invalid_request", "User is disabled.")
            return candidate
    username = f"{idp.name}_{subject}"
    user = user_pool.users.get(username)
    if user is None:
        user = models.CognitoIdpUser(user_pool.id, username, None, EXTERNAL, [])
        identity = {"userId": subject, "providerName": idp.name,
                    "providerType": idp.extended_config.get("ProviderType") or "OIDC",
                    "issuer": None, "primary": True, "dateCreated": now_ms()}
        user.update_attributes(attributes + [{"Name": "identities", "Value": json.dumps([identity], separators=(",", ":"))}])
        user_pool.users[username] = user
        return user
    if not user.enabled:
        raise Refused("invalid_request", "User is disabled.")
    if attributes:
        user.update_attributes(attributes)
    return user
