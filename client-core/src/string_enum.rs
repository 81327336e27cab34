//! String enums that survive values no version of a crate knows (statuses, states, kinds).

/// Declares an enum over server strings with an `Unknown(String)` fallback, `as_str()`,
/// `from_server()`, `Display`, `FromStr`, and serde as the plain string.
///
/// ```
/// cidata_core::string_enum! {
///     /// A pipeline status.
///     pub enum Status {
///         /// It worked.
///         Success = "SUCCESS",
///         /// It did not.
///         Failed = "FAILED",
///     }
/// }
/// assert_eq!(Status::from_server("FAILED"), Status::Failed);
/// assert_eq!(Status::from_server("SKIPPED").as_str(), "SKIPPED");
/// let s: Status = serde_json::from_str("\"NEW_VALUE\"").unwrap();
/// assert_eq!(s, Status::Unknown("NEW_VALUE".into()));
/// ```
#[macro_export]
macro_rules! string_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $text:literal, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )*
            /// A value this version does not know, kept as sent.
            Unknown(String),
        }

        impl $name {
            /// The server's spelling.
            pub fn as_str(&self) -> &str {
                match self {
                    $( $name::$variant => $text, )*
                    $name::Unknown(s) => s,
                }
            }

            /// Maps a server string, falling back to `Unknown`.
            pub fn from_server(s: &str) -> $name {
                match s {
                    $( $text => $name::$variant, )*
                    other => $name::Unknown(other.to_owned()),
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = ::std::convert::Infallible;
            fn from_str(s: &str) -> ::std::result::Result<Self, Self::Err> {
                Ok($name::from_server(s))
            }
        }

        impl<'de> $crate::__serde::Deserialize<'de> for $name {
            fn deserialize<D: $crate::__serde::Deserializer<'de>>(d: D) -> ::std::result::Result<Self, D::Error> {
                let s = <::std::borrow::Cow<'de, str> as $crate::__serde::Deserialize>::deserialize(d)?;
                Ok($name::from_server(&s))
            }
        }

        impl $crate::__serde::Serialize for $name {
            fn serialize<S: $crate::__serde::Serializer>(&self, s: S) -> ::std::result::Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
    };
}
