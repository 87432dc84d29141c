//! Sealing a small secret record (an identity provider's tokens) with a random token only its
//! holder has: AES-256-GCM under SHA-256 of a label and the token, bound to an id.

use base64::Engine;

/// A seal could not be made (no randomness, a key the library refused).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SealError(&'static str);

/// The AES-256-GCM key an intent token opens: SHA-256 of a label and the token (a 256-bit
/// random secret needs no slower derivation).
fn key_of(token: &str) -> Result<aws_lc_rs::aead::LessSafeKey, SealError> {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    h.update(b"account-api/idp-intent/v1\0");
    h.update(token.as_bytes());
    let unbound = aws_lc_rs::aead::UnboundKey::new(&aws_lc_rs::aead::AES_256_GCM, &h.finalize())
        .map_err(|_| SealError("cannot make an intent's key"))?;
    Ok(aws_lc_rs::aead::LessSafeKey::new(unbound))
}

/// `plain`, sealed with `token` and bound to `intent_id` (the additional data): base64url of
/// a random nonce and the ciphertext with its tag.
pub fn seal(token: &str, intent_id: &str, plain: &[u8]) -> Result<String, SealError> {
    use aws_lc_rs::aead::{Aad, NONCE_LEN, Nonce};
    let mut nonce = [0u8; NONCE_LEN];
    getrandom::fill(&mut nonce).map_err(|_| SealError("no randomness for a nonce"))?;
    let mut data = plain.to_vec();
    key_of(token)?
        .seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(intent_id.as_bytes()),
            &mut data,
        )
        .map_err(|_| SealError("cannot seal an intent"))?;
    let mut out = nonce.to_vec();
    out.extend_from_slice(&data);
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(out))
}

/// What [`seal`] sealed, if `token` and `intent_id` are the ones it was sealed with.
pub fn open(token: &str, intent_id: &str, sealed: &str) -> Option<Vec<u8>> {
    use aws_lc_rs::aead::{Aad, NONCE_LEN, Nonce};
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(sealed)
        .ok()?;
    if bytes.len() < NONCE_LEN {
        return None;
    }
    let (nonce, data) = bytes.split_at(NONCE_LEN);
    let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
    let mut data = data.to_vec();
    let plain = key_of(token)
        .ok()?
        .open_in_place(nonce, Aad::from(intent_id.as_bytes()), &mut data)
        .ok()?;
    Some(plain.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_outcome_opens_only_with_its_token_and_intent() {
        let sealed = seal("token-a", "intent-1", b"tokens").unwrap();
        assert_eq!(
            open("token-a", "intent-1", &sealed).as_deref(),
            Some(&b"tokens"[..])
        );
        assert_eq!(open("token-b", "intent-1", &sealed), None);
        assert_eq!(open("token-a", "intent-2", &sealed), None);
        let mut tampered = sealed.into_bytes();
        let last = tampered.len() - 2;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        assert_eq!(
            open("token-a", "intent-1", &String::from_utf8(tampered).unwrap()),
            None
        );
        assert_eq!(open("token-a", "intent-1", "short"), None);
    }
}
