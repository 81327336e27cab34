//! Keeping what the server sent: every top-level model holds its JSON object verbatim, so data no
//! model knows (plugin fields, new server versions) is never lost.

use std::fmt;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;

/// A JSON value exactly as the server sent it.
///
/// Models decoded from bytes (everything the client crates return) carry one; deserializing a model from a
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

    /// The text of this object without its top-level member `key` (a folder's `jobs`, which
    /// have rows of their own), every other member as sent and in the server's order. Not an
    /// object, or no such member: the text as it is.
    pub fn without_member(&self, key: &str) -> String {
        let Ok(Members(members)) = serde_json::from_str::<Members<'_>>(self.get()) else {
            return self.get().to_owned();
        };
        if !members.iter().any(|(k, _)| k == key) {
            return self.get().to_owned();
        }
        let mut out = String::with_capacity(self.get().len());
        out.push('{');
        for (k, v) in members.iter().filter(|(k, _)| k != key) {
            if out.len() > 1 {
                out.push(',');
            }
            out.push_str(&serde_json::to_string(k).unwrap_or_default());
            out.push(':');
            out.push_str(v.get());
        }
        out.push('}');
        out
    }
}

/// An object's members in the order sent, values as text.
struct Members<'a>(Vec<(String, &'a RawValue)>);

impl<'de: 'a, 'a> Deserialize<'de> for Members<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for Visitor<'a> {
            type Value = Members<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Self::Value, A::Error> {
                let mut members = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, &'de RawValue>()? {
                    members.push((k, v));
                }
                Ok(Members(members))
            }
        }
        d.deserialize_map(Visitor(std::marker::PhantomData))
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

/// An item of a list with its identity ([`item_key`](crate::item_key) of its JSON text), for the
/// paginator's check that a page brings items not listed before ([`Page::keyed`](crate::Page::keyed)).
#[derive(Debug, Clone)]
pub struct Keyed<T> {
    /// The identity.
    pub key: u64,
    /// The item.
    pub item: T,
}

/// Decoded from text or bytes held in memory (`serde_json::from_slice`, `from_str`), as every
/// page is: the item's JSON is borrowed, hashed and decoded, not copied once more.
impl<'de, T: DeserializeOwned> Deserialize<'de> for Keyed<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = <&'de RawValue>::deserialize(d)?;
        let item = serde_json::from_str(raw.get())
            .map_err(|err| serde::de::Error::custom(raw_error(raw.get(), &err)))?;
        Ok(Keyed {
            key: crate::item_key(raw.get()),
            item,
        })
    }
}

/// Decodes `T` from raw JSON; a failure names the path inside this value. Used by [`raw_model!`].
#[doc(hidden)]
pub fn parse_raw<T: DeserializeOwned, E: serde::de::Error>(raw: &RawJson) -> Result<T, E> {
    serde_json::from_str(raw.get()).map_err(|err| E::custom(raw_error(raw.get(), &err)))
}

/// The message of a raw value that did not decode: where inside it, and why.
fn raw_error(raw: &str, err: &serde_json::Error) -> String {
    let path = crate::json_path::json_path_of(raw.as_bytes(), err);
    // Without serde_json's "at line L column C" (a place inside this value): serde_json reads
    // that suffix back from a custom error's message and would report it as the place in the
    // whole document.
    let text = err.to_string();
    let suffix = format!(" at line {} column {}", err.line(), err.column());
    let message = text.strip_suffix(&suffix).unwrap_or(&text);
    if path == "." {
        message.to_owned()
    } else {
        format!("at `{path}`: {message}")
    }
}

/// A list that may be `null` (serde `deserialize_with`).
pub fn vec_or_null<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

/// Declares a model that is decoded into typed fields and also keeps its raw JSON in `raw`.
///
/// Every field is optional or defaulted (the container has `#[serde(default)]`), so a missing
/// field, a request that did not ask for it, or an old server never breaks decoding. The first
/// line gives the server's spelling of field names (serde's `rename_all`).
///
/// ```
/// cidata_core::raw_model! {
///     rename_all = "snake_case";
///     /// A workflow.
///     pub struct Workflow {
///         /// Its id.
///         pub id: Option<String>,
///         /// Its tags.
///         #[serde(deserialize_with = "cidata_core::raw::vec_or_null")]
///         pub tags: Vec<String>,
///     }
/// }
/// let w: Workflow = serde_json::from_str(r#"{"id": "w1", "tags": null, "new_field": 1}"#).unwrap();
/// assert_eq!(w.id.as_deref(), Some("w1"));
/// assert!(w.raw.get().contains("new_field"));
/// ```
#[macro_export]
macro_rules! raw_model {
    (
        rename_all = $case:literal;
        $(#[$meta:meta])*
        pub struct $name:ident {
            $( $(#[$fmeta:meta])* pub $field:ident : $ty:ty, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, $crate::__serde::Serialize)]
        #[serde(crate = "::cidata_core::__serde", rename_all = $case)]
        #[non_exhaustive]
        pub struct $name {
            $( $(#[$fmeta])* pub $field: $ty, )*
            /// The JSON object exactly as the server sent it, unknown fields included.
            #[serde(skip)]
            pub raw: $crate::raw::RawJson,
        }

        impl<'de> $crate::__serde::Deserialize<'de> for $name {
            fn deserialize<D: $crate::__serde::Deserializer<'de>>(d: D) -> ::std::result::Result<Self, D::Error> {
                #[derive($crate::__serde::Deserialize, Default)]
                #[serde(crate = "::cidata_core::__serde", rename_all = $case, default)]
                struct Shadow {
                    $( $(#[$fmeta])* $field: $ty, )*
                }
                let raw = <$crate::raw::RawJson as $crate::__serde::Deserialize>::deserialize(d)?;
                let shadow: Shadow = $crate::raw::parse_raw(&raw)?;
                Ok($name { $( $field: shadow.$field, )* raw })
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_member_is_left_out_and_the_rest_kept_as_sent() {
        let raw = RawJson::from_string(
            r#"{"zeta":1.50,"_class":"Folder","jobs":[{"name":"a"}],"name":"f\u00e9","alpha":{"b":2, "a":1}}"#
                .to_owned(),
        )
        .unwrap();
        assert_eq!(
            raw.without_member("jobs"),
            r#"{"zeta":1.50,"_class":"Folder","name":"f\u00e9","alpha":{"b":2, "a":1}}"#
        );
        assert_eq!(raw.without_member("missing"), raw.get());
        let array = RawJson::from_string("[1,2]".to_owned()).unwrap();
        assert_eq!(array.without_member("jobs"), "[1,2]");
    }
}
