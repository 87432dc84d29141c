"""The sign-in of a user an administrator reset (`AdminResetUserPassword`). moto marks the user
`RESET_REQUIRED` and still signs them in with the old password; Cognito deactivates the
password ("Deactivates a user's password, requiring them to change it. If a user tries to sign
in after the API is called, Amazon Cognito responds with a PasswordResetRequiredException
error", the API reference of AdminResetUserPassword), so the user must take the forgot-password
flow. The API answers that `403 password-reset-required` (or, where the tenant hides account
states, as a wrong password).

A sign-in step on the password flows (USER_PASSWORD_AUTH, USER_SRP_AUTH,
ADMIN_USER_PASSWORD_AUTH, ADMIN_NO_SRP_AUTH), under `triggers` (Pre Authentication runs first,
as for any sign-in) and above `factors` (no factor is asked of a password that no longer
works). Found by the test command's fault stage: a reset user kept signing in.

Not as Cognito: a passkey sign-in (`USER_AUTH`) of a reset user is left to `passkeys`.
"""
from moto.cognitoidp import models
from moto.cognitoidp.models import UserStatus
from moto.core.exceptions import JsonRESTError

from .common import patch

PASSWORD_FLOWS = {"USER_PASSWORD_AUTH", "USER_SRP_AUTH"}
ADMIN_PASSWORD_FLOWS = {"ADMIN_USER_PASSWORD_AUTH", "ADMIN_NO_SRP_AUTH"}


class PasswordResetRequiredException(JsonRESTError):
    def __init__(self):
        super().__init__("PasswordResetRequiredException", "Password reset required for the user")


def refuse_if_reset(pool, auth_parameters):
    username = (auth_parameters or {}).get("USERNAME")
    user = pool._get_user(username) if pool is not None and username else None
    if user is not None and user.status is UserStatus.RESET_REQUIRED:
        raise PasswordResetRequiredException()


def pool_of_client(backend, client_id):
    return next((p for p in backend.user_pools.values() if client_id in p.clients), None)


def initiate_auth(inner, self, client_id, auth_flow, auth_parameters):
    """Sign-in chain step: a reset user's password does not sign in."""
    if auth_flow in PASSWORD_FLOWS:
        refuse_if_reset(pool_of_client(self, client_id), auth_parameters)
    return inner(self, client_id, auth_flow, auth_parameters)


def admin_initiate_auth(inner, self, user_pool_id, client_id, auth_flow, auth_parameters):
    """Sign-in chain step: as `initiate_auth`."""
    if auth_flow in ADMIN_PASSWORD_FLOWS:
        refuse_if_reset(self.user_pools.get(user_pool_id), auth_parameters)
    return inner(self, user_pool_id, client_id, auth_flow, auth_parameters)


SIGN_IN = {"initiate_auth": initiate_auth, "admin_initiate_auth": admin_initiate_auth}


# moto's own, wrapped at install
original_confirm = None


def confirm_forgot_password(self, client_id, username, password, confirmation_code):
    """A reset ends with the new password, and the user is `CONFIRMED` again: moto leaves the
    status as it was, so a reset user who took the forgot-password flow would stay refused."""
    original_confirm(self, client_id, username, password, confirmation_code)
    pool = pool_of_client(self, client_id)
    user = pool._get_user(username) if pool is not None else None
    if user is not None and user.status is UserStatus.RESET_REQUIRED:
        user.status = UserStatus.CONFIRMED


def install(settings):
    """Wraps `CognitoIdpBackend.confirm_forgot_password`; its sign-in steps are chained by the
    package."""
    global original_confirm
    original_confirm = patch(models.CognitoIdpBackend, "confirm_forgot_password",
                             confirm_forgot_password)
    return None
