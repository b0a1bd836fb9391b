//! Extractors whose rejections speak Chinese, name the input and change nothing: JSON bodies
//! ([`ApiJson`]), query strings ([`Query`]), path parameters ([`Path`]) and forms ([`Fields`]).
//!
//! serde's English ("missing field `name` at line 1 column 2") is never shown: [`describe`]
//! turns it into a Chinese sentence that names the field. A value of the wrong type answers
//! 400 `bad_request`; a value of the right type that its field cannot hold (an integer
//! outside its column's range, an unknown variant) answers 422 `invalid`. Both carry `field`.
//!
//! Integers bound for an `integer` column (int4 on PostgreSQL; SQLite would take any `i64`,
//! and the engines would disagree) are checked with [`int4`], or read as `i32`, whose serde
//! refusal says the same; forms parse with [`Fields::int`]. All say it with [`int_range`].

use axum::{extract::FromRequestParts, http::request::Parts};

mod form;
mod json;
mod messages;
mod params;
mod rejection;

pub use form::{Fields, Part, multipart_field, multipart_fields};
pub use json::{ApiJson, from_json_slice, from_json_value};
pub use messages::{IntInput, Origin, describe, field_name, int_range, int4};
pub use params::{Path, Query};
pub use rejection::{Rejected, from_rejection_text};

/// The address the request came from (the peer of the connection, as the per-IP rate limit
/// sees it); the unspecified address where the server was started without it.
#[derive(Clone, Copy, Debug)]
pub struct ClientAddr(pub std::net::IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let ip = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map_or(std::net::IpAddr::from([0, 0, 0, 0]), |c| c.0.ip());
        Ok(ClientAddr(ip))
    }
}
