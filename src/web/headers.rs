//! Security headers on every response. The pages load nothing from outside: scripts, styles,
//! clips and API calls are all this server's, so the Content-Security-Policy allows only
//! 'self' and refuses inline scripts, inline styles, plugins, framing and foreign form targets.
//! The pages' small behaviours (print, confirm, submit on change) are declared with data
//! attributes and run by `static/page.js`.

use axum::http::{HeaderMap, HeaderName, HeaderValue, header};

/// The policy, built once.
pub fn content_security_policy() -> &'static str {
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; \
     media-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; \
     base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
}

/// Adds the security headers a response does not set itself ([`crate::web::edge`]).
pub fn add_security_headers(headers: &mut HeaderMap) {
    let set = [
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(content_security_policy()),
        ),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        // Phone pages carry their ticket's secret in the address; other sites never see it.
        (
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ),
        (
            HeaderName::from_static("cross-origin-opener-policy"),
            HeaderValue::from_static("same-origin"),
        ),
    ];
    for (name, value) in set {
        headers.entry(name).or_insert(value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_refuses_inline_scripts_and_framing() {
        let csp = content_security_policy();
        assert!(csp.contains("script-src 'self';"));
        assert!(!csp.contains("'unsafe-hashes'"));
        assert!(!csp.contains("'unsafe-inline'"));
        assert!(csp.contains("frame-ancestors 'none'"));
    }
}
