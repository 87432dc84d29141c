"""Federated sign-in at a pool's domain: its OAuth 2.0 endpoints (`/oauth2/authorize`,
`/oauth2/idpresponse`, `/oauth2/token`) and the tokens they issue. The IdP's side is
`federation_idp`, the linking operations `federation_links` (installed from here).

moto stores domains, OIDC IdPs and an app client's OAuth settings, and serves no `/oauth2/*`
endpoint. A pool domain's endpoints are served here, at
`http://127.0.0.1:<port>/_domains/<Domain>/oauth2/...` with `<Domain>` the prefix given to
`CreateUserPoolDomain`: locally that base URL is what a tenant registers as its pool domain (on
AWS `https://<prefix>.auth.<region>.amazoncognito.com`), and its `/oauth2/idpresponse` is the
redirect URI registered at the IdP.

`GET /oauth2/authorize` (`response_type=code`, `client_id`, `redirect_uri`, `state`,
`identity_provider`, `scope`, `code_challenge`, `code_challenge_method`, `nonce`): an unknown
client, or a `redirect_uri` not exactly one of its `CallbackURLs`, is a 400 page
(`redirect_mismatch`), never a redirect; other errors redirect to the app with `error`,
`error_description` and its `state`: `invalid_request` for a `response_type` missing or not
`code`/`token`, a challenge method other than `S256` or a challenge without one, an
`identity_provider` not among the client's `SupportedIdentityProviders` or not an IdP of the
pool; `unauthorized_client` where the client may not use the flow (`AllowedOAuthFlows`,
`AllowedOAuthFlowsUserPoolClient`). Scopes the client may not have are left out (none asked for:
all of the client's). The person goes on to the OIDC IdP's authorization endpoint
(`authorize_url`, else OpenID discovery at `oidc_issuer`; plain http only on a loopback address)
with Cognito's own state and nonce, kept five minutes and taken once.

`/oauth2/idpresponse` gets the IdP's claims and the user they sign in (`federation_idp`, which
says how), with the one-request-at-a-time lock let go while the IdP is called, as a trigger is.
Pre Authentication does not run: Cognito runs it for native users' sign-ins only. The app gets a
code (single use, five minutes) bound to the client, `redirect_uri`, challenge, scopes, user and
nonce.

`POST /oauth2/token` (the client by HTTP Basic or `client_id`/`client_secret` in the form; a
secret that does not match is `invalid_client`): `authorization_code` with the same
`redirect_uri` and a `code_verifier` whose S256 is the challenge (else, or for a code unknown,
used, expired or another client's, `invalid_grant`), and `refresh_token`; other grants
`unsupported_grant_type`; errors are 400 `application/json;charset=UTF-8` `{"error": ...}`. The
tokens are moto's (the pool's key; recorded so that `GetUser`, `RevokeToken` and
`REFRESH_TOKEN_AUTH` take them); the access token's `scope` is the scopes granted; the ID token
(only with `openid`, as on Cognito) has every attribute the client may read (verified flags as
booleans), `nonce` when the app sent one, `at_hash`, and `identities` as Cognito writes it: an
array whose `primary` and `dateCreated` are strings (`"primary":"true"`,
`"dateCreated":"1682704282933"`, `"issuer":null`). Any ID token of a user with linked identities
lists them (`"primary":"false"`).

Not as Cognito: the domain is a path over plain http; there is no managed login
(`identity_provider` missing or `COGNITO` is `invalid_request`), no implicit grant, no
`idp_identifier`, no SAML or social IdPs; Cognito's error page for `redirect_mismatch` is answered
in place; error descriptions other than those Cognito documents (`federation_idp`) are the
emulator's own; a code is spent by any try to redeem it (Cognito does not say); `GetUser` takes a
token endpoint's access token only with the scope `aws.cognito.signin.user.admin`, as Cognito
(`NotAuthorizedException` "Access Token does not have required scopes"), whatever its user's
status (moto's, CONFIRMED only, is kept for other tokens).
"""
import base64
import hashlib
import hmac
import html
import json
import secrets
import time as clock
import urllib.parse
import uuid

from moto.cognitoidp import models
from moto.cognitoidp.exceptions import NotAuthorizedError
from werkzeug.wrappers import Request, Response

from . import federation_links
from .common import CONTEXT, SERIAL, b64url, patch, unlocked
from .federation_idp import Refused, claims_from_idp, endpoints, user_for
from .federation_links import identities_claim

# A pool domain's OAuth 2.0 endpoints are served here: locally, a tenant's pool domain is
# http://127.0.0.1:<emulator port>/_domains/<Domain>.
DOMAINS_PATH = "/_domains/"

VALID_FOR = 5 * 60  # Cognito's state at the IdP, and its authorization codes
VERIFIED = ("email_verified", "phone_number_verified")

# this emulator's base URL, http://<host>:<port> (set by install())
base_url = ""
# Cognito's state at the IdP -> the app's authorize request
pending = {}
# authorization code -> what it was issued for
codes = {}
# origin_jti of the tokens issued at a token endpoint -> {"scopes"}
grants = {}

# moto's, set by install()
original_access_token = None
original_id_token = None
original_get_user = None


# -- helpers ------------------------------------------------------------------------------------------

def payload_of(jwt):
    try:
        part = jwt.split(".")[1]
        return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    except (IndexError, ValueError):
        return {}


def pool_of(domain):
    for account in list(models.cognitoidp_backends.values()):
        for backend in list(account.values()):
            found = backend.user_pool_domains.get(domain)
            if found is not None:
                return backend.user_pools.get(found.user_pool_id)
    return None


def sweep():
    now = clock.time()
    for kept in (pending, codes):
        for key in [k for k, v in kept.items() if v["expires"] < now]:
            del kept[key]


def with_query(url, params):
    parts = urllib.parse.urlsplit(url)
    query = "&".join(q for q in (parts.query, urllib.parse.urlencode(params)) if q)
    return urllib.parse.urlunsplit(parts._replace(query=query))


def redirect(location):
    return Response(status=302, headers={"Location": location, "Cache-Control": "no-store"})


def to_app(redirect_uri, state, error, description=None):
    params = {"error": error}
    if description:
        params["error_description"] = description
    if state is not None:
        params["state"] = state
    return redirect(with_query(redirect_uri, params))


def page(status, error, description):
    body = ("<!DOCTYPE html><html><head><title>Error</title></head><body>"
            "<h1>An error was encountered with the requested page.</h1>"
            f"<p>{html.escape(error)}: {html.escape(description)}</p></body></html>")
    return Response(body, status=status, content_type="text/html; charset=utf-8")


def token_answer(body, status=200):
    content_type = "application/json" if status == 200 else "application/json;charset=UTF-8"
    return Response(json.dumps(body), status=status, content_type=content_type,
                    headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


# -- the endpoints --------------------------------------------------------------------------------------

def check_authorize(user_pool, client, args):
    """The app's authorize request, checked as Cognito checks it: what is kept of it."""
    config = client.extended_config
    response_type = args.get("response_type")
    if response_type not in ("code", "token"):
        raise Refused("invalid_request", "response_type must be code or token")
    if (not config.get("AllowedOAuthFlowsUserPoolClient")
            or {"code": "code", "token": "implicit"}[response_type] not in (config.get("AllowedOAuthFlows") or [])):
        raise Refused("unauthorized_client")
    if response_type == "token":
        raise Refused("invalid_request", "the implicit grant is not emulated")
    challenge, method = args.get("code_challenge"), args.get("code_challenge_method")
    if challenge and not method:
        raise Refused("invalid_request", "code_challenge_method is required with code_challenge")
    if method and method != "S256":
        raise Refused("invalid_request", "code_challenge_method must be S256")
    if method and not challenge:
        raise Refused("invalid_request", "code_challenge is required with code_challenge_method")
    name = args.get("identity_provider")
    if not name and args.get("idp_identifier"):
        raise Refused("invalid_request", "idp_identifier is not emulated: name the identity_provider")
    if not name or name == "COGNITO":
        raise Refused("invalid_request", "managed login (the hosted UI) is not emulated: name an identity_provider")
    idp = user_pool.identity_providers.get(name)
    if idp is None or name not in (config.get("SupportedIdentityProviders") or []):
        raise Refused("invalid_request", f"The identity provider {name} is not enabled for the client")
    if idp.extended_config.get("ProviderType") != "OIDC":
        raise Refused("invalid_request", "only OIDC identity providers are emulated")
    allowed = config.get("AllowedOAuthScopes") or []
    requested = (args.get("scope") or "").split()
    # scopes the client may not have are left out; none asked for is every allowed one
    scopes = list(dict.fromkeys(s for s in requested if s in allowed)) if requested else list(allowed)
    return {"client_id": client.id, "redirect_uri": args.get("redirect_uri"), "state": args.get("state"),
            "challenge": challenge, "scopes": scopes, "nonce": args.get("nonce"), "idp": name}


def authorize(request, domain):
    args = request.args
    redirect_uri = args.get("redirect_uri") or ""
    with SERIAL:
        user_pool = pool_of(domain)
        if user_pool is None:
            return page(404, "not_found", f"No user pool has the domain {domain}.")
        client = user_pool.clients.get(args.get("client_id") or "")
        if client is None or redirect_uri not in (client.extended_config.get("CallbackURLs") or []):
            return page(400, "redirect_mismatch", "The client_id is unknown or the redirect_uri is not one of its callback URLs.")
        try:
            kept = check_authorize(user_pool, client, args)
            details = dict(user_pool.identity_providers[kept["idp"]].extended_config.get("ProviderDetails") or {})
            with unlocked():
                found = endpoints(kept["idp"], details)
        except Refused as e:
            return to_app(redirect_uri, args.get("state"), e.error, e.description)
        sweep()
        state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        pending[state] = dict(kept, domain=domain, idp_nonce=nonce, expires=clock.time() + VALID_FOR)
    return redirect(with_query(found["authorization_endpoint"], {
        "response_type": "code", "client_id": details.get("client_id") or "",
        "redirect_uri": f"{base_url}{DOMAINS_PATH}{domain}/oauth2/idpresponse",
        "scope": details.get("authorize_scopes") or "openid", "state": state, "nonce": nonce,
    }))


def idp_response(request, domain):
    args = request.args
    with SERIAL:
        sweep()
        kept = pending.pop(args.get("state") or "", None)
        if kept is None or kept["domain"] != domain:
            return page(400, "invalid_request", "Invalid state: unknown, used or expired.")
        name = kept["idp"]
        try:
            if args.get("error"):
                described = args.get("error_description")
                raise Refused("invalid_request", f"{name} Error - {args['error']}" + (f": {described}" if described else ""))
            if not args.get("code"):
                raise Refused("invalid_request", f"{name} Error - the IdP answered without a code")
            user_pool = pool_of(domain)
            idp = user_pool.identity_providers.get(name) if user_pool else None
            if idp is None:
                raise Refused("invalid_request", f"The identity provider {name} no longer exists")
            details = dict(idp.extended_config.get("ProviderDetails") or {})
            with unlocked():
                claims = claims_from_idp(name, details, args["code"], kept["idp_nonce"],
                                         f"{base_url}{DOMAINS_PATH}{domain}/oauth2/idpresponse")
            # moto's models again, under the lock: the pool may have changed meanwhile
            user_pool = pool_of(domain)
            idp = user_pool.identity_providers.get(name) if user_pool else None
            if idp is None or kept["client_id"] not in user_pool.clients:
                raise Refused("invalid_request", f"The identity provider {name} no longer exists")
            user = user_for(user_pool, idp, claims)
        except Refused as e:
            return to_app(kept["redirect_uri"], kept["state"], e.error, e.description)
        code = str(uuid.uuid4())
        codes[code] = {"client_id": kept["client_id"], "redirect_uri": kept["redirect_uri"],
                       "challenge": kept["challenge"], "scopes": kept["scopes"], "nonce": kept["nonce"],
                       "username": user.username, "domain": domain, "expires": clock.time() + VALID_FOR}
    answer = {"code": code}
    if kept["state"] is not None:
        answer["state"] = kept["state"]
    return redirect(with_query(kept["redirect_uri"], answer))


def issue(user_pool, client, user, scopes, nonce):
    refresh_token, origin_jti = user_pool.create_refresh_token(client.id, user.username)
    grants[origin_jti] = {"scopes": scopes}
    CONTEXT.source = "TokenGeneration_HostedAuth"
    access_token, expires_in = user_pool.create_access_token(client.id, user.username, origin_jti)
    body = {"access_token": access_token, "refresh_token": refresh_token,
            "expires_in": expires_in, "token_type": "Bearer"}
    if "openid" in scopes:
        digest = hashlib.sha256(access_token.encode()).digest()
        extra = {"at_hash": b64url(digest[:16])}
        if nonce:
            extra["nonce"] = nonce
        body["id_token"], _ = user_pool.create_id_token(client.id, user.username, origin_jti, extra)
    return token_answer(body)


def token(request, domain):
    def refuse(error):
        return token_answer({"error": error}, 400)

    if request.mimetype != "application/x-www-form-urlencoded":
        return refuse("invalid_request")
    form = request.form
    client_id, secret = form.get("client_id"), form.get("client_secret")
    authorization = request.headers.get("Authorization", "")
    if authorization[:6].lower() == "basic ":
        try:
            basic_id, _, secret = base64.b64decode(authorization[6:].strip(), validate=True).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return refuse("invalid_client")
        if client_id and client_id != basic_id:
            return refuse("invalid_client")
        client_id = basic_id
    with SERIAL:
        user_pool = pool_of(domain)
        client = user_pool.clients.get(client_id or "") if user_pool else None
        if client is None:
            return refuse("invalid_client")
        if client.generate_secret and not hmac.compare_digest((secret or "").encode(), client.secret.encode()):
            return refuse("invalid_client")
        grant_type = form.get("grant_type")
        if not grant_type:
            return refuse("invalid_request")
        if grant_type == "refresh_token":
            refresh_token = form.get("refresh_token")
            if not refresh_token:
                return refuse("invalid_request")
            held = user_pool.refresh_tokens.get(refresh_token)
            user = user_pool.users.get(held[1]) if held else None
            if held is None or held[0] != client.id or user is None or not user.enabled:
                return refuse("invalid_grant")
            access_token, id_token, expires_in = user_pool.create_tokens_from_refresh_token(refresh_token)
            body = {"access_token": access_token, "expires_in": expires_in, "token_type": "Bearer"}
            grant = grants.get(held[2])
            if grant is None or "openid" in grant["scopes"]:
                body["id_token"] = id_token
            return token_answer(body)
        if grant_type != "authorization_code":
            return refuse("unsupported_grant_type")
        config = client.extended_config
        if not config.get("AllowedOAuthFlowsUserPoolClient") or "code" not in (config.get("AllowedOAuthFlows") or []):
            return refuse("unauthorized_client")
        sweep()
        # a code is spent by any try to redeem it
        kept = codes.pop(form.get("code") or "", None)
        if kept is None or kept["client_id"] != client.id or kept["domain"] != domain:
            return refuse("invalid_grant")
        if form.get("redirect_uri") != kept["redirect_uri"]:
            return refuse("invalid_grant")
        if kept["challenge"]:
            verifier = form.get("code_verifier") or ""
            derived = b64url(hashlib.sha256(verifier.encode()).digest())
            if not verifier or not hmac.compare_digest(derived.encode(), kept["challenge"].encode()):
                return refuse("invalid_grant")
        user = user_pool.users.get(kept["username"])
        if user is None or not user.enabled:
            return refuse("invalid_grant")
        return issue(user_pool, client, user, kept["scopes"], kept["nonce"])


ROUTES = {"oauth2/authorize": ("GET", authorize), "oauth2/idpresponse": ("GET", idp_response),
          "oauth2/token": ("POST", token)}


def serve(environ, start_response):
    """The WSGI handler of the domains' paths (`DOMAINS_PATH`); it takes the one-request-at-a-
    time lock itself, and lets go of it while it calls the IdP."""
    request = Request(environ)
    domain, _, endpoint = request.path[len(DOMAINS_PATH):].partition("/")
    route = ROUTES.get(endpoint)
    if route is None:
        response = page(404, "not_found", "No such endpoint.")
    elif request.method != route[0]:
        response = Response(status=405, headers={"Allow": route[0]})
    else:
        response = route[1](request, domain)
    return response(environ, start_response)


# -- tokens: the grant's scopes and the `identities` claim -------------------------------------------

def create_access_token(self, client_id, username, origin_jti):
    grant = grants.get(origin_jti)
    if grant is None:
        return original_access_token(self, client_id, username, origin_jti)
    extra_data = {"origin_jti": origin_jti, "scope": " ".join(grant["scopes"])}
    user = self._get_user(username)
    if user.groups:
        extra_data["cognito:groups"] = [group.group_name for group in user.groups]
    access_token, expires_in = self.create_jwt(client_id, username, "access", extra_data=extra_data)
    self.access_tokens[access_token] = (client_id, username)
    return access_token, expires_in


def create_id_token(self, client_id, username, origin_jti, extra=None):
    grant = grants.get(origin_jti)
    user = self._get_user(username)
    linked = bool(user is not None and user.attribute_lookup.get("identities"))
    if grant is None and not linked and not extra:
        return original_id_token(self, client_id, username, origin_jti)
    # as moto makes it ...
    extra_data = self.get_user_extra_data_by_client_id(client_id, username)
    extra_data["origin_jti"] = origin_jti
    for attr in user.attributes:
        if attr["Name"].startswith("custom:"):
            extra_data[attr["Name"]] = attr["Value"]
    if user.groups:
        extra_data["cognito:groups"] = [group.group_name for group in user.groups]
    # ... with, from a token endpoint, every attribute the client may read (verified flags
    # as booleans, as in Cognito's ID tokens), and the identities as Cognito writes them
    if grant is not None:
        client = self.clients.get(client_id)
        readable = client.get_readable_fields() if client else []
        for name, value in user.attribute_lookup.items():
            if name in ("sub", "identities") or (readable and name not in readable):
                continue
            extra_data[name] = (value == "true") if name in VERIFIED else value
    if linked:
        extra_data["identities"] = identities_claim(user)
    extra_data.update(extra or {})
    id_token, expires_in = self.create_jwt(client_id, username, "id", extra_data=extra_data)
    self.id_tokens[id_token] = (client_id, username)
    return id_token, expires_in


def get_user(self, access_token):
    # a token endpoint's token is good for GetUser only with the scope Cognito asks for
    # (`aws.cognito.signin.user.admin`), whatever the user's status (a federated user is
    # EXTERNAL_PROVIDER; moto accepts CONFIRMED only)
    grant = grants.get(payload_of(access_token).get("origin_jti"))
    if grant is not None and "aws.cognito.signin.user.admin" not in grant["scopes"]:
        raise NotAuthorizedError("Access Token does not have required scopes")
    if grant is not None:
        for user_pool in self.user_pools.values():
            held = user_pool.access_tokens.get(access_token)
            if held is not None:
                user = user_pool.users.get(held[1])
                if user is None or not user.enabled:
                    raise NotAuthorizedError("User is disabled.")
                return user
    return original_get_user(self, access_token)


def install(settings):
    """The tokens' changes and the linking operations; answers the route of the domains' paths."""
    global base_url, original_access_token, original_id_token, original_get_user
    base_url = settings.base_url
    original_access_token = patch(models.CognitoIdpUserPool, "create_access_token", create_access_token)
    original_id_token = patch(models.CognitoIdpUserPool, "create_id_token", create_id_token)
    original_get_user = patch(models.CognitoIdpBackend, "get_user", get_user)
    federation_links.install(settings)
    return DOMAINS_PATH, serve
