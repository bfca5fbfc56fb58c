//! pushlab-pages: the files of `web/` (the live demo and the report), compiled in.
//!
//! A crate of its own so that both binaries can carry the pages without depending on
//! each other: the server serves them, and the load generator inlines the report into
//! the self-contained `results/report.html`.

use include_dir::{Dir, include_dir};

static WEB: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/../../web");

/// A file of `web/` as compiled in, e.g. `get("report.html")`.
pub fn get(path: &str) -> Option<&'static [u8]> {
    WEB.get_file(path).map(|f| f.contents())
}

/// The content type for a file name, by extension.
pub fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or_default() {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "txt" | "md" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_pages_are_compiled_in() {
        assert!(get("index.html").is_some() && get("report.html").is_some());
        assert!(get("no-such-file.html").is_none());
        assert_eq!(content_type("a/b.js"), "text/javascript; charset=utf-8");
    }
}
