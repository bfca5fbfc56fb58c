//! The self-contained `results/report.html`: the report page with the results inside.
//!
//! Contract with `web/report.html` (shared with the page's author): the page holds
//! `<script id="pushlab-data" type="application/json">null</script>`; we put the results
//! JSON there, and replace every local `<script src="X">` and `<link rel="stylesheet"
//! href="X">` with the file's contents, so the page opens from disk with no server.
//! Remote and `data:` URLs stay links; a local file that cannot be found stays a link
//! too, and is reported so the caller can warn.
//!
//! The page is rewritten with lol_html (Cloudflare's streaming HTML rewriter), not by
//! searching its text: lol_html tokenizes it as a browser does, so a `<script src>` in a
//! comment is not an element, attributes may come in any order, case or quoting, and
//! `rel="stylesheet"` is matched as an attribute, not as a substring of the tag.
//!
//! What goes inside an element must not end it early. A browser ends a `<script>` at
//! the first `</script` in any case, and a `<style>` at `</style`: those are written
//! `<\/script` and `<\/style`, which read the same to JavaScript and CSS. In the JSON
//! every `</` becomes `<\/` and every `<!--` becomes `<\u0021--` (the same strings to
//! `JSON.parse`; `<` occurs only inside strings), so no value in the results — a symbol,
//! an error kind, the kernel's name — can close the data island or turn the rest of the
//! page into script text.

use std::cell::{Cell, RefCell};

use lol_html::html_content::{ContentType, Element};
use lol_html::{RewriteStrSettings, element, rewrite_str};

/// The element the page leaves for the results.
const DATA_ISLAND: &str = r#"script#pushlab-data[type="application/json"]"#;
/// Scripts with a `src`, and stylesheets (exactly `rel="stylesheet"`: an
/// `"alternate stylesheet"` is not applied by default, so it must not be inlined).
const SCRIPT: &str = "script[src]";
const STYLESHEET: &str = r#"link[rel="stylesheet" i][href]"#;

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(r#"the report page has no <script id="pushlab-data" type="application/json"> data island"#)]
    NoDataIsland,
    #[error("the report page could not be rewritten: {0}")]
    Rewrite(#[from] lol_html::errors::RewritingError),
}

/// The template with `json` embedded and local scripts and stylesheets inlined by
/// `asset` (path → contents). Returns the page and the assets that could not be found.
pub fn render(
    template: &str,
    json: &str,
    asset: impl Fn(&str) -> Option<Vec<u8>>,
) -> Result<(String, Vec<String>), ReportError> {
    let json = escape_json(json);
    let islands = Cell::new(0);
    let missing = RefCell::new(Vec::new());
    let inline = |el: &mut Element, attribute: &str| -> Option<String> {
        let url = el.get_attribute(attribute).filter(|url| is_local(url))?;
        let found = lookup(&asset, &url);
        if found.is_none() {
            missing.borrow_mut().push(url);
        }
        found
    };
    let settings = RewriteStrSettings::new()
        .append_element_content_handler(element!(DATA_ISLAND, |el| {
            el.set_inner_content(&json, ContentType::Html);
            islands.set(islands.get() + 1);
            Ok(())
        }))
        .append_element_content_handler(element!(SCRIPT, |el| {
            if let Some(js) = inline(el, "src") {
                // `defer` and `async` mean nothing to an inline script: it would run at
                // once, before the deferred ones still after it. The page uses neither.
                for attribute in ["src", "defer", "async"] {
                    el.remove_attribute(attribute);
                }
                el.set_inner_content(&escape_end_tag(&js, "script"), ContentType::Html);
            }
            Ok(())
        }))
        .append_element_content_handler(element!(STYLESHEET, |el| {
            if let Some(css) = inline(el, "href") {
                let style = format!("<style>{}</style>", escape_end_tag(&css, "style"));
                el.replace(&style, ContentType::Html);
            }
            Ok(())
        }));
    let page = rewrite_str(template, settings)?;
    // Exactly one: with two, which one the page reads would be up to its script.
    if islands.get() != 1 {
        return Err(ReportError::NoDataIsland);
    }
    Ok((page, missing.into_inner()))
}

fn is_local(url: &str) -> bool {
    !(url.contains("://") || url.starts_with("//") || url.starts_with("data:"))
}

/// The contents of the file `url` names: the path without query or fragment, relative to
/// `web/`. No guessing: a file that is not there is reported missing.
fn lookup(asset: &impl Fn(&str) -> Option<Vec<u8>>, url: &str) -> Option<String> {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    let path = path.trim_start_matches("./").trim_start_matches('/');
    asset(path).map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
}

/// `text` with every `</tag` (in any case) written `<\/tag`.
fn escape_end_tag(text: &str, tag: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    for (at, _) in text.match_indices("</") {
        let name = text.as_bytes().get(at + 2..at + 2 + tag.len());
        if name.is_some_and(|name| name.eq_ignore_ascii_case(tag.as_bytes())) {
            out.push_str(&text[copied..at]);
            out.push_str("<\\/");
            copied = at + 2;
        }
    }
    out.push_str(&text[copied..]);
    out
}

/// JSON that cannot end the script element it sits in (see the module doc).
fn escape_json(json: &str) -> String {
    json.replace("</", "<\\/").replace("<!--", "<\\u0021--")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assets(path: &str) -> Option<Vec<u8>> {
        match path {
            "report.js" => Some(b"render(); // </script> and </SCRIPT> inside".to_vec()),
            "style.css" => Some(b"body{margin:0} /* </style> */".to_vec()),
            _ => None,
        }
    }

    #[test]
    fn embeds_data_and_inlines_local_assets() {
        let page = concat!(
            r#"<head><link rel="stylesheet" href="style.css"><link rel="icon" href="x.png">"#,
            r#"<script src="https://cdn.example/x.js"></script><script src="data:,1"></script></head>"#,
            r#"<body><script id="pushlab-data" type="application/json">null</script>"#,
            r#"<script type="module" src="./report.js"></script><script src="gone.js"></script></body>"#
        );
        let json = r#"{"note":"</script><!--<script><b>"}"#;
        let (html, missing) = render(page, json, assets).unwrap();
        assert_eq!(
            html,
            concat!(
                r#"<head><style>body{margin:0} /* <\/style> */</style><link rel="icon" href="x.png">"#,
                r#"<script src="https://cdn.example/x.js"></script><script src="data:,1"></script></head>"#,
                r#"<body><script id="pushlab-data" type="application/json">{"note":"<\/script><\u0021--<script><b>"}</script>"#,
                r#"<script type="module">render(); // <\/script> and <\/SCRIPT> inside</script><script src="gone.js"></script></body>"#
            )
        );
        assert_eq!(missing, vec!["gone.js".to_string()]);
        // What the browser reads back is the JSON we were given.
        let island = html.split(r#"type="application/json">"#).nth(1).unwrap();
        let embedded: serde_json::Value =
            serde_json::from_str(island.split("</script>").next().unwrap()).unwrap();
        assert_eq!(embedded, serde_json::from_str::<serde_json::Value>(json).unwrap());
    }

    /// What text search got wrong: tags in comments, other attribute orders and quoting,
    /// upper case, and `rel` values that are not exactly "stylesheet".
    #[test]
    fn elements_are_found_as_a_browser_finds_them() {
        let page = concat!(
            r#"<!-- <script src="report.js"></script> -->"#,
            r#"<LINK HREF=style.css REL=StyleSheet><link rel="alternate stylesheet" href="style.css">"#,
            r#"<script type='application/json' id='pushlab-data'>null</script>"#,
            r#"<SCRIPT defer src='report.js'></SCRIPT>"#
        );
        let (html, missing) = render(page, "[1]", assets).unwrap();
        assert_eq!(
            html,
            concat!(
                r#"<!-- <script src="report.js"></script> -->"#,
                r#"<style>body{margin:0} /* <\/style> */</style><link rel="alternate stylesheet" href="style.css">"#,
                r#"<script type='application/json' id='pushlab-data'>[1]</script>"#,
                r#"<SCRIPT>render(); // <\/script> and <\/SCRIPT> inside</SCRIPT>"#
            )
        );
        assert!(missing.is_empty(), "{missing:?}");
    }

    #[test]
    fn a_page_without_the_data_island_is_refused() {
        let no_island = [
            "<html></html>",
            r#"<!-- <script id="pushlab-data" type="application/json">null</script> -->"#,
            r#"<script id="pushlab-data">null</script>"#,
            concat!(
                r#"<script id="pushlab-data" type="application/json">null</script>"#,
                r#"<script id="pushlab-data" type="application/json">null</script>"#
            ),
        ];
        for page in no_island {
            let result = render(page, "{}", assets);
            assert!(matches!(result, Err(ReportError::NoDataIsland)), "{page}: {result:?}");
        }
    }

    #[test]
    fn the_shipped_report_page_inlines_with_nothing_missing() {
        let template = std::str::from_utf8(pushlab_pages::get("report.html").unwrap()).unwrap();
        let asset = |p: &str| pushlab_pages::get(p).map(<[u8]>::to_vec);
        let (html, missing) = render(template, r#"{"schema":1}"#, asset).unwrap();
        assert_eq!(missing, Vec::<String>::new());
        assert!(!html.contains("<script src=") && !html.contains(r#"rel="stylesheet""#));
        // An inlined file with `<!--<script` in it would swallow the rest of the page:
        // the escapes above cover `</script` and `</style` only, so none may hold it.
        assert!(!html.contains("<!--<script"), "an inlined file opens a script comment");
    }
}
