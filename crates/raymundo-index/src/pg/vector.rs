//! pgvector's `vector` type in the binary protocol: a 16-bit dimension, 16 unused bits, then
//! the values as big-endian `f32`.

use postgres::types::{to_sql_checked, FromSql, IsNull, ToSql, Type};
use std::error::Error;

type BoxError = Box<dyn Error + Sync + Send>;

/// A vector sent to or read from a `vector` column.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PgVector(pub Vec<f32>);

fn is_vector(ty: &Type) -> bool {
    ty.name() == "vector"
}

impl ToSql for PgVector {
    fn to_sql(&self, _: &Type, out: &mut bytes::BytesMut) -> Result<IsNull, BoxError> {
        let dim = u16::try_from(self.0.len())
            .map_err(|_| format!("a vector of {} values is too long", self.0.len()))?;
        out.extend_from_slice(&dim.to_be_bytes());
        out.extend_from_slice(&0u16.to_be_bytes());
        for v in &self.0 {
            out.extend_from_slice(&v.to_be_bytes());
        }
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        is_vector(ty)
    }

    to_sql_checked!();
}

impl<'a> FromSql<'a> for PgVector {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        let head: [u8; 4] = raw
            .get(..4)
            .and_then(|h| h.try_into().ok())
            .ok_or("a vector shorter than its header")?;
        let dim = u16::from_be_bytes([head[0], head[1]]) as usize;
        let body = &raw[4..];
        if body.len() != dim * 4 {
            return Err(format!("a vector of dimension {dim} with {} bytes", body.len()).into());
        }
        Ok(PgVector(
            body.chunks_exact(4)
                .map(|b| f32::from_be_bytes([b[0], b[1], b[2], b[3]]))
                .collect(),
        ))
    }

    fn accepts(ty: &Type) -> bool {
        is_vector(ty)
    }
}

/// The text form of a vector (`[0.1,-2,...]`), for `COPY`: each value in the shortest form
/// that reads back as the same `f32`.
pub(crate) fn text(values: &[f32]) -> String {
    let mut s = String::with_capacity(values.len() * 12 + 2);
    s.push('[');
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push_str(&v.to_string());
    }
    s.push(']');
    s
}
