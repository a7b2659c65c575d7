//! The command-line examples of `docs/reference.md` (its ```console
//! blocks; the README's before the docs were split by topic) run through
//! the real `parsec-mfa` binary with trycmd: each command's output and exit
//! code must be what the page shows. `TRYCMD=overwrite cargo test --test
//! integration readme_cli` rewrites the blocks after a deliberate change.

#[test]
fn reference_page_examples_are_what_the_binary_prints() {
    trycmd::TestCases::new()
        .register_bin("parsec-mfa", std::path::Path::new(env!("CARGO_BIN_EXE_parsec-mfa")))
        .case("docs/reference.md");
}
