#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! What the documentation says is what the code does, and it holds together. The
//! configuration table of `infra/docs/configuration.md` is `Config::SETTINGS`: every variable
//! with the same default, and nothing else but the log filter and the metrics' namespace.
//! Every relative link of README and of the pages in `infra/docs/` reaches a file that exists
//! and, with an `#anchor`, a heading of that file. Every route a function serves (method and
//! path) is named in `infra/docs/api.md`. Needs no emulator.

use std::collections::BTreeMap;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use shared::config::Config;

/// The repository's root.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The configuration table of `infra/docs/configuration.md`: variable → default as written
/// (`(required)` for none).
fn documented() -> BTreeMap<String, String> {
    let page = read(&root().join("infra/docs/configuration.md"));
    let mut table = BTreeMap::new();
    let rows: Vec<&str> = page
        .lines()
        .skip_while(|l| !l.starts_with("| variable |"))
        .take_while(|l| l.starts_with('|'))
        .skip(2)
        .collect();
    assert!(
        !rows.is_empty(),
        "infra/docs/configuration.md has its table of variables"
    );
    for row in rows {
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let names: Vec<&str> = cells[1]
            .split(',')
            .map(|n| n.trim().trim_matches('`'))
            .collect();
        let defaults: Vec<&str> = cells[2].split(',').map(str::trim).collect();
        for (i, name) in names.iter().enumerate() {
            let default = defaults.get(i).or(defaults.first()).unwrap();
            table.insert((*name).to_string(), (*default).to_string());
        }
    }
    table
}

#[test]
fn the_configuration_page_lists_every_setting_with_its_default() {
    let mut documented = documented();
    for (name, default) in Config::SETTINGS {
        let expected = default.map_or("(required)".to_string(), |d| d.to_string());
        assert_eq!(
            documented.remove(*name).as_deref(),
            Some(expected.as_str()),
            "infra/docs/configuration.md's table on {name}"
        );
    }
    // the log filter is the telemetry's, the metrics' namespace the metrics', not Config's
    documented.remove("RUST_LOG");
    assert_eq!(
        documented
            .remove(shared::metrics::NAMESPACE_VARIABLE)
            .as_deref(),
        Some("(unset: no metrics)"),
        "infra/docs/configuration.md's table on the metrics' namespace"
    );
    assert!(
        documented.is_empty(),
        "infra/docs/configuration.md documents settings the code does not read: {documented:?}"
    );
}

#[test]
fn the_required_settings_are_required() {
    let required: Vec<&str> = Config::SETTINGS
        .iter()
        .filter(|(_, d)| d.is_none())
        .map(|(n, _)| *n)
        .collect();
    for missing in &required {
        let lookup = |name: &str| (name != *missing).then(|| "x".to_string());
        let err = Config::from_lookup(lookup).unwrap_err().to_string();
        assert!(err.contains(missing), "{err}");
    }
    let all = |_: &str| Some("1".to_string());
    assert!(Config::from_lookup(all).is_ok());
}

/// README and every page of `infra/docs/`.
fn pages() -> Vec<PathBuf> {
    let mut pages = vec![root().join("README.md")];
    let docs = root().join("infra/docs");
    let mut more: Vec<PathBuf> = std::fs::read_dir(&docs)
        .unwrap_or_else(|e| panic!("{}: {e}", docs.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    more.sort();
    pages.extend(more);
    pages
}

/// The lines of `text` outside fenced code blocks (a `#` there is a shell comment, and
/// `](` code).
fn prose(text: &str) -> String {
    let mut fenced = false;
    let mut out = String::new();
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if !fenced {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// GitHub's anchor of a heading: lower-case, punctuation dropped but for `-` and `_`, each
/// space a `-`.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// The anchors of a Markdown text's headings; a repeated one gets `-1`, `-2`, … as on GitHub.
fn anchors(text: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    for line in prose(text).lines() {
        let Some(heading) = line.strip_prefix('#') else {
            continue;
        };
        let heading = heading.trim_start_matches('#');
        if !heading.starts_with(' ') {
            continue;
        }
        let base = slug(heading);
        let mut anchor = base.clone();
        let mut n = 0;
        while seen.contains(&anchor) {
            n += 1;
            anchor = format!("{base}-{n}");
        }
        seen.insert(anchor);
    }
    seen
}

/// The targets of the relative links `[text](target)` of a Markdown text (not to another
/// site, not in a code block).
fn links(text: &str) -> Vec<String> {
    let prose = prose(text);
    let mut found = Vec::new();
    let mut rest = prose.as_str();
    while let Some(at) = rest.find("](") {
        rest = &rest[at + 2..];
        let Some(end) = rest.find(')') else { break };
        let target = &rest[..end];
        rest = &rest[end..];
        if target.contains("://") || target.starts_with("mailto:") {
            continue;
        }
        found.push(target.to_string());
    }
    found
}

/// What is wrong with each relative link of `text`, the Markdown file at `page`: a target
/// file that does not exist, or an anchor that is none of the target's headings.
fn broken_links(page: &Path, text: &str) -> Vec<String> {
    let dir = page.parent().unwrap();
    let mut broken = Vec::new();
    for target in links(text) {
        let (file, anchor) = match target.split_once('#') {
            Some((file, anchor)) => (file, Some(anchor)),
            None => (target.as_str(), None),
        };
        let path = dir.join(file);
        if target.is_empty() || target.chars().any(char::is_whitespace) {
            broken.push(format!("({target}): not a link target"));
        } else if !file.is_empty() && !path.exists() {
            broken.push(format!("({target}): no such file"));
        } else if let Some(anchor) = anchor {
            let headings = if file.is_empty() {
                anchors(text)
            } else if path.extension().is_some_and(|e| e == "md") {
                anchors(&read(&path))
            } else {
                BTreeSet::new()
            };
            if !headings.contains(anchor) {
                broken.push(format!("({target}): no heading #{anchor} there"));
            }
        }
    }
    broken
}

#[test]
fn headings_are_anchored_as_github_anchors_them() {
    assert_eq!(slug("A deployer's checklist"), "a-deployers-checklist");
    assert_eq!(
        slug("Calling the API from a browser (CORS)"),
        "calling-the-api-from-a-browser-cors"
    );
    assert_eq!(
        slug("What the test command guarantees, and what only a deploy can show"),
        "what-the-test-command-guarantees-and-what-only-a-deploy-can-show"
    );
    assert_eq!(
        slug("Retries that do not double (Idempotency-Key)"),
        "retries-that-do-not-double-idempotency-key"
    );
    assert_eq!(
        slug("The test command's stages"),
        "the-test-commands-stages"
    );
    let text = "# Tests\n\n## Tests\n\n```sh\n# not a heading\n```\n#nor this\n";
    assert_eq!(
        anchors(text),
        BTreeSet::from(["tests".to_string(), "tests-1".to_string()])
    );
}

#[test]
fn a_broken_link_is_found() {
    let page = root().join("infra/docs/api.md");
    let text = "\
# Here

[fine](#here), [fine](security.md), [fine](deploying.md#operating-a-stage),
[fine](../../README.md#the-two-commands), [elsewhere](https://example.com/x#y),
[gone](nowhere.md), [no heading](security.md#nowhere), [no heading here](#there)

```md
[in code](nowhere-either.md)
```
";
    assert_eq!(
        broken_links(&page, text),
        [
            "(nowhere.md): no such file",
            "(security.md#nowhere): no heading #nowhere there",
            "(#there): no heading #there there",
        ]
    );
}

#[test]
fn every_relative_link_of_the_documentation_reaches_its_file_and_heading() {
    let mut broken = Vec::new();
    let mut checked = 0;
    for page in pages() {
        let text = read(&page);
        checked += links(&text).len();
        let name = page.strip_prefix(root()).unwrap().display().to_string();
        broken.extend(
            broken_links(&page, &text)
                .into_iter()
                .map(|b| format!("{name}: {b}")),
        );
    }
    assert!(
        checked > 20,
        "only {checked} links found: is the scan broken?"
    );
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn readme_links_every_page_of_infra_docs() {
    let linked: BTreeSet<String> = links(&read(&root().join("README.md")))
        .into_iter()
        .map(|t| t.split('#').next().unwrap().to_string())
        .collect();
    for page in pages().iter().skip(1) {
        let name = page.strip_prefix(root()).unwrap().display().to_string();
        assert!(
            linked.contains(&name),
            "README does not link {name} (its \"Where to read on\")"
        );
    }
}

/// `(function, method, path, name)` of every route a function serves.
fn routes() -> Vec<(&'static str, &'static str, &'static str, &'static str)> {
    fn of<G: shared::Group>(
        function: &'static str,
    ) -> impl Iterator<Item = (&'static str, &'static str, &'static str, &'static str)> {
        G::ROUTES
            .iter()
            .map(move |r| (function, r.method, r.path, r.name))
    }
    of::<auth::Group>("auth")
        .chain(of::<password::Group>("password"))
        .chain(of::<admin::Group>("admin"))
        .chain(of::<lock::Group>("lock"))
        .chain(of::<users::Group>("users"))
        .collect()
}

/// Each `METHOD /path` a Markdown text names in a code span, its query left off.
fn named_routes(text: &str) -> BTreeSet<(String, String)> {
    prose(text)
        .split('`')
        .skip(1)
        .step_by(2)
        .filter_map(|span| {
            let (method, path) = span.split_once(' ')?;
            let known = ["GET", "POST", "PUT", "PATCH", "DELETE"].contains(&method);
            (known && path.starts_with('/')).then(|| {
                let path = path.split('?').next().unwrap_or(path);
                (method.to_string(), path.to_string())
            })
        })
        .collect()
}

#[test]
fn every_route_is_named_in_the_api_page() {
    let named = named_routes(&read(&root().join("infra/docs/api.md")));
    assert!(
        named.contains(&("GET".to_string(), "/users".to_string())),
        "a query is left off: {named:?}"
    );
    let routes = routes();
    assert!(routes.len() > 40, "only {} routes found", routes.len());
    let missing: Vec<String> = routes
        .iter()
        .filter(|(_, method, path, _)| !named.contains(&(method.to_string(), path.to_string())))
        .map(|(function, method, path, name)| format!("{function}: `{method} {path}` ({name})"))
        .collect();
    assert!(
        missing.is_empty(),
        "routes infra/docs/api.md does not name (as `METHOD /path` in a route table):\n{}",
        missing.join("\n")
    );
}
