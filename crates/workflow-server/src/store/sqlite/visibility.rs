//! Visibility in the file: one row per run in `visibility`, written in the transaction that
//! writes the run, and indexed by start time, workflow id, type, status and close time.
//! List and count ask SQLite for the rows the filter's top-level `AND` terms can match
//! (the indexed equalities and the start-time range), newest start first, and the filter
//! decides each row, as the memory index does.

use std::time::{Duration, SystemTime};

use rusqlite::types::{Type, Value as SqlValue};
use rusqlite::{Connection, OptionalExtension, Row, params, params_from_iter};

use crate::store::{RunDelete, StoreError};
use crate::visibility::{self, Count, Entry, Field, Filter, Page, Query, STATUSES, Value};

pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS visibility (
    namespace TEXT NOT NULL,
    run_id TEXT NOT NULL,
    workflow_id TEXT NOT NULL,
    workflow_type TEXT NOT NULL,
    status TEXT NOT NULL,
    task_queue TEXT NOT NULL,
    start_time INTEGER NOT NULL,
    close_time INTEGER,
    execution_time INTEGER NOT NULL,
    search_attributes TEXT NOT NULL,
    PRIMARY KEY (namespace, run_id)
);
CREATE INDEX IF NOT EXISTS visibility_by_start
    ON visibility (namespace, start_time, run_id);
CREATE INDEX IF NOT EXISTS visibility_by_workflow_id
    ON visibility (namespace, workflow_id, start_time, run_id);
CREATE INDEX IF NOT EXISTS visibility_by_type
    ON visibility (namespace, workflow_type, start_time, run_id);
CREATE INDEX IF NOT EXISTS visibility_by_status
    ON visibility (namespace, status, start_time, run_id);
CREATE INDEX IF NOT EXISTS visibility_by_close
    ON visibility (namespace, close_time);
";

const COLUMNS: &str = "run_id, workflow_id, workflow_type, status, task_queue, start_time, \
                       close_time, execution_time, search_attributes";

/// Nanoseconds since the epoch, as the rows keep times (times before it as 0).
fn nanos(time: SystemTime) -> i64 {
    time.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

fn time(nanos: i64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_nanos(u64::try_from(nanos).unwrap_or(0))
}

/// Writes a run's row. A run's workflow id, type, task queue and start time never change,
/// so a later write sets only the other columns: SQLite then leaves the indexes on those
/// four untouched.
pub(super) fn upsert(
    tx: &rusqlite::Transaction<'_>,
    namespace: &str,
    entry: &Entry,
) -> Result<(), rusqlite::Error> {
    let attributes = serde_json::to_string(&entry.custom)
        .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
    tx.prepare_cached(
        "INSERT INTO visibility (namespace, run_id, workflow_id, workflow_type, status,
             task_queue, start_time, close_time, execution_time, search_attributes)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
         ON CONFLICT (namespace, run_id) DO UPDATE SET
             status = excluded.status, close_time = excluded.close_time,
             execution_time = excluded.execution_time,
             search_attributes = excluded.search_attributes",
    )?
    .execute(params![
        namespace,
        &*entry.run_id,
        entry.workflow_id,
        entry.workflow_type,
        entry.status,
        entry.task_queue,
        nanos(entry.start_time),
        entry.close_time.map(nanos),
        nanos(entry.execution_time),
        attributes,
    ])?;
    Ok(())
}

pub(super) fn delete(
    tx: &rusqlite::Transaction<'_>,
    namespace: &str,
    run_id: &str,
) -> Result<(), rusqlite::Error> {
    tx.prepare_cached("DELETE FROM visibility WHERE namespace = ?1 AND run_id = ?2")?
        .execute(params![namespace, run_id])?;
    Ok(())
}

fn decode(row: &Row<'_>) -> Result<Entry, rusqlite::Error> {
    let status: String = row.get(3)?;
    let attributes: String = row.get(8)?;
    Ok(Entry {
        run_id: row.get::<_, String>(0)?.into(),
        workflow_id: row.get(1)?,
        workflow_type: row.get(2)?,
        status: STATUSES
            .iter()
            .find(|s| **s == status)
            .copied()
            .unwrap_or(""),
        task_queue: row.get(4)?,
        start_time: time(row.get(5)?),
        close_time: row.get::<_, Option<i64>>(6)?.map(time),
        execution_time: time(row.get(7)?),
        custom: serde_json::from_str(&attributes)
            .map_err(|e| rusqlite::Error::FromSqlConversionFailure(8, Type::Text, Box::new(e)))?,
    })
}

pub(super) fn entry(
    connection: &Connection,
    namespace: &str,
    run_id: &str,
) -> Result<Option<Entry>, StoreError> {
    Ok(connection
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM visibility WHERE namespace = ?1 AND run_id = ?2"
        ))?
        .query_row(params![namespace, run_id], decode)
        .optional()?)
}

/// The indexed column of a field compared for equality.
fn column(field: &Field) -> Option<&'static str> {
    match field {
        Field::WorkflowId => Some("workflow_id"),
        Field::WorkflowType => Some("workflow_type"),
        Field::ExecutionStatus => Some("status"),
        _ => None,
    }
}

/// The `WHERE` clause (after the namespace) and its parameters that select every row
/// `filter` can match: its top-level equalities on indexed fields and its start-time
/// bounds. Bounds are inclusive, a superset; the filter decides each row.
fn narrowing(filter: &Filter) -> (String, Vec<SqlValue>) {
    let mut clause = String::new();
    let mut values = Vec::new();
    for term in filter.conjuncts() {
        let equal = match term {
            Filter::Compare(field, std::cmp::Ordering::Equal, _, value) => {
                Some((field, std::slice::from_ref(value)))
            }
            Filter::In(field, choices) => Some((field, choices.as_slice())),
            _ => None,
        };
        if let Some((column, choices)) = equal.and_then(|(field, c)| Some((column(field)?, c))) {
            let texts: Vec<&str> = choices
                .iter()
                .filter_map(|v| match v {
                    Value::Text(t) => Some(t.as_str()),
                    Value::Time(_) => None,
                })
                .collect();
            if texts.is_empty() {
                // No text equals a time: nothing matches.
                clause.push_str(" AND 0");
            } else {
                let marks = vec!["?"; texts.len()].join(", ");
                clause.push_str(&format!(" AND {column} IN ({marks})"));
                values.extend(texts.into_iter().map(|t| SqlValue::Text(t.to_owned())));
            }
        }
        if let Filter::Compare(Field::StartTime, ordering, _, Value::Time(t)) = term {
            let at = nanos(*t);
            match ordering {
                std::cmp::Ordering::Greater => clause.push_str(" AND start_time >= ?"),
                std::cmp::Ordering::Less => clause.push_str(" AND start_time <= ?"),
                std::cmp::Ordering::Equal => {
                    clause.push_str(" AND start_time >= ?");
                    values.push(SqlValue::Integer(at));
                    clause.push_str(" AND start_time <= ?");
                }
            }
            values.push(SqlValue::Integer(at));
        }
    }
    (clause, values)
}

/// Hands `read` the rows `filter` can match, newest start first, decoded one at a time.
fn candidates<R>(
    connection: &Connection,
    namespace: &str,
    filter: &Filter,
    read: impl FnOnce(&mut dyn Iterator<Item = Entry>) -> R,
) -> Result<R, StoreError> {
    let (clause, mut values) = narrowing(filter);
    values.insert(0, SqlValue::Text(namespace.to_owned()));
    let mut statement = connection.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM visibility WHERE namespace = ?{clause}
         ORDER BY start_time DESC, run_id DESC"
    ))?;
    let rows = statement.query_map(params_from_iter(values), decode)?;
    let mut failed = None;
    let result = read(&mut rows.map_while(|row| match row {
        Ok(entry) => Some(entry),
        Err(error) => {
            failed = Some(error);
            None
        }
    }));
    match failed {
        Some(error) => Err(error.into()),
        None => Ok(result),
    }
}

pub(super) fn count(
    connection: &Connection,
    namespace: &str,
    filter: &Filter,
) -> Result<Count, StoreError> {
    candidates(connection, namespace, filter, |rows| {
        visibility::count(rows, filter)
    })
}

pub(super) fn page(
    connection: &Connection,
    namespace: &str,
    query: &Query,
    skip: usize,
    limit: usize,
) -> Result<Page, StoreError> {
    candidates(connection, namespace, &query.filter, |rows| {
        visibility::page(rows, query, skip, limit)
    })
}

pub(super) fn closed_before(
    connection: &Connection,
    cutoff: &dyn Fn(&str) -> Option<SystemTime>,
) -> Result<Vec<RunDelete>, StoreError> {
    let namespaces: Vec<String> = connection
        .prepare_cached("SELECT DISTINCT namespace FROM visibility")?
        .query_map([], |row| row.get(0))?
        .collect::<Result<_, _>>()?;
    let mut expired = Vec::new();
    for namespace in namespaces {
        let Some(cutoff) = cutoff(&namespace) else {
            continue;
        };
        let mut statement = connection.prepare_cached(
            "SELECT run_id, workflow_id FROM visibility
             WHERE namespace = ?1 AND close_time IS NOT NULL AND close_time <= ?2",
        )?;
        let rows = statement.query_map(params![namespace, nanos(cutoff)], |row| {
            Ok(RunDelete {
                namespace: namespace.clone(),
                run_id: row.get(0)?,
                workflow_id: row.get(1)?,
            })
        })?;
        for row in rows {
            expired.push(row?);
        }
    }
    Ok(expired)
}

/// Whether some run has no entry (a file written before entries were stored).
pub(super) fn missing(connection: &Connection) -> Result<bool, rusqlite::Error> {
    connection.query_row(
        "SELECT EXISTS (SELECT 1 FROM runs r WHERE NOT EXISTS
             (SELECT 1 FROM visibility v WHERE v.namespace = r.namespace AND v.run_id = r.run_id))",
        [],
        |row| row.get(0),
    )
}
