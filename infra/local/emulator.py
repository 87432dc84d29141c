"""The local AWS emulator: moto's server, with each request handled to completion before the next.

moto's server is threaded, and its DynamoDB backend checks a ConditionExpression and applies the
update in two steps without a lock, so two concurrent conditional writes can both pass. Real
DynamoDB applies conditional writes to an item atomically, and the lockout policy relies on it.
Handling one request at a time gives the emulator that guarantee; connections stay concurrent.

  python infra/local/emulator.py --host 127.0.0.1 --port 5000 [--timing-log FILE]

With --timing-log, each request appends `<start> <end> <operation>` (wall-clock nanoseconds,
the X-Amz-Target operation) to FILE: the benchmark reads how long the emulator itself took.

Extensions to moto, each making it behave as Cognito documents:

- **Usernames by alias and by `sub`.** Cognito's admin operations take, for `Username`, the
  username, any of the user's alias attributes (`AliasAttributes`: a verified `email` or
  `phone_number`, a `preferred_username`), or the user's `sub`; moto knows only
  `UsernameAttributes`. Here every user lookup also resolves an alias (case-insensitively, a
  contact only once verified), a `sub`, and in a pool made case-insensitive
  (`UsernameConfiguration`) the username in any case (moto matches it exactly). moto uses the same lookup for sign-ins, where Cognito
  takes an alias but not a `sub`: the product always signs in with the resolved username.
- **Contact verification** (`GetUserAttributeVerificationCode`, `VerifyUserAttribute`, which
  moto lacks). Where the pool lists an attribute in
  `UserAttributeUpdateSettings.AttributesRequireVerificationBeforeUpdate`, a new unverified
  `email` or `phone_number` set by `AdminUpdateUserAttributes` stays pending and the old one
  stays in use until the code is verified; elsewhere the new value takes effect unverified.
  Either way a code is made (six digits, valid 24 hours, five wrong tries allowed, as Cognito
  documents) and, as moto does for forgot-password codes, returned to the caller in the
  `x-moto-attribute-verification-code` response header: the tests read it there. A wrong code
  is `CodeMismatchException`, an expired one `ExpiredCodeException`, a sixth wrong try
  `LimitExceededException`.
- **Second factors.** `AssociateSoftwareToken` makes a random secret per user (moto gives every
  user one fixed secret); `VerifySoftwareToken` checks a code against it (RFC 6238, the current
  30-second step and one either side, with moto's own TOTP helper on `cryptography`), a wrong
  code is `EnableSoftwareTokenMFAException` as on Cognito, and only then may TOTP be turned on
  (`InvalidParameterException` before). `AdminSetUserMFAPreference` also takes
  `EmailMfaSettings` (moto ignores it), turned on only where the pool sends email through SES
  (`EmailSendingAccount DEVELOPER`), and SMS codes only where it has an `SmsConfiguration`, as
  Cognito requires; `AdminGetUser` lists `EMAIL_OTP`.
  After a right password in a pool whose `MfaConfiguration` is not `OFF`, `InitiateAuth`
  (`USER_PASSWORD_AUTH`) asks for the preferred factor, the only one, or `SELECT_MFA_TYPE`
  between several, as Cognito does (moto asks only for a preferred TOTP or SMS, and never for
  email). `RespondToAuthChallenge` checks the answer: the TOTP code against the user's secret,
  an SMS or email code against the one made for that session (six digits, three minutes), a
  wrong one `CodeMismatchException`; moto accepts any SMS code. An answer whose `USERNAME` is
  not the session's user is `NotAuthorizedException` before any code is checked (Cognito does
  not document its order; this is the safe reading the product must not depend on). The SMS and email codes are
  returned in the `x-moto-mfa-code` response header (`SMS_MFA=123456`), as moto does for
  forgot-password codes: the tests read them there. In a pool that requires a factor
  (`MfaConfiguration ON`), a user without one gets `MFA_SETUP` (moto issues tokens).
  `SetUserPoolMfaConfig` changes what `DescribeUserPool` says (moto kept the creation's value).
  `GetUserPoolMfaConfig` answers the pool's `WebAuthnConfiguration` too.
- **Passkeys** (`StartWebAuthnRegistration`, `CompleteWebAuthnRegistration`,
  `ListWebAuthnCredentials`, `DeleteWebAuthnCredential`, which moto lacks, and the `USER_AUTH`
  flow's `WEB_AUTHN` challenge). The relying party is the pool's `WebAuthnConfiguration`
  (`SetUserPoolMfaConfig`; without it `WebAuthnConfigurationMissingException`). Registration
  options and request options are made, and attestations and assertions verified, by the
  `webauthn` library (Duo Labs): a wrong challenge, relying party, origin, signature or
  counter is refused. The origin must be the relying party's host or a subdomain over https,
  or `http://localhost` for a `localhost` relying party (`WebAuthnOriginNotAllowedException`);
  a registration that does not verify is `InvalidParameterException` (RP ID hash:
  `WebAuthnRelyingPartyMismatchException`, challenge: `WebAuthnChallengeNotFoundException`), an
  assertion that does not verify `NotAuthorizedException`. `InitiateAuth` `USER_AUTH` with
  `PREFERRED_CHALLENGE=WEB_AUTHN` answers `WEB_AUTHN` with `CREDENTIAL_REQUEST_OPTIONS` for a
  user with passkeys, and `SELECT_CHALLENGE` (password) for one without or an unknown user,
  alike. A challenge is answered once; options hold five minutes. As on Cognito, passkeys need
  `WEB_AUTHN` among the pool's `SignInPolicy.AllowedFirstAuthFactors` (the default allows the
  password alone) and `ALLOW_USER_AUTH` among the app client's flows; a user disabled between
  the challenge and the answer is refused.
- **Lambda triggers** (moto stores a pool's `LambdaConfig` and never calls it). With
  `--lambda-endpoint URL` the emulator invokes them as Cognito does, by Lambda's Invoke API
  (`POST URL/2015-03-31/functions/<name>/invocations`, the name taken from the ARN), which
  `cargo lambda watch` serves: the event carries Cognito's common fields (`version`,
  `triggerSource`, `region`, `userPoolId`, `userName`, `callerContext.clientId`,
  `request.userAttributes` with `sub` and `cognito:user_status`). **Pre Authentication** runs
  before the password or passkey is looked at, for an existing user, on `InitiateAuth`
  (`USER_PASSWORD_AUTH`, `USER_SRP_AUTH`, `CUSTOM_AUTH`, `USER_AUTH`) and `AdminInitiateAuth`
  (`ADMIN_USER_PASSWORD_AUTH`, `ADMIN_NO_SRP_AUTH`), never on a refresh, and only after the
  client's secret hash is proven (else its refusal would tell a stranger the lock state). A
  function error is `UserLambdaValidationException` `"<Trigger> failed with error <message>."`,
  as on Cognito; a trigger set with no endpoint, or one that cannot be reached,
  `UnexpectedLambdaException` (closed, never skipped). **Custom authentication**
  (`CUSTOM_AUTH`, which moto lacks): needs `ALLOW_CUSTOM_AUTH` on the client;
  DefineAuthChallenge decides (its `session` the answers so far), CreateAuthChallenge makes a
  `CUSTOM_CHALLENGE` (public parameters plus `USERNAME`; private ones kept for the verify
  trigger), `RespondToAuthChallenge` `ANSWER` goes to VerifyAuthChallengeResponse and back to
  DefineAuthChallenge: tokens, `NotAuthorizedException` on `failAuthentication`, or a further
  challenge. A session answers once and holds three minutes. While a trigger runs, the one-request-at-a-time lock is let go:
  the function calls back into this emulator (DynamoDB), and Cognito's own trigger calls are
  atomic with nothing either.
- **`ClientMetadata` to the triggers** (moto drops it). The request's `ClientMetadata` reaches
  the triggers the API reference lists for its operation: `InitiateAuth` and
  `AdminInitiateAuth` hand it to Pre Authentication only (as `validationData`, as the trigger's
  reference says); `RespondToAuthChallenge` to define, create and verify auth challenge and to
  pre token generation. Every other trigger gets `{}`.
- **Pre token generation** (moto lacks it). A pool whose `LambdaConfig` has
  `PreTokenGenerationConfig` (`LambdaVersion` `V2_0`; any other version is refused, and the
  V1 `PreTokenGeneration` ARN alone runs nothing) invokes it once per token issue, before the
  tokens are signed: `TokenGeneration_Authentication` for a sign-in (any flow),
  `TokenGeneration_NewPasswordChallenge` after `NEW_PASSWORD_REQUIRED`,
  `TokenGeneration_RefreshTokens` for a refresh (`REFRESH_TOKEN_AUTH`, the token endpoint's
  `refresh_token` grant), `TokenGeneration_HostedAuth` at a pool domain's token endpoint. A
  refresh's tokens keep their session's `auth_time`, the time the user signed in, as Cognito's
  do (moto stamps each token with the time it was made). The
  event is version 2 with `groupConfiguration`, `scopes` (the access token's) and
  `clientMetadata`; the answer's `claimsAndScopeOverrideDetails` is applied: for the access
  token `scopesToSuppress`, `scopesToAdd`, `claimsToAddOrOverride`, `claimsToSuppress`, for the
  ID token its two claim lists, and `groupOverrideDetails.groupsToOverride`. Claims Cognito
  reserves (`sub`, `iss`, `token_use`, `scope`, `auth_time`, `exp`, `jti`, `origin_jti`, …) are
  left as they are: Cognito does not let a trigger change them.
- **The self-service scope** (moto ignores scopes). Every operation Cognito authorises with the
  user's access token alone (`GetUser`, `UpdateUserAttributes`, `DeleteUserAttributes`,
  `GetUserAttributeVerificationCode`, `VerifyUserAttribute`, `ChangePassword`, `DeleteUser`,
  `GlobalSignOut`, `AssociateSoftwareToken` and `VerifySoftwareToken` with a token,
  `SetUserMFAPreference`, `SetUserSettings`, the WebAuthn operations, the device operations,
  `GetUserAuthFactors`) refuses a token whose `scope` claim lacks
  `aws.cognito.signin.user.admin` with `NotAuthorizedException` before anything else, as the
  API reference requires of each ("It must include the scope aws.cognito.signin.user.admin").
  The message, "Access Token does not have required scopes", is what Cognito answers in
  practice; its documentation names none.
- **Sent mail, readable** (moto keeps what SES sent and offers no API for it): `GET
  /_emulator/ses/sent` answers every message SES (v1 or v2) sent, `[{from, to, subject,
  body}]`, oldest first; the tests read the mail the API sent there. Sending itself is moto's:
  the sender must be a verified identity (an address, or its domain), else `MessageRejected`.
- **Token revocation** (`RevokeToken`, which moto lacks): the refresh token of the client
  (with its secret, where it has one) is revoked together with every access and ID token
  issued from it (told by their `origin_jti`), so they fail `GetUser` and the WebAuthn
  operations afterwards; a token revoked already is a success, a token of another client
  `UnauthorizedException`, anything else `UnsupportedTokenTypeException`.
- **Federated sign-in at a pool's domain** (moto stores domains, OIDC IdPs and an app client's
  OAuth settings, and serves no `/oauth2/*` endpoint). A pool domain's endpoints are served
  here, at `http://127.0.0.1:<port>/_domains/<Domain>/oauth2/...` with `<Domain>` the prefix
  given to `CreateUserPoolDomain`: locally that base URL is what a tenant registers as its pool
  domain (on AWS `https://<prefix>.auth.<region>.amazoncognito.com`), and its
  `/oauth2/idpresponse` is the redirect URI registered at the IdP. `GET /oauth2/authorize`
  (`response_type=code`, `client_id`, `redirect_uri`, `state`, `identity_provider`, `scope`,
  `code_challenge`, `code_challenge_method`, `nonce`): an unknown client, or a `redirect_uri`
  not exactly one of its `CallbackURLs`, is a 400 page (`redirect_mismatch`), never a redirect;
  other errors redirect to the app with `error`, `error_description` and its `state`:
  `invalid_request` for a `response_type` missing or not `code`/`token`, a challenge method
  other than `S256` or a challenge without one, an `identity_provider` not among the client's
  `SupportedIdentityProviders` or not an IdP of the pool; `unauthorized_client` where the
  client may not use the flow (`AllowedOAuthFlows`, `AllowedOAuthFlowsUserPoolClient`).
  Scopes the client may not have are left out (none asked for: all of the client's). The
  person goes on to the OIDC IdP's authorization endpoint (`authorize_url`, else OpenID
  discovery at `oidc_issuer`; plain http only on a loopback address) with Cognito's own state
  and nonce, kept five minutes and taken once. `/oauth2/idpresponse` exchanges the IdP's code
  (`client_secret_basic`, or `client_secret_post` where discovery offers only that), verifies
  its ID token (joserfc: signature by the IdP's JWKS, its only key where the token names no
  `kid`; `iss` the `oidc_issuer`, `aud` the IdP client id, `exp`, the nonce sent), adds the
  IdP's userInfo (`attributes_request_method` GET or POST), maps claims to attributes by the
  IdP's `AttributeMapping` (attribute <- claim; `username` <- `sub` by default names the
  identity; with nothing else mapped, `email`, `email_verified`, `name`, `given_name`,
  `family_name` pass straight through), and signs in the native user the identity is linked to,
  else the user `<ProviderName>_<sub>` (made `EXTERNAL_PROVIDER`, enabled, with the mapped
  attributes and `identities`; an existing one gets the mapped attributes again). An IdP's
  error or failure redirects `error=invalid_request` with Cognito's descriptions where it
  documents them (`<IdP> Error - <status> error getting token`, `Timeout occurred in calling
  IdP token endpoint`, `Timeout in calling jwks uri`, `Connection reset`; the IdP's own
  refusal is `<IdP> Error - <its error>`), a disabled user `User is disabled.`.
  The IdP is called with the one-request-at-a-time lock let go, as a trigger is. Pre
  Authentication does not run: Cognito runs it for native users' sign-ins only. The app gets a
  code (single use, five minutes) bound to the client, `redirect_uri`, challenge, scopes, user
  and nonce. `POST /oauth2/token` (the client by HTTP Basic or `client_id`/`client_secret` in the
  form; a secret that does not match is `invalid_client`): `authorization_code` with the same
  `redirect_uri` and a `code_verifier` whose S256 is the challenge (else, or for a code unknown,
  used, expired or another client's, `invalid_grant`), and `refresh_token`; other grants
  `unsupported_grant_type`; errors are 400 `application/json;charset=UTF-8` `{"error": ...}`.
  The tokens are moto's (the pool's key; recorded so that `GetUser`, `RevokeToken` and
  `REFRESH_TOKEN_AUTH` take them); the access token's `scope` is the scopes granted; the ID
  token (only with `openid`, as on Cognito) has every attribute the client may read (verified
  flags as booleans), `nonce` when the app sent one, `at_hash`, and `identities` as Cognito
  writes it: an array whose `primary` and `dateCreated` are strings (`"primary":"true"`,
  `"dateCreated":"1682704282933"`, `"issuer":null`). Any ID token of a user with linked
  identities lists them (`"primary":"false"`). **`AdminLinkProviderForUser`** (which moto lacks)
  links `SourceUser` `{ProviderName: <IdP>, ProviderAttributeName: Cognito_Subject,
  ProviderAttributeValue: <sub>}` to a native `DestinationUser` (`ProviderName: Cognito`),
  kept in its `identities` attribute as AdminGetUser shows it (a JSON string, `"primary":false`,
  `"dateCreated"` a number): a destination missing is `UserNotFoundException`; a provider not
  of the pool, or any other `ProviderAttributeName` (only `Cognito_Subject` is emulated),
  `InvalidParameterException`; an identity that signed in already (its `<IdP>_<sub>` user
  exists) `InvalidParameterException` "Merging is not currently supported, ..."; an identity
  linked to another user `AliasExistsException` (AWS documents no error for it: this is the
  emulator's choice); a sixth link `LimitExceededException`; the same link again a success.
  **`AdminDisableProviderForUser`** removes the identity's link (the attribute dropped when
  none is left) and disables its `EXTERNAL_PROVIDER` user, if any; neither is a success, a
  provider not of the pool `InvalidParameterException`. Not as Cognito: the domain is a path
  over plain http; there is no managed login (`identity_provider` missing or `COGNITO` is
  `invalid_request`), no implicit grant, no `idp_identifier`, no SAML or social IdPs;
  Cognito's error page for `redirect_mismatch` is answered in place; error descriptions other
  than those quoted above are the emulator's own; a code is spent by any try to redeem it
  (Cognito does not say); `GetUser` takes a token endpoint's access token only with the scope
  `aws.cognito.signin.user.admin`, as Cognito (`NotAuthorizedException` "Access Token does not
  have required scopes"), whatever its user's status (moto's, CONFIRMED only, is kept for
  other tokens); a linked native user's attributes are not updated from the
  IdP; the username prefix is the `ProviderName` as given (Cognito's exact casing is not
  documented: do not parse usernames).
"""
import argparse
import os
import threading
import time

from werkzeug.serving import run_simple

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from moto.server import MotoRequestHandler


def resolve_aliases_and_sub():
    """Extends moto's user lookup (`CognitoIdpUserPool._get_user`) as the module notes say."""
    from moto.cognitoidp.models import CognitoIdpUserPool
    from moto.cognitoidp.utils import flatten_attrs

    verified_by = {"email": "email_verified", "phone_number": "phone_number_verified"}
    by_username = CognitoIdpUserPool._get_user

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
                proof = verified_by.get(alias)
                if value and value.lower() == wanted and (not proof or attrs.get(proof) == "true"):
                    return candidate
        for candidate in self.users.values():
            if candidate.id == username:
                return candidate
        return None

    CognitoIdpUserPool._get_user = get_user


def user_of_token(backend, access_token):
    """The user an access token was issued to, as Cognito's token-authorised operations find it."""
    from moto.cognitoidp.exceptions import NotAuthorizedError

    for user_pool in backend.user_pools.values():
        if access_token in user_pool.access_tokens:
            _, username = user_pool.access_tokens[access_token]
            return backend.admin_get_user(user_pool.id, username)
    raise NotAuthorizedError("Invalid token")


def contact_verification():
    """Adds the contact-verification operations, as the module notes say."""
    import random
    import time as clock

    from moto.cognitoidp import models, responses
    from moto.cognitoidp.exceptions import (
        CodeMismatchException,
        ExpiredCodeException,
        InvalidParameterException,
    )
    from moto.core.exceptions import JsonRESTError
    from moto.core.responses import ActionResult

    class LimitExceededException(JsonRESTError):
        def __init__(self):
            super().__init__("LimitExceededException", "Attempt limit exceeded, please try after some time.")

    CONTACTS = {"email": ("email_verified", "EMAIL"), "phone_number": ("phone_number_verified", "SMS")}
    VALID_FOR = 24 * 3600
    TRIES = 5

    def new_code(user, attribute, value):
        code = f"{random.randint(0, 999999):06d}"
        pending = getattr(user, "contact_codes", {})
        pending[attribute] = {"code": code, "value": value, "expires": clock.time() + VALID_FOR, "tries": 0}
        user.contact_codes = pending
        return code

    def mask(attribute, value):
        if attribute == "email" and "@" in value:
            local, domain = value.split("@", 1)
            return f"{local[:1]}***@{domain[:1]}***"
        return f"+*******{value[-4:]}"

    original_update = models.CognitoIdpBackend.admin_update_user_attributes

    def admin_update_user_attributes(self, user_pool_id, username, attributes):
        user_pool = self.describe_user_pool(user_pool_id)
        user = self.admin_get_user(user_pool_id, username)
        settings = user_pool.extended_config.get("UserAttributeUpdateSettings") or {}
        held = set(settings.get("AttributesRequireVerificationBeforeUpdate") or [])
        given = {a["Name"]: a.get("Value", "") for a in attributes}
        codes = {}
        kept = []
        for attribute, (verified, _) in CONTACTS.items():
            if attribute not in given or given.get(verified) == "true":
                continue
            value = given[attribute]
            if value == user.attribute_lookup.get(attribute) and user.attribute_lookup.get(verified) == "true":
                continue
            codes[attribute] = new_code(user, attribute, value)
            if attribute in held and user.attribute_lookup.get(attribute):
                # the old value stays in use until the new one is verified
                kept.append(attribute)
            else:
                given[verified] = "false"
        update = [{"Name": k, "Value": v} for k, v in given.items() if k not in kept]
        original_update(self, user_pool_id, username, update)
        return codes

    def get_user_attribute_verification_code(self, access_token, attribute):
        if attribute not in CONTACTS:
            raise InvalidParameterException(f"{attribute} cannot be verified")
        user = user_of_token(self, access_token)
        pending = getattr(user, "contact_codes", {}).get(attribute)
        value = pending["value"] if pending else user.attribute_lookup.get(attribute)
        if not value:
            raise InvalidParameterException(f"the user has no {attribute}")
        code = new_code(user, attribute, value)
        details = {"Destination": mask(attribute, value), "DeliveryMedium": CONTACTS[attribute][1], "AttributeName": attribute}
        return code, {"CodeDeliveryDetails": details}

    def verify_user_attribute(self, access_token, attribute, code):
        user = user_of_token(self, access_token)
        pending = getattr(user, "contact_codes", {}).get(attribute)
        if pending is None:
            raise CodeMismatchException("Invalid verification code provided, please try again.")
        if pending["tries"] >= TRIES:
            raise LimitExceededException()
        if clock.time() > pending["expires"]:
            raise ExpiredCodeException("Invalid code provided, please request a code again.")
        if code != pending["code"]:
            pending["tries"] += 1
            raise CodeMismatchException("Invalid verification code provided, please try again.")
        del user.contact_codes[attribute]
        user.update_attributes([
            {"Name": attribute, "Value": pending["value"]},
            {"Name": CONTACTS[attribute][0], "Value": "true"},
        ])

    models.CognitoIdpBackend.admin_update_user_attributes = admin_update_user_attributes
    models.CognitoIdpBackend.get_user_attribute_verification_code = get_user_attribute_verification_code
    models.CognitoIdpBackend.verify_user_attribute = verify_user_attribute

    def respond_update(self):
        codes = self.backend.admin_update_user_attributes(
            self._get_param("UserPoolId"), self._get_param("Username"), self._get_param("UserAttributes")
        )
        if codes:
            self.response_headers["x-moto-attribute-verification-code"] = ",".join(f"{k}={v}" for k, v in codes.items())
        return ActionResult({})

    def respond_code(self):
        code, result = self.backend.get_user_attribute_verification_code(
            self._get_param("AccessToken"), self._get_param("AttributeName")
        )
        self.response_headers["x-moto-attribute-verification-code"] = f"{self._get_param('AttributeName')}={code}"
        return ActionResult(result)

    def respond_verify(self):
        self.backend.verify_user_attribute(
            self._get_param("AccessToken"), self._get_param("AttributeName"), self._get_param("Code")
        )
        return ActionResult({})

    responses.CognitoIdpResponse.admin_update_user_attributes = respond_update
    responses.CognitoIdpResponse.get_user_attribute_verification_code = respond_code
    responses.CognitoIdpResponse.verify_user_attribute = respond_verify


def second_factors():
    """TOTP with a secret per user, codes by SMS and email at sign-in, as the module notes say."""
    import base64
    import json
    import random
    import secrets
    import uuid
    import time as clock

    from cryptography.hazmat.primitives.twofactor import InvalidToken
    from moto.cognitoidp import models, responses
    from moto.cognitoidp.exceptions import (
        CodeMismatchException,
        InvalidParameterException,
        NotAuthorizedError,
        ResourceNotFoundError,
    )
    from moto.cognitoidp.utils import check_secret_hash, cognito_totp, verify_totp
    from moto.core.exceptions import JsonRESTError
    from moto.core.responses import ActionResult, EmptyResult

    class CognitoError(JsonRESTError):
        def __init__(self, code, message):
            super().__init__(code, message)

    FACTORS = ("SOFTWARE_TOKEN_MFA", "SMS_MFA", "EMAIL_OTP")
    CODE_VALID_FOR = 3 * 60
    # session -> {"challenge", "code", "expires", "username", "pool_id"}
    challenges = {}

    def enabled(user):
        on = []
        if user.software_token_mfa_enabled:
            on.append("SOFTWARE_TOKEN_MFA")
        if user.sms_mfa_enabled:
            on.append("SMS_MFA")
        if getattr(user, "email_mfa_enabled", False):
            on.append("EMAIL_OTP")
        return on

    def totp_ok(secret, code):
        if not secret or not code or not code.isdigit() or len(code) != 6:
            return False
        try:
            # the current 30-second step and one either side, as authenticator clocks drift
            verify_totp(cognito_totp(secret), code.encode(), valid_window=1)
            return True
        except InvalidToken:
            return False

    def new_secret():
        return base64.b32encode(secrets.token_bytes(32)).decode().rstrip("=")

    def user_of(backend, access_token, session):
        if session:
            if session not in backend.sessions:
                raise NotAuthorizedError("Invalid session for the user.")
            username, user_pool = backend.sessions[session]
            return backend.admin_get_user(user_pool.id, username)
        return user_of_token(backend, access_token)

    def associate_software_token(self, access_token, session):
        user = user_of(self, access_token, session)
        user.pending_totp_secret = new_secret()
        result = {"SecretCode": user.pending_totp_secret}
        if session:
            result["Session"] = session
        return result

    def verify_software_token(self, access_token, session, user_code, friendly_device_name):
        user = user_of(self, access_token, session)
        secret = getattr(user, "pending_totp_secret", None)
        if not secret:
            raise CognitoError("SoftwareTokenMFANotFoundException", "Software Token MFA has not been enabled by the user.")
        if not totp_ok(secret, user_code):
            raise CognitoError("EnableSoftwareTokenMFAException", "Code mismatch and fail enable Software Token MFA")
        user.totp_secret = secret
        user.pending_totp_secret = None
        user.token_verified = True
        result = {"Status": "SUCCESS"}
        if session:
            result["Session"] = session
        return result

    def admin_set_user_mfa_preference(self, user_pool_id, username, totp, sms, email=None):
        user_pool = self.describe_user_pool(user_pool_id)
        user = self.admin_get_user(user_pool_id, username)
        settings = {"SOFTWARE_TOKEN_MFA": totp, "SMS_MFA": sms, "EMAIL_OTP": email}
        for factor, given in settings.items():
            if not given or not given.get("Enabled"):
                continue
            if factor == "SOFTWARE_TOKEN_MFA" and not user.token_verified:
                raise InvalidParameterException("User does not have delivery config set to turn on SOFTWARE_TOKEN_MFA")
            if factor == "SMS_MFA" and not user_pool.extended_config.get("SmsConfiguration"):
                raise InvalidParameterException("SMS MFA needs the user pool's SMS configuration (SmsConfiguration)")
            if factor == "EMAIL_OTP":
                sending = (user_pool.extended_config.get("EmailConfiguration") or {}).get("EmailSendingAccount")
                if sending != "DEVELOPER":
                    raise InvalidParameterException("Email MFA needs the user pool to send email through Amazon SES (EmailSendingAccount DEVELOPER)")
        for factor, given in settings.items():
            if not given:
                continue
            on = bool(given.get("Enabled"))
            if factor == "SOFTWARE_TOKEN_MFA":
                user.software_token_mfa_enabled = on
            elif factor == "SMS_MFA":
                user.sms_mfa_enabled = on
            else:
                user.email_mfa_enabled = on
            if on and given.get("PreferredMfa"):
                user.preferred_mfa_setting = factor
            elif user.preferred_mfa_setting == factor:
                user.preferred_mfa_setting = ""

    def mask(user, factor):
        attrs = user.attribute_lookup
        if factor == "SMS_MFA":
            return "SMS", "+*******" + (attrs.get("phone_number") or "")[-4:]
        local, _, domain = (attrs.get("email") or "").partition("@")
        return "EMAIL", f"{local[:1]}***@{domain[:1]}***"

    def challenge(user_pool, user, username, factor, session=None):
        """The challenge Cognito asks `factor` with, its code made and kept under the session."""
        session = session or str(uuid.uuid4())
        entry = {"challenge": factor, "code": None, "username": username, "pool_id": user_pool.id,
                 "expires": clock.time() + CODE_VALID_FOR}
        parameters = {"USER_ID_FOR_SRP": user.username}
        if factor in ("SMS_MFA", "EMAIL_OTP"):
            entry["code"] = f"{random.randint(0, 999999):06d}"
            medium, destination = mask(user, factor)
            parameters.update({"CODE_DELIVERY_DELIVERY_MEDIUM": medium, "CODE_DELIVERY_DESTINATION": destination})
        if factor == "SELECT_MFA_TYPE":
            parameters["MFAS_CAN_CHOOSE"] = json.dumps(enabled(user))
        challenges[session] = entry
        return {"ChallengeName": factor, "ChallengeParameters": parameters, "Session": session}

    def asked_factor(user_pool, user):
        """Which factor Cognito asks a user for after the password, if any."""
        if user_pool.mfa_config == "OFF":
            return None
        on = enabled(user)
        if user.preferred_mfa_setting in on:
            return user.preferred_mfa_setting
        if len(on) == 1:
            return on[0]
        return "SELECT_MFA_TYPE" if on else None

    original_initiate = models.CognitoIdpBackend.initiate_auth

    def initiate_auth(self, client_id, auth_flow, auth_parameters):
        if auth_flow == "USER_PASSWORD_AUTH":
            for user_pool in self.user_pools.values():
                if client_id not in user_pool.clients:
                    continue
                user = user_pool._get_user(auth_parameters.get("USERNAME"))
                if (user is None or not user.enabled or user.password != auth_parameters.get("PASSWORD")
                        or user.status != models.UserStatus.CONFIRMED):
                    break
                client = user_pool.clients[client_id]
                if client.generate_secret and not check_secret_hash(
                    client.secret, client.id, auth_parameters.get("USERNAME"), auth_parameters.get("SECRET_HASH")
                ):
                    raise NotAuthorizedError("Unable to verify secret hash for client")
                factor = asked_factor(user_pool, user)
                if factor is None and user_pool.mfa_config == "ON":
                    # a pool that requires a factor makes a user without one set one up first
                    session = str(uuid.uuid4())
                    self.sessions[session] = (user.username, user_pool)
                    can = ["SOFTWARE_TOKEN_MFA"] + (["SMS_MFA"] if user_pool.sms_mfa_config else [])
                    return {"ChallengeName": "MFA_SETUP", "Session": session,
                            "ChallengeParameters": {"MFAS_CAN_SETUP": json.dumps(can)}}
                if factor:
                    result = challenge(user_pool, user, user.username, factor)
                    self.sessions[result["Session"]] = (user.username, user_pool)
                    return result
                break
        return original_initiate(self, client_id, auth_flow, auth_parameters)

    original_respond = models.CognitoIdpBackend.respond_to_auth_challenge

    def respond_to_auth_challenge(self, session, client_id, challenge_name, answers):
        if challenge_name not in FACTORS + ("SELECT_MFA_TYPE",):
            return original_respond(self, session, client_id, challenge_name, answers)
        entry = challenges.get(session)
        if session not in self.sessions or entry is None:
            raise ResourceNotFoundError(session)
        username, user_pool = self.sessions[session]
        client = user_pool.clients.get(client_id)
        if not client:
            raise ResourceNotFoundError(client_id)
        if entry["challenge"] != challenge_name or clock.time() > entry["expires"]:
            raise NotAuthorizedError("Invalid session for the user.")
        if client.generate_secret and not check_secret_hash(
            client.secret, client.id, answers.get("USERNAME"), answers.get("SECRET_HASH")
        ):
            raise NotAuthorizedError("Unable to verify secret hash for client")
        # the session is one user's: an answer naming anybody else is refused before any code
        # is looked at
        named = user_pool._get_user(answers.get("USERNAME") or "")
        if named is None or named.username != self.admin_get_user(user_pool.id, username).username:
            raise NotAuthorizedError("Invalid session for the user.")
        user = self.admin_get_user(user_pool.id, username)
        if challenge_name == "SELECT_MFA_TYPE":
            chosen = answers.get("ANSWER")
            if chosen not in enabled(user):
                raise InvalidParameterException("The MFA type chosen is not set up for the user")
            del challenges[session]
            return challenge(user_pool, user, username, chosen, session)
        code = answers.get(f"{challenge_name}_CODE")
        if challenge_name == "SOFTWARE_TOKEN_MFA":
            right = totp_ok(getattr(user, "totp_secret", None), code)
        else:
            right = bool(code) and code == entry["code"]
        if not right:
            raise CodeMismatchException("Invalid code or auth state for the user.")
        del challenges[session]
        del self.sessions[session]
        return self._log_user_in(user_pool, client, username)

    original_to_json = models.CognitoIdpUser.to_json

    def to_json(self, extended=False, attributes_key="Attributes", attributes_to_get=None):
        out = original_to_json(self, extended, attributes_key, attributes_to_get)
        if extended and getattr(self, "email_mfa_enabled", False):
            out["UserMFASettingList"] = out.get("UserMFASettingList", []) + ["EMAIL_OTP"]
        if extended and not out.get("PreferredMfaSetting"):
            out.pop("PreferredMfaSetting", None)
        return out

    original_mfa_config = models.CognitoIdpBackend.set_user_pool_mfa_config

    def set_user_pool_mfa_config(self, user_pool_id, sms_config, token_config, mfa_config):
        result = original_mfa_config(self, user_pool_id, sms_config, token_config, mfa_config)
        # moto keeps the creation's MfaConfiguration in the settings DescribeUserPool answers with
        self.describe_user_pool(user_pool_id).extended_config["MfaConfiguration"] = mfa_config
        return result

    models.CognitoIdpBackend.set_user_pool_mfa_config = set_user_pool_mfa_config
    models.CognitoIdpBackend.associate_software_token = associate_software_token
    models.CognitoIdpBackend.verify_software_token = verify_software_token
    models.CognitoIdpBackend.admin_set_user_mfa_preference = admin_set_user_mfa_preference
    models.CognitoIdpBackend.initiate_auth = initiate_auth
    models.CognitoIdpBackend.respond_to_auth_challenge = respond_to_auth_challenge
    models.CognitoIdpUser.to_json = to_json

    def code_header(response, result):
        entry = challenges.get(result.get("Session") or "")
        if entry and entry.get("code"):
            response.response_headers["x-moto-mfa-code"] = f"{entry['challenge']}={entry['code']}"

    def respond_initiate(self):
        result = self._get_region_agnostic_backend().initiate_auth(
            self._get_param("ClientId"), self._get_param("AuthFlow"), self._get_param("AuthParameters")
        )
        code_header(self, result)
        return ActionResult(result)

    def respond_challenge(self):
        result = self._get_region_agnostic_backend().respond_to_auth_challenge(
            self._get_param("Session"), self._get_param("ClientId"), self._get_param("ChallengeName"),
            self._get_param("ChallengeResponses"),
        )
        code_header(self, result)
        return ActionResult(result)

    def respond_mfa_preference(self):
        self.backend.admin_set_user_mfa_preference(
            self._get_param("UserPoolId"), self._get_param("Username"),
            self._get_param("SoftwareTokenMfaSettings"), self._get_param("SMSMfaSettings"),
            self._get_param("EmailMfaSettings"),
        )
        return EmptyResult()

    responses.CognitoIdpResponse.initiate_auth = respond_initiate
    responses.CognitoIdpResponse.respond_to_auth_challenge = respond_challenge
    responses.CognitoIdpResponse.admin_set_user_mfa_preference = respond_mfa_preference


def passkeys():
    """WebAuthn registration and sign-in (USER_AUTH), verified by the `webauthn` library."""
    import base64
    import json
    import time as clock
    import uuid
    from urllib.parse import urlsplit

    import webauthn
    from moto.cognitoidp import models, responses
    from moto.cognitoidp.exceptions import (
        InvalidParameterException,
        NotAuthorizedError,
        ResourceNotFoundError,
    )
    from moto.core.exceptions import JsonRESTError
    from moto.core.responses import ActionResult
    from webauthn.helpers.exceptions import InvalidAuthenticationResponse, InvalidRegistrationResponse
    from webauthn.helpers.structs import (
        AuthenticatorSelectionCriteria,
        PublicKeyCredentialDescriptor,
        ResidentKeyRequirement,
        UserVerificationRequirement,
    )

    class CognitoError(JsonRESTError):
        def __init__(self, code, message):
            super().__init__(code, message)

    OPTIONS_VALID_FOR = 5 * 60
    # session -> {"challenge", "expires", "username"}
    sign_ins = {}

    def b64url(data):
        return base64.urlsafe_b64encode(data).decode().rstrip("=")

    def config(user_pool):
        """The pool's WebAuthn settings, as SetUserPoolMfaConfig set them."""
        found = user_pool.extended_config.get("WebAuthnConfiguration") or {}
        if not found.get("RelyingPartyId"):
            raise CognitoError("WebAuthnConfigurationMissingException", "The user pool has no WebAuthn relying party.")
        # Cognito's default sign-in policy allows the password alone
        allowed = ((user_pool.extended_config.get("Policies") or {}).get("SignInPolicy") or {}).get(
            "AllowedFirstAuthFactors") or ["PASSWORD"]
        if "WEB_AUTHN" not in allowed:
            raise CognitoError("WebAuthnNotEnabledException", "Passkeys are not an allowed first factor of the user pool.")
        return found["RelyingPartyId"], found.get("UserVerification") or "preferred"

    def origin_of(credential, rp_id):
        """The credential's origin, if the relying party may be asked from it: the RP ID's own
        host or a subdomain over https, or plain http on localhost."""
        try:
            client_data = credential["response"]["clientDataJSON"]
            origin = json.loads(base64.urlsafe_b64decode(client_data + "=" * (-len(client_data) % 4)))["origin"]
        except Exception:
            raise InvalidParameterException("the credential is not a WebAuthn response")
        parts = urlsplit(origin)
        host = parts.hostname or ""
        same_site = host == rp_id or host.endswith("." + rp_id)
        if not same_site or not (parts.scheme == "https" or (parts.scheme == "http" and host == "localhost")):
            raise CognitoError("WebAuthnOriginNotAllowedException", "The origin is not allowed for the relying party.")
        return origin

    def refusal(error, registering):
        text = str(error)
        if "RP ID hash" in text:
            return CognitoError("WebAuthnRelyingPartyMismatchException", "The relying party does not match.")
        if "challenge" in text:
            return CognitoError("WebAuthnChallengeNotFoundException", "The challenge was not found.")
        if registering:
            return InvalidParameterException(f"the credential did not verify: {text}")
        return NotAuthorizedError("Incorrect username or password.")

    def start_web_authn_registration(self, access_token):
        user = user_of_token(self, access_token)
        user_pool = next(p for p in self.user_pools.values() if access_token in p.access_tokens)
        rp_id, verification = config(user_pool)
        held = getattr(user, "passkeys", [])
        options = webauthn.generate_registration_options(
            rp_id=rp_id,
            rp_name=rp_id,
            user_name=user.username,
            user_id=user.id.encode(),
            authenticator_selection=AuthenticatorSelectionCriteria(
                resident_key=ResidentKeyRequirement.REQUIRED,
                user_verification=UserVerificationRequirement(verification),
            ),
            exclude_credentials=[PublicKeyCredentialDescriptor(id=c["raw_id"]) for c in held],
        )
        user.passkey_registration = {"challenge": options.challenge, "expires": clock.time() + OPTIONS_VALID_FOR}
        return {"CredentialCreationOptions": json.loads(webauthn.options_to_json(options))}

    def complete_web_authn_registration(self, access_token, credential):
        user = user_of_token(self, access_token)
        user_pool = next(p for p in self.user_pools.values() if access_token in p.access_tokens)
        rp_id, verification = config(user_pool)
        pending = getattr(user, "passkey_registration", None)
        if not pending or clock.time() > pending["expires"]:
            raise CognitoError("WebAuthnChallengeNotFoundException", "The challenge was not found.")
        origin = origin_of(credential, rp_id)
        try:
            verified = webauthn.verify_registration_response(
                credential=credential,
                expected_challenge=pending["challenge"],
                expected_rp_id=rp_id,
                expected_origin=origin,
                require_user_verification=verification == "required",
            )
        except InvalidRegistrationResponse as e:
            raise refusal(e, True)
        user.passkey_registration = None
        held = getattr(user, "passkeys", [])
        if any(c["raw_id"] == verified.credential_id for c in held):
            raise InvalidParameterException("the credential is registered already")
        held.append({
            "raw_id": verified.credential_id,
            "public_key": verified.credential_public_key,
            "sign_count": verified.sign_count,
            "rp_id": rp_id,
            "created": clock.time(),
            "attachment": credential.get("authenticatorAttachment"),
            "transports": (credential.get("response") or {}).get("transports") or [],
        })
        user.passkeys = held
        return {}

    def list_web_authn_credentials(self, access_token):
        user = user_of_token(self, access_token)
        return {"Credentials": [
            {
                "CredentialId": b64url(c["raw_id"]),
                "FriendlyCredentialName": "passkey",
                "RelyingPartyId": c["rp_id"],
                "AuthenticatorAttachment": c["attachment"],
                "AuthenticatorTransports": c["transports"],
                "CreatedAt": c["created"],
            }
            for c in getattr(user, "passkeys", [])
        ]}

    def delete_web_authn_credential(self, access_token, credential_id):
        user = user_of_token(self, access_token)
        held = getattr(user, "passkeys", [])
        kept = [c for c in held if b64url(c["raw_id"]) != credential_id]
        if len(kept) == len(held):
            raise ResourceNotFoundError("no such credential")
        user.passkeys = kept
        return {}

    original_initiate = models.CognitoIdpBackend.initiate_auth

    def initiate_auth(self, client_id, auth_flow, auth_parameters):
        if auth_flow != "USER_AUTH":
            return original_initiate(self, client_id, auth_flow, auth_parameters)
        user_pool = next((p for p in self.user_pools.values() if client_id in p.clients), None)
        if user_pool is None:
            raise ResourceNotFoundError(client_id)
        client = user_pool.clients[client_id]
        if "ALLOW_USER_AUTH" not in (client.extended_config.get("ExplicitAuthFlows") or []):
            raise InvalidParameterException("USER_AUTH flow not enabled for this client")
        name = auth_parameters.get("USERNAME") or ""
        if client.generate_secret and not models.check_secret_hash(
            client.secret, client.id, name, auth_parameters.get("SECRET_HASH")
        ):
            raise NotAuthorizedError("Unable to verify secret hash for client")
        rp_id, verification = config(user_pool)
        user = user_pool._get_user(name)
        held = getattr(user, "passkeys", []) if user is not None and user.enabled else []
        session = str(uuid.uuid4())
        if auth_parameters.get("PREFERRED_CHALLENGE") != "WEB_AUTHN" or not held:
            # no passkey to ask for: the choice of what else the user may do, the same for an
            # unknown user (PreventUserExistenceErrors)
            return {"ChallengeName": "SELECT_CHALLENGE", "Session": session,
                    "AvailableChallenges": ["PASSWORD", "PASSWORD_SRP"], "ChallengeParameters": {}}
        options = webauthn.generate_authentication_options(
            rp_id=rp_id,
            allow_credentials=[PublicKeyCredentialDescriptor(id=c["raw_id"]) for c in held],
            user_verification=UserVerificationRequirement(verification),
        )
        sign_ins[session] = {"challenge": options.challenge, "expires": clock.time() + OPTIONS_VALID_FOR,
                             "username": user.username, "pool_id": user_pool.id}
        self.sessions[session] = (user.username, user_pool)
        return {"ChallengeName": "WEB_AUTHN", "Session": session,
                "ChallengeParameters": {"CREDENTIAL_REQUEST_OPTIONS": webauthn.options_to_json(options)}}

    original_respond = models.CognitoIdpBackend.respond_to_auth_challenge

    def respond_to_auth_challenge(self, session, client_id, challenge_name, answers):
        if challenge_name != "WEB_AUTHN":
            return original_respond(self, session, client_id, challenge_name, answers)
        entry = sign_ins.get(session)
        if session not in self.sessions or entry is None or clock.time() > entry["expires"]:
            raise NotAuthorizedError("Invalid session for the user.")
        username, user_pool = self.sessions[session]
        client = user_pool.clients.get(client_id)
        if not client:
            raise ResourceNotFoundError(client_id)
        if client.generate_secret and not models.check_secret_hash(
            client.secret, client.id, answers.get("USERNAME"), answers.get("SECRET_HASH")
        ):
            raise NotAuthorizedError("Unable to verify secret hash for client")
        named = user_pool._get_user(answers.get("USERNAME") or "")
        if named is None or named.username != username:
            raise NotAuthorizedError("Invalid session for the user.")
        if not named.enabled:
            raise NotAuthorizedError("User is disabled.")
        rp_id, verification = config(user_pool)
        try:
            credential = json.loads(answers.get("CREDENTIAL") or "")
        except ValueError:
            raise InvalidParameterException("CREDENTIAL is not JSON")
        held = {b64url(c["raw_id"]): c for c in getattr(named, "passkeys", [])}
        stored = held.get(credential.get("id", ""))
        if stored is None:
            raise NotAuthorizedError("Incorrect username or password.")
        origin = origin_of(credential, rp_id)
        try:
            verified = webauthn.verify_authentication_response(
                credential=credential,
                expected_challenge=entry["challenge"],
                expected_rp_id=rp_id,
                expected_origin=origin,
                credential_public_key=stored["public_key"],
                credential_current_sign_count=stored["sign_count"],
                require_user_verification=verification == "required",
            )
        except InvalidAuthenticationResponse as e:
            raise refusal(e, False)
        stored["sign_count"] = verified.new_sign_count
        del sign_ins[session]
        del self.sessions[session]
        return self._log_user_in(user_pool, client, username)

    models.CognitoIdpBackend.start_web_authn_registration = start_web_authn_registration
    models.CognitoIdpBackend.complete_web_authn_registration = complete_web_authn_registration
    models.CognitoIdpBackend.list_web_authn_credentials = list_web_authn_credentials
    models.CognitoIdpBackend.delete_web_authn_credential = delete_web_authn_credential
    models.CognitoIdpBackend.initiate_auth = initiate_auth
    models.CognitoIdpBackend.respond_to_auth_challenge = respond_to_auth_challenge

    def backend_of_token(response):
        token = response._get_param("AccessToken")
        if any(token in p.access_tokens for p in response.backend.user_pools.values()):
            return response.backend
        raise NotAuthorizedError("Invalid token")

    def respond_start(self):
        return ActionResult(backend_of_token(self).start_web_authn_registration(self._get_param("AccessToken")))

    def respond_complete(self):
        backend = backend_of_token(self)
        return ActionResult(backend.complete_web_authn_registration(self._get_param("AccessToken"), self._get_param("Credential")))

    def respond_list(self):
        return ActionResult(backend_of_token(self).list_web_authn_credentials(self._get_param("AccessToken")))

    def respond_delete(self):
        backend = backend_of_token(self)
        return ActionResult(backend.delete_web_authn_credential(self._get_param("AccessToken"), self._get_param("CredentialId")))

    original_set_mfa_config = responses.CognitoIdpResponse.set_user_pool_mfa_config

    def respond_mfa_config(self):
        web_authn = self._get_param("WebAuthnConfiguration")
        result = original_set_mfa_config(self)
        if web_authn is not None:
            user_pool = self.backend.describe_user_pool(self._get_param("UserPoolId"))
            user_pool.extended_config["WebAuthnConfiguration"] = {
                "RelyingPartyId": web_authn.get("RelyingPartyId"),
                "UserVerification": web_authn.get("UserVerification") or "preferred",
            }
        return result

    original_get_mfa_config = models.CognitoIdpBackend.get_user_pool_mfa_config

    def get_user_pool_mfa_config(self, user_pool_id):
        # the pool's WebAuthnConfiguration too, as Cognito answers it (moto leaves it out)
        answer = dict(original_get_mfa_config(self, user_pool_id))
        web_authn = self.describe_user_pool(user_pool_id).extended_config.get("WebAuthnConfiguration")
        if web_authn:
            answer["WebAuthnConfiguration"] = dict(web_authn)
        return answer

    models.CognitoIdpBackend.get_user_pool_mfa_config = get_user_pool_mfa_config
    responses.CognitoIdpResponse.start_web_authn_registration = respond_start
    responses.CognitoIdpResponse.complete_web_authn_registration = respond_complete
    responses.CognitoIdpResponse.list_web_authn_credentials = respond_list
    responses.CognitoIdpResponse.delete_web_authn_credential = respond_delete
    responses.CognitoIdpResponse.set_user_pool_mfa_config = respond_mfa_config


def triggers(endpoint):
    """The pool's Lambda triggers, invoked through Lambda's Invoke API at `endpoint`."""
    import json
    import time as clock
    import urllib.error
    import urllib.request
    import uuid

    from moto.cognitoidp import models
    from moto.cognitoidp.exceptions import (
        InvalidParameterException,
        NotAuthorizedError,
        ResourceNotFoundError,
        UserNotFoundError,
    )
    from moto.core.exceptions import JsonRESTError

    class CognitoError(JsonRESTError):
        def __init__(self, code, message):
            super().__init__(code, message)

    SESSION_VALID_FOR = 3 * 60
    PASSWORD_FLOWS = ("USER_PASSWORD_AUTH", "USER_SRP_AUTH", "CUSTOM_AUTH", "USER_AUTH")
    ADMIN_PASSWORD_FLOWS = ("ADMIN_USER_PASSWORD_AUTH", "ADMIN_NO_SRP_AUTH")
    # session -> {"username", "pool_id", "client_id", "history", "private", "metadata", "expires"}
    custom_sessions = {}

    def invoke(user_pool, trigger, source, user, client_id, request, version="1"):
        """The trigger's answer (`response`), or Cognito's error when the function fails."""
        config = user_pool.extended_config.get("LambdaConfig") or {}
        arn = config.get(trigger)
        if trigger == "PreTokenGeneration":
            # a V2_0 event needs `PreTokenGenerationConfig` (the V1_0 `PreTokenGeneration` ARN
            # alone customises the ID token only, which nothing here emulates)
            versioned = config.get("PreTokenGenerationConfig") or {}
            arn = versioned.get("LambdaArn")
            if arn and versioned.get("LambdaVersion") != "V2_0":
                raise CognitoError("InvalidParameterException", "only a V2_0 pre token generation trigger is emulated")
        if not arn:
            return None
        if not endpoint:
            raise CognitoError("UnexpectedLambdaException",
                               f"{trigger} is set but this emulator was started without --lambda-endpoint")
        name = arn.split(":function:", 1)[-1].split(":", 1)[0]
        attributes = {a["Name"]: a["Value"] for a in user.attributes}
        attributes.setdefault("sub", user.id)
        attributes["cognito:user_status"] = user.status
        event = {
            "version": version, "triggerSource": source, "region": user_pool.region,
            "userPoolId": user_pool.id, "userName": user.username,
            "callerContext": {"awsSdkVersion": "aws-sdk-emulator", "clientId": client_id},
            "request": {"userAttributes": attributes, **request}, "response": {},
        }
        call = urllib.request.Request(
            f"{endpoint}/2015-03-31/functions/{name}/invocations",
            data=json.dumps(event).encode(), method="POST",
            headers={"content-type": "application/json"},
        )
        # The function may call back into this emulator (DynamoDB): let other requests in while
        # it runs. Cognito's own trigger calls are not atomic with anything either.
        SERIAL.release()
        try:
            with urllib.request.urlopen(call, timeout=30) as answer:
                failed = answer.headers.get("X-Amz-Function-Error")
                body = answer.read()
        except urllib.error.HTTPError as e:
            failed, body = "Unhandled", e.read()
        except OSError as e:
            raise CognitoError("UnexpectedLambdaException", f"{trigger} could not be invoked: {e}")
        finally:
            SERIAL.acquire()
        try:
            out = json.loads(body or b"null")
        except ValueError:
            out = None
        if failed or not isinstance(out, dict) or "errorMessage" in out or "errorType" in out:
            message = out.get("errorMessage", "") if isinstance(out, dict) else ""
            raise CognitoError("UserLambdaValidationException", f"{trigger} failed with error {message}.")
        return out.get("response") or {}

    def pool_and_client(backend, client_id):
        for user_pool in backend.user_pools.values():
            if client_id in user_pool.clients:
                return user_pool, user_pool.clients[client_id]
        raise ResourceNotFoundError(client_id)

    def client_proven(client, username, secret_hash):
        if client.generate_secret and not models.check_secret_hash(client.secret, client.id, username or "", secret_hash):
            raise NotAuthorizedError("Unable to verify secret hash for client")

    def pre_authentication(user_pool, client, user):
        invoke(user_pool, "PreAuthentication", "PreAuthentication_Authentication", user, client.id,
               {"validationData": metadata_for("PreAuthentication")})

    def define(user_pool, client, user, history):
        answer = invoke(user_pool, "DefineAuthChallenge", "DefineAuthChallenge_Authentication", user, client.id,
                        {"session": history, "clientMetadata": metadata_for("DefineAuthChallenge")})
        if answer is None:
            raise InvalidParameterException("Custom auth lambda trigger is not configured for the user pool.")
        return answer

    def next_step(backend, user_pool, client, user, history):
        """What DefineAuthChallenge decided: tokens, a refusal, or a new custom challenge."""
        decided = define(user_pool, client, user, history)
        if decided.get("failAuthentication"):
            raise NotAuthorizedError("Incorrect username or password.")
        if decided.get("issueTokens"):
            return backend._log_user_in(user_pool, client, user.username)
        if decided.get("challengeName") != "CUSTOM_CHALLENGE":
            raise InvalidParameterException("only CUSTOM_CHALLENGE is emulated in a custom sign-in")
        made = invoke(user_pool, "CreateAuthChallenge", "CreateAuthChallenge_Authentication", user, client.id,
                      {"challengeName": "CUSTOM_CHALLENGE", "session": history,
                       "clientMetadata": metadata_for("CreateAuthChallenge")}) or {}
        session = str(uuid.uuid4())
        custom_sessions[session] = {
            "username": user.username, "pool_id": user_pool.id, "client_id": client.id, "history": history,
            "private": made.get("privateChallengeParameters") or {},
            "metadata": made.get("challengeMetadata"), "expires": clock.time() + SESSION_VALID_FOR,
        }
        public = dict(made.get("publicChallengeParameters") or {})
        public["USERNAME"] = user.username
        return {"ChallengeName": "CUSTOM_CHALLENGE", "Session": session, "ChallengeParameters": public}

    original_initiate = models.CognitoIdpBackend.initiate_auth

    def initiate_auth(self, client_id, auth_flow, auth_parameters):
        if auth_flow not in PASSWORD_FLOWS:
            return original_initiate(self, client_id, auth_flow, auth_parameters)
        user_pool, client = pool_and_client(self, client_id)
        name = auth_parameters.get("USERNAME") or ""
        user = user_pool._get_user(name)
        if auth_flow == "CUSTOM_AUTH":
            if "ALLOW_CUSTOM_AUTH" not in (client.extended_config.get("ExplicitAuthFlows") or []):
                raise InvalidParameterException("CUSTOM_AUTH flow not enabled for this client")
            client_proven(client, name, auth_parameters.get("SECRET_HASH"))
            if user is None:
                raise UserNotFoundError("User does not exist.")
            if not user.enabled:
                raise NotAuthorizedError("User is disabled.")
            pre_authentication(user_pool, client, user)
            return next_step(self, user_pool, client, user, [])
        if user is not None:
            client_proven(client, name, auth_parameters.get("SECRET_HASH"))
            pre_authentication(user_pool, client, user)
        return original_initiate(self, client_id, auth_flow, auth_parameters)

    original_admin_initiate = models.CognitoIdpBackend.admin_initiate_auth

    def admin_initiate_auth(self, user_pool_id, client_id, auth_flow, auth_parameters):
        if auth_flow in ADMIN_PASSWORD_FLOWS:
            user_pool = self.describe_user_pool(user_pool_id)
            client = user_pool.clients.get(client_id)
            user = user_pool._get_user(auth_parameters.get("USERNAME") or "")
            if client is not None and user is not None:
                pre_authentication(user_pool, client, user)
        return original_admin_initiate(self, user_pool_id, client_id, auth_flow, auth_parameters)

    original_respond = models.CognitoIdpBackend.respond_to_auth_challenge

    def respond_to_auth_challenge(self, session, client_id, challenge_name, answers):
        if challenge_name != "CUSTOM_CHALLENGE":
            return original_respond(self, session, client_id, challenge_name, answers)
        # a session answers one challenge, right or wrong
        entry = custom_sessions.pop(session, None)
        if entry is None or entry["client_id"] != client_id:
            raise NotAuthorizedError("Invalid session for the user.")
        if clock.time() > entry["expires"]:
            raise NotAuthorizedError("Invalid session for the user, session is expired.")
        user_pool, client = pool_and_client(self, client_id)
        client_proven(client, answers.get("USERNAME"), answers.get("SECRET_HASH"))
        user = user_pool._get_user(answers.get("USERNAME") or "")
        if user is None or user.username != entry["username"]:
            raise NotAuthorizedError("Invalid session for the user.")
        if not user.enabled:
            raise NotAuthorizedError("User is disabled.")
        verdict = invoke(user_pool, "VerifyAuthChallengeResponse", "VerifyAuthChallengeResponse_Authentication",
                         user, client.id, {"privateChallengeParameters": entry["private"],
                                           "challengeAnswer": answers.get("ANSWER") or "",
                                           "clientMetadata": metadata_for("VerifyAuthChallengeResponse")})
        if verdict is None:
            raise InvalidParameterException("Custom auth lambda trigger is not configured for the user pool.")
        history = entry["history"] + [{"challengeName": "CUSTOM_CHALLENGE",
                                       "challengeResult": verdict.get("answerCorrect") is True,
                                       "challengeMetadata": entry["metadata"]}]
        return next_step(self, user_pool, client, user, history)

    models.CognitoIdpBackend.initiate_auth = initiate_auth
    models.CognitoIdpBackend.admin_initiate_auth = admin_initiate_auth
    models.CognitoIdpBackend.respond_to_auth_challenge = respond_to_auth_challenge

    # -- pre token generation (V2_0) ---------------------------------------------------------

    original_log_in = models.CognitoIdpBackend._log_user_in

    def log_user_in(self, user_pool, client, username):
        # a sign-in's tokens (a refresh's come from create_tokens_from_refresh_token alone)
        before = getattr(CONTEXT, "source", None)
        CONTEXT.source = before or (
            "TokenGeneration_NewPasswordChallenge" if getattr(CONTEXT, "challenge", None) == "NEW_PASSWORD_REQUIRED"
            else "TokenGeneration_Authentication")
        try:
            return original_log_in(self, user_pool, client, username)
        finally:
            CONTEXT.source = before

    original_jwt = models.CognitoIdpUserPool.create_jwt

    # when each session (by its origin_jti) began: a refresh's tokens keep it, as Cognito's do
    # (moto stamps every token with the time it was made)
    began = {}

    def create_jwt(self, client_id, username, token_use, expires_in=60 * 60, extra_data=None):
        extra = dict(extra_data or {})
        origin = extra.get("origin_jti")
        if origin is not None:
            extra["auth_time"] = began.setdefault(origin, int(clock.time()))
        if token_use == "access":
            CONTEXT.override = customise(self, client_id, username, extra)
            details = CONTEXT.override.get("accessTokenGeneration") or {}
            scopes = [s for s in (extra.get("scope") or "").split() if s not in (details.get("scopesToSuppress") or [])]
            scopes += [s for s in (details.get("scopesToAdd") or []) if s not in scopes]
            extra["scope"] = " ".join(scopes)
            groups = (CONTEXT.override.get("groupOverrideDetails") or {}).get("groupsToOverride")
            if isinstance(groups, list):
                extra["cognito:groups"] = groups
        else:
            details = (getattr(CONTEXT, "override", None) or {}).get("idTokenGeneration") or {}
        for name in details.get("claimsToSuppress") or []:
            if name not in RESERVED_CLAIMS:
                extra.pop(name, None)
        for name, value in (details.get("claimsToAddOrOverride") or {}).items():
            if name not in RESERVED_CLAIMS:
                extra[name] = value
        return original_jwt(self, client_id, username, token_use, expires_in, extra)

    def customise(user_pool, client_id, username, extra):
        """The pool's pre token generation answer (`claimsAndScopeOverrideDetails`), or {}."""
        user = user_pool._get_user(username)
        source = getattr(CONTEXT, "source", None) or "TokenGeneration_RefreshTokens"
        groups = [g.group_name for g in user.groups] if user is not None else []
        answer = invoke(user_pool, "PreTokenGeneration", source, user, client_id, {
            "groupConfiguration": {"groupsToOverride": groups, "iamRolesToOverride": [], "preferredRole": None},
            "scopes": (extra.get("scope") or "").split(),
            "clientMetadata": metadata_for("PreTokenGeneration"),
        }, version="2") if user is not None else None
        details = (answer or {}).get("claimsAndScopeOverrideDetails") or {}
        return details if isinstance(details, dict) else {}

    models.CognitoIdpBackend._log_user_in = log_user_in
    models.CognitoIdpUserPool.create_jwt = create_jwt


def token_revocation():
    """`RevokeToken` (moto lacks it), as Cognito documents it for a client with revocation on."""
    import base64
    import json

    from moto.cognitoidp import models, responses
    from moto.cognitoidp.exceptions import NotAuthorizedError, ResourceNotFoundError
    from moto.core.exceptions import JsonRESTError
    from moto.core.responses import EmptyResult

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

    models.CognitoIdpBackend.revoke_token = revoke_token
    responses.CognitoIdpResponse.revoke_token = respond_revoke


# A pool domain's OAuth 2.0 endpoints are served here (see federation()): locally, a tenant's
# pool domain is http://127.0.0.1:<emulator port>/_domains/<Domain>.
DOMAINS_PATH = "/_domains/"


def federation(base_url):
    """Sign-in through a pool's OpenID Connect IdPs at its domain's OAuth 2.0 endpoints, and
    `AdminLinkProviderForUser` / `AdminDisableProviderForUser`, as the module notes say.
    Returns the WSGI handler of the domains' paths (`DOMAINS_PATH`)."""
    import base64
    import contextlib
    import hashlib
    import hmac
    import html
    import ipaddress
    import json
    import secrets
    import time as clock
    import urllib.error
    import urllib.parse
    import urllib.request
    import uuid

    from joserfc import jwt as jose_jwt
    from joserfc.errors import JoseError
    from joserfc.jwk import KeySet
    from moto.cognitoidp import models, responses
    from moto.cognitoidp.exceptions import (
        InvalidParameterException,
        NotAuthorizedError,
        UserNotFoundError,
    )
    from moto.core.exceptions import JsonRESTError
    from moto.core.responses import EmptyResult
    from werkzeug.wrappers import Request, Response

    class CognitoError(JsonRESTError):
        def __init__(self, code, message):
            super().__init__(code, message)

    class Refused(Exception):
        """An authorize or idpresponse error, answered by a redirect to the app's redirect_uri."""

        def __init__(self, error, description=None):
            super().__init__(error)
            self.error, self.description = error, description

    VALID_FOR = 5 * 60  # Cognito's state at the IdP, and its authorization codes
    EXTERNAL = "EXTERNAL_PROVIDER"
    LINKS_PER_USER = 5
    PASS_THROUGH = ("email", "email_verified", "name", "given_name", "family_name")
    VERIFIED = ("email_verified", "phone_number_verified")
    # Cognito's state at the IdP -> the app's authorize request
    pending = {}
    # authorization code -> what it was issued for
    codes = {}
    # origin_jti of the tokens issued at a token endpoint -> {"scopes"}
    grants = {}
    # the IdP is called directly, never through a proxy from the environment
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    # -- helpers ------------------------------------------------------------------------------

    def b64url(data):
        return base64.urlsafe_b64encode(data).decode().rstrip("=")

    def payload_of(jwt):
        try:
            part = jwt.split(".")[1]
            return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
        except (IndexError, ValueError):
            return {}

    def text(value):
        """A claim's value as a user attribute's string."""
        if isinstance(value, bool):
            return "true" if value else "false"
        return value if isinstance(value, str) else json.dumps(value)

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

    @contextlib.contextmanager
    def unlocked():
        # The IdP is called without the one-request-at-a-time lock, as triggers() calls Lambda:
        # moto's models are looked up again afterwards.
        SERIAL.release()
        try:
            yield
        finally:
            SERIAL.acquire()

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

    # -- calls to the IdP (made without the lock) ---------------------------------------------

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

    # -- the user a federated sign-in is for ---------------------------------------------------

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

    # -- the endpoints -------------------------------------------------------------------------

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

    routes = {"oauth2/authorize": ("GET", authorize), "oauth2/idpresponse": ("GET", idp_response),
              "oauth2/token": ("POST", token)}

    def serve(environ, start_response):
        request = Request(environ)
        domain, _, endpoint = request.path[len(DOMAINS_PATH):].partition("/")
        route = routes.get(endpoint)
        if route is None:
            response = page(404, "not_found", "No such endpoint.")
        elif request.method != route[0]:
            response = Response(status=405, headers={"Allow": route[0]})
        else:
            response = route[1](request, domain)
        return response(environ, start_response)

    # -- tokens: the grant's scopes and the `identities` claim ---------------------------------

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

    original_access_token = models.CognitoIdpUserPool.create_access_token
    original_id_token = models.CognitoIdpUserPool.create_id_token
    original_get_user = models.CognitoIdpBackend.get_user
    models.CognitoIdpUserPool.create_access_token = create_access_token
    models.CognitoIdpUserPool.create_id_token = create_id_token
    models.CognitoIdpBackend.get_user = get_user

    # -- linking -------------------------------------------------------------------------------

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

    models.CognitoIdpBackend.admin_link_provider_for_user = admin_link_provider_for_user
    models.CognitoIdpBackend.admin_disable_provider_for_user = admin_disable_provider_for_user

    def respond_link(self):
        self.backend.admin_link_provider_for_user(
            self._get_param("UserPoolId"), self._get_param("DestinationUser"), self._get_param("SourceUser"))
        return EmptyResult()

    def respond_disable(self):
        self.backend.admin_disable_provider_for_user(self._get_param("UserPoolId"), self._get_param("User"))
        return EmptyResult()

    responses.CognitoIdpResponse.admin_link_provider_for_user = respond_link
    responses.CognitoIdpResponse.admin_disable_provider_for_user = respond_disable

    return serve


# What SES sent (moto keeps it and has no API to read it): the tests read the mail the API
# sent here, as they read codes from moto's response headers.
SENT_MAIL_PATH = "/_emulator/ses/sent"


def sent_mail(start_response):
    import json

    from moto.ses.models import ses_backends

    with SERIAL:
        out = [
            {"from": m.source, "to": (m.destinations or {}).get("ToAddresses", []) if isinstance(m.destinations, dict) else m.destinations,
             "subject": m.subject, "body": m.body}
            for regions in ses_backends.values()
            for backend in regions.values()
            for m in backend.sent_messages
            if hasattr(m, "subject")
        ]
    start_response("200 OK", [("content-type", "application/json")])
    return [json.dumps(out).encode()]


# One request at a time (see the module's first note); a Lambda trigger's call lets go of it.
SERIAL = threading.Lock()

# What the request being handled on this thread asked (werkzeug gives each request a thread of
# its own): its operation, its `ClientMetadata`, the challenge it answers, and which kind of
# token generation is under way (for the pre token generation trigger).
CONTEXT = threading.local()

# The triggers each operation hands its `ClientMetadata` to, as the API reference lists them
# (InitiateAuth: "only the following triggers: Pre signup, Pre authentication, User migration";
# RespondToAuthChallenge: "post authentication, pre token generation, define auth challenge,
# create auth challenge, and verify auth challenge"). Pre authentication receives it as
# `validationData`.
METADATA_TRIGGERS = {
    "InitiateAuth": {"PreAuthentication"},
    "AdminInitiateAuth": {"PreAuthentication"},
    "RespondToAuthChallenge": {"PreTokenGeneration", "DefineAuthChallenge", "CreateAuthChallenge",
                               "VerifyAuthChallengeResponse"},
    "AdminRespondToAuthChallenge": {"PreTokenGeneration", "DefineAuthChallenge", "CreateAuthChallenge",
                                    "VerifyAuthChallengeResponse"},
}

# Claims a pre token generation trigger cannot add, change or suppress (Cognito ignores them).
RESERVED_CLAIMS = {
    "sub", "iss", "aud", "token_use", "client_id", "cognito:username", "username", "identities",
    "device_key", "event_id", "acr", "amr", "auth_time", "exp", "iat", "nbf", "jti", "origin_jti",
    "nonce", "azp", "at_hash", "version", "scope",
}

# The operations Cognito authorises with the user's access token alone, each of which needs the
# token's `aws.cognito.signin.user.admin` scope (API reference: "It must include the scope
# aws.cognito.signin.user.admin").
SELF_SERVICE = {
    "GetUser", "UpdateUserAttributes", "DeleteUserAttributes", "GetUserAttributeVerificationCode",
    "VerifyUserAttribute", "ChangePassword", "DeleteUser", "GlobalSignOut", "AssociateSoftwareToken",
    "VerifySoftwareToken", "SetUserMFAPreference", "SetUserSettings", "StartWebAuthnRegistration",
    "CompleteWebAuthnRegistration", "ListWebAuthnCredentials", "DeleteWebAuthnCredential",
    "ListDevices", "GetDevice", "ForgetDevice", "UpdateDeviceStatus", "ConfirmDevice", "GetUserAuthFactors",
}
ADMIN_SCOPE = "aws.cognito.signin.user.admin"


def metadata_for(trigger):
    """The `ClientMetadata` of the request being handled, where its operation passes it to `trigger`."""
    if trigger in METADATA_TRIGGERS.get(getattr(CONTEXT, "operation", None), ()):
        metadata = getattr(CONTEXT, "metadata", None)
        return dict(metadata) if isinstance(metadata, dict) else {}
    return {}


def scope_refusal(operation, body):
    """Cognito's refusal of an access token without the self-service scope, or None."""
    import base64
    import json

    token = body.get("AccessToken") if isinstance(body, dict) else None
    if operation not in SELF_SERVICE or not isinstance(token, str):
        return None
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return None  # not a JWT: moto's own refusal follows
    if ADMIN_SCOPE in str(claims.get("scope") or "").split():
        return None
    return json.dumps({"__type": "NotAuthorizedException", "message": "Access Token does not have required scopes"})


def read_request(environ):
    """The operation and JSON body of an AWS JSON request, the body put back for moto to read."""
    import io
    import json

    operation = (environ.get("HTTP_X_AMZ_TARGET") or "").rsplit(".", 1)[-1] or None
    if operation is None:
        return None, None
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    raw = environ["wsgi.input"].read(length) if length > 0 else b""
    environ["wsgi.input"] = io.BytesIO(raw)
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        body = None
    return operation, body


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--timing-log")
    parser.add_argument("--lambda-endpoint", help="where the pools' Lambda triggers are served "
                        "(Lambda's Invoke API, e.g. `cargo lambda watch`)")
    args = parser.parse_args()
    os.environ.setdefault("MOTO_PORT", str(args.port))
    resolve_aliases_and_sub()
    contact_verification()
    second_factors()
    passkeys()
    triggers((args.lambda_endpoint or "").rstrip("/"))
    token_revocation()
    domains = federation(f"http://{args.host}:{args.port}")

    app = DomainDispatcherApplication(create_backend_app)
    lock = SERIAL

    timing = open(args.timing_log, "a", buffering=1) if args.timing_log else None

    def one_at_a_time(environ, start_response):
        if environ.get("PATH_INFO") == SENT_MAIL_PATH:
            return sent_mail(start_response)
        if (environ.get("PATH_INFO") or "").startswith(DOMAINS_PATH):
            # takes the lock itself, and lets go of it while it calls the IdP
            CONTEXT.operation = CONTEXT.metadata = CONTEXT.challenge = CONTEXT.source = CONTEXT.override = None
            return domains(environ, start_response)
        operation, body = read_request(environ)
        body = body if isinstance(body, dict) else {}
        CONTEXT.operation, CONTEXT.metadata = operation, body.get("ClientMetadata")
        CONTEXT.challenge, CONTEXT.source, CONTEXT.override = body.get("ChallengeName"), None, None
        refusal = scope_refusal(operation, body)
        if refusal is not None:
            start_response("400 Bad Request", [("content-type", "application/x-amz-json-1.1"),
                                               ("x-amzn-ErrorType", "NotAuthorizedException")])
            return [refusal.encode()]
        with lock:
            # the whole response is produced inside the lock
            start = time.time_ns()
            body = list(app(environ, start_response))
            if timing:
                operation = environ.get("HTTP_X_AMZ_TARGET", "-").rsplit(".", 1)[-1]
                timing.write(f"{start} {time.time_ns()} {operation}\n")
            return body

    run_simple(
        args.host,
        args.port,
        one_at_a_time,
        threaded=True,
        request_handler=MotoRequestHandler,
    )


if __name__ == "__main__":
    main()
