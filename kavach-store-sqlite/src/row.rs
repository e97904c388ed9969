//! `Value` ⇄ SQLite encoding per [`ColumnKind`] and [`TimestampMode`].
//!
//! Writing follows what KavachOS's core writes (Drizzle): timestamps as
//! INTEGER Unix seconds (milliseconds for `kavach_login_history.timestamp`),
//! JSON as TEXT, booleans as INTEGER 0/1. Reading accepts every form real
//! KavachOS files hold: INTEGER seconds, INTEGER milliseconds (|v| ≥ 10^11),
//! REAL, and ISO-8601 TEXT (Prisma's SQLite driver adapter default).

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use kavach_store_core::{ColumnKind, StoreError, TableDef, Value};
use rusqlite::types::{Value as SqlValue, ValueRef};

/// How timestamps are stored.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum TimestampMode {
    /// What KavachOS's core writes, so both can share a file: Unix **seconds**
    /// (floor) in every timestamp column except `kavach_login_history.timestamp`
    /// (Unix milliseconds). The sub-second part of other columns is lost.
    #[default]
    KavachOs,
    /// Unix **milliseconds** everywhere (the contract's full precision), for
    /// databases not shared with KavachOS's core (which would read these
    /// values as dates ~1000× in the future).
    Millis,
}

/// The unit a timestamp column is stored (and compared) in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TimestampUnit {
    /// Whole Unix seconds.
    Seconds,
    /// Unix milliseconds.
    Millis,
}

impl TimestampMode {
    /// The unit of a column of this kind, or `None` when it is not a timestamp.
    pub fn unit(self, kind: ColumnKind) -> Option<TimestampUnit> {
        match (self, kind) {
            (TimestampMode::KavachOs, ColumnKind::Timestamp) => Some(TimestampUnit::Seconds),
            (_, ColumnKind::Timestamp | ColumnKind::TimestampMs) => Some(TimestampUnit::Millis),
            _ => None,
        }
    }
}

/// Integers at or above this magnitude are milliseconds, below it seconds
/// (10^11 s is the year 5138; 10^11 ms is March 1973).
pub(crate) const MILLIS_THRESHOLD: i64 = 100_000_000_000;

/// The encoder/decoder of one store.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Codec {
    pub(crate) mode: TimestampMode,
}

fn invalid(table: &TableDef, column: &str, reason: impl Into<String>) -> StoreError {
    StoreError::invalid_input(format!("{}.{column}", table.name), reason)
}

/// ISO-8601 with milliseconds and `Z`, the form Prisma's adapter writes.
fn iso_text(t: DateTime<Utc>) -> Option<String> {
    use chrono::Datelike;
    (0..=9999)
        .contains(&t.year())
        .then(|| t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
}

impl Codec {
    /// The value to write into `column`.
    pub(crate) fn encode(
        &self,
        table: &TableDef,
        column: &str,
        kind: ColumnKind,
        value: &Value,
    ) -> Result<SqlValue, StoreError> {
        Ok(match value {
            Value::Null => SqlValue::Null,
            Value::Bool(b) => SqlValue::Integer(*b as i64),
            Value::Int(i) => SqlValue::Integer(*i),
            Value::Text(s) => SqlValue::Text(s.clone()),
            Value::Json(j) => SqlValue::Text(j.to_string()),
            Value::Timestamp(t) => {
                let unit = self.mode.unit(kind).unwrap_or(TimestampUnit::Millis);
                let ms = t.timestamp_millis();
                let n = match unit {
                    TimestampUnit::Seconds => ms.div_euclid(1000),
                    TimestampUnit::Millis => ms,
                };
                // An integer that the reader would take for the other unit
                // (ms before March 1973, seconds after year 5138) is written as
                // ISO-8601 text instead, which reads back unambiguously.
                let ambiguous = match unit {
                    TimestampUnit::Seconds => n.abs() >= MILLIS_THRESHOLD,
                    TimestampUnit::Millis => n.abs() < MILLIS_THRESHOLD,
                };
                if ambiguous {
                    SqlValue::Text(iso_text(*t).ok_or_else(|| {
                        invalid(table, column, "timestamp outside years 0..=9999")
                    })?)
                } else {
                    SqlValue::Integer(n)
                }
            }
        })
    }

    /// A comparison operand for `column`: timestamps become integers in the
    /// column's unit (floored), matching [`crate::sql`]'s normalising expression.
    pub(crate) fn encode_operand(&self, kind: ColumnKind, value: &Value) -> SqlValue {
        match value {
            Value::Timestamp(t) => {
                let ms = t.timestamp_millis();
                match self.mode.unit(kind) {
                    Some(TimestampUnit::Seconds) => SqlValue::Integer(ms.div_euclid(1000)),
                    _ => SqlValue::Integer(ms),
                }
            }
            Value::Null => SqlValue::Null,
            Value::Bool(b) => SqlValue::Integer(*b as i64),
            Value::Int(i) => SqlValue::Integer(*i),
            Value::Text(s) => SqlValue::Text(s.clone()),
            Value::Json(j) => SqlValue::Text(j.to_string()),
        }
    }

    /// Decodes a stored value of a column of `kind`.
    pub(crate) fn decode(
        &self,
        table: &'static str,
        column: &str,
        kind: ColumnKind,
        v: ValueRef<'_>,
    ) -> Result<Value, StoreError> {
        let fail = |reason: String| StoreError::Decode {
            table,
            column: column.to_string(),
            reason,
        };
        if let ValueRef::Null = v {
            return Ok(Value::Null);
        }
        Ok(match kind {
            ColumnKind::Text => match v {
                ValueRef::Text(t) => Value::Text(utf8(t).map_err(fail)?),
                ValueRef::Integer(i) => Value::Text(i.to_string()),
                ValueRef::Real(f) => Value::Text(f.to_string()),
                ValueRef::Blob(b) => Value::Text(utf8(b).map_err(fail)?),
                ValueRef::Null => Value::Null,
            },
            ColumnKind::Int => match v {
                ValueRef::Integer(i) => Value::Int(i),
                ValueRef::Real(f) if f.fract() == 0.0 && f.abs() < 9.2e18 => Value::Int(f as i64),
                ValueRef::Text(t) => {
                    let s = utf8(t).map_err(fail)?;
                    Value::Int(
                        s.trim()
                            .parse()
                            .map_err(|_| fail(format!("expected an integer, found text {s:?}")))?,
                    )
                }
                other => {
                    return Err(fail(format!(
                        "expected an integer, found {:?}",
                        other.data_type()
                    )));
                }
            },
            // Drizzle's boolean mode: true iff the value equals 1.
            ColumnKind::Bool | ColumnKind::IntBool => match v {
                ValueRef::Integer(i) => Value::Bool(i == 1),
                ValueRef::Real(f) => Value::Bool(f == 1.0),
                ValueRef::Text(t) => {
                    let s = utf8(t).map_err(fail)?;
                    Value::Bool(s == "1" || s.eq_ignore_ascii_case("true"))
                }
                other => {
                    return Err(fail(format!(
                        "expected a boolean, found {:?}",
                        other.data_type()
                    )));
                }
            },
            ColumnKind::Timestamp | ColumnKind::TimestampMs => {
                Value::Timestamp(decode_timestamp(v).map_err(fail)?)
            }
            ColumnKind::Json => match v {
                ValueRef::Text(t) | ValueRef::Blob(t) => Value::Json(
                    serde_json::from_slice(t).map_err(|e| fail(format!("invalid JSON: {e}")))?,
                ),
                ValueRef::Integer(i) => Value::Json(i.into()),
                ValueRef::Real(f) => Value::Json(
                    serde_json::Number::from_f64(f).map_or(serde_json::Value::Null, Into::into),
                ),
                ValueRef::Null => Value::Null,
            },
            // `ColumnKind` is non-exhaustive: keep unknown kinds readable.
            _ => match v {
                ValueRef::Integer(i) => Value::Int(i),
                ValueRef::Text(t) => Value::Text(utf8(t).map_err(fail)?),
                other => {
                    return Err(fail(format!(
                        "unsupported column kind for {:?}",
                        other.data_type()
                    )));
                }
            },
        })
    }

    /// Decodes the output of the normalising expression of a timestamp
    /// column (an integer in the column's unit), e.g. a `GROUP BY` key.
    pub(crate) fn decode_normalised(&self, kind: ColumnKind, v: ValueRef<'_>) -> Option<Value> {
        let ValueRef::Integer(n) = v else { return None };
        let ms = match self.mode.unit(kind)? {
            TimestampUnit::Seconds => n.checked_mul(1000)?,
            TimestampUnit::Millis => n,
        };
        Utc.timestamp_millis_opt(ms).single().map(Value::Timestamp)
    }
}

fn utf8(b: &[u8]) -> Result<String, String> {
    std::str::from_utf8(b)
        .map(str::to_owned)
        .map_err(|e| format!("invalid UTF-8: {e}"))
}

/// Reads any stored timestamp form, truncated to milliseconds.
pub(crate) fn decode_timestamp(v: ValueRef<'_>) -> Result<DateTime<Utc>, String> {
    let ms = match v {
        ValueRef::Integer(i) => {
            integer_millis(i).ok_or_else(|| format!("timestamp {i} out of range"))?
        }
        ValueRef::Real(f) => {
            let ms = if f.abs() >= MILLIS_THRESHOLD as f64 {
                f
            } else {
                f * 1000.0
            };
            if !ms.is_finite() || ms.abs() > 9.0e15 {
                return Err(format!("timestamp {f} out of range"));
            }
            // Truncation, as `CAST(x AS INTEGER)` in the SQL normalisation.
            ms as i64
        }
        ValueRef::Text(t) => {
            let s = std::str::from_utf8(t).map_err(|e| format!("invalid UTF-8: {e}"))?;
            parse_text_timestamp(s).ok_or_else(|| format!("unrecognised timestamp text {s:?}"))?
        }
        ValueRef::Blob(_) => return Err("expected a timestamp, found a blob".into()),
        ValueRef::Null => return Err("unexpected NULL".into()),
    };
    Utc.timestamp_millis_opt(ms)
        .single()
        .ok_or_else(|| format!("timestamp {ms} ms out of range"))
}

fn integer_millis(i: i64) -> Option<i64> {
    if i.abs() >= MILLIS_THRESHOLD {
        Some(i)
    } else {
        i.checked_mul(1000)
    }
}

/// ISO-8601 / RFC 3339 text (with `T` or a space, optional fraction, `Z` or
/// an offset; no zone means UTC, as SQLite's date functions assume), or a
/// date alone. Returns Unix milliseconds.
pub(crate) fn parse_text_timestamp(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Ok(i) = s.parse::<i64>() {
        return integer_millis(i);
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.timestamp_millis());
    }
    for f in [
        "%Y-%m-%dT%H:%M:%S%.f%:z",
        "%Y-%m-%d %H:%M:%S%.f%:z",
        "%Y-%m-%dT%H:%M%:z",
        "%Y-%m-%d %H:%M%:z",
    ] {
        if let Ok(t) = DateTime::parse_from_str(s, f) {
            return Some(t.timestamp_millis());
        }
    }
    let naive = s.strip_suffix(['Z', 'z']).unwrap_or(s);
    for f in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(naive, f) {
            return Some(t.and_utc().timestamp_millis());
        }
    }
    NaiveDate::parse_from_str(naive, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc().timestamp_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: ValueRef<'_>) -> i64 {
        decode_timestamp(v).unwrap().timestamp_millis()
    }

    #[test]
    fn reads_every_stored_form() {
        assert_eq!(ms(ValueRef::Integer(1_774_234_575)), 1_774_234_575_000);
        assert_eq!(ms(ValueRef::Integer(1_774_234_363_583)), 1_774_234_363_583);
        assert_eq!(ms(ValueRef::Real(1_774_234_575.5)), 1_774_234_575_500);
        assert_eq!(ms(ValueRef::Real(1_774_234_363_583.0)), 1_774_234_363_583);
        assert_eq!(
            ms(ValueRef::Text(b"2026-03-23T02:56:15.123Z")),
            1_774_234_575_123
        );
        assert_eq!(
            ms(ValueRef::Text(b"2026-03-23 02:56:15.123")),
            1_774_234_575_123
        );
        assert_eq!(
            ms(ValueRef::Text(b"2026-03-23T04:56:15.123+02:00")),
            1_774_234_575_123
        );
        assert_eq!(
            ms(ValueRef::Text(b"2026-03-23T02:56:15Z")),
            1_774_234_575_000
        );
        assert_eq!(ms(ValueRef::Text(b"2026-03-23")), 1_774_224_000_000);
        assert!(decode_timestamp(ValueRef::Text(b"yesterday")).is_err());
    }

    #[test]
    fn writes_seconds_in_kavachos_mode_and_millis_for_login_history() {
        let def = kavach_store_core::all_tables()[0];
        let t = Utc.timestamp_millis_opt(1_774_234_575_999).unwrap();
        let kav = Codec {
            mode: TimestampMode::KavachOs,
        };
        let ms = Codec {
            mode: TimestampMode::Millis,
        };
        let v = Value::Timestamp(t);
        assert_eq!(
            kav.encode(def, "c", ColumnKind::Timestamp, &v).unwrap(),
            SqlValue::Integer(1_774_234_575)
        );
        assert_eq!(
            kav.encode(def, "c", ColumnKind::TimestampMs, &v).unwrap(),
            SqlValue::Integer(1_774_234_575_999)
        );
        assert_eq!(
            ms.encode(def, "c", ColumnKind::Timestamp, &v).unwrap(),
            SqlValue::Integer(1_774_234_575_999)
        );
        // Before 1970: floor, not truncation toward zero.
        let early = Value::Timestamp(Utc.timestamp_millis_opt(-1_500).unwrap());
        assert_eq!(
            kav.encode(def, "c", ColumnKind::Timestamp, &early).unwrap(),
            SqlValue::Integer(-2)
        );
        // 1970 in milliseconds would read back as seconds: written as text.
        let sixties = Value::Timestamp(Utc.timestamp_millis_opt(86_400_000).unwrap());
        assert_eq!(
            ms.encode(def, "c", ColumnKind::Timestamp, &sixties)
                .unwrap(),
            SqlValue::Text("1970-01-02T00:00:00.000Z".into())
        );
    }

    #[test]
    fn booleans_read_one_as_true() {
        let c = Codec {
            mode: TimestampMode::KavachOs,
        };
        let d = |v| c.decode("t", "c", ColumnKind::Bool, v).unwrap();
        assert_eq!(d(ValueRef::Integer(1)), Value::Bool(true));
        assert_eq!(d(ValueRef::Integer(0)), Value::Bool(false));
        assert_eq!(d(ValueRef::Integer(2)), Value::Bool(false));
        assert_eq!(d(ValueRef::Null), Value::Null);
    }
}
