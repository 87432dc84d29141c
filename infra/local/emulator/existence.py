"""User existence errors (`PreventUserExistenceErrors`), which moto ignores, as Cognito
documents them for a sign-in: with the app client's setting `ENABLED`, a sign-in of a user the
pool does not have fails as a wrong password does (`NotAuthorizedException`, "Incorrect username
or password."), never with `UserNotFoundException`. The templates set it on every client, and
the local pools do too.

It is the outermost step of the sign-in chain, so whatever step below finds no user (Pre
Authentication's lookup, a factor's, moto's own) answers the same.

Not as Cognito: choice-based sign-in (`USER_AUTH`), which Cognito answers for an unknown user
with a challenge picked at random, still fails here as moto fails it; account confirmation and
password recovery (`ForgotPassword`, `ResendConfirmationCode`, which Cognito answers with a
simulated delivery) still say `UserNotFoundException`.
"""
from moto.cognitoidp.exceptions import NotAuthorizedError, UserNotFoundError

# what Cognito says for a wrong password and, with the setting on, for an unknown user
INCORRECT = "Incorrect username or password."


def hides_existence(backend, client_id):
    for pool in backend.user_pools.values():
        client = pool.clients.get(client_id)
        if client is not None:
            return client.extended_config.get("PreventUserExistenceErrors") == "ENABLED"
    return False


def hidden(backend, client_id, call):
    try:
        return call()
    except UserNotFoundError:
        if hides_existence(backend, client_id):
            raise NotAuthorizedError(INCORRECT) from None
        raise


def initiate_auth(inner, self, client_id, auth_flow, auth_parameters):
    """Sign-in chain step: no `UserNotFoundException` where the client hides it (not USER_AUTH)."""
    if auth_flow == "USER_AUTH":
        return inner(self, client_id, auth_flow, auth_parameters)
    return hidden(self, client_id, lambda: inner(self, client_id, auth_flow, auth_parameters))


def admin_initiate_auth(inner, self, user_pool_id, client_id, auth_flow, auth_parameters):
    """Sign-in chain step: as `initiate_auth`."""
    if auth_flow == "USER_AUTH":
        return inner(self, user_pool_id, client_id, auth_flow, auth_parameters)
    return hidden(self, client_id,
                  lambda: inner(self, user_pool_id, client_id, auth_flow, auth_parameters))


def respond_to_auth_challenge(inner, self, session, client_id, challenge_name, answers):
    """Sign-in chain step: as `initiate_auth`."""
    return hidden(self, client_id,
                  lambda: inner(self, session, client_id, challenge_name, answers))


SIGN_IN = {"initiate_auth": initiate_auth, "admin_initiate_auth": admin_initiate_auth,
           "respond_to_auth_challenge": respond_to_auth_challenge}


def install(settings):
    """Patches nothing itself: its sign-in steps are chained by the package."""
    return None
