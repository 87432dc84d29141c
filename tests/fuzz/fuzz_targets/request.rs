//! Fuzzes every route with one request per input (the layout is in `tests/tests/fuzzing`):
//! a panic or a 5xx is a finding. The corpus is `tests/fuzz/corpus/request/`, which every
//! test run also replays (`tests/tests/fuzz_corpus.rs`).

#![no_main]

#[path = "../../tests/fuzzing/mod.rs"]
mod fuzzing;

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzzing::one_request(data));
