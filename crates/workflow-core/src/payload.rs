//! Payload conversion compatible with the other Temporal SDKs.
//!
//! A value crosses the wire as a [`Payload`]: bytes plus metadata whose `encoding` key says how
//! to read them. The default converter picks the encoding the Python, Go and TypeScript SDKs
//! pick for the same value, so a Rust struct and a Python dataclass with the same fields
//! exchange data:
//!
//! | Rust value | encoding |
//! | --- | --- |
//! | `()`, `None`, anything serializing to JSON `null` | `binary/null` |
//! | [`Bytes`] | `binary/plain` |
//! | [`ProtoJson<M>`] (a prost message) | `json/protobuf` (+ `messageType`) |
//! | any other `serde` type | `json/plain` |
//!
//! JSON is written the way Python's converter writes it (keys sorted, compact, non-ASCII
//! escaped), so the same value produces the same bytes in both SDKs.
//!
//! ```
//! use workflow_core::payload::{PayloadConverter, Bytes};
//!
//! let converter = PayloadConverter::default();
//! let payload = converter.to_payload(&vec![1, 2, 3])?;
//! assert_eq!(payload.data, b"[1,2,3]");
//! let back: Vec<i32> = converter.from_payload(&payload)?;
//! assert_eq!(back, [1, 2, 3]);
//!
//! let raw = converter.to_payload(&Bytes::from(vec![0u8, 255]))?;
//! assert_eq!(raw.metadata["encoding"], b"binary/plain");
//! # Ok::<(), workflow_core::payload::PayloadError>(())
//! ```

use std::collections::HashMap;
use std::fmt;
use std::io;

use prost::Message;
use serde::Serialize;
use serde::de::{DeserializeOwned, IntoDeserializer};

pub use temporalio_protos::temporal::api::common::v1::Payload;

/// Metadata key that names a payload's encoding.
pub const ENCODING_KEY: &str = "encoding";
/// Metadata key that names the protobuf message type of a `json/protobuf` payload.
pub const MESSAGE_TYPE_KEY: &str = "messageType";
/// Encoding of `None` / `()`.
pub const BINARY_NULL: &str = "binary/null";
/// Encoding of raw bytes.
pub const BINARY_PLAIN: &str = "binary/plain";
/// Encoding of protobuf messages in their canonical JSON form.
pub const JSON_PROTOBUF: &str = "json/protobuf";
/// Encoding of protobuf messages in their binary form.
pub const BINARY_PROTOBUF: &str = "binary/protobuf";
/// Encoding of everything else: JSON via `serde_json`.
pub const JSON_PLAIN: &str = "json/plain";

/// Temporal's default limit for one payload (and for one argument list): 2 MB.
pub const DEFAULT_PAYLOAD_SIZE_LIMIT: usize = 2 * 1024 * 1024;

/// Why a value could not be turned into a payload or back.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum PayloadError {
    /// The encoded payload is bigger than the configured limit; nothing was sent.
    #[error("payload of {size} bytes exceeds the limit of {limit} bytes")]
    TooLarge {
        /// Encoded size in bytes.
        size: usize,
        /// The limit in bytes.
        limit: usize,
    },
    /// The value could not be serialized.
    #[error("cannot encode a value of type `{type_name}`: {message}")]
    Encode {
        /// Rust type being encoded.
        type_name: &'static str,
        /// What the serializer reported.
        message: String,
    },
    /// The payload could not be read as the requested type.
    #[error("cannot decode a `{encoding}` payload as `{type_name}`: {message}")]
    Decode {
        /// Rust type being decoded.
        type_name: &'static str,
        /// The payload's encoding.
        encoding: String,
        /// What the deserializer reported.
        message: String,
    },
    /// The payload's encoding is not one this converter knows.
    #[error(
        "unknown payload encoding `{encoding}` (known: binary/null, binary/plain, json/plain, json/protobuf, binary/protobuf)"
    )]
    UnknownEncoding {
        /// The encoding found in the metadata.
        encoding: String,
    },
    /// The payload has no `encoding` metadata.
    #[error("payload has no `encoding` metadata")]
    MissingEncoding,
    /// A required argument was not sent.
    #[error("argument {index} is missing: {received} payload(s) received")]
    MissingArgument {
        /// Zero-based position of the missing argument.
        index: usize,
        /// How many payloads arrived.
        received: usize,
    },
}

/// Encodes values to payloads and back, enforcing a size limit.
///
/// ```
/// use workflow_core::payload::{PayloadConverter, PayloadError};
///
/// let small = PayloadConverter::default().with_size_limit(8);
/// let err = small.to_payload(&"far too long for eight bytes".to_string()).unwrap_err();
/// assert!(matches!(err, PayloadError::TooLarge { limit: 8, .. }));
/// ```
#[derive(Debug, Clone)]
pub struct PayloadConverter {
    size_limit: usize,
}

impl Default for PayloadConverter {
    fn default() -> Self {
        Self {
            size_limit: DEFAULT_PAYLOAD_SIZE_LIMIT,
        }
    }
}

impl PayloadConverter {
    /// Sets the largest encoded payload (and argument list) accepted, in bytes.
    pub fn with_size_limit(mut self, bytes: usize) -> Self {
        self.size_limit = bytes;
        self
    }

    /// The largest encoded payload accepted, in bytes.
    pub fn size_limit(&self) -> usize {
        self.size_limit
    }

    /// Encodes one value, refusing it if it exceeds the size limit.
    pub fn to_payload<T: PayloadValue>(&self, value: &T) -> Result<Payload, PayloadError> {
        let payload = value.to_payload()?;
        self.check_size(payload.encoded_len())?;
        Ok(payload)
    }

    /// Decodes one value.
    pub fn from_payload<T: PayloadValue>(&self, payload: &Payload) -> Result<T, PayloadError> {
        T::from_payload(payload)
    }

    /// Encodes an argument list as one payload per argument, refusing the list if any payload
    /// or their sum exceeds the size limit (the server checks the sum).
    pub fn to_payloads<A: PayloadArgs>(&self, args: &A) -> Result<Vec<Payload>, PayloadError> {
        let payloads = args.to_payloads()?;
        self.check_size(payloads.iter().map(Message::encoded_len).sum())?;
        Ok(payloads)
    }

    /// Decodes an argument list.
    pub fn from_payloads<A: PayloadArgs>(&self, payloads: &[Payload]) -> Result<A, PayloadError> {
        A::from_payloads(payloads)
    }

    fn check_size(&self, size: usize) -> Result<(), PayloadError> {
        if size > self.size_limit {
            return Err(PayloadError::TooLarge {
                size,
                limit: self.size_limit,
            });
        }
        Ok(())
    }
}

/// A value that travels as exactly one payload.
///
/// Implemented for every `serde` type (`json/plain`, or `binary/null` when it serializes to
/// `null`), for [`Bytes`], [`ProtoJson`] and [`RawPayload`].
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be sent as a Temporal payload",
    label = "not convertible to a payload",
    note = "derive `serde::Serialize` and `serde::Deserialize` for it, wrap raw bytes in `Bytes`, or a protobuf message in `ProtoJson`"
)]
pub trait PayloadValue: Sized + Send + 'static {
    /// Encodes the value (without the size check; use [`PayloadConverter::to_payload`]).
    fn to_payload(&self) -> Result<Payload, PayloadError>;
    /// Decodes a value.
    fn from_payload(payload: &Payload) -> Result<Self, PayloadError>;
}

impl<T: Serialize + DeserializeOwned + Send + 'static> PayloadValue for T {
    fn to_payload(&self) -> Result<Payload, PayloadError> {
        let value = serde_json::to_value(self).map_err(|e| encode_error::<T>(e))?;
        if value.is_null() {
            return Ok(null_payload());
        }
        Ok(Payload {
            metadata: encoding_metadata(JSON_PLAIN),
            data: to_python_json(&value).map_err(|e| encode_error::<T>(e))?,
            ..Default::default()
        })
    }

    fn from_payload(payload: &Payload) -> Result<Self, PayloadError> {
        let encoding = encoding_of(payload)?;
        let decoded = match encoding {
            BINARY_NULL => T::deserialize(serde_json::Value::Null).map_err(|e| e.to_string()),
            JSON_PLAIN | JSON_PROTOBUF => {
                serde_json::from_slice(&payload.data).map_err(|e| e.to_string())
            }
            BINARY_PLAIN => T::deserialize(BytesDeserializer(&payload.data))
                .map_err(|e: serde::de::value::Error| e.to_string()),
            other => {
                return Err(PayloadError::UnknownEncoding {
                    encoding: other.to_owned(),
                });
            }
        };
        decoded.map_err(|message| decode_error::<T>(encoding, message))
    }
}

/// Raw bytes, sent as `binary/plain` (Python `bytes`).
///
/// ```
/// use workflow_core::payload::{Bytes, PayloadValue};
/// let payload = Bytes::from(b"\x00raw".to_vec()).to_payload()?;
/// assert_eq!(payload.data, b"\x00raw");
/// # Ok::<(), workflow_core::payload::PayloadError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Bytes(pub Vec<u8>);

impl From<Vec<u8>> for Bytes {
    fn from(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }
}

impl From<Bytes> for Vec<u8> {
    fn from(bytes: Bytes) -> Self {
        bytes.0
    }
}

impl std::ops::Deref for Bytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl PayloadValue for Bytes {
    fn to_payload(&self) -> Result<Payload, PayloadError> {
        Ok(Payload {
            metadata: encoding_metadata(BINARY_PLAIN),
            data: self.0.clone(),
            ..Default::default()
        })
    }

    fn from_payload(payload: &Payload) -> Result<Self, PayloadError> {
        match encoding_of(payload)? {
            BINARY_PLAIN => Ok(Self(payload.data.clone())),
            other => Err(decode_error::<Self>(
                other,
                "expected `binary/plain`".into(),
            )),
        }
    }
}

/// A protobuf message sent as `json/protobuf` with its `messageType`, as the other SDKs do.
///
/// The message must have proto3-JSON `serde` impls (as `pbjson` generates); decoding also
/// accepts `binary/protobuf`. (The wire types of `temporalio-protos` have them with its
/// `serde_serialize` feature.)
///
/// ```
/// use serde::{Deserialize, Serialize};
/// use workflow_core::payload::{ProtoJson, PayloadValue};
///
/// #[derive(Clone, PartialEq, prost::Message, Serialize, Deserialize)]
/// struct Greeting {
///     #[prost(string, tag = "1")]
///     name: String,
/// }
///
/// impl prost::Name for Greeting {
///     const NAME: &'static str = "Greeting";
///     const PACKAGE: &'static str = "example.v1";
/// }
///
/// let payload = ProtoJson(Greeting { name: "Ada".into() }).to_payload()?;
/// assert_eq!(payload.metadata["messageType"], b"example.v1.Greeting");
/// assert_eq!(payload.data, br#"{"name":"Ada"}"#);
/// # Ok::<(), workflow_core::payload::PayloadError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProtoJson<M>(pub M);

impl<M> PayloadValue for ProtoJson<M>
where
    M: prost::Message + prost::Name + Default + Serialize + DeserializeOwned + Send + 'static,
{
    fn to_payload(&self) -> Result<Payload, PayloadError> {
        let value = serde_json::to_value(&self.0).map_err(|e| encode_error::<M>(e))?;
        let mut metadata = encoding_metadata(JSON_PROTOBUF);
        metadata.insert(MESSAGE_TYPE_KEY.to_owned(), M::full_name().into_bytes());
        Ok(Payload {
            metadata,
            data: to_python_json(&value).map_err(|e| encode_error::<M>(e))?,
            ..Default::default()
        })
    }

    fn from_payload(payload: &Payload) -> Result<Self, PayloadError> {
        let encoding = encoding_of(payload)?;
        if let Some(sent) = payload.metadata.get(MESSAGE_TYPE_KEY) {
            let expected = M::full_name();
            if sent.as_slice() != expected.as_bytes() {
                let message = format!(
                    "message type is `{}`, expected `{expected}`",
                    String::from_utf8_lossy(sent)
                );
                return Err(decode_error::<M>(encoding, message));
            }
        }
        match encoding {
            JSON_PROTOBUF => serde_json::from_slice(&payload.data)
                .map(Self)
                .map_err(|e| decode_error::<M>(encoding, e.to_string())),
            BINARY_PROTOBUF => M::decode(payload.data.as_slice())
                .map(Self)
                .map_err(|e| decode_error::<M>(encoding, e.to_string())),
            other => Err(decode_error::<M>(
                other,
                "expected `json/protobuf` or `binary/protobuf`".into(),
            )),
        }
    }
}

/// A payload passed through untouched, for values whose type is not known here.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RawPayload(pub Payload);

impl PayloadValue for RawPayload {
    fn to_payload(&self) -> Result<Payload, PayloadError> {
        Ok(self.0.clone())
    }

    fn from_payload(payload: &Payload) -> Result<Self, PayloadError> {
        Ok(Self(payload.clone()))
    }
}

/// An argument list of payloads passed through untouched.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RawPayloads(pub Vec<Payload>);

impl PayloadArgs for RawPayloads {
    fn to_payloads(&self) -> Result<Vec<Payload>, PayloadError> {
        Ok(self.0.clone())
    }

    fn from_payloads(payloads: &[Payload]) -> Result<Self, PayloadError> {
        Ok(Self(payloads.to_vec()))
    }
}

/// An argument list: what a workflow, activity, signal or query takes.
///
/// One value is one payload; `()` is no argument at all. Several arguments, as workflows
/// written in other languages may take, are a tuple wrapped in [`Args`] and travel as several
/// payloads.
///
/// ```
/// use workflow_core::payload::{Args, PayloadArgs};
/// let payloads = Args(("a".to_string(), 2, None::<String>)).to_payloads()?;
/// assert_eq!(payloads.len(), 3);
/// assert!(().to_payloads()?.is_empty());
/// # Ok::<(), workflow_core::payload::PayloadError>(())
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be sent as Temporal arguments",
    note = "one argument must be a `serde` type; several arguments are a tuple wrapped in `Args((a, b))`"
)]
pub trait PayloadArgs: Sized + Send + 'static {
    /// Encodes the arguments, one payload each (no size check; see [`PayloadConverter`]).
    fn to_payloads(&self) -> Result<Vec<Payload>, PayloadError>;
    /// Decodes the arguments. A missing trailing argument decodes as `binary/null`, so
    /// `Option` parameters may be omitted by the caller.
    fn from_payloads(payloads: &[Payload]) -> Result<Self, PayloadError>;
}

impl<T: PayloadValue> PayloadArgs for T {
    fn to_payloads(&self) -> Result<Vec<Payload>, PayloadError> {
        // `()` is "no argument", as a call without arguments is in the other SDKs.
        if std::any::TypeId::of::<T>() == std::any::TypeId::of::<()>() {
            return Ok(Vec::new());
        }
        Ok(vec![self.to_payload()?])
    }

    fn from_payloads(payloads: &[Payload]) -> Result<Self, PayloadError> {
        argument(payloads, 0)
    }
}

/// Several arguments, sent as one payload each. See [`PayloadArgs`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Args<T>(pub T);

fn argument<T: PayloadValue>(payloads: &[Payload], index: usize) -> Result<T, PayloadError> {
    match payloads.get(index) {
        Some(payload) => T::from_payload(payload),
        None => T::from_payload(&null_payload()).map_err(|_| PayloadError::MissingArgument {
            index,
            received: payloads.len(),
        }),
    }
}

macro_rules! impl_args_for_tuple {
    ($($name:ident $index:tt),*) => {
        impl<$($name: PayloadValue),*> PayloadArgs for Args<($($name,)*)> {
            fn to_payloads(&self) -> Result<Vec<Payload>, PayloadError> {
                Ok(vec![$(self.0.$index.to_payload()?),*])
            }

            #[allow(unused_variables)]
            fn from_payloads(payloads: &[Payload]) -> Result<Self, PayloadError> {
                Ok(Args(($(argument::<$name>(payloads, $index)?,)*)))
            }
        }
    };
}

impl_args_for_tuple!();
impl_args_for_tuple!(A 0);
impl_args_for_tuple!(A 0, B 1);
impl_args_for_tuple!(A 0, B 1, C 2);
impl_args_for_tuple!(A 0, B 1, C 2, D 3);
impl_args_for_tuple!(A 0, B 1, C 2, D 3, E 4);
impl_args_for_tuple!(A 0, B 1, C 2, D 3, E 4, F 5);
impl_args_for_tuple!(A 0, B 1, C 2, D 3, E 4, F 5, G 6);
impl_args_for_tuple!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);

/// The `binary/null` payload.
pub fn null_payload() -> Payload {
    Payload {
        metadata: encoding_metadata(BINARY_NULL),
        ..Default::default()
    }
}

/// The encoding named in a payload's metadata.
pub fn encoding_of(payload: &Payload) -> Result<&str, PayloadError> {
    let raw = payload
        .metadata
        .get(ENCODING_KEY)
        .ok_or(PayloadError::MissingEncoding)?;
    std::str::from_utf8(raw).map_err(|_| PayloadError::UnknownEncoding {
        encoding: String::from_utf8_lossy(raw).into_owned(),
    })
}

fn encoding_metadata(encoding: &str) -> HashMap<String, Vec<u8>> {
    HashMap::from([(ENCODING_KEY.to_owned(), encoding.as_bytes().to_vec())])
}

fn encode_error<T>(error: impl fmt::Display) -> PayloadError {
    PayloadError::Encode {
        type_name: std::any::type_name::<T>(),
        message: error.to_string(),
    }
}

fn decode_error<T>(encoding: &str, message: String) -> PayloadError {
    PayloadError::Decode {
        type_name: std::any::type_name::<T>(),
        encoding: encoding.to_owned(),
        message,
    }
}

/// Writes JSON as Python's `json.dumps(v, separators=(",", ":"), sort_keys=True)` does:
/// `serde_json::Value` maps are already sorted; this escapes everything outside printable
/// ASCII as `\uXXXX`.
pub(crate) fn to_python_json(value: &serde_json::Value) -> Result<Vec<u8>, serde_json::Error> {
    let mut out = Vec::with_capacity(128);
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, AsciiFormatter);
    value.serialize(&mut serializer)?;
    Ok(out)
}

struct AsciiFormatter;

impl serde_json::ser::Formatter for AsciiFormatter {
    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut start = 0;
        for (index, ch) in fragment.char_indices() {
            if (' '..='~').contains(&ch) {
                continue;
            }
            writer.write_all(&fragment.as_bytes()[start..index])?;
            let mut units = [0u16; 2];
            for unit in ch.encode_utf16(&mut units) {
                write!(writer, "\\u{unit:04x}")?;
            }
            start = index + ch.len_utf8();
        }
        writer.write_all(&fragment.as_bytes()[start..])
    }
}

/// Feeds `binary/plain` data to serde: as bytes, as a sequence of `u8` (`Vec<u8>`), or as
/// `Some(bytes)`.
struct BytesDeserializer<'a>(&'a [u8]);

impl<'de> serde::Deserializer<'de> for BytesDeserializer<'_> {
    type Error = serde::de::value::Error;

    fn deserialize_any<V: serde::de::Visitor<'de>>(
        self,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        visitor.visit_byte_buf(self.0.to_vec())
    }

    fn deserialize_option<V: serde::de::Visitor<'de>>(
        self,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        visitor.visit_some(self)
    }

    fn deserialize_seq<V: serde::de::Visitor<'de>>(
        self,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        visitor.visit_seq(serde::de::value::SeqDeserializer::new(
            self.0
                .iter()
                .copied()
                .map(IntoDeserializer::into_deserializer),
        ))
    }

    fn deserialize_newtype_struct<V: serde::de::Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        visitor.visit_newtype_struct(self)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct tuple tuple_struct map struct enum identifier ignored_any
    }
}
