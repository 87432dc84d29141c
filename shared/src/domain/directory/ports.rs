//! The Directory port, by capability: a handler names the one it needs, a fake implements
//! only what it fakes, and [`Directory`] is all of them.

use std::future::Future;

use super::*;

/// The identity provider, as the functions use it.
pub trait Directory:
    SignIn + Passwords + UserAdmin + Contacts + Factors + Passkeys + IdentityLinks
{
}

impl<T: SignIn + Passwords + UserAdmin + Contacts + Factors + Passkeys + IdentityLinks> Directory
    for T
{
}

/// Signing in and out: passwords, challenges, passkeys and one-time codes, refresh
/// and revocation.
pub trait SignIn: Send + Sync {
    /// Checks a password (`USER_PASSWORD_AUTH`).
    fn password_auth(
        &self,
        tenant: &Tenant,
        user: &UserId,
        password: &str,
    ) -> impl Future<Output = Result<AuthResult, DirectoryError>> + Send;

    /// Trades a refresh token for new tokens (`REFRESH_TOKEN_AUTH`).
    fn refresh(
        &self,
        tenant: &Tenant,
        user: &UserId,
        refresh_token: &str,
    ) -> impl Future<Output = Result<AuthResult, DirectoryError>> + Send;

    /// Answers `NEW_PASSWORD_REQUIRED` with the user's new password.
    fn complete_new_password(
        &self,
        tenant: &Tenant,
        user: &UserId,
        session: &str,
        new_password: &str,
    ) -> impl Future<Output = Result<AuthResult, DirectoryError>> + Send;

    /// Answers an MFA challenge with the caller's code.
    fn answer_challenge(
        &self,
        tenant: &Tenant,
        user: &UserId,
        challenge: Challenge,
        session: &str,
        code: &str,
    ) -> impl Future<Output = Result<AuthResult, DirectoryError>> + Send;

    /// Starts a passkey sign-in (`USER_AUTH` with `PREFERRED_CHALLENGE=WEB_AUTHN`): the
    /// `WEB_AUTHN` challenge with its request options, or `NotAuthorized` when the user has
    /// no passkey to ask for (an unknown user alike).
    fn passkey_auth(
        &self,
        tenant: &Tenant,
        user: &UserId,
    ) -> impl Future<Output = Result<AuthResult, DirectoryError>> + Send;

    /// A custom sign-in with a passkey registration code: `InitiateAuth` `CUSTOM_AUTH`, then its
    /// one `CUSTOM_CHALLENGE` answered with the code (the pool's custom-auth triggers check
    /// it). The user's tokens, or `NotAuthorized` for a code that is not theirs.
    fn code_auth(
        &self,
        tenant: &Tenant,
        user: &UserId,
        code: &str,
    ) -> impl Future<Output = Result<AuthResult, DirectoryError>> + Send;

    /// `RevokeToken`: the refresh token and every token issued from it (a custom sign-in's,
    /// once the API has used it).
    fn revoke_refresh_token(
        &self,
        tenant: &Tenant,
        refresh_token: &str,
    ) -> impl Future<Output = Result<(), DirectoryError>> + Send;

    /// Revokes every refresh token of the user (`AdminUserGlobalSignOut`).
    fn global_sign_out(
        &self,
        tenant: &Tenant,
        user: &UserId,
    ) -> impl Future<Output = Result<(), DirectoryError>> + Send;
}

/// Passwords: the pool's policy, resets and changes.
pub trait Passwords: Send + Sync {
    /// The pool's password policy (cached by the adapter).
    fn password_policy(
        &self,
        tenant: &Tenant,
    ) -> impl Future<Output = Result<PasswordPolicy, DirectoryError>> + Send;

    /// Sends the user a password-reset code (`ForgotPassword`).
    fn forgot_password(
        &self,
        tenant: &Tenant,
        user: &UserId,
    ) -> impl Future<Output = Result<CodeDelivery, DirectoryError>> + Send;

    /// Sets a new password with the code sent by `forgot_password` (`ConfirmForgotPassword`).
    fn confirm_forgot_password(
        &self,
        tenant: &Tenant,
        user: &UserId,
        code: &str,
        new_password: &str,
    ) -> impl Future<Output = Result<(), DirectoryError>> + Send;

    /// Changes the password of the token's user, checking the previous one (`ChangePassword`).
    fn change_password(
        &self,
        tenant: &Tenant,
        access_token: &str,
        previous: &str,
        proposed: &str,
    ) -> impl Future<Output = Result<(), DirectoryError>> + Send;

    /// `AdminResetUserPassword`: the user must reset through the forgot-password flow.
    fn admin_reset_password(
        &self,
        tenant: &Tenant,
        user: &UserId,
    ) -> impl Future<Output = Result<(), DirectoryError>> + Send;

    /// `AdminSetUserPassword` (an import's permanent password).
    fn set_password(
        &self,
        tenant: &Tenant,
        user: &UserId,
        password: &str,
        permanent: bool,
    ) -> impl Future<Output = Result<(), DirectoryError>> + Send;
}

/// Users as a tenant's admin manages them: find, create, update, enable or disable, delete,
/// list.
pub trait UserAdmin: Send + Sync {
    /// The user, or `None` if the pool has no such user (`AdminGetUser`).
    fn find_user(
        &self,
        tenant: &Tenant,
        user: &UserId,
    ) -> impl Future<Output = Result<Option<DirectoryUser>, DirectoryError>> + Send;

    /// The username a userID names, folded as the pool folds it; the userID itself if it names
    /// no user. Cognito takes a username, any alias (a verified email or phone, a
    /// `preferred_username`) or the `sub` wherever it takes a `Username`, so a lock, a lockout
    /// counter or an audit entry is kept under the one name that does not change. An adapter
    /// may skip the lookup where the pool's configuration shows the userID can only be a
    /// username.
    fn canonical_username(
        &self,
        tenant: &Tenant,
        user: &UserId,
    ) -> impl Future<Output = Result<UserId, DirectoryError>> + Send {
        canonical_by_lookup(self, tenant, user)
    }

    /// `AdminCreateUser`.
    fn create_user(
        &self,
        tenant: &Tenant,
        user: &NewUser,
    ) -> impl Future<Output = Result<DirectoryUser, DirectoryError>> + Send;

    /// `AdminUpdateUserAttributes`.
    fn update_attributes(
        &self,
        tenant: &Tenant,
        user: &UserId,
        attributes: &[(String, String)],
    ) -> impl Future<Output = Result<(), DirectoryError>> + Send;

    /// `AdminEnableUser` / `AdminDisableUser`.
    fn set_enabled(
        &self,
        tenant: &Tenant,
        user: &UserId,
        enabled: bool,
    ) -> impl Future<Output = Result<(), DirectoryError>> + Send;

    /// `ResendConfirmationCode` for a user who signed up and has not confirmed.
    fn resend_confirmation_code(
        &self,
        tenant: &Tenant,
        user: &UserId,
    ) -> impl Future<Output = Result<CodeDelivery, DirectoryError>> + Send;

    /// `AdminCreateUser` with `MessageAction=RESEND`: the invitation again, with a new
    /// temporary password and a new validity window.
    fn resend_invitation(
        &self,
        tenant: &Tenant,
        user: &UserId,
    ) -> impl Future<Output = Result<(), DirectoryError>> + Send;

    /// `AdminDeleteUser`.
    fn delete_user(
        &self,
        tenant: &Tenant,
        user: &UserId,
    ) -> impl Future<Output = Result<(), DirectoryError>> + Send;

    /// `ListUsers` with at most one filter (Cognito's filter syntax, built by the caller).
    fn list_users(
        &self,
        tenant: &Tenant,
        filter: Option<&str>,
        limit: i32,
        pagination_token: Option<&str>,
    ) -> impl Future<Output = Result<UserPage, DirectoryError>> + Send;
}

/// A user's email address and phone number, verified with a code sent to them.
pub trait Contacts: Send + Sync {
    /// Sends the token's user a code to verify `contact` with: the pending new address where
    /// the pool holds one, else the current one (`GetUserAttributeVerificationCode`).
    fn send_contact_code(
        &self,
        tenant: &Tenant,
        access_token: &str,
        contact: Contact,
    ) -> impl Future<Output = Result<CodeDelivery, DirectoryError>> + Send;

    /// Verifies `contact` of the token's user with the code sent (`VerifyUserAttribute`); a
    /// pending new address takes effect.
    fn verify_contact(
        &self,
        tenant: &Tenant,
        access_token: &str,
        contact: Contact,
        code: &str,
    ) -> impl Future<Output = Result<(), DirectoryError>> + Send;
}

/// Second factors: TOTP authenticators, codes by SMS or email, and whether the pool asks for
/// them.
pub trait Factors: Send + Sync {
    /// Whether the pool asks for second factors (`DescribeUserPool`, cached by the adapter).
    fn mfa_mode(
        &self,
        tenant: &Tenant,
    ) -> impl Future<Output = Result<MfaMode, DirectoryError>> + Send;

    /// Starts a TOTP authenticator for the token's user and returns its secret (base32,
    /// `AssociateSoftwareToken`). It takes effect only once a code from it is verified.
    fn start_totp(
        &self,
        tenant: &Tenant,
        access_token: &str,
    ) -> impl Future<Output = Result<String, DirectoryError>> + Send;

    /// Verifies a code from the authenticator `start_totp` began (`VerifySoftwareToken`); a
    /// wrong code is `CodeMismatch`.
    fn confirm_totp(
        &self,
        tenant: &Tenant,
        access_token: &str,
        code: &str,
        friendly_name: Option<&str>,
    ) -> impl Future<Output = Result<(), DirectoryError>> + Send;

    /// Turns a second factor on or off for the user, and makes it the preferred one or not
    /// (`AdminSetUserMFAPreference`, this factor's settings only).
    fn set_factor(
        &self,
        tenant: &Tenant,
        user: &UserId,
        factor: Factor,
        enabled: bool,
        preferred: bool,
    ) -> impl Future<Output = Result<(), DirectoryError>> + Send;
}

/// Passkeys (WebAuthn credentials) a user registers, lists and deletes, and the pool's
/// relying party.
pub trait Passkeys: Send + Sync {
    /// The pool's passkey relying party (`GetUserPoolMfaConfig`'s `WebAuthnConfiguration`,
    /// cached), or `None` where it has none.
    fn passkey_relying_party(
        &self,
        tenant: &Tenant,
    ) -> impl Future<Output = Result<Option<RelyingParty>, DirectoryError>> + Send;

    /// Whether the pool signs in with passkeys (`DescribeUserPool`'s sign-in policy, cached).
    fn offers_passkeys(
        &self,
        tenant: &Tenant,
    ) -> impl Future<Output = Result<bool, DirectoryError>> + Send;

    /// Starts registering a passkey for the token's user: the credential creation options
    /// for the browser (`StartWebAuthnRegistration`).
    fn start_passkey(
        &self,
        tenant: &Tenant,
        access_token: &str,
    ) -> impl Future<Output = Result<serde_json::Value, DirectoryError>> + Send;

    /// Completes it with the browser's `RegistrationResponseJSON`
    /// (`CompleteWebAuthnRegistration`, which verifies the attestation).
    fn complete_passkey(
        &self,
        tenant: &Tenant,
        access_token: &str,
        credential: &serde_json::Value,
    ) -> impl Future<Output = Result<(), DirectoryError>> + Send;

    /// The token's user's passkeys (`ListWebAuthnCredentials`, every page).
    fn list_passkeys(
        &self,
        tenant: &Tenant,
        access_token: &str,
    ) -> impl Future<Output = Result<Vec<Passkey>, DirectoryError>> + Send;

    /// `DeleteWebAuthnCredential` of the token's user.
    fn delete_passkey(
        &self,
        tenant: &Tenant,
        access_token: &str,
        credential_id: &str,
    ) -> impl Future<Output = Result<(), DirectoryError>> + Send;
}

/// External identity providers: the pool domain's code exchange, and the links between a
/// provider's identities and the pool's users.
pub trait IdentityLinks: Send + Sync {
    /// Exchanges an authorization code of the tenant's pool domain for the pool's tokens
    /// (`POST <domain>/oauth2/token`, `authorization_code`, the app client's secret and the
    /// PKCE verifier). A code the pool refuses (spent, expired, another verifier's) is
    /// `NotAuthorized`.
    fn exchange_code(
        &self,
        tenant: &Tenant,
        federation: &crate::domain::tenant::Federation,
        code: &str,
        verifier: &str,
    ) -> impl Future<Output = Result<Tokens, DirectoryError>> + Send;

    /// `AdminLinkProviderForUser`: the provider's identity (its subject) signs in as `user`
    /// from now on.
    fn link_identity(
        &self,
        tenant: &Tenant,
        user: &UserId,
        idp_name: &str,
        idp_user_id: &str,
    ) -> impl Future<Output = Result<(), DirectoryError>> + Send;

    /// `AdminDisableProviderForUser`: the identity's link is removed.
    fn unlink_identity(
        &self,
        tenant: &Tenant,
        idp_name: &str,
        idp_user_id: &str,
    ) -> impl Future<Output = Result<(), DirectoryError>> + Send;
}

/// [`Directory::canonical_username`] by asking the directory (`find_user`): the username
/// Cognito answers with, folded, or the userID itself if it names no user. Adapters that skip
/// the lookup for some userIDs call this for the others.
pub async fn canonical_by_lookup<D: UserAdmin + ?Sized>(
    directory: &D,
    tenant: &Tenant,
    user: &UserId,
) -> Result<UserId, DirectoryError> {
    Ok(directory
        .find_user(tenant, user)
        .await?
        .and_then(|u| UserId::of_cognito(&u.username))
        .unwrap_or_else(|| user.clone()))
}
