"""Token revocation (`RevokeToken`, which moto lacks), as Cognito documents it for a client with
revocation on.

The refresh token of the client (with its secret, where it has one) is revoked together with
every access and ID token issued from it (told by their `origin_jti`), so they fail `GetUser` and
the WebAuthn operations afterwards, and a refresh with it fails (moto refuses a refresh token it
holds as revoked); a token revoked already is a success, a token of another client
`UnauthorizedException`, anything else `UnsupportedTokenTypeException`.

Not as Cognito: every client revokes (the client's `EnableTokenRevocation` is not looked at).
"""
import base64
import json

from moto.cognitoidp import models, responses
from moto.cognitoidp.exceptions import NotAuthorizedError, ResourceNotFoundError
from moto.core.exceptions import JsonRESTError
from moto.core.responses import EmptyResult

from .common import patch


def origin_of(jwt):
    try:
        payload = jwt.split(".")[1]
        return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))).get("origin_jti")
    except (IndexError, ValueError):
        return None


def revoke_token(self, client_id, client_secret, token):
    user_pool = next((p for p in self.user_pools.values() if client_id in p.clients), None)
    if user_pool is None:
        raise ResourceNotFoundError(client_id)
    client = user_pool.clients[client_id]
    if client.generate_secret and client_secret != client.secret:
        raise NotAuthorizedError("Unable to verify secret hash for client")
    entry = user_pool.refresh_tokens.get(token)
    if token not in user_pool.refresh_tokens:
        raise JsonRESTError("UnsupportedTokenTypeException", "The token is not a refresh token of this pool.")
    if entry is None:
        return  # revoked already: Cognito answers success
    issued_to, _, jti = entry
    if issued_to != client_id:
        raise JsonRESTError("UnauthorizedException", "The token was issued to another client.")
    user_pool.refresh_tokens[token] = None
    # and every access and ID token issued from it
    for tokens in (user_pool.access_tokens, user_pool.id_tokens):
        for jwt in [t for t in tokens if origin_of(t) == jti]:
            tokens.pop(jwt)


def respond_revoke(self):
    self.backend.revoke_token(self._get_param("ClientId"), self._get_param("ClientSecret"), self._get_param("Token"))
    return EmptyResult()


def install(settings):
    patch(models.CognitoIdpBackend, "revoke_token", revoke_token)
    patch(responses.CognitoIdpResponse, "revoke_token", respond_revoke)
