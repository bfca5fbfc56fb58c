//! The self-contained `results/report.html`: the report page with the results inside.
//!
//! Contract with `web/report.html` (shared with the page's author): the page holds
//! `<script id="pushlab-data" type="application/json">null</script>`; we put the results
//! JSON there (with `</` written `<\/` so no string in it can close the script), and
//! replace every local `<script src="X">` and `<link rel="stylesheet" href="X">` with
//! the file's contents, so the page opens from disk with no server.

/// The opening tag of the data island, exactly as the page writes it.
pub const DATA_OPEN: &str = r#"<script id="pushlab-data" type="application/json">"#;
const SCRIPT_CLOSE: &str = "</script>";

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ReportError {
    #[error("the report template has no {DATA_OPEN}…</script> data island")]
    NoDataIsland,
}

/// The template with `json` embedded and local scripts and stylesheets inlined by
/// `asset` (path → contents). Returns the page and the assets that could not be found.
pub fn render(
    template: &str,
    json: &str,
    asset: impl Fn(&str) -> Option<Vec<u8>>,
) -> Result<(String, Vec<String>), ReportError> {
    let start = template.find(DATA_OPEN).ok_or(ReportError::NoDataIsland)? + DATA_OPEN.len();
    let end = start + template[start..].find(SCRIPT_CLOSE).ok_or(ReportError::NoDataIsland)?;
    let mut missing = Vec::new();
    let mut out = inline(&template[..start], &asset, &mut missing);
    out.push_str(&json.replace("</", "<\\/"));
    out.push_str(&inline(&template[end..], &asset, &mut missing));
    Ok((out, missing))
}

fn is_local(url: &str) -> bool {
    !(url.contains("://") || url.starts_with("//") || url.starts_with("data:"))
}

/// The value of attribute `name` in an opening tag (quoted with `"` or `'`).
fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let mut rest = tag;
    while let Some(i) = rest.find(name) {
        let before = rest[..i].chars().last();
        let after = &rest[i + name.len()..];
        if before.is_some_and(char::is_whitespace) && after.starts_with('=') {
            let quote = after[1..].chars().next()?;
            let value = &after[2..];
            return value.find(quote).map(|end| &value[..end]);
        }
        rest = &rest[i + name.len()..];
    }
    None
}

/// Replace local `<script src>` and stylesheet `<link>` elements in `html`.
fn inline(html: &str, asset: &impl Fn(&str) -> Option<Vec<u8>>, missing: &mut Vec<String>) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        out.push_str(&rest[..open]);
        rest = &rest[open..];
        let Some(tag_end) = rest.find('>') else { break };
        let tag = &rest[..=tag_end];
        let lower = tag.to_ascii_lowercase();
        let replaced = if lower.starts_with("<script") {
            attr(tag, "src").filter(|s| is_local(s)).and_then(|src| {
                let close = rest.find(SCRIPT_CLOSE)?;
                let body = lookup(asset, src, missing)?.replace("</script", "<\\/script");
                let kept = tag.replacen(&format!("src=\"{src}\""), "", 1);
                Some((format!("{}{body}{SCRIPT_CLOSE}", kept.replace(" >", ">")), close + SCRIPT_CLOSE.len()))
            })
        } else if lower.starts_with("<link") && attr(&lower, "rel") == Some("stylesheet") {
            attr(tag, "href").filter(|h| is_local(h)).and_then(|href| {
                let css = lookup(asset, href, missing)?.replace("</style", "<\\/style");
                Some((format!("<style>{css}</style>"), tag.len()))
            })
        } else {
            None
        };
        match replaced {
            Some((text, consumed)) => {
                out.push_str(&text);
                rest = &rest[consumed..];
            }
            None => {
                out.push_str(tag);
                rest = &rest[tag.len()..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn lookup(asset: &impl Fn(&str) -> Option<Vec<u8>>, url: &str, missing: &mut Vec<String>) -> Option<String> {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    let path = path.trim_start_matches("./").trim_start_matches('/');
    let found = asset(path).or_else(|| path.split_once('/').and_then(|(_, rest)| asset(rest)));
    if found.is_none() {
        missing.push(url.to_string());
    }
    found.map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assets(path: &str) -> Option<Vec<u8>> {
        match path {
            "report.js" => Some(b"render(); // </script> inside".to_vec()),
            "style.css" => Some(b"body{margin:0}".to_vec()),
            _ => None,
        }
    }

    #[test]
    fn embeds_data_and_inlines_local_assets() {
        let page = concat!(
            r#"<head><link rel="stylesheet" href="style.css"><link rel="icon" href="x.png">"#,
            r#"<script src="https://cdn.example/x.js"></script></head>"#,
            r#"<body><script id="pushlab-data" type="application/json">null</script>"#,
            r#"<script type="module" src="./report.js"></script><script src="gone.js"></script></body>"#
        );
        let json = r#"{"note":"</script><b>"}"#;
        let (html, missing) = render(page, json, assets).unwrap();
        assert_eq!(
            html,
            concat!(
                r#"<head><style>body{margin:0}</style><link rel="icon" href="x.png">"#,
                r#"<script src="https://cdn.example/x.js"></script></head>"#,
                r#"<body><script id="pushlab-data" type="application/json">{"note":"<\/script><b>"}</script>"#,
                r#"<script type="module">render(); // <\/script> inside</script><script src="gone.js"></script></body>"#
            )
        );
        assert_eq!(missing, vec!["gone.js".to_string()]);
    }

    #[test]
    fn a_page_without_the_data_island_is_refused() {
        assert_eq!(render("<html></html>", "{}", assets), Err(ReportError::NoDataIsland));
    }
}
