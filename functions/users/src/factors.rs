//! Second factors: a TOTP authenticator (the user enrols it with their own token and a code
//! from it), one-time codes by SMS or email (an admin or the user turns them on for a verified
//! phone number or email address), and the list of a user's authentication methods.
//!
//! Cognito keeps the factors (`AdminSetUserMFAPreference`); this API keeps nothing of its own
//! about them. One factor is the preferred one, asked for first at sign-in: a new TOTP
//! authenticator becomes it, a code by SMS or email only when none is preferred yet, and when
//! the preferred factor is removed the next one left (TOTP, SMS, email) takes its place.

use serde::{Deserialize, Serialize};
use shared::domain::directory::{Factors, Passkeys};
use shared::{
    ApiError, App, Call, Ports, Reply,
    domain::directory::{DirectoryError, DirectoryUser, Factor, MfaMode},
    domain::tenant::Tenant,
    domain::validate::{Code, Text},
    http::request::json_body,
};

use super::Op;
use crate::access::{admin_or_self, as_self, as_user, ensure_recent_sign_in, is_self, own_user};

/// `GET /users/{userID}/authentication-methods`, and what every factor route answers.
#[derive(Debug, Serialize)]
pub(crate) struct AuthenticationMethods {
    methods: Vec<&'static str>,
    preferred: Option<&'static str>,
}

impl AuthenticationMethods {
    fn of(user: &DirectoryUser) -> Self {
        let mut methods = vec![];
        // a federated user (EXTERNAL_PROVIDER) has no password of this pool
        if user.status != "EXTERNAL_PROVIDER" {
            methods.push("PASSWORD");
        }
        methods.extend(
            Factor::ALL
                .into_iter()
                .filter(|f| user.factors.contains(f))
                .map(Factor::method),
        );
        // Cognito lists a user's linked provider identities in `identities` (a JSON array)
        let identities = user.attribute("identities").map(|i| {
            shared::domain::federation::identities(&serde_json::Value::String(i.to_string()))
        });
        if identities.is_some_and(|i| !i.is_empty()) {
            methods.push("IDP");
        }
        Self {
            methods,
            preferred: user.preferred_factor.map(Factor::method),
        }
    }

    /// PASSKEY or U2F, in the contract's order (after the second factors, before IDP).
    fn add(&mut self, method: &'static str) {
        let at = self
            .methods
            .iter()
            .position(|m| *m == "IDP")
            .unwrap_or(self.methods.len());
        self.methods.insert(at, method);
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct TotpSetup {
    secret: String,
    uri: String,
    qr_code: QrCode,
}

#[derive(Debug, Serialize)]
struct QrCode {
    svg: String,
    png: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct VerifyTotp {
    code: Code,
    friendly_name: Option<Text<64>>,
}

/// A factor cannot be enrolled where the pool turned second factors off.
async fn ensure_mfa_offered<P: Ports>(app: &App<P>, tenant: &Tenant) -> Result<MfaMode, ApiError> {
    let mode = app.directory.mfa_mode(tenant).await?;
    if mode == MfaMode::Off {
        return Err(ApiError::Conflict(
            "the tenant's user pool has second factors turned off (MfaConfiguration OFF)",
        ));
    }
    Ok(mode)
}

/// A refusal to turn a factor on: the pool does not offer it (Cognito's
/// `InvalidParameterException` here), rather than a parameter the caller chose.
fn not_offered(e: DirectoryError) -> ApiError {
    match e {
        DirectoryError::InvalidParameter => {
            ApiError::Conflict("the tenant's user pool does not offer this second factor")
        }
        other => DirectoryError::for_admin(other),
    }
}

/// `GET /users/{userID}/authentication-methods`: admin or the user.
pub(crate) async fn methods<P: Ports>(app: &App<P>, call: &Call<Op>) -> Result<Reply, ApiError> {
    let (req, tenant) = (&call.req, &call.tenant);
    let refusal = "a user can only read their own authentication methods";
    let (caller, user, _) = admin_or_self(app, req, tenant, refusal).await?;
    // Cognito lists a user's passkeys with that user's own token only: the user's own, or, for
    // an admin asking about someone else, a session of the user's the API makes and ends
    // (`access::as_user`), only where the pool offers passkeys and the account can sign in
    // at all (enabled, confirmed). An admin's read never fails for it: without that session
    // PASSKEY is left out, and the log says why.
    let own = is_self(&caller, &user);
    let offered = app.directory.offers_passkeys(tenant).await?;
    // the user's own list goes out together with the user's read
    let own_list = async {
        if !(own && offered) {
            return Ok(None);
        }
        as_self(app, call, &caller, &user, |token| async move {
            let listed = app.directory.list_passkeys(tenant, &token).await;
            listed.map(Some).map_err(DirectoryError::for_admin)
        })
        .await
    };
    let (found, own_list, holds_key) = tokio::join!(
        app.user(tenant, &user),
        own_list,
        crate::u2f::holds_key(app, tenant, &user)
    );
    let found = found?;
    let has_passkey = if let Some(listed) = own_list? {
        !listed.is_empty()
    } else if !offered || own {
        false
    } else if found.enabled && found.status == "CONFIRMED" {
        let listed = as_user(app, call, &user, &caller.sub, |token| async move {
            let listed = app.directory.list_passkeys(tenant, &token).await;
            listed.map_err(DirectoryError::for_admin)
        })
        .await;
        match listed {
            Ok(listed) => !listed.is_empty(),
            Err(e) => {
                tracing::warn!(cause = %e, "passkeys unknown: PASSKEY left out of the methods");
                false
            }
        }
    } else {
        false
    };
    let mut methods = AuthenticationMethods::of(&found);
    if has_passkey {
        methods.add("PASSKEY");
    }
    if holds_key? {
        methods.add("U2F");
    }
    Reply::ok(&methods)
}

/// `POST /users/{userID}/totp`: the user starts an authenticator; nothing changes until a
/// code from it is verified.
pub(crate) async fn start_totp<P: Ports>(app: &App<P>, call: &Call<Op>) -> Result<Reply, ApiError> {
    let refusal = "only the user can set up their own authenticator app";
    let (user, caller) = own_user(app, call, refusal).await?;
    let tenant = &call.tenant;
    let work = async {
        // starting over may put the authenticator in use aside until the new one is verified
        ensure_recent_sign_in(&caller)?;
        ensure_mfa_offered(app, tenant).await?;
        let secret = as_self(app, call, &caller, &user, |token| async move {
            Ok(app.directory.start_totp(tenant, &token).await?)
        })
        .await?;
        let uri = totp_uri(tenant.authenticator_issuer(), user.as_str(), &secret);
        let qr_code = qr::render(&uri)?;
        Ok(TotpSetup {
            secret,
            uri,
            qr_code,
        })
    };
    Reply::ok(&app.audited(call, &user, "self", work).await?)
}

/// `POST /users/{userID}/totp/verify`: the user proves the authenticator with a code from
/// it; TOTP is turned on and becomes the preferred factor.
pub(crate) async fn verify_totp<P: Ports>(
    app: &App<P>,
    call: &Call<Op>,
) -> Result<Reply, ApiError> {
    let refusal = "only the user can verify their own authenticator app";
    let (user, caller) = own_user(app, call, refusal).await?;
    let body: VerifyTotp = json_body(&call.req, app.config.body_limit_bytes)?;
    let tenant = &call.tenant;
    let work = async {
        let name = body.friendly_name.as_ref().map(|n| n.as_str());
        let code = body.code.expose();
        as_self(app, call, &caller, &user, |token| async move {
            app.directory
                .confirm_totp(tenant, &token, code, name)
                .await
                .map_err(|e| match e {
                    // VerifySoftwareToken before AssociateSoftwareToken
                    DirectoryError::InvalidParameter | DirectoryError::Conflict(_) => {
                        ApiError::Conflict(
                            "start the authenticator first: POST /users/{userID}/totp",
                        )
                    }
                    other => other.into(),
                })
        })
        .await?;
        app.directory
            .set_factor(tenant, &user, Factor::Totp, true, true)
            .await
            .map_err(not_offered)?;
        Ok(AuthenticationMethods::of(&app.user(tenant, &user).await?))
    };
    Reply::ok(&app.audited(call, &user, "self", work).await?)
}

/// `POST /users/{userID}/otp-sms|otp-email`: admin or the user; needs the verified contact.
pub(crate) async fn add_code_factor<P: Ports>(
    app: &App<P>,
    call: &Call<Op>,
    factor: Factor,
) -> Result<Reply, ApiError> {
    let (req, tenant) = (&call.req, &call.tenant);
    let refusal = "a user can only change their own second factors";
    let (caller, user, is_admin) = admin_or_self(app, req, tenant, refusal).await?;
    let actor = if is_admin {
        caller.sub.as_str()
    } else {
        "self"
    };
    let work = async {
        // a factor Cognito asks for at sign-in stands in for the user's security key there
        // (api.md, security keys): turning one on is held to a recent sign-in, as starting an
        // authenticator is, so a token lifted from a browser cannot add the way around the key
        // (an admin's own account included)
        if is_self(&caller, &user) {
            ensure_recent_sign_in(&caller)?;
        }
        ensure_mfa_offered(app, tenant).await?;
        let found = app.user(tenant, &user).await?;
        let (verified, missing) = match factor {
            Factor::Sms => (
                "phone_number_verified",
                "codes by SMS need a verified phone number: set and verify it first",
            ),
            _ => (
                "email_verified",
                "codes by email need a verified email address: set and verify it first",
            ),
        };
        if !found.verified(verified) {
            return Err(ApiError::Conflict(missing));
        }
        // Cognito recovers no password by email once email is the second factor ("Email MFA is
        // also disqualifying for account recovery with email"): without a verified phone to
        // recover by, the user would have no way back but an admin's reset
        if factor == Factor::Email && !found.verified("phone_number_verified") {
            return Err(ApiError::Conflict(
                "codes by email as a second factor would leave no way to recover the password \
                 (Cognito does not recover by email when email is the second factor): verify a \
                 phone number first, or use an authenticator app",
            ));
        }
        let preferred = found.preferred_factor.is_none_or(|p| p == factor);
        app.directory
            .set_factor(tenant, &user, factor, true, preferred)
            .await
            .map_err(not_offered)?;
        Ok(AuthenticationMethods::of(&with_factor(
            found, factor, preferred,
        )))
    };
    Reply::ok(&app.audited(call, &user, actor, work).await?)
}

/// `DELETE /users/{userID}/totp|otp-sms|otp-email`: admin or the user. Removing a factor the
/// user does not have changes nothing; removing the last one where the pool requires a
/// second factor is refused.
pub(crate) async fn remove_factor<P: Ports>(
    app: &App<P>,
    call: &Call<Op>,
    factor: Factor,
) -> Result<Reply, ApiError> {
    let (req, tenant) = (&call.req, &call.tenant);
    let refusal = "a user can only change their own second factors";
    let (caller, user, is_admin) = admin_or_self(app, req, tenant, refusal).await?;
    let actor = if is_admin {
        caller.sub.as_str()
    } else {
        "self"
    };
    let work = async {
        // one's own factor, an admin's too, only with a recent sign-in
        if is_self(&caller, &user) {
            ensure_recent_sign_in(&caller)?;
        }
        let mut found = app.user(tenant, &user).await?;
        if !found.factors.contains(&factor) {
            return Ok(AuthenticationMethods::of(&found));
        }
        let left: Vec<Factor> = found
            .factors
            .iter()
            .copied()
            .filter(|f| *f != factor)
            .collect();
        if left.is_empty() && app.directory.mfa_mode(tenant).await? == MfaMode::On {
            return Err(ApiError::Conflict(
                "the tenant requires a second factor: add another before removing the last one",
            ));
        }
        app.directory
            .set_factor(tenant, &user, factor, false, false)
            .await
            .map_err(DirectoryError::for_admin)?;
        let next = match found.preferred_factor {
            Some(p) if p != factor => Some(p),
            _ => Factor::ALL.into_iter().find(|f| left.contains(f)),
        };
        if let Some(next) = next.filter(|n| found.preferred_factor != Some(*n)) {
            app.directory
                .set_factor(tenant, &user, next, true, true)
                .await
                .map_err(DirectoryError::for_admin)?;
        }
        found.factors = left;
        found.preferred_factor = next;
        Ok(AuthenticationMethods::of(&found))
    };
    Reply::ok(&app.audited(call, &user, actor, work).await?)
}

fn with_factor(mut user: DirectoryUser, factor: Factor, preferred: bool) -> DirectoryUser {
    if !user.factors.contains(&factor) {
        user.factors.push(factor);
        user.factors.sort();
    }
    if preferred {
        user.preferred_factor = Some(factor);
    }
    user
}

/// The key URI authenticator apps read (`otpauth://totp/Issuer:user?secret=…&issuer=…`), as
/// Google Authenticator's format describes it: Cognito's codes are six digits, SHA-1, 30 s.
pub(crate) fn totp_uri(issuer: &str, user: &str, secret: &str) -> String {
    let enc = shared::url::encode;
    format!(
        "otpauth://totp/{}:{}?secret={secret}&issuer={}&algorithm=SHA1&digits=6&period=30",
        enc(issuer),
        enc(user),
        enc(issuer)
    )
}

/// The key URI as a QR code: SVG, and PNG for clients that cannot show SVG, both as data URIs.
mod qr {
    use base64::Engine;
    use qrcode::{EcLevel, QrCode, render::svg};
    use shared::ApiError;

    /// Pixels per module of the PNG, and the quiet zone around the code (four modules, as the
    /// standard asks).
    const SCALE: usize = 6;
    const QUIET: usize = 4;

    pub(super) fn render(uri: &str) -> Result<super::QrCode, ApiError> {
        let code = QrCode::with_error_correction_level(uri, EcLevel::M)
            .map_err(|e| ApiError::Internal(format!("the QR code of the key URI: {e}")))?;
        let svg = code
            .render::<svg::Color>()
            .min_dimensions(200, 200)
            .quiet_zone(true)
            .build();
        let b64 = base64::engine::general_purpose::STANDARD;
        Ok(super::QrCode {
            svg: format!("data:image/svg+xml;base64,{}", b64.encode(svg)),
            png: format!("data:image/png;base64,{}", b64.encode(png(&code)?)),
        })
    }

    /// The modules drawn as an 8-bit greyscale image, encoded by the `png` crate.
    fn png(code: &QrCode) -> Result<Vec<u8>, ApiError> {
        let width = code.width();
        let colors = code.to_colors();
        let side = (width + 2 * QUIET) * SCALE;
        let mut pixels = vec![255u8; side * side];
        for (i, color) in colors.iter().enumerate() {
            if *color == qrcode::Color::Dark {
                let (mx, my) = (i % width + QUIET, i / width + QUIET);
                for y in my * SCALE..(my + 1) * SCALE {
                    pixels[y * side + mx * SCALE..y * side + (mx + 1) * SCALE].fill(0);
                }
            }
        }
        let mut out = vec![];
        let failed = |e: png::EncodingError| ApiError::Internal(format!("the QR code's PNG: {e}"));
        let side = u32::try_from(side).map_err(|_| ApiError::Internal("QR code size".into()))?;
        let mut encoder = png::Encoder::new(&mut out, side, side);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().map_err(failed)?;
        writer.write_image_data(&pixels).map_err(failed)?;
        writer.finish().map_err(failed)?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_uri_names_the_issuer_and_the_user_encoded() {
        assert_eq!(
            totp_uri("Acme Corp", "jane@example.com", "ABCDEF"),
            "otpauth://totp/Acme%20Corp:jane%40example.com?secret=ABCDEF&issuer=Acme%20Corp\
             &algorithm=SHA1&digits=6&period=30"
        );
    }

    #[test]
    fn methods_list_what_the_user_has_in_a_fixed_order() {
        let user = DirectoryUser {
            status: "CONFIRMED".into(),
            factors: vec![Factor::Email, Factor::Totp],
            preferred_factor: Some(Factor::Email),
            ..DirectoryUser::default()
        };
        let m = AuthenticationMethods::of(&user);
        assert_eq!(m.methods, ["PASSWORD", "TOTP", "OTP_EMAIL"]);
        assert_eq!(m.preferred, Some("OTP_EMAIL"));
        let federated = DirectoryUser {
            status: "EXTERNAL_PROVIDER".into(),
            attributes: [(
                "identities".to_string(),
                r#"[{"userId":"1","providerName":"Google","primary":true}]"#.to_string(),
            )]
            .into(),
            ..DirectoryUser::default()
        };
        let mut m = AuthenticationMethods::of(&federated);
        m.add("PASSKEY");
        assert_eq!((m.methods, m.preferred), (vec!["PASSKEY", "IDP"], None));
        let mut m = AuthenticationMethods::of(&user);
        m.add("PASSKEY");
        assert_eq!(m.methods, ["PASSWORD", "TOTP", "OTP_EMAIL", "PASSKEY"]);
    }
}
