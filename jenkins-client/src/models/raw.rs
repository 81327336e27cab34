//! Keeping what the server sent: every top-level model holds its JSON object verbatim, so data no
//! model knows (plugin fields, new Jenkins versions) is never lost.

use std::fmt;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;

/// A JSON value exactly as the server sent it.
///
/// Models decoded from bytes (everything this crate returns) carry one; deserializing a model from a
/// `serde_json::Value` is not supported, because the raw text is no longer there.
#[derive(Clone)]
pub struct RawJson(Box<RawValue>);

impl RawJson {
    /// The JSON text.
    pub fn get(&self) -> &str {
        self.0.get()
    }

    /// Parses it into any type, such as `serde_json::Value` or a caller's own model.
    pub fn parse<T: DeserializeOwned>(&self) -> serde_json::Result<T> {
        serde_json::from_str(self.0.get())
    }

    /// Parses it into a `serde_json::Value`.
    pub fn to_value(&self) -> serde_json::Value {
        // The text came from a successful JSON parse, so it parses again.
        self.parse().unwrap_or(serde_json::Value::Null)
    }

    /// The JSON `null`, for models built by hand.
    pub fn null() -> RawJson {
        RawJson(RawValue::from_string("null".to_owned()).expect("`null` is valid JSON"))
    }

    /// Wraps JSON text, checking that it is valid.
    pub fn from_string(json: String) -> serde_json::Result<RawJson> {
        RawValue::from_string(json).map(RawJson)
    }
}

impl Default for RawJson {
    fn default() -> Self {
        RawJson::null()
    }
}

impl fmt::Debug for RawJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = self.get();
        if text.len() <= 120 {
            write!(f, "RawJson({text})")
        } else {
            let mut cut = 120;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            write!(f, "RawJson({}… {} bytes)", &text[..cut], text.len())
        }
    }
}

impl<'de> Deserialize<'de> for RawJson {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Box::<RawValue>::deserialize(d).map(RawJson)
    }
}

impl Serialize for RawJson {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

/// Decodes `T` from raw JSON; a failure names the path inside this value.
pub(crate) fn parse_raw<T: DeserializeOwned, E: serde::de::Error>(raw: &RawJson) -> Result<T, E> {
    // Fast path without path tracking; on failure decode again to find where.
    if let Ok(value) = serde_json::from_str(raw.get()) {
        return Ok(value);
    }
    let mut de = serde_json::Deserializer::from_str(raw.get());
    serde_path_to_error::deserialize::<_, T>(&mut de).map_err(|err| {
        let path = err.path().to_string();
        if path == "." {
            E::custom(err.into_inner())
        } else {
            E::custom(format!("at `{path}`: {}", err.into_inner()))
        }
    })
}

/// A list that may be `null`.
pub(crate) fn vec_or_null<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

/// Declares a model that is decoded into typed fields and also keeps its raw JSON in `raw`.
///
/// Every field is optional or defaulted (the container has `#[serde(default)]`), so a missing field,
/// a `tree=` that did not ask for it, or an old server never breaks decoding.
macro_rules! raw_model {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $( $(#[$fmeta:meta])* pub $field:ident : $ty:ty, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, serde::Serialize)]
        #[serde(rename_all = "camelCase")]
        #[non_exhaustive]
        pub struct $name {
            $( $(#[$fmeta])* pub $field: $ty, )*
            /// The JSON object exactly as the server sent it, unknown fields included.
            #[serde(skip)]
            pub raw: $crate::models::RawJson,
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                #[derive(serde::Deserialize, Default)]
                #[serde(rename_all = "camelCase", default)]
                struct Shadow {
                    $( $(#[$fmeta])* $field: $ty, )*
                }
                let raw = $crate::models::RawJson::deserialize(d)?;
                let shadow: Shadow = $crate::models::raw::parse_raw(&raw)?;
                Ok($name { $( $field: shadow.$field, )* raw })
            }
        }
    };
}
pub(crate) use raw_model;
