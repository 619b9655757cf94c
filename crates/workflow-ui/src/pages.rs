//! The pages: one HTML shell, a script and a style sheet, embedded in the binary. Every page
//! path answers the shell; the script reads the path, calls the JSON API and renders.

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;

use crate::Ui;

const SHELL: &str = include_str!("../assets/index.html");
const SCRIPT: &str = include_str!("../assets/app.js");
const STYLE: &str = include_str!("../assets/style.css");

pub(crate) fn routes() -> Router<Ui> {
    Router::new()
        .route(
            "/",
            get(|| async { Redirect::to("/namespaces/default/workflows") }),
        )
        .route("/namespaces", get(shell))
        .route("/namespaces/{*rest}", get(shell))
        .route("/assets/app.js", get(|| asset("text/javascript", SCRIPT)))
        .route("/assets/style.css", get(|| asset("text/css", STYLE)))
        .fallback(not_found)
}

async fn shell() -> Response {
    // Served fresh, so an upgraded server never runs against an old script.
    ([(header::CACHE_CONTROL, "no-cache")], Html(SHELL)).into_response()
}

async fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

async fn not_found(uri: axum::http::Uri) -> Response {
    let path = escape(uri.path());
    let page = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>Not found</title><link rel=\"stylesheet\" href=\"/assets/style.css\"></head>\
         <body><main><h1>Not found</h1><p class=\"error\">There is no page at <code>{path}</code>.\
         </p><p><a href=\"/namespaces\">Namespaces</a></p></main></body></html>"
    );
    (StatusCode::NOT_FOUND, Html(page)).into_response()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
