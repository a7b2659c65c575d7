//! Every relative link of the README, `features/README.md` and `docs/*.md`
//! names a file that exists: pages moved or renamed leave no dead link.

use std::path::Path;

/// The targets of `](target)` links, without their `#anchor`.
fn relative_links(text: &str) -> Vec<&str> {
    text.split("](")
        .skip(1)
        .filter_map(|rest| rest.split(')').next())
        .map(|target| target.split('#').next().unwrap_or(""))
        .filter(|target| !target.is_empty() && !target.contains("://") && !target.starts_with("mailto:"))
        .collect()
}

#[test]
fn relative_links_of_the_docs_name_existing_files() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut pages = vec![root.join("README.md"), root.join("features/README.md")];
    for entry in std::fs::read_dir(root.join("docs")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") {
            pages.push(path);
        }
    }
    let mut dead = Vec::new();
    for page in &pages {
        let text = std::fs::read_to_string(page).unwrap();
        for link in relative_links(&text) {
            let target = page.parent().unwrap().join(link);
            if !target.exists() {
                dead.push(format!("{}: {link}", page.strip_prefix(root).unwrap().display()));
            }
        }
    }
    assert!(
        dead.is_empty(),
        "links to files that do not exist:\n{}",
        dead.join("\n")
    );
}

#[test]
fn links_are_read_without_their_anchor_and_urls_are_left_out() {
    let text = "[a](docs/a.md#x) [b](https://example.com) [c](#here) [d](../e.md)";
    assert_eq!(relative_links(text), ["docs/a.md", "../e.md"]);
}
