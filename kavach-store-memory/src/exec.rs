//! The statements. Each write runs on a private copy of the state (cheap:
//! persistent maps) and the caller publishes the copy only when the whole
//! statement succeeded, so every statement is atomic: a constraint failure
//! on the 3rd of 5 rows, or a refused cascade, changes nothing.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use kavach_store_core::{
    Assign, ColumnKind, Delete, OnDelete, Result, Row, Select, Sum, TableDef, Update, Upsert, Value,
};

use crate::cond::{
    cmp_rows, compile, compile_order, for_each_match, invalid, matches, ordered_access,
};
use crate::error::{conflict, reference};
use crate::row::{coerce, coerce_row};
use crate::schema::{Schema, TableInfo};
use crate::state::{State, key_of};

/// One compiled assignment.
enum Op {
    Set(Value),
    Add(i64),
}

fn compile_assigns(info: &TableInfo, set: &[Assign]) -> Result<Vec<(usize, Op)>> {
    set.iter()
        .map(|a| {
            let col = info.column(a.column())?;
            let def = &info.def.columns[col];
            Ok(match a {
                Assign::Set(_, v) => (col, Op::Set(coerce(info.def, def, v.clone())?)),
                Assign::Add(_, delta) => {
                    if def.kind != ColumnKind::Int {
                        return Err(invalid(
                            info.field(col),
                            "only integer columns can be incremented",
                        ));
                    }
                    (col, Op::Add(*delta))
                }
            })
        })
        .collect()
}

fn apply(info: &TableInfo, row: &Row, ops: &[(usize, Op)]) -> Result<Row> {
    let mut row = row.clone();
    for (col, op) in ops {
        match op {
            Op::Set(v) => row[*col] = v.clone(),
            Op::Add(delta) => {
                row[*col] = match &row[*col] {
                    // SQL: NULL + n is NULL.
                    Value::Null => Value::Null,
                    Value::Int(i) => Value::Int(
                        i.checked_add(*delta)
                            .ok_or_else(|| invalid(info.field(*col), "integer out of range"))?,
                    ),
                    other => {
                        return Err(invalid(
                            info.field(*col),
                            format!("cannot add to a {}", other.type_name()),
                        ));
                    }
                }
            }
        }
    }
    Ok(row)
}

/// Checks that every non-NULL referencing value of `rows` has its parent.
fn check_parents<'r>(
    schema: &Schema,
    state: &State,
    t: usize,
    rows: impl Iterator<Item = (&'r Row, Option<&'r Row>)>,
) -> Result<()> {
    let info = &schema.tables[t];
    if info.fks.is_empty() {
        return Ok(());
    }
    for (new, old) in rows {
        for fk in &info.fks {
            let v = &new[fk.col];
            if v.is_null() || old.is_some_and(|old| old[fk.col] == *v) {
                continue;
            }
            if !state.tables[fk.parent].exists(&schema.tables[fk.parent], fk.parent_lookup, v) {
                return Err(reference(info.def.name, &fk.name));
            }
        }
    }
    Ok(())
}

/// Inserts rows already coerced.
fn insert_coerced(schema: &Schema, state: &mut State, t: usize, rows: Vec<Row>) -> Result<()> {
    let info = &schema.tables[t];
    let data = state.table_mut(t);
    let mut seqs = Vec::with_capacity(rows.len());
    for row in rows {
        seqs.push(
            data.insert(info, row)
                .map_err(|u| conflict(info.def.name, &info.uniques[u].name))?,
        );
    }
    // References are checked once all rows are in (a batch may hold a row
    // and its parent, in one self-referencing table).
    let data = &state.tables[t];
    check_parents(
        schema,
        state,
        t,
        seqs.iter().map(|s| (data.rows[s].as_ref(), None)),
    )
}

pub(crate) fn insert(
    schema: &Schema,
    state: &mut State,
    table: &TableDef,
    rows: Vec<Row>,
) -> Result<()> {
    let t = schema.table(table)?;
    let def = schema.tables[t].def;
    let rows = rows
        .into_iter()
        .map(|r| coerce_row(def, r))
        .collect::<Result<Vec<_>>>()?;
    if rows.is_empty() {
        return Ok(());
    }
    insert_coerced(schema, state, t, rows)
}

pub(crate) fn select(schema: &Schema, state: &State, q: &Select) -> Result<Vec<Row>> {
    let t = schema.table(q.table)?;
    let info = &schema.tables[t];
    let pred = compile(info, &q.filter)?;
    let order = compile_order(info, q.order)?;
    let data = &state.tables[t];
    let offset = usize::try_from(q.offset).unwrap_or(usize::MAX);
    let limit = q
        .limit
        .map_or(usize::MAX, |l| usize::try_from(l).unwrap_or(usize::MAX));
    if limit == 0 {
        return Ok(Vec::new());
    }
    let wanted = offset.saturating_add(limit);
    if order.is_empty() {
        // Insertion order: stop as soon as enough rows were seen.
        let mut out = Vec::new();
        let mut seen = 0usize;
        for_each_match(info, data, &pred, |_, row| {
            if seen >= offset {
                out.push(Row::clone(row));
            }
            seen += 1;
            seen < wanted
        });
        return Ok(out);
    }
    let mut rows: Vec<(u64, &Arc<Row>)> = Vec::new();
    if let Some(entries) = ordered_access(info, data, &pred, &order) {
        // Rows arrive in the first order column's order: stop once enough
        // matched and the order value moves past the last one needed (rows
        // tied on it may still sort differently on the other columns).
        let mut boundary = None;
        for (ord, seq) in entries {
            if boundary.is_some_and(|b| b != ord) {
                break;
            }
            if let Some(row) = data.rows.get(&seq)
                && pred.eval(row)
            {
                rows.push((seq, row));
                if boundary.is_none() && rows.len() >= wanted {
                    boundary = Some(ord);
                }
            }
        }
    } else {
        for_each_match(info, data, &pred, |seq, row| {
            rows.push((seq, row));
            true
        });
    }
    let cmp = |a: &(u64, &Arc<Row>), b: &(u64, &Arc<Row>)| cmp_rows(&order, (a.0, a.1), (b.0, b.1));
    if wanted < rows.len() {
        // Top-k: partition around the k-th row, then sort only the head.
        rows.select_nth_unstable_by(wanted, cmp);
        rows.truncate(wanted);
    }
    rows.sort_unstable_by(cmp);
    Ok(rows
        .into_iter()
        .skip(offset)
        .map(|(_, r)| Row::clone(r))
        .collect())
}

pub(crate) fn count(
    schema: &Schema,
    state: &State,
    table: &TableDef,
    filter: &kavach_store_core::Cond,
) -> Result<u64> {
    let t = schema.table(table)?;
    let info = &schema.tables[t];
    let pred = compile(info, filter)?;
    let data = &state.tables[t];
    if matches!(pred, crate::cond::Pred::True) {
        return Ok(data.rows.len() as u64);
    }
    let mut n = 0u64;
    for_each_match(info, data, &pred, |_, _| {
        n += 1;
        true
    });
    Ok(n)
}

/// Replaces rows of table `t` and checks references both ways.
fn apply_changes(
    schema: &Schema,
    state: &mut State,
    t: usize,
    changes: &[(u64, Arc<Row>, Arc<Row>)],
) -> Result<()> {
    let info = &schema.tables[t];
    state
        .table_mut(t)
        .replace(info, changes)
        .map_err(|u| conflict(info.def.name, &info.uniques[u].name))?;
    check_parents(
        schema,
        state,
        t,
        changes
            .iter()
            .map(|(_, old, new)| (new.as_ref(), Some(old.as_ref()))),
    )?;
    // A referenced column that changed (ON UPDATE NO ACTION): refused while
    // children still point at the old value and no row holds it any more.
    for child in &info.children {
        let fk = &schema.tables[child.table].fks[child.fk];
        for (_, old, new) in changes {
            let v = &old[fk.parent_col];
            if v.is_null() || new[fk.parent_col] == *v {
                continue;
            }
            let child_info = &schema.tables[child.table];
            if !state.tables[t].exists(info, fk.parent_lookup, v)
                && state.tables[child.table].exists(child_info, child.lookup, v)
            {
                return Err(reference(info.def.name, &fk.name));
            }
        }
    }
    Ok(())
}

/// Runs an update; returns the rows as updated, in insertion order.
pub(crate) fn update(schema: &Schema, state: &mut State, u: &Update) -> Result<Vec<Row>> {
    let t = schema.table(u.table)?;
    let info = &schema.tables[t];
    if u.set.is_empty() {
        return Err(invalid(
            info.def.name,
            "an update needs at least one assignment",
        ));
    }
    let ops = compile_assigns(info, &u.set)?;
    let pred = compile(info, &u.filter)?;
    let matched = matches(info, &state.tables[t], &pred);
    if matched.is_empty() {
        return Ok(Vec::new());
    }
    let changes = matched
        .into_iter()
        .map(|(seq, old)| Ok((seq, old.clone(), Arc::new(apply(info, &old, &ops)?))))
        .collect::<Result<Vec<_>>>()?;
    apply_changes(schema, state, t, &changes)?;
    Ok(changes
        .into_iter()
        .map(|(_, _, new)| Arc::unwrap_or_clone(new))
        .collect())
}

/// Runs a delete with its cascades; returns the rows of the target table as
/// deleted, in insertion order.
pub(crate) fn delete(schema: &Schema, state: &mut State, d: &Delete) -> Result<Vec<Row>> {
    let t = schema.table(d.table)?;
    let info = &schema.tables[t];
    let pred = compile(info, &d.filter)?;
    let matched = matches(info, &state.tables[t], &pred);
    if matched.is_empty() {
        return Ok(Vec::new());
    }
    // The closure of ON DELETE CASCADE first; NO ACTION children are checked
    // at the end of the statement, so a child deleted by another cascade
    // path of the same statement does not block it (SQL semantics).
    let mut doomed: HashSet<(usize, u64)> = matched.iter().map(|(seq, _)| (t, *seq)).collect();
    let mut work: Vec<(usize, Arc<Row>)> =
        matched.iter().map(|(_, row)| (t, row.clone())).collect();
    let mut blocking: Vec<(usize, u64, &str)> = Vec::new();
    while let Some((pt, row)) = work.pop() {
        for child in &schema.tables[pt].children {
            let fk = &schema.tables[child.table].fks[child.fk];
            let v = &row[fk.parent_col];
            if v.is_null() {
                continue;
            }
            let data = &state.tables[child.table];
            for (seq, child_row) in data.find_by(&schema.tables[child.table], child.lookup, v) {
                match fk.on_delete {
                    OnDelete::Cascade => {
                        if doomed.insert((child.table, seq)) {
                            work.push((child.table, child_row));
                        }
                    }
                    OnDelete::NoAction => blocking.push((child.table, seq, &fk.name)),
                }
            }
        }
    }
    if let Some((_, _, name)) = blocking
        .iter()
        .find(|(ct, seq, _)| !doomed.contains(&(*ct, *seq)))
    {
        return Err(reference(info.def.name, name));
    }
    let mut by_table: HashMap<usize, Vec<u64>> = HashMap::new();
    for (ct, seq) in doomed {
        by_table.entry(ct).or_default().push(seq);
    }
    for (ct, seqs) in by_table {
        let cinfo = &schema.tables[ct];
        let data = state.table_mut(ct);
        for seq in seqs {
            data.remove(cinfo, seq);
        }
    }
    Ok(matched
        .into_iter()
        .map(|(_, r)| Arc::unwrap_or_clone(r))
        .collect())
}

pub(crate) fn upsert(schema: &Schema, state: &mut State, up: &Upsert) -> Result<Row> {
    let t = schema.table(up.table)?;
    let info = &schema.tables[t];
    let mut wanted = up
        .conflict
        .iter()
        .map(|c| info.column(c))
        .collect::<Result<Vec<_>>>()?;
    wanted.sort_unstable();
    let u = info
        .uniques
        .iter()
        .position(|k| {
            let mut cols = k.cols.clone();
            cols.sort_unstable();
            cols == wanted
        })
        .ok_or_else(|| {
            invalid(
                format!("{}({})", info.def.name, up.conflict.join(", ")),
                "the conflict columns are not the primary key or a unique constraint",
            )
        })?;
    let ops = compile_assigns(info, &up.on_conflict)?;
    let row = coerce_row(info.def, up.row.clone())?;
    let existing =
        key_of(&row, &info.uniques[u]).and_then(|k| state.tables[t].unique_get(info, u, &k));
    match existing {
        Some(seq) => {
            let old = state.tables[t].rows[&seq].clone();
            if ops.is_empty() {
                return Ok(Row::clone(&old));
            }
            let new = Arc::new(apply(info, &old, &ops)?);
            apply_changes(schema, state, t, &[(seq, old, new.clone())])?;
            Ok(Arc::unwrap_or_clone(new))
        }
        None => {
            insert_coerced(schema, state, t, vec![row.clone()])?;
            Ok(row)
        }
    }
}

pub(crate) fn sum(schema: &Schema, state: &State, s: &Sum) -> Result<Vec<(Value, i64)>> {
    let t = schema.table(s.table)?;
    let info = &schema.tables[t];
    let col = info.column(s.column)?;
    if !matches!(
        info.def.columns[col].kind,
        ColumnKind::Int | ColumnKind::Bool | ColumnKind::IntBool
    ) {
        return Err(invalid(
            info.field(col),
            "only integer columns can be summed",
        ));
    }
    let group = s.group_by.map(|g| info.column(g)).transpose()?;
    let pred = compile(info, &s.filter)?;
    let mut sums: HashMap<Value, i128> = HashMap::new();
    if group.is_none() {
        sums.insert(Value::Null, 0);
    }
    for_each_match(info, &state.tables[t], &pred, |_, row| {
        let n = match &row[col] {
            Value::Int(i) => *i as i128,
            Value::Bool(b) => *b as i128,
            _ => 0,
        };
        let key = group.map_or(Value::Null, |g| row[g].clone());
        *sums.entry(key).or_default() += n;
        true
    });
    let mut out = sums
        .into_iter()
        .map(|(g, n)| {
            Ok((
                g,
                i64::try_from(n).map_err(|_| invalid(info.field(col), "sum out of range"))?,
            ))
        })
        .collect::<Result<Vec<_>>>()?;
    out.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.sql_cmp(&b.0)));
    if let Some(limit) = s.limit {
        out.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    }
    Ok(out)
}
