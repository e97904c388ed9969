//! Model types, values and queries, without any backend.

use chrono::{TimeZone, Utc};
use kavach_store_core::prelude::*;

#[test]
fn every_table_is_listed_once_parents_first() {
    let tables = all_tables();
    assert_eq!(tables.len(), 48);
    let columns: usize = tables.iter().map(|t| t.columns.len()).sum();
    assert_eq!(columns, 396, "the DDL has 396 columns");
    for (i, t) in tables.iter().enumerate() {
        assert!(t.name.starts_with("kavach_"));
        assert!(t.column(t.primary_key).is_some(), "{}: key column", t.name);
        for fk in &t.foreign_keys {
            let parent = tables
                .iter()
                .position(|p| p.name == fk.parent_table)
                .expect("parent exists");
            assert!(
                parent < i || fk.parent_table == t.name,
                "{} before its parent {}",
                t.name,
                fk.parent_table
            );
            let parent_def = table_by_name(fk.parent_table).unwrap();
            assert!(parent_def.column(fk.parent_column).is_some());
        }
        for index in t
            .indexes
            .iter()
            .map(|i| i.columns)
            .chain(t.uniques.iter().map(|u| u.columns))
        {
            for c in index {
                assert!(t.column(c).is_some(), "{}: indexed column {c}", t.name);
            }
        }
    }
}

#[test]
fn spec_columns_match_the_tsv() {
    // A copy of the spec's columns.tsv: table, column, logical type, nullable, …
    let spec = include_str!("data/columns.tsv");
    for line in spec.lines().skip(1) {
        let cells: Vec<&str> = line.split('\t').collect();
        let table = table_by_name(cells[0]).unwrap_or_else(|| panic!("table {}", cells[0]));
        let column = table
            .column(cells[1])
            .unwrap_or_else(|| panic!("{}.{}", cells[0], cells[1]));
        assert_eq!(
            column.nullable,
            cells[3] == "yes",
            "{}.{} nullability",
            cells[0],
            cells[1]
        );
        let kind = column.kind;
        let logical = cells[2];
        let expected = if logical.starts_with("timestamp (ms") {
            ColumnKind::TimestampMs
        } else if logical.starts_with("timestamp") {
            ColumnKind::Timestamp
        } else if logical == "bool (as integer 0/1)" {
            ColumnKind::IntBool
        } else if logical.starts_with("bool") {
            ColumnKind::Bool
        } else if logical == "i64" {
            ColumnKind::Int
        } else if logical.starts_with("json (") || logical == "string-list-as-json" {
            ColumnKind::Json
        } else {
            ColumnKind::Text
        };
        assert_eq!(kind, expected, "{}.{} ({logical})", cells[0], cells[1]);
    }
}

fn agent() -> Agent {
    let t = Utc.timestamp_millis_opt(1_774_234_575_987).unwrap();
    Agent {
        id: "a1".into(),
        owner_id: "u1".into(),
        name: "bot".into(),
        r#type: AgentType::Other("experimental".into()),
        token_hash: "c0ffee0123456789".into(),
        token_prefix: "kv_deadbeef".into(),
        metadata: Some(serde_json::json!({"k": [1, 2]})),
        created_at: t,
        updated_at: t,
        ..Agent::default()
    }
}

#[test]
fn rows_round_trip_and_unknown_enum_values_survive() {
    let a = agent();
    let row = a.to_row();
    assert_eq!(row.len(), Agent::table_def().columns.len());
    assert_eq!(
        row[Agent::table_def().expect_column("type")],
        Value::Text("experimental".into())
    );
    assert_eq!(Agent::from_row(row).unwrap(), a);
    assert_eq!(Agent::TABLE, "kavach_agents");
    assert_eq!(
        Agent::table_def().column("type").unwrap().name,
        "type",
        "raw identifier stripped"
    );
}

#[test]
fn debug_never_prints_secrets() {
    let debug = format!("{:?}", agent());
    assert!(!debug.contains("c0ffee0123456789"), "{debug}");
    assert!(debug.contains("token_hash: \"<redacted>\""), "{debug}");
    let patch = AgentPatch {
        token_hash: Some("s3cret".into()),
        name: Some("n".into()),
        ..Default::default()
    };
    let debug = format!("{patch:?}");
    assert!(
        !debug.contains("s3cret") && debug.contains("name"),
        "{debug}"
    );
    let client = OAuthClient {
        client_secret: Some("hunter2".into()),
        ..OAuthClient::default()
    };
    assert!(!format!("{client:?}").contains("hunter2"));
}

#[test]
fn timestamps_are_truncated_to_milliseconds() {
    let t = Utc.timestamp_nanos(1_774_234_575_987_654_321);
    assert_eq!(
        t.to_value(),
        Value::Timestamp(Utc.timestamp_millis_opt(1_774_234_575_987).unwrap())
    );
}

#[test]
fn booleans_read_like_drizzle() {
    assert!(bool::from_value(Value::Int(1), "t", "c").unwrap());
    assert!(!bool::from_value(Value::Int(0), "t", "c").unwrap());
    assert!(!bool::from_value(Value::Int(2), "t", "c").unwrap());
    let err = bool::from_value(Value::Text("yes".into()), "kavach_x", "flag").unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Decode {
                table: "kavach_x",
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn string_lists_read_from_json_text_and_keep_odd_entries() {
    let v = Vec::<String>::from_value(Value::Text(r#"["a", 1]"#.into()), "t", "c").unwrap();
    assert_eq!(v, vec!["a".to_string(), "1".to_string()]);
    assert!(Vec::<String>::from_value(Value::Text("{}".into()), "t", "c").is_err());
}

#[test]
fn patches_list_only_set_fields_and_null_explicitly() {
    let patch = AgentPatch {
        expires_at: Some(None),
        name: Some("x".into()),
        ..Default::default()
    };
    assert_eq!(
        patch.assignments(),
        vec![
            ("name", Value::Text("x".into())),
            ("expires_at", Value::Null)
        ],
    );
    assert!(AgentPatch::default().is_empty());
}

#[test]
fn conditions_compose() {
    let c = Cond::All
        .and(Cond::eq("a", 1i64))
        .and(Cond::All)
        .and(Cond::eq("b", "x"));
    assert_eq!(c, Cond::And(vec![Cond::eq("a", 1i64), Cond::eq("b", "x")]));
    let c = Cond::All.and_opt(None::<i64>, |v| Cond::eq("a", v));
    assert_eq!(c, Cond::All);
    let mut seen = Vec::new();
    Cond::eq("a", 1i64)
        .and(Cond::is_in("b", ["x", "y"]))
        .for_each_value(&mut |c, v| seen.push((c, v.clone())));
    assert_eq!(seen.len(), 3);
    assert_eq!(seen[0].0, "a");
    let like = Cond::eq("a", 1i64)
        .and(Cond::Like("email", LikePattern::Prefix("x".into())))
        .and(Cond::eq("b", 2i64));
    let mut params = Vec::new();
    like.for_each_param(&mut |p| {
        params.push(match p {
            Param::Value(c, _) => format!("value {c}"),
            Param::Like(c, _) => format!("like {c}"),
        })
    });
    assert_eq!(
        params,
        ["value a", "like email", "value b"],
        "LIKE patterns bind in rendering order"
    );
}

#[test]
fn shapes_ignore_values_but_not_structure() {
    let def = Agent::table_def();
    let a = Select::new(def, Cond::eq("token_hash", "x")).limit(1);
    let b = Select::new(def, Cond::eq("token_hash", "y")).limit(1);
    let c = Select::new(def, Cond::eq("id", "x")).limit(1);
    assert_eq!(a.shape(), b.shape());
    assert_ne!(a.shape(), c.shape());
    assert_ne!(
        Select::new(def, Cond::is_in("id", ["a"])).shape(),
        Select::new(def, Cond::is_in("id", ["a", "b"])).shape()
    );
}

#[test]
fn like_patterns_escape_wildcards() {
    assert_eq!(
        LikePattern::Contains("50%_off".into()).to_sql_pattern('\\'),
        "%50\\%\\_off%"
    );
    assert_eq!(LikePattern::Prefix("ab".into()).to_sql_pattern('\\'), "ab%");
    assert!(LikePattern::Contains("ADA".into()).matches("x-ada@example.com"));
    assert!(!LikePattern::Prefix("da".into()).matches("ada"));
}

#[test]
fn rate_limit_ids_match_the_prisma_adapter() {
    // First 32 hex digits of SHA-256("agent-1:mcp:github:1700000000000"), computed independently.
    let t = Utc.timestamp_millis_opt(1_700_000_000_000).unwrap();
    assert_eq!(
        rate_limit_bucket_id("agent-1", "mcp:github", t),
        "bd986f0dfdd7d5ff04843d80f6a90cbd"
    );
}
