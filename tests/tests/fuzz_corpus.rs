#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Replays the fuzz corpus (`tests/fuzz/corpus/request/`) through every function: each input
//! the fuzzer kept, and each crash it found once fixed, stays a regression test on stable Rust,
//! with every test run. Fuzzing itself needs nightly: `infra/local/fuzz.sh`.

mod fuzzing;

#[test]
fn every_corpus_input_answers_below_500() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/request");
    let mut inputs: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    inputs.sort();
    assert!(
        inputs.len() >= 21,
        "the corpus holds a seed per route at least"
    );
    for input in &inputs {
        let data = std::fs::read(input).unwrap();
        let outcome = std::panic::catch_unwind(|| fuzzing::one_request(&data));
        assert!(outcome.is_ok(), "{} failed", input.display());
    }
}
