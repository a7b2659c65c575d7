//! The README's command-line examples (its ```console blocks) run through
//! the real `parsec-mfa` binary with trycmd: each command's output and
//! exit code must be what the README shows. `TRYCMD=overwrite cargo test --test
//! integration readme_cli` rewrites the blocks after a deliberate change.

#[test]
fn readme_examples_are_what_the_binary_prints() {
    trycmd::TestCases::new()
        .register_bin("parsec-mfa", std::path::Path::new(env!("CARGO_BIN_EXE_parsec-mfa")))
        .case("README.md");
}
