//! Visibility: the subset of Temporal's list filter language this server understands, a
//! parser for it, the test of one run against a parsed filter, and the index list and
//! count read instead of every run.
//!
//! ```text
//! query      := [or] [ORDER BY field [ASC|DESC] {, field [ASC|DESC]}]
//! or         := and {OR and}
//! and        := unary {AND unary}
//! unary      := NOT unary | '(' or ')' | comparison
//! comparison := field (= | != | < | <= | > | >=) value
//!             | field [NOT] IN '(' value {, value} ')'
//!             | field [NOT] BETWEEN value AND value
//!             | field STARTS_WITH value
//!             | field IS [NOT] NULL
//! ```
//!
//! A query is at most [`MAX_QUERY_BYTES`] long, nests at most [`MAX_DEPTH`] parentheses
//! and `NOT`s, makes at most [`MAX_TERMS`] comparisons and lists at most
//! [`MAX_IN_VALUES`] values in one `IN`; past a limit the parser answers a [`FilterError`]
//! naming it.

mod index;
mod parser;
#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;

#[cfg(test)]
use index::list_order;
pub(crate) use index::{Count, Entry, Index, Page, count, page};
pub use parser::{
    Field, Filter, FilterError, MAX_DEPTH, MAX_IN_VALUES, MAX_QUERY_BYTES, MAX_TERMS, Query, Row,
    STATUSES, Value, parse, parse_with,
};
