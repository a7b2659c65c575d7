//! The traceability table of `docs/spec.md` (rules ↔ scenarios) is the one
//! the features' tags and the catalogue's ids give today: it cannot drift.
//! `PARSEC_MFA_BLESS=1` rewrites it instead of failing.

use parsec_mfa_scenarios::catalogue::{tagged_scenarios, traceability_table, with_table};
use std::path::Path;

#[test]
fn the_traceability_table_of_the_catalogue_is_up_to_date() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let spec_path = root.join("docs/spec.md");
    let spec = std::fs::read_to_string(&spec_path).unwrap();
    let scenarios = tagged_scenarios(&root.join("features")).unwrap();
    let expected = with_table(&spec, &traceability_table(&spec, &scenarios)).unwrap();
    if std::env::var("PARSEC_MFA_BLESS").as_deref() == Ok("1") {
        std::fs::write(&spec_path, &expected).unwrap();
        return;
    }
    assert!(
        spec == expected,
        "the traceability table of docs/spec.md is stale: run \
         `PARSEC_MFA_BLESS=1 cargo test --test integration traceability` and commit docs/spec.md"
    );
}
