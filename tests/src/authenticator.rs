//! A software WebAuthn authenticator and client (1Password's passkey-rs) that plays the
//! browser: it registers credentials and answers assertions as Chrome would, for the
//! emulator (which verifies them with the `webauthn` library) and for the API's own security
//! keys. [`browser`] is a platform authenticator that verifies its user (a passkey);
//! [`security_key`] one that can only tell a touch (a U2F key in a drawer).

use passkey::{
    authenticator::{Authenticator, UiHint, UserCheck, UserValidationMethod},
    client::{Client, DefaultClientData},
    types::{Passkey, ctap2::Aaguid, ctap2::Ctap2Error, webauthn},
};
use serde_json::{Value, json};

use crate::stack::call;

/// A person at the authenticator: always present, and verified if the authenticator can
/// verify at all.
pub struct Present {
    verifies: bool,
}

#[async_trait::async_trait]
impl UserValidationMethod for Present {
    type PasskeyItem = Passkey;

    async fn check_user<'a>(
        &self,
        _: UiHint<'a, Passkey>,
        _: bool,
        _: bool,
    ) -> Result<UserCheck, Ctap2Error> {
        Ok(UserCheck {
            presence: true,
            verification: self.verifies,
        })
    }

    fn is_verification_enabled(&self) -> Option<bool> {
        Some(self.verifies)
    }

    fn is_presence_enabled(&self) -> bool {
        true
    }
}

pub type Browser = Client<
    Option<Passkey>,
    Present,
    passkey::crypto::rust_crypto::RustCryptoBackend,
    public_suffix::PublicSuffixList,
    (),
>;

fn client(verifies: bool) -> Browser {
    let mut authenticator = Authenticator::new(
        Aaguid::new_empty(),
        None,
        Present { verifies },
        passkey::crypto::rust_crypto::RustCryptoBackend,
    );
    // a security key counts its signatures (what tells a clone); a passkey need not
    authenticator.set_make_credentials_with_signature_counter(!verifies);
    Client::new(authenticator).allows_insecure_localhost(true)
}

/// A second security key holding a copy of `key`'s credential, its counter where the copy
/// was taken: what a cloned key is.
pub fn clone_of(key: &Browser) -> Browser {
    let mut copy = security_key();
    *copy.authenticator_mut().store_mut() = key.authenticator().store().clone();
    copy
}

/// A platform authenticator after a fingerprint: user present and verified.
pub fn browser() -> Browser {
    client(true)
}

/// A security key that cannot verify its user: a touch is all it knows.
pub fn security_key() -> Browser {
    client(false)
}

/// The origin the local stack's pages are served from.
pub fn origin() -> url::Url {
    url::Url::parse("http://localhost:8080").unwrap()
}

/// What a browser reports of a roaming key: passkey-rs's client calls every authenticator a
/// platform one (the attachment is the browser's word, outside what the key signs).
pub fn roaming(mut answer: Value) -> Value {
    answer["authenticatorAttachment"] = json!("cross-platform");
    answer
}

/// The key answers registration `options` from `at`.
pub async fn create(key: &mut Browser, options: &Value, at: &url::Url) -> Value {
    let public_key: webauthn::PublicKeyCredentialCreationOptions =
        serde_json::from_value(options.clone()).unwrap();
    let created = key
        .register(
            at,
            webauthn::CredentialCreationOptions { public_key },
            DefaultClientData,
        )
        .await
        .unwrap();
    roaming(serde_json::to_value(&created).unwrap())
}

/// The key answers sign-in `options` from `at`.
pub async fn get(key: &mut Browser, options: &Value, at: &url::Url) -> Value {
    let public_key: webauthn::PublicKeyCredentialRequestOptions =
        serde_json::from_value(options.clone()).unwrap();
    let answered = key
        .authenticate(
            at,
            webauthn::CredentialRequestOptions { public_key },
            DefaultClientData,
        )
        .await
        .unwrap();
    roaming(serde_json::to_value(&answered).unwrap())
}

/// Registers `key` for `user` through the API with their fresh `token`; its `u2fID`.
pub async fn register_key(
    app: &shared::AwsApp,
    t: &crate::stack::TenantFixture,
    user: &str,
    token: &str,
    key: &mut Browser,
) -> String {
    let path = format!("/users/{user}/u2f");
    let started = call::<users::Group>(app, t, "POST", &path, Value::Null, token).await;
    assert_eq!(started.status, 200, "{}", started.body);
    let credential = create(key, &started.data()["credentialCreationOptions"], &origin()).await;
    let body = json!({"credential": credential});
    let verify = format!("/users/{user}/u2f/verify");
    let done = call::<users::Group>(app, t, "POST", &verify, body, token).await;
    assert_eq!(done.status, 200, "{}", done.body);
    done.data()["u2fID"].as_str().unwrap().to_string()
}
