"""The local AWS emulator: moto's server, with each request handled to completion before the next.

moto's server is threaded, and its DynamoDB backend checks a ConditionExpression and applies the
update in two steps without a lock, so two concurrent conditional writes can both pass. Real
DynamoDB applies conditional writes to an item atomically, and the lockout policy relies on it.
Handling one request at a time gives the emulator that guarantee; connections stay concurrent.

  python infra/local/emulator --host 127.0.0.1 --port 5000 [--timing-log FILE] [--lambda-endpoint URL]

(from the repository root, with the project's virtualenv; `python -m emulator` from
`infra/local` is the same). With --timing-log, each request appends `<start> <end> <operation>`
(wall-clock nanoseconds, the X-Amz-Target operation) to FILE: the benchmark reads how long the
emulator itself took. With --lambda-endpoint, the pools' Lambda triggers are invoked there
(`triggers`).

Extensions to moto, each making it behave as Cognito documents, one module each; each module's
docstring says what it adds and where it still differs from Cognito:

- `aliases`: usernames by alias, by `sub`, and in any case in a case-insensitive pool.
- `contact`: contact verification codes, and a new contact held until it is verified.
- `factors`: TOTP with a secret per user, SMS and email codes, the factor challenges at sign-in.
- `passkeys`: WebAuthn registration and the `USER_AUTH` flow's `WEB_AUTHN` challenge.
- `triggers`: Lambda triggers (Pre Authentication, custom authentication, pre token generation)
  and the `ClientMetadata` they get.
- `revocation`: `RevokeToken`.
- `existence`: `PreventUserExistenceErrors` on a sign-in.
- `reset`: `PasswordResetRequiredException` for the password sign-in of a user an admin reset.
- `federation` (with `federation_idp` and `federation_links`): sign-in through a pool's OIDC IdPs
  at its domain's OAuth 2.0 endpoints; `AdminLinkProviderForUser`, `AdminDisableProviderForUser`.
- `mail`: what SES sent, readable at `GET /_emulator/ses/sent`.
- `outbox`: the codes of Cognito's own messages (password reset, address verification, sign-in
  codes), readable per user at `GET /_emulator/cognito/messages`, as the person would get them.
- `scope`: the self-service operations' `aws.cognito.signin.user.admin` scope (a request filter
  the server applies; it installs nothing).

`common` holds what several share (the lock, the request's context, `patch`); `server` the WSGI
app, the command line and `main()`.

How the modules are installed: `install()` calls each module's `install(settings)` in
`INSTALL_ORDER`, then builds the sign-in chain (`SIGN_IN_CHAIN`). Every change to moto goes
through `common.patch`, which refuses to patch one method twice: no two modules change the same
method, and every call from one module's code into another's patched method is looked up on
moto's class when it is made, not when the module installs. So the installs' order does not
matter (the comments on `INSTALL_ORDER` say, for each, what it patches and why its place is
free). The one method three capabilities change, the sign-in, is not wrapped by each in turn
(which made correctness depend on the order of installs, unstated): each of `triggers`,
`passkeys` and `factors` offers its steps (`SIGN_IN`: a function taking the next step first), and
`SIGN_IN_CHAIN` states their order once.
"""
from moto.cognitoidp import models

from . import (aliases, contact, existence, factors, federation, mail, outbox, passkeys, reset,
               revocation, triggers)
from .common import patch

SUMMARY = __doc__.splitlines()[0]

INSTALL_ORDER = (
    # CognitoIdpUserPool._get_user (wrapped), the lookup every user-facing module uses. First so
    # the list reads from the lookup up, not because it must be: every caller looks `_get_user`
    # up on the pool when it calls it.
    aliases,
    # CognitoIdpBackend.admin_update_user_attributes (wrapped), the two contact-verification
    # operations (added), their three responses. Nobody else touches them: any place.
    contact,
    # The backend's set_user_pool_mfa_config (wrapped), associate_software_token,
    # verify_software_token, admin_set_user_mfa_preference (replaced), CognitoIdpUser.to_json
    # (wrapped), the responses of initiate_auth, respond_to_auth_challenge and
    # admin_set_user_mfa_preference (replaced: they call the backend's, the sign-in chain, when
    # a request comes). Its sign-in steps are in SIGN_IN_CHAIN. Any place.
    factors,
    # The four WebAuthn operations and responses (added), the backend's
    # get_user_pool_mfa_config (wrapped), the *response* set_user_pool_mfa_config (wrapped; it
    # calls the backend's, `factors`', when a request comes, so neither needs the other
    # installed first). Its sign-in steps are in SIGN_IN_CHAIN. Any place.
    passkeys,
    # CognitoIdpBackend._log_user_in and CognitoIdpUserPool.create_jwt (wrapped): pre token
    # generation. `factors`, `passkeys` and `federation` reach them through `self.` when they
    # issue tokens, so any place. (Its sign-in steps used to be installed last of the three
    # sign-in wrappers so that Pre Authentication ran first; SIGN_IN_CHAIN now says so.)
    triggers,
    # RevokeToken (added, backend and response); moto's refresh then refuses a revoked token,
    # and `user_of_token` no longer finds its access tokens. Any place.
    revocation,
    # CognitoIdpUserPool.create_access_token and create_id_token (wrapped: they call
    # `self.create_jwt`, `triggers`', when a token is made), CognitoIdpBackend.get_user
    # (wrapped), the two linking operations (added, `federation_links`). Answers the route of
    # the pool domains' paths. Any place.
    federation,
    # Patches nothing; answers the route of the sent mail. Any place.
    mail,
    # Patches nothing; answers the route of Cognito's messages (the server records them). Any
    # place.
    outbox,
    # Patches nothing itself; its sign-in steps are in SIGN_IN_CHAIN. Any place.
    existence,
    # CognitoIdpBackend.confirm_forgot_password (wrapped: a reset user is CONFIRMED again);
    # its sign-in steps are in SIGN_IN_CHAIN. Nobody else touches it: any place.
    reset,
)

# The sign-in, outermost step first; moto's own method is under the last. Each step handles
# what it knows and hands anything else to the next:
# - `existence`: where the app client hides user existence, no step's `UserNotFoundException`
#   leaves the sign-in (it reads as a wrong password). Outermost, so it covers every step.
# - `triggers`: initiate_auth runs Pre Authentication for an existing user on USER_PASSWORD_AUTH,
#   USER_SRP_AUTH and USER_AUTH and then goes on, and handles CUSTOM_AUTH whole;
#   admin_initiate_auth runs it on ADMIN_USER_PASSWORD_AUTH / ADMIN_NO_SRP_AUTH;
#   respond_to_auth_challenge handles CUSTOM_CHALLENGE. It must be above the rest: Pre
#   Authentication runs before any password or passkey is looked at (under `factors`, a
#   USER_PASSWORD_AUTH that asks for a factor would never reach it; under `passkeys`, no
#   USER_AUTH would).
# - `reset`: a password sign-in of a user an admin reset (RESET_REQUIRED) fails with
#   PasswordResetRequiredException, as Cognito deactivates the password. Under `triggers` (Pre
#   Authentication first), above `factors` (no factor for a password that no longer works).
# - `passkeys`: initiate_auth handles USER_AUTH; respond_to_auth_challenge WEB_AUTHN.
# - `factors`: initiate_auth answers a right USER_PASSWORD_AUTH password with the factor's
#   challenge (else goes on to moto); respond_to_auth_challenge handles SMS_MFA,
#   SOFTWARE_TOKEN_MFA, EMAIL_OTP and SELECT_MFA_TYPE.
# `passkeys` and `factors` take disjoint flows and challenges, so their relative order does not
# matter; it is the order they were installed in before the chain was explicit.
# Every step that issues tokens does it through `self._log_user_in`, `triggers`' wrapper (moto's
# own password flows do not; `triggers`' step marks them as a sign-in's instead).
SIGN_IN_CHAIN = (existence, triggers, reset, passkeys, factors)
SIGN_IN_METHODS = ("initiate_auth", "admin_initiate_auth", "respond_to_auth_challenge")


def chained(step, inner):
    """A backend method: `step`, handed `inner` (the next step's method, or moto's) first."""
    def method(self, *args, **kwargs):
        return step(inner, self, *args, **kwargs)
    method.__name__ = method.__qualname__ = step.__name__
    method.__doc__ = step.__doc__
    return method


def install(settings):
    """Installs every capability, then the sign-in chain; answers the paths the server serves
    itself, `[(path, WSGI handler)]` (a path ending in `/` is a prefix)."""
    routes = []
    for module in INSTALL_ORDER:
        route = module.install(settings)
        if route is not None:
            routes.append(route)
    for name in SIGN_IN_METHODS:
        method = getattr(models.CognitoIdpBackend, name)
        for module in reversed(SIGN_IN_CHAIN):
            step = module.SIGN_IN.get(name)
            if step is not None:
                method = chained(step, method)
        patch(models.CognitoIdpBackend, name, method)
    return routes
