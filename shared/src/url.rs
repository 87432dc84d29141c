//! Percent-encoding for the URLs and forms the API writes (a key URI, a mailed link, an
//! authorize URL, a token request): everything but RFC 3986's unreserved characters.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

const ENCODED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// One value percent-encoded.
pub fn encode(value: &str) -> String {
    utf8_percent_encode(value, ENCODED).to_string()
}

/// `application/x-www-form-urlencoded` pairs (also a URL's query).
pub fn form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_unreserved_characters_stay_as_they_are() {
        assert_eq!(encode("a-b._~Z9"), "a-b._~Z9");
        assert_eq!(encode("jane@example.com"), "jane%40example.com");
        assert_eq!(encode("a b/é"), "a%20b%2F%C3%A9");
        assert_eq!(form(&[("a b", "c&d"), ("e", "")]), "a%20b=c%26d&e=");
    }
}
