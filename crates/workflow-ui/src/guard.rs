//! What every request passes before the pages and the API see it, and what every answer
//! carries: the `Host` check (against DNS rebinding), the `Origin` and `Sec-Fetch-Site`
//! checks on requests that change something (against cross-site request forgery), and the
//! security headers.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::header::{self, HeaderValue};
use http::uri::Authority;
use http::{HeaderMap, Method, StatusCode};

/// The pages load only their own script and style sheet and call only their own API; no
/// inline script or style, no frames, no plugins. Forms (the list's filter) are handled by
/// the script; should one submit anyway, only to the UI itself.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; connect-src 'self'; img-src 'self'; form-action 'self'; \
     base-uri 'none'; frame-ancestors 'none'";

/// The host names a loopback-bound UI answers to. Only the machine itself can be reached
/// under them, so a page whose name an attacker re-points at 127.0.0.1 (DNS rebinding) is
/// refused: its requests carry the attacker's name.
const LOOPBACK_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "[::1]"];

/// Which requests the UI answers.
///
/// - `Host`: a UI bound to a loopback address answers only to `localhost`, `127.0.0.1`
///   and `[::1]`, and the address itself (`127.0.0.2`, say); any port, since a forwarded
///   port (`ssh -L`) changes it and is no rebinding risk. Others get 421. A UI bound to another address answers to any name,
///   since it cannot know the names it is reached by; there TLS is what defeats
///   rebinding (the browser checks the certificate against the attacker's name).
/// - `Origin`: a request other than GET, HEAD or OPTIONS whose `Origin` is not the UI's
///   own (the scheme it is served over and the `Host` the request names) gets 403, as
///   does one with `Sec-Fetch-Site: cross-site` or `same-site`. Browsers send `Origin` on
///   every cross-origin POST, so a request without it is not a forged one from a page:
///   it comes from a script or a command-line tool, and is let through.
///
/// ```
/// use workflow_ui::Guard;
/// let guard = Guard::for_address("0.0.0.0:8233".parse().unwrap()).https(true);
/// assert!(!guard.is_loopback_only());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Guard {
    loopback_only: bool,
    /// The loopback address listened on, answered to besides the loopback names.
    own_ip: Option<IpAddr>,
    https: bool,
    behind_tls_proxy: bool,
}

impl Default for Guard {
    /// Loopback names only, pages served over plain HTTP.
    fn default() -> Self {
        Self {
            loopback_only: true,
            own_ip: None,
            https: false,
            behind_tls_proxy: false,
        }
    }
}

impl Guard {
    /// The checks for a UI listening on `address`: loopback names only when it is a
    /// loopback address, any name otherwise; pages served over plain HTTP.
    pub fn for_address(address: SocketAddr) -> Self {
        let ip = address.ip();
        Self {
            loopback_only: ip.is_loopback(),
            own_ip: ip.is_loopback().then_some(ip),
            ..Self::default()
        }
    }

    /// Whether the pages are served over HTTPS (the scheme `Origin` must have).
    pub fn https(mut self, on: bool) -> Self {
        self.https = on;
        self
    }

    /// Whether a TLS-terminating proxy serves the pages as HTTPS in front of a plain UI:
    /// `Origin` may then be `https://` as well as `http://`. The proxy must pass the
    /// browser's `Host` on.
    pub fn behind_tls_proxy(mut self, on: bool) -> Self {
        self.behind_tls_proxy = on;
        self
    }

    /// Whether only loopback host names are answered.
    pub fn is_loopback_only(&self) -> bool {
        self.loopback_only
    }

    fn loopback_host(&self, host: &str) -> bool {
        let ip = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .ok();
        LOOPBACK_NAMES
            .iter()
            .any(|name| host.eq_ignore_ascii_case(name))
            || (ip.is_some() && ip == self.own_ip)
    }

    fn scheme_allowed(&self, scheme: &str) -> bool {
        match scheme {
            "https" => self.https || self.behind_tls_proxy,
            "http" => !self.https,
            _ => false,
        }
    }

    /// Why `request` is refused, if it is.
    fn refusal(&self, method: &Method, headers: &HeaderMap, uri: &http::Uri) -> Option<Refusal> {
        // HTTP/1.1 names the host in `Host`; a request in absolute form, in its URI.
        let host = match headers.get(header::HOST) {
            Some(value) => value
                .to_str()
                .ok()
                .and_then(|text| text.parse::<Authority>().ok()),
            None => uri.authority().cloned(),
        };
        let Some(host) = host else {
            return Some(Refusal::bad_request("the request names no valid Host"));
        };
        if self.loopback_only && !self.loopback_host(host.host()) {
            return Some(Refusal {
                status: StatusCode::MISDIRECTED_REQUEST,
                message: format!(
                    "this UI answers only to localhost, 127.0.0.1 and [::1], not to Host {host}"
                ),
            });
        }
        if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
            return None;
        }
        if let Some(site) = headers.get("sec-fetch-site") {
            let site = site.to_str().unwrap_or("");
            if site.eq_ignore_ascii_case("cross-site") || site.eq_ignore_ascii_case("same-site") {
                return Some(Refusal::forbidden(format!(
                    "a {method} from another site (Sec-Fetch-Site: {site}) is refused"
                )));
            }
        }
        let origin = headers.get(header::ORIGIN)?;
        let origin = origin.to_str().unwrap_or("");
        if self.same_origin(origin, &host) {
            None
        } else {
            Some(Refusal::forbidden(format!(
                "a {method} from Origin {origin} is refused: it is not this UI's origin ({}://{host})",
                if self.https { "https" } else { "http" }
            )))
        }
    }

    /// Whether `origin` (`scheme://host[:port]`) is the UI's own: an allowed scheme, and
    /// the host and port the request's `Host` names (default ports made explicit).
    fn same_origin(&self, origin: &str, host: &Authority) -> bool {
        let Some((scheme, rest)) = origin.split_once("://") else {
            return false; // `null`, from sandboxed frames and some redirects, among others.
        };
        let scheme = scheme.to_ascii_lowercase();
        let Ok(origin_host) = rest.parse::<Authority>() else {
            return false;
        };
        let default_port = if scheme == "https" { 443 } else { 80 };
        self.scheme_allowed(&scheme)
            && origin_host.host().eq_ignore_ascii_case(host.host())
            && origin_host.port_u16().unwrap_or(default_port)
                == host.port_u16().unwrap_or(default_port)
    }
}

/// A refused request: its status and a short reason.
struct Refusal {
    status: StatusCode,
    message: String,
}

impl Refusal {
    fn bad_request(message: &str) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            message: message.to_owned(),
        }
    }

    fn forbidden(message: String) -> Self {
        Self {
            status: StatusCode::FORBIDDEN,
            message,
        }
    }
}

/// Refuses what [`Guard`] refuses; the rest goes on.
pub(crate) async fn check(State(guard): State<Guard>, request: Request, next: Next) -> Response {
    match guard.refusal(request.method(), request.headers(), request.uri()) {
        None => next.run(request).await,
        Some(refusal) => {
            tracing::warn!(
                method = %request.method(),
                path = %request.uri().path(),
                reason = %refusal.message,
                "web UI request refused"
            );
            (refusal.status, format!("{}\n", refusal.message)).into_response()
        }
    }
}

/// Adds the security headers to every answer, refusals and not-found pages included.
pub(crate) async fn secure_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(guard: &Guard, method: Method, headers: &[(&str, &str)]) -> Option<StatusCode> {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.insert(
                http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        guard
            .refusal(&method, &map, &"/".parse().unwrap())
            .map(|r| r.status)
    }

    #[test]
    fn loopback_names_pass_with_any_port_and_others_are_misdirected() {
        let guard = Guard::default();
        for host in [
            "localhost",
            "LOCALHOST:8233",
            "127.0.0.1:9",
            "[::1]:8233",
            "[::1]",
        ] {
            assert_eq!(
                refused(&guard, Method::GET, &[("host", host)]),
                None,
                "{host}"
            );
        }
        for host in [
            "evil.example",
            "evil.example:8233",
            "127.0.0.2",
            "localhost.evil",
        ] {
            assert_eq!(
                refused(&guard, Method::GET, &[("host", host)]),
                Some(StatusCode::MISDIRECTED_REQUEST),
                "{host}"
            );
        }
        assert_eq!(
            refused(&guard, Method::GET, &[]),
            Some(StatusCode::BAD_REQUEST)
        );
        let other_loopback = Guard::for_address("127.0.0.2:8233".parse().unwrap());
        assert_eq!(
            refused(&other_loopback, Method::GET, &[("host", "127.0.0.2:8233")]),
            None
        );
        assert_eq!(
            refused(&other_loopback, Method::GET, &[("host", "127.0.0.3:8233")]),
            Some(StatusCode::MISDIRECTED_REQUEST)
        );
        let anywhere = Guard::for_address("0.0.0.0:8233".parse().unwrap());
        assert_eq!(
            refused(&anywhere, Method::GET, &[("host", "devbox.lan:8233")]),
            None
        );
    }

    #[test]
    fn posts_need_the_uis_own_origin_or_none() {
        let guard = Guard::default();
        let post = |headers: &[(&str, &str)]| {
            let mut all = vec![("host", "localhost:8233")];
            all.extend_from_slice(headers);
            refused(&guard, Method::POST, &all)
        };
        assert_eq!(post(&[("origin", "http://localhost:8233")]), None);
        assert_eq!(post(&[]), None, "not from a browser page");
        for origin in [
            "http://evil.example",
            "http://localhost:8234",
            "https://localhost:8233",
            "null",
        ] {
            assert_eq!(
                post(&[("origin", origin)]),
                Some(StatusCode::FORBIDDEN),
                "{origin}"
            );
        }
        assert_eq!(
            post(&[("sec-fetch-site", "cross-site")]),
            Some(StatusCode::FORBIDDEN)
        );
        let tls = Guard::default().https(true);
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_static("localhost"));
        headers.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://localhost"),
        );
        assert!(
            tls.refusal(&Method::POST, &headers, &"/".parse().unwrap())
                .is_none()
        );
        headers.insert(header::ORIGIN, HeaderValue::from_static("http://localhost"));
        assert!(
            tls.refusal(&Method::POST, &headers, &"/".parse().unwrap())
                .is_some()
        );
        let proxied = Guard::default().behind_tls_proxy(true);
        headers.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://localhost"),
        );
        assert!(
            proxied
                .refusal(&Method::POST, &headers, &"/".parse().unwrap())
                .is_none()
        );
    }
}
