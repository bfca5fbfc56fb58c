//! The self-contained `results/report.html`: the report page with the results inside.
//!
//! Contract with `web/report.html`: the page holds one data island,
//! `<script id="pushlab-data" type="application/json">null</script>`, and loads only plain
//! local files (no imports between them). We put the results JSON into the island and
//! replace every local `<script src="X">` and `<link rel="stylesheet" href="X">` with the
//! file's contents, so the page opens from disk with no server.
//!
//! The page is rewritten by `lol_html`, a streaming HTML rewriter with CSS selectors, not
//! by searching its text: attribute order, quoting and comments cannot fool it. What it
//! cannot know is what the inserted text means, so two escapes stay ours: `</` in the
//! JSON and `</script` (or `</style`) inside an inlined file would end the element early.

use std::cell::RefCell;

use lol_html::html_content::{ContentType, Element};
use lol_html::{RewriteStrSettings, element, rewrite_str};

/// The selector of the data island, exactly as the page writes it.
pub const DATA_ISLAND: &str = r#"script#pushlab-data[type="application/json"]"#;

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("the report template has no {DATA_ISLAND} data island")]
    NoDataIsland,
    #[error("the report template could not be rewritten: {0}")]
    Rewrite(#[from] lol_html::errors::RewritingError),
}

/// The template with `json` embedded and local scripts and stylesheets inlined by
/// `asset` (path → contents). Returns the page and the assets that could not be found
/// (those are left as links).
pub fn render(
    template: &str,
    json: &str,
    asset: impl Fn(&str) -> Option<Vec<u8>>,
) -> Result<(String, Vec<String>), ReportError> {
    let missing = RefCell::new(Vec::new());
    let islands = RefCell::new(0);
    // Looks a local file up, or notes it as missing.
    let inline = |url: &str| {
        let found = lookup(&asset, url);
        if found.is_none() {
            missing.borrow_mut().push(url.to_string());
        }
        found
    };
    let settings = RewriteStrSettings::new()
        .append_element_content_handler(element!(DATA_ISLAND, |el| {
            *islands.borrow_mut() += 1;
            el.set_inner_content(&json.replace("</", "<\\/"), ContentType::Html);
            Ok(())
        }))
        .append_element_content_handler(element!("script[src]", |el| {
            inline_script(el, &inline);
            Ok(())
        }))
        .append_element_content_handler(element!("link[rel=stylesheet][href]", |el| {
            inline_stylesheet(el, &inline);
            Ok(())
        }));
    let page = rewrite_str(template, settings)?;
    if *islands.borrow() != 1 {
        return Err(ReportError::NoDataIsland);
    }
    Ok((page, missing.into_inner()))
}

/// `<script src="x.js"></script>` → `<script>…x.js…</script>`, other attributes kept.
fn inline_script(el: &mut Element, inline: &impl Fn(&str) -> Option<String>) {
    let Some(src) = el.get_attribute("src").filter(|s| is_local(s)) else { return };
    if let Some(body) = inline(&src) {
        el.remove_attribute("src");
        el.set_inner_content(&body.replace("</script", "<\\/script"), ContentType::Html);
    }
}

/// `<link rel="stylesheet" href="x.css">` → `<style>…x.css…</style>`.
fn inline_stylesheet(el: &mut Element, inline: &impl Fn(&str) -> Option<String>) {
    let Some(href) = el.get_attribute("href").filter(|h| is_local(h)) else { return };
    if let Some(css) = inline(&href) {
        el.replace(&format!("<style>{}</style>", css.replace("</style", "<\\/style")), ContentType::Html);
    }
}

/// A file of the page's own folder, not another site's or a `data:` URL.
fn is_local(url: &str) -> bool {
    !(url.contains("://") || url.starts_with("//") || url.starts_with("data:"))
}

/// The contents of a local URL (`./a.js`, `/a.js`, `a.js?v=1` all name `a.js`).
fn lookup(asset: &impl Fn(&str) -> Option<Vec<u8>>, url: &str) -> Option<String> {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    let path = path.trim_start_matches("./").trim_start_matches('/');
    asset(path).map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assets(path: &str) -> Option<Vec<u8>> {
        match path {
            "report.js" => Some(b"render(); // </script> inside".to_vec()),
            "style.css" => Some(b"body{margin:0} /* </style> */".to_vec()),
            _ => None,
        }
    }

    #[test]
    fn embeds_data_and_inlines_local_assets() {
        let page = concat!(
            r#"<head><link href='style.css' rel="stylesheet"><link rel="icon" href="x.png">"#,
            r#"<script src="https://cdn.example/x.js"></script></head>"#,
            r#"<body><!-- <script src="report.js"></script> is only a comment -->"#,
            r#"<script id="pushlab-data" type="application/json">null</script>"#,
            r#"<script type="module" src="./report.js?v=2"></script><script src="gone.js"></script></body>"#
        );
        let json = r#"{"note":"</script><b>"}"#;
        let (html, missing) = render(page, json, assets).unwrap();
        assert_eq!(
            html,
            concat!(
                r#"<head><style>body{margin:0} /* <\/style> */</style><link rel="icon" href="x.png">"#,
                r#"<script src="https://cdn.example/x.js"></script></head>"#,
                r#"<body><!-- <script src="report.js"></script> is only a comment -->"#,
                r#"<script id="pushlab-data" type="application/json">{"note":"<\/script><b>"}</script>"#,
                r#"<script type="module">render(); // <\/script> inside</script><script src="gone.js"></script></body>"#
            )
        );
        assert_eq!(missing, vec!["gone.js".to_string()]);
    }

    #[test]
    fn a_page_without_exactly_one_data_island_is_refused() {
        let refused = |page: &str| matches!(render(page, "{}", assets), Err(ReportError::NoDataIsland));
        assert!(refused("<html></html>"));
        assert!(refused(r#"<script id="pushlab-data">null</script>"#), "the type is part of the contract");
        let island = r#"<script id="pushlab-data" type="application/json">null</script>"#;
        assert!(refused(&format!("{island}{island}")));
    }

    #[test]
    fn the_shipped_report_page_inlines_with_nothing_missing() {
        let template = std::str::from_utf8(pushlab_pages::get("report.html").unwrap()).unwrap();
        let (html, missing) =
            render(template, r#"{"schema":1}"#, |p| pushlab_pages::get(p).map(<[u8]>::to_vec)).unwrap();
        assert_eq!(missing, Vec::<String>::new());
        assert!(!html.contains("<script src=") && !html.contains(r#"rel="stylesheet""#), "{html}");
        assert!(html.contains(r#"<script id="pushlab-data" type="application/json">{"schema":1}</script>"#));
    }
}
