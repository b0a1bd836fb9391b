//! Column types that both engines store alike and `Any` encodes and decodes:
//!
//! * closed sets (a ticket's state, a window's kind) are text enums made with [`text_enum!`];
//! * instants are [`Micros`]: `bigint` microseconds since the Unix epoch, UTC (PostgreSQL's
//!   precision);
//! * civil dates (a service day, a holiday) are [`CivilDate`]: `YYYY-MM-DD` text.
//!
//! Ids are in [`crate::ids`]. Rows are read by column name (`#[derive(sqlx::FromRow)]` or
//! `row.try_get("name")`), never by position.

use jiff::{Timestamp, civil::Date};
use sqlx::{Any, Database, Decode, Encode, Type, encode::IsNull, error::BoxDynError};

/// What every enum made by [`text_enum!`] is: a closed set of values, each stored as a fixed
/// lowercase text. Generic code (the state-machine guard, form parsing) goes through this.
pub trait TextEnum: Copy + Eq + std::fmt::Debug + Send + Sync + 'static {
    /// Every value, in declaration order.
    const ALL: &'static [Self];
    /// The type's name, for messages.
    const NAME: &'static str;
    /// The stored text.
    fn as_str(self) -> &'static str;
    /// The value stored as `s`, if any.
    fn parse(s: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|v| v.as_str() == s)
    }
}

/// Declares a closed set stored as text: the enum with its derives (serde and the OpenAPI
/// schema use the same texts), [`TextEnum`], `Display`, `FromStr`, and sqlx's `Type`,
/// `Encode` and `Decode` for `Any`, so the enum is bound and read like a `String`.
///
/// ```ignore
/// text_enum! {
///     /// A ticket's state.
///     pub enum TicketState {
///         /// 等候
///         Waiting = "waiting",
///         /// 已叫号
///         Called = "called",
///     }
/// }
/// ```
///
/// Decoding an unknown text is an error (the schema's `check` keeps such rows out).
///
/// Where people read the values, each variant may carry its Chinese label beside its stored
/// text (`Waiting = "waiting" => "等候"`, all variants or none); the enum then has `label()`.
#[macro_export]
macro_rules! text_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $text:literal => $label:literal ),+ $(,)?
        }
    ) => {
        $crate::text_enum! {
            $(#[$meta])*
            $vis enum $name {
                $( $(#[$vmeta])* $variant = $text ),+
            }
        }

        impl $name {
            /// The value as people read it (pages, notices, history).
            pub fn label(self) -> &'static str {
                match self {
                    $(Self::$variant => $label),+
                }
            }
        }
    };
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $text:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(
            Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord,
            serde::Serialize, serde::Deserialize, utoipa::ToSchema,
        )]
        $vis enum $name {
            $( $(#[$vmeta])* #[serde(rename = $text)] $variant ),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The stored text.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text),+
                }
            }

            /// The value stored as `s`, if any.
            pub fn parse(s: &str) -> Option<Self> {
                match s {
                    $($text => Some(Self::$variant),)+
                    _ => None,
                }
            }
        }

        impl $crate::db::TextEnum for $name {
            const ALL: &'static [Self] = $name::ALL;
            const NAME: &'static str = stringify!($name);
            fn as_str(self) -> &'static str {
                $name::as_str(self)
            }
            fn parse(s: &str) -> Option<Self> {
                $name::parse(s)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::db::UnknownValue;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s).ok_or_else(|| $crate::db::UnknownValue::new(stringify!($name), s))
            }
        }

        impl sqlx::Type<sqlx::Any> for $name {
            fn type_info() -> sqlx::any::AnyTypeInfo {
                <str as sqlx::Type<sqlx::Any>>::type_info()
            }
            fn compatible(ty: &sqlx::any::AnyTypeInfo) -> bool {
                <str as sqlx::Type<sqlx::Any>>::compatible(ty)
            }
        }

        impl<'q> sqlx::Encode<'q, sqlx::Any> for $name {
            fn encode_by_ref(
                &self,
                buf: &mut <sqlx::Any as sqlx::Database>::ArgumentBuffer,
            ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
                <&str as sqlx::Encode<'q, sqlx::Any>>::encode(self.as_str(), buf)
            }
        }

        impl<'r> sqlx::Decode<'r, sqlx::Any> for $name {
            fn decode(
                value: <sqlx::Any as sqlx::Database>::ValueRef<'r>,
            ) -> Result<Self, sqlx::error::BoxDynError> {
                let s = <&str as sqlx::Decode<'r, sqlx::Any>>::decode(value)?;
                Self::parse(s)
                    .ok_or_else(|| $crate::db::UnknownValue::new(stringify!($name), s).into())
            }
        }
    };
}

/// A stored text that names no value of a [`text_enum!`].
#[derive(Debug, thiserror::Error)]
#[error("unknown {kind} value {value:?}")]
pub struct UnknownValue {
    kind: &'static str,
    value: String,
}

impl UnknownValue {
    pub fn new(kind: &'static str, value: &str) -> Self {
        Self {
            kind,
            value: value.to_owned(),
        }
    }
}

/// An instant as stored: microseconds since the Unix epoch, UTC.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    serde::Serialize,
    serde::Deserialize,
    sqlx::Type,
    utoipa::ToSchema,
)]
#[sqlx(transparent)]
#[serde(transparent)]
pub struct Micros(pub i64);

impl Micros {
    /// The stored number.
    pub const fn get(self) -> i64 {
        self.0
    }

    /// `ts` truncated to microseconds.
    pub fn from_timestamp(ts: Timestamp) -> Self {
        Self(ts.as_microsecond())
    }

    /// The instant; out-of-range values (never stored by us) clamp to the epoch.
    pub fn timestamp(self) -> Timestamp {
        Timestamp::from_microsecond(self.0).unwrap_or(Timestamp::UNIX_EPOCH)
    }

    /// For people, in Beijing time: `2026-11-23 09:05:00`.
    pub fn format_local(self) -> String {
        crate::clock::format_local(self.0)
    }
}

impl From<Timestamp> for Micros {
    fn from(ts: Timestamp) -> Self {
        Self::from_timestamp(ts)
    }
}

/// A civil date (a service day, a holiday) as stored: `YYYY-MM-DD` text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CivilDate(pub Date);

impl CivilDate {
    pub fn date(self) -> Date {
        self.0
    }
}

impl From<Date> for CivilDate {
    fn from(d: Date) -> Self {
        Self(d)
    }
}

impl std::fmt::Display for CivilDate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // jiff prints civil dates as ISO 8601, `2026-10-01`.
        self.0.fmt(f)
    }
}

impl serde::Serialize for CivilDate {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for CivilDate {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse::<Date>()
            .map(Self)
            .map_err(serde::de::Error::custom)
    }
}

impl Type<Any> for CivilDate {
    fn type_info() -> sqlx::any::AnyTypeInfo {
        <str as Type<Any>>::type_info()
    }
    fn compatible(ty: &sqlx::any::AnyTypeInfo) -> bool {
        <str as Type<Any>>::compatible(ty)
    }
}

impl<'q> Encode<'q, Any> for CivilDate {
    fn encode_by_ref(
        &self,
        buf: &mut <Any as Database>::ArgumentBuffer,
    ) -> Result<IsNull, BoxDynError> {
        <String as Encode<'q, Any>>::encode(self.0.to_string(), buf)
    }
}

impl<'r> Decode<'r, Any> for CivilDate {
    fn decode(value: <Any as Database>::ValueRef<'r>) -> Result<Self, BoxDynError> {
        let s = <&str as Decode<'r, Any>>::decode(value)?;
        Ok(Self(s.parse::<Date>()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::text_enum! {
        /// A test set.
        pub enum Colour {
            /// 红
            Red = "red",
            DarkBlue = "dark_blue",
        }
    }

    #[test]
    fn a_text_enum_is_its_text_everywhere() {
        assert_eq!(Colour::DarkBlue.as_str(), "dark_blue");
        assert_eq!(Colour::parse("red"), Some(Colour::Red));
        assert_eq!(Colour::parse("green"), None);
        assert_eq!(
            serde_json::to_string(&Colour::DarkBlue).unwrap(),
            "\"dark_blue\""
        );
        assert_eq!("dark_blue".parse::<Colour>().unwrap(), Colour::DarkBlue);
        assert!("Red".parse::<Colour>().is_err());
        assert_eq!(<Colour as TextEnum>::ALL.len(), 2);
    }

    #[test]
    fn a_civil_date_is_iso_text() {
        let d = CivilDate(jiff::civil::date(2026, 10, 1));
        assert_eq!(serde_json::to_string(&d).unwrap(), "\"2026-10-01\"");
        assert_eq!(
            serde_json::from_str::<CivilDate>("\"2026-10-01\"").unwrap(),
            d
        );
    }

    #[test]
    fn micros_round_trip_a_timestamp() {
        let ts: Timestamp = "2026-11-23T01:05:00Z".parse().unwrap();
        assert_eq!(Micros::from(ts).timestamp(), ts);
        assert_eq!(Micros::from(ts).format_local(), "2026-11-23 09:05:00");
    }
}
