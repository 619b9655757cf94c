//! The filter language: its syntax tree, the parser, the test of one run against a filter,
//! and printing a filter back.
//!
//! Queries come from the network (gRPC and the Web UI's `GET` API, which any web page can
//! send), so the parser bounds everything the request controls: the query's length
//! ([`MAX_QUERY_BYTES`]), how deep it nests ([`MAX_DEPTH`], which bounds every recursion
//! over the tree: parsing, [`Filter::matches`], printing and dropping), how many
//! comparisons it makes ([`MAX_TERMS`]) and how long an `IN` list is ([`MAX_IN_VALUES`]).
//! `AND` and `OR` chains are flat lists, so a long chain adds no depth.

use std::cmp::Ordering;
use std::fmt;
use std::time::SystemTime;

/// The longest query accepted, in bytes. Real filters are a few hundred bytes; this leaves
/// room for an `IN` list of [`MAX_IN_VALUES`] run ids.
pub const MAX_QUERY_BYTES: usize = 64 * 1024;
/// How deep parentheses and `NOT`s may nest. Hand-written filters rarely nest past 3.
pub const MAX_DEPTH: usize = 64;
/// The most comparisons one filter may make (Elasticsearch refuses past 1,024 clauses).
pub const MAX_TERMS: usize = 1000;
/// The most values one `IN (...)` list may hold.
pub const MAX_IN_VALUES: usize = 1000;

/// A filter the parser refused, with what was wrong and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid query: {message} (at character {position})")]
pub struct FilterError {
    /// What was wrong.
    pub message: String,
    /// Where, as a byte offset into the query (at most its length).
    pub position: usize,
}

/// The fields a filter may name.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(missing_docs)] // The names are the language's own.
pub enum Field {
    WorkflowId,
    WorkflowType,
    RunId,
    ExecutionStatus,
    StartTime,
    CloseTime,
    ExecutionTime,
    TaskQueue,
    /// A search attribute the workflows set.
    Custom(String),
}

impl Field {
    fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "WorkflowId" => Self::WorkflowId,
            "WorkflowType" => Self::WorkflowType,
            "RunId" => Self::RunId,
            "ExecutionStatus" => Self::ExecutionStatus,
            "StartTime" => Self::StartTime,
            "CloseTime" => Self::CloseTime,
            "ExecutionTime" => Self::ExecutionTime,
            "TaskQueue" => Self::TaskQueue,
            _ => return None,
        })
    }

    fn is_time(&self) -> bool {
        matches!(
            self,
            Self::StartTime | Self::CloseTime | Self::ExecutionTime
        )
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::WorkflowId => "WorkflowId",
            Self::WorkflowType => "WorkflowType",
            Self::RunId => "RunId",
            Self::ExecutionStatus => "ExecutionStatus",
            Self::StartTime => "StartTime",
            Self::CloseTime => "CloseTime",
            Self::ExecutionTime => "ExecutionTime",
            Self::TaskQueue => "TaskQueue",
            // Backquotes keep any name a single field token.
            Self::Custom(name) => return write!(f, "`{}`", name.replace('`', "``")),
        })
    }
}

/// A literal, checked against its field's type when parsed.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A quoted string (or a bare number).
    Text(String),
    /// An RFC 3339 time, for the time fields.
    Time(SystemTime),
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Text(text) => write!(f, "'{}'", text.replace('\'', "''")),
            Self::Time(time) => write!(f, "'{}'", prost_types::Timestamp::from(*time)),
        }
    }
}

/// A parsed filter. Its depth is bounded by [`MAX_DEPTH`]: `AND` and `OR` hold their
/// operands as flat lists.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// No filter: everything matches.
    All,
    /// All of these (two or more; none is itself an `And`).
    And(Vec<Filter>),
    /// Any of these (two or more; none is itself an `Or`).
    Or(Vec<Filter>),
    /// Not this.
    Not(Box<Filter>),
    /// The field compares to the value as `Ordering` (or equal, when the flag is set).
    Compare(Field, Ordering, bool, Value),
    /// The field equals one of the values.
    In(Field, Vec<Value>),
    /// The text field starts with the prefix.
    StartsWith(Field, String),
    /// The field has no value (a close time of an open run).
    IsNull(Field),
}

/// A parsed query: the filter, the grouping of a count and the order of a list.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    /// Which runs.
    pub filter: Filter,
    /// `GROUP BY`: a count per value of this field (only `ExecutionStatus`, as in Temporal).
    /// A list ignores it, as Temporal's does.
    pub group_by: Option<Field>,
    /// `(field, descending)`; empty means newest start first.
    pub order: Vec<(Field, bool)>,
}

/// What a filter is tested against.
#[derive(Debug, Clone, Copy)]
#[allow(missing_docs)] // The fields are the language's own.
pub struct Row<'a> {
    pub workflow_id: &'a str,
    pub workflow_type: &'a str,
    pub run_id: &'a str,
    /// As the language spells it: `Running`, `Completed`, ...
    pub status: &'a str,
    pub task_queue: &'a str,
    pub start_time: SystemTime,
    pub close_time: Option<SystemTime>,
    pub execution_time: SystemTime,
    /// Search attributes, as `(name, value as text)`.
    pub custom: &'a [(String, String)],
}

impl Row<'_> {
    fn text<'s>(&'s self, field: &Field) -> Option<&'s str> {
        Some(match field {
            Field::Custom(name) => {
                return self
                    .custom
                    .iter()
                    .find(|(n, _)| n == name)
                    .map(|(_, v)| v.as_str());
            }
            Field::WorkflowId => self.workflow_id,
            Field::WorkflowType => self.workflow_type,
            Field::RunId => self.run_id,
            Field::ExecutionStatus => self.status,
            Field::TaskQueue => self.task_queue,
            _ => return None,
        })
    }

    fn time(&self, field: &Field) -> Option<SystemTime> {
        match field {
            Field::StartTime => Some(self.start_time),
            Field::CloseTime => self.close_time,
            Field::ExecutionTime => Some(self.execution_time),
            _ => None,
        }
    }

    fn compare(&self, field: &Field, value: &Value) -> Option<Ordering> {
        match value {
            Value::Text(v) => self.text(field).map(|t| {
                // Numbers (an Int search attribute) compare as numbers.
                match (t.parse::<f64>(), v.parse::<f64>()) {
                    (Ok(a), Ok(b)) if matches!(field, Field::Custom(_)) => {
                        a.partial_cmp(&b).unwrap_or(Ordering::Equal)
                    }
                    _ => t.cmp(v.as_str()),
                }
            }),
            Value::Time(v) => self.time(field).map(|t| t.cmp(v)),
        }
    }

    /// Orders two rows by `order`.
    pub fn order(&self, other: &Row<'_>, order: &[(Field, bool)]) -> Ordering {
        if order.is_empty() {
            return other.start_time.cmp(&self.start_time);
        }
        for (field, descending) in order {
            let ordering = if field.is_time() {
                self.time(field).cmp(&other.time(field))
            } else {
                self.text(field).cmp(&other.text(field))
            };
            let ordering = if *descending {
                ordering.reverse()
            } else {
                ordering
            };
            if ordering != Ordering::Equal {
                return ordering;
            }
        }
        Ordering::Equal
    }
}

impl Filter {
    /// Whether a run passes the filter. Recursion is bounded: a parsed filter nests at most
    /// about twice [`MAX_DEPTH`] levels.
    pub fn matches(&self, row: &Row<'_>) -> bool {
        match self {
            Self::All => true,
            Self::And(all) => all.iter().all(|f| f.matches(row)),
            Self::Or(any) => any.iter().any(|f| f.matches(row)),
            Self::Not(a) => !a.matches(row),
            Self::Compare(field, ordering, equal_too, value) => row
                .compare(field, value)
                .is_some_and(|o| o == *ordering || (*equal_too && o == Ordering::Equal)),
            Self::In(field, values) => values
                .iter()
                .any(|v| row.compare(field, v) == Some(Ordering::Equal)),
            Self::StartsWith(field, prefix) => row
                .text(field)
                .is_some_and(|t| t.starts_with(prefix.as_str())),
            Self::IsNull(field) => {
                if field.is_time() {
                    row.time(field).is_none()
                } else {
                    row.text(field).is_none_or(str::is_empty)
                }
            }
        }
    }

    /// The operands of a top-level `AND` (the filter itself when it is something else;
    /// none for [`Filter::All`]): what every matching run satisfies.
    pub fn conjuncts(&self) -> &[Filter] {
        match self {
            Self::All => &[],
            Self::And(all) => all,
            other => std::slice::from_ref(other),
        }
    }
}

/// Prints the filter in the language, so that parsing the text gives a filter that matches
/// the same runs. (Printing may add parentheses, so a filter at the depth limit may print
/// as one past it.)
impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn operand(f: &mut fmt::Formatter<'_>, filter: &Filter) -> fmt::Result {
            match filter {
                Filter::And(_) | Filter::Or(_) => write!(f, "({filter})"),
                _ => write!(f, "{filter}"),
            }
        }
        fn list(f: &mut fmt::Formatter<'_>, all: &[Filter], joint: &str) -> fmt::Result {
            for (i, filter) in all.iter().enumerate() {
                if i > 0 {
                    f.write_str(joint)?;
                }
                operand(f, filter)?;
            }
            Ok(())
        }
        match self {
            // The empty filter: a query of only an order, or nothing.
            Self::All => Ok(()),
            Self::And(all) => list(f, all, " AND "),
            Self::Or(any) => list(f, any, " OR "),
            Self::Not(inner) => {
                f.write_str("NOT ")?;
                operand(f, inner)
            }
            Self::Compare(field, ordering, equal_too, value) => {
                let operator = match (ordering, equal_too) {
                    (Ordering::Less, false) => "<",
                    (Ordering::Less, true) => "<=",
                    (Ordering::Greater, false) => ">",
                    (Ordering::Greater, true) => ">=",
                    (Ordering::Equal, _) => "=",
                };
                write!(f, "{field} {operator} {value}")
            }
            Self::In(field, values) => {
                write!(f, "{field} IN (")?;
                for (i, value) in values.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{value}")?;
                }
                f.write_str(")")
            }
            Self::StartsWith(field, prefix) => {
                write!(f, "{field} STARTS_WITH {}", Value::Text(prefix.clone()))
            }
            Self::IsNull(field) => write!(f, "{field} IS NULL"),
        }
    }
}

impl fmt::Display for Query {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.filter)?;
        let mut bare = self.filter == Filter::All;
        if let Some(field) = &self.group_by {
            let lead = if bare { "GROUP BY " } else { " GROUP BY " };
            write!(f, "{lead}{field}")?;
            bare = false;
        }
        for (i, (field, descending)) in self.order.iter().enumerate() {
            let lead = match (i, bare) {
                (0, true) => "ORDER BY ",
                (0, false) => " ORDER BY ",
                _ => ", ",
            };
            let direction = if *descending { " DESC" } else { " ASC" };
            write!(f, "{lead}{field}{direction}")?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Text(String),
    Symbol(&'static str),
}

fn tokenize(input: &str) -> Result<Vec<(Token, usize)>, FilterError> {
    let mut tokens = Vec::new();
    let chars: Vec<(usize, char)> = input.char_indices().collect();
    let mut i = 0;
    while i < chars.len() {
        let (at, c) = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '\'' || c == '"' || c == '`' {
            let mut text = String::new();
            i += 1;
            loop {
                let Some(&(_, d)) = chars.get(i) else {
                    return Err(FilterError {
                        message: format!("the string starting with {c} is not closed"),
                        position: at,
                    });
                };
                i += 1;
                if d == c {
                    // A doubled quote stands for itself.
                    if chars.get(i).is_some_and(|&(_, e)| e == c) {
                        text.push(c);
                        i += 1;
                        continue;
                    }
                    break;
                }
                text.push(d);
            }
            let token = if c == '`' {
                Token::Word(text)
            } else {
                Token::Text(text)
            };
            tokens.push((token, at));
        } else if c.is_alphanumeric() || c == '_' || c == '.' || c == '-' || c == ':' {
            let start = i;
            while chars
                .get(i)
                .is_some_and(|&(_, d)| d.is_alphanumeric() || "_.-:".contains(d))
            {
                i += 1;
            }
            let word: String = chars[start..i].iter().map(|&(_, d)| d).collect();
            tokens.push((Token::Word(word), at));
        } else {
            let next = chars.get(i + 1).map(|&(_, d)| d);
            let (symbol, width) = match (c, next) {
                ('!', Some('=')) => ("!=", 2),
                ('<', Some('>')) => ("!=", 2),
                ('<', Some('=')) => ("<=", 2),
                ('>', Some('=')) => (">=", 2),
                ('=', _) => ("=", 1),
                ('<', _) => ("<", 1),
                ('>', _) => (">", 1),
                ('(', _) => ("(", 1),
                (')', _) => (")", 1),
                (',', _) => (",", 1),
                _ => {
                    return Err(FilterError {
                        message: format!("unexpected character {c:?}"),
                        position: at,
                    });
                }
            };
            tokens.push((Token::Symbol(symbol), at));
            i += width;
        }
    }
    Ok(tokens)
}

struct Parser<'k> {
    known: &'k dyn Fn(&str) -> bool,
    tokens: Vec<(Token, usize)>,
    at: usize,
    end: usize,
    /// Parentheses and `NOT`s open around the current token.
    depth: usize,
    /// Comparisons so far.
    terms: usize,
}

/// `filters` joined by `AND` (`and` true) or `OR`, with operands of the same kind merged
/// into the list, so chains stay flat however they are parenthesised.
fn join(filters: Vec<Filter>, and: bool) -> Filter {
    if filters.len() == 1 {
        return filters.into_iter().next().expect("one");
    }
    let mut flat = Vec::with_capacity(filters.len());
    for filter in filters {
        match filter {
            Filter::And(inner) if and => flat.extend(inner),
            Filter::Or(inner) if !and => flat.extend(inner),
            other => flat.push(other),
        }
    }
    if and {
        Filter::And(flat)
    } else {
        Filter::Or(flat)
    }
}

impl Filter {
    /// This filter and `other`, flattened as the parser builds them.
    pub fn and(self, other: Filter) -> Filter {
        match (self, other) {
            (Filter::All, other) | (other, Filter::All) => other,
            (left, right) => join(vec![left, right], true),
        }
    }
}

fn negate(filter: Filter) -> Filter {
    Filter::Not(Box::new(filter))
}

impl Parser<'_> {
    fn position(&self) -> usize {
        self.tokens.get(self.at).map_or(self.end, |(_, p)| *p)
    }

    fn error<T>(&self, message: impl Into<String>) -> Result<T, FilterError> {
        Err(FilterError {
            message: message.into(),
            position: self.position(),
        })
    }

    fn peek_keyword(&self, keyword: &str) -> bool {
        matches!(self.tokens.get(self.at), Some((Token::Word(w), _)) if w.eq_ignore_ascii_case(keyword))
    }

    fn peek_symbol(&self, symbol: &str) -> bool {
        matches!(self.tokens.get(self.at), Some((Token::Symbol(s), _)) if *s == symbol)
    }

    fn keyword(&mut self, keyword: &str) -> bool {
        let found = self.peek_keyword(keyword);
        if found {
            self.at += 1;
        }
        found
    }

    fn symbol(&mut self, symbol: &str) -> bool {
        let found = self.peek_symbol(symbol);
        if found {
            self.at += 1;
        }
        found
    }

    fn expect_symbol(&mut self, symbol: &str) -> Result<(), FilterError> {
        if self.symbol(symbol) {
            Ok(())
        } else {
            self.error(format!("expected {symbol}"))
        }
    }

    fn field(&mut self) -> Result<Field, FilterError> {
        match self.tokens.get(self.at).cloned() {
            Some((Token::Word(name), _)) => match Field::parse(&name) {
                Some(field) => {
                    self.at += 1;
                    Ok(field)
                }
                None if (self.known)(&name) => {
                    self.at += 1;
                    Ok(Field::Custom(name))
                }
                None => self.error(format!(
                    "unknown field {name}; filter on WorkflowId, WorkflowType, RunId, ExecutionStatus, StartTime, CloseTime, ExecutionTime, TaskQueue or a search attribute the workflows set"
                )),
            },
            Some(_) => self.error("expected a field name"),
            None => self.error("expected a field name, found the end of the query"),
        }
    }

    fn value(&mut self, field: &Field) -> Result<Value, FilterError> {
        let position = self.position();
        let text = match self.tokens.get(self.at).cloned() {
            Some((Token::Text(t), _)) => t,
            Some((Token::Word(w), _)) if w.chars().all(|c| c.is_ascii_digit() || c == '-') => w,
            _ => return self.error("expected a quoted value"),
        };
        self.at += 1;
        if field.is_time() {
            let stamp: prost_types::Timestamp = text.parse().map_err(|_| FilterError {
                message: format!("{text:?} is not an RFC 3339 time"),
                position,
            })?;
            let time = SystemTime::try_from(stamp).map_err(|_| FilterError {
                message: format!("{text:?} is out of range"),
                position,
            })?;
            return Ok(Value::Time(time));
        }
        if *field == Field::ExecutionStatus && !STATUSES.contains(&text.as_str()) {
            return Err(FilterError {
                message: format!(
                    "{text:?} is not an execution status; use one of {}",
                    STATUSES.join(", ")
                ),
                position,
            });
        }
        Ok(Value::Text(text))
    }

    fn or(&mut self) -> Result<Filter, FilterError> {
        let mut any = vec![self.and()?];
        while self.keyword("OR") {
            any.push(self.and()?);
        }
        Ok(join(any, false))
    }

    fn and(&mut self) -> Result<Filter, FilterError> {
        let mut all = vec![self.unary()?];
        while self.keyword("AND") {
            all.push(self.unary()?);
        }
        Ok(join(all, true))
    }

    /// The only place the parser recurses, so the depth check here bounds its stack.
    fn unary(&mut self) -> Result<Filter, FilterError> {
        let not = self.peek_keyword("NOT");
        if !not && !self.peek_symbol("(") {
            return self.comparison();
        }
        if self.depth == MAX_DEPTH {
            return self.error(format!("the filter nests deeper than {MAX_DEPTH} levels"));
        }
        self.at += 1;
        self.depth += 1;
        let inner = if not {
            self.unary().map(negate)
        } else {
            self.or()
                .and_then(|inner| self.expect_symbol(")").map(|()| inner))
        };
        self.depth -= 1;
        inner
    }

    fn comparison(&mut self) -> Result<Filter, FilterError> {
        if self.terms == MAX_TERMS {
            return self.error(format!(
                "the filter makes more than {MAX_TERMS} comparisons"
            ));
        }
        self.terms += 1;
        let field = self.field()?;
        let negated = self.keyword("NOT");
        if self.keyword("IN") {
            self.expect_symbol("(")?;
            let mut values = vec![self.value(&field)?];
            while self.symbol(",") {
                if values.len() == MAX_IN_VALUES {
                    return self.error(format!("the IN list has more than {MAX_IN_VALUES} values"));
                }
                values.push(self.value(&field)?);
            }
            self.expect_symbol(")")?;
            let filter = Filter::In(field, values);
            return Ok(if negated { negate(filter) } else { filter });
        }
        if self.keyword("BETWEEN") {
            let low = self.value(&field)?;
            if !self.keyword("AND") {
                return self.error("expected AND in BETWEEN");
            }
            let high = self.value(&field)?;
            let filter = Filter::And(vec![
                Filter::Compare(field.clone(), Ordering::Greater, true, low),
                Filter::Compare(field, Ordering::Less, true, high),
            ]);
            return Ok(if negated { negate(filter) } else { filter });
        }
        if negated {
            return self.error("expected IN or BETWEEN after NOT");
        }
        if self.keyword("STARTS_WITH") {
            return match self.value(&field)? {
                Value::Text(prefix) => Ok(Filter::StartsWith(field, prefix)),
                Value::Time(_) => self.error("STARTS_WITH takes a text field"),
            };
        }
        if self.keyword("IS") {
            let not = self.keyword("NOT");
            if !self.keyword("NULL") {
                return self.error("expected NULL");
            }
            let filter = Filter::IsNull(field);
            return Ok(if not { negate(filter) } else { filter });
        }
        let (ordering, equal_too, negate_it) = if self.symbol("=") {
            (Ordering::Equal, false, false)
        } else if self.symbol("!=") {
            (Ordering::Equal, false, true)
        } else if self.symbol("<=") {
            (Ordering::Less, true, false)
        } else if self.symbol(">=") {
            (Ordering::Greater, true, false)
        } else if self.symbol("<") {
            (Ordering::Less, false, false)
        } else if self.symbol(">") {
            (Ordering::Greater, false, false)
        } else {
            return self
                .error("expected an operator (=, !=, <, <=, >, >=, IN, BETWEEN, STARTS_WITH, IS)");
        };
        let value = self.value(&field)?;
        let filter = Filter::Compare(field, ordering, equal_too, value);
        Ok(if negate_it { negate(filter) } else { filter })
    }

    /// The field of `GROUP BY`: one, and only `ExecutionStatus`, as Temporal's visibility has it.
    fn group_by(&mut self) -> Result<Field, FilterError> {
        let position = self.position();
        let field = self.field()?;
        if self.peek_symbol(",") {
            return self.error("GROUP BY takes a single field");
        }
        if field != Field::ExecutionStatus {
            return Err(FilterError {
                message: format!("GROUP BY is supported for ExecutionStatus only, not {field}"),
                position,
            });
        }
        Ok(field)
    }

    fn order_by(&mut self) -> Result<Vec<(Field, bool)>, FilterError> {
        let mut order = Vec::new();
        loop {
            let field = self.field()?;
            let descending = if self.keyword("DESC") {
                true
            } else {
                self.keyword("ASC");
                false
            };
            order.push((field, descending));
            if !self.symbol(",") {
                return Ok(order);
            }
        }
    }
}

/// Execution statuses as the language spells them.
pub const STATUSES: [&str; 7] = [
    "Running",
    "Completed",
    "Failed",
    "Canceled",
    "Terminated",
    "ContinuedAsNew",
    "TimedOut",
];

/// Parses a list filter.
///
/// ```
/// # use workflow_server::visibility::parse;
/// let query = parse("WorkflowType = 'Hello' AND ExecutionStatus IN ('Running', 'Failed') ORDER BY StartTime DESC").unwrap();
/// assert_eq!(query.order.len(), 1);
/// assert!(parse("Color = 'red'").unwrap_err().to_string().contains("unknown field Color"));
/// let deep = format!("{}WorkflowId = 'x'{}", "(".repeat(100), ")".repeat(100));
/// assert!(parse(&deep).unwrap_err().to_string().contains("deeper than 64 levels"));
/// ```
pub fn parse(input: &str) -> Result<Query, FilterError> {
    parse_with(input, &|_| false)
}

/// Parses a list filter that may also name the search attributes `known` accepts.
pub fn parse_with(input: &str, known: &dyn Fn(&str) -> bool) -> Result<Query, FilterError> {
    if input.len() > MAX_QUERY_BYTES {
        let mut position = MAX_QUERY_BYTES;
        while !input.is_char_boundary(position) {
            position -= 1;
        }
        return Err(FilterError {
            message: format!(
                "the query is {} bytes; the limit is {MAX_QUERY_BYTES}",
                input.len()
            ),
            position,
        });
    }
    let mut parser = Parser {
        known,
        tokens: tokenize(input)?,
        at: 0,
        end: input.len(),
        depth: 0,
        terms: 0,
    };
    let filter =
        if parser.tokens.is_empty() || parser.peek_keyword("ORDER") || parser.peek_keyword("GROUP")
        {
            Filter::All
        } else {
            parser.or()?
        };
    let group_by = if parser.keyword("GROUP") {
        if !parser.keyword("BY") {
            return parser.error("expected BY after GROUP");
        }
        Some(parser.group_by()?)
    } else {
        None
    };
    let order = if parser.keyword("ORDER") {
        if !parser.keyword("BY") {
            return parser.error("expected BY after ORDER");
        }
        parser.order_by()?
    } else {
        Vec::new()
    };
    if parser.at < parser.tokens.len() {
        return parser.error("unexpected text after the end of the filter");
    }
    Ok(Query {
        filter,
        group_by,
        order,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::LazyLock;
    use std::time::Duration;

    static CUSTOM: LazyLock<Vec<(String, String)>> =
        LazyLock::new(|| vec![("CustomInt".to_string(), "42".to_string())]);

    fn row(id: &'static str, status: &'static str, start_secs: u64) -> Row<'static> {
        let start = SystemTime::UNIX_EPOCH + Duration::from_secs(start_secs);
        Row {
            workflow_id: id,
            workflow_type: "Hello",
            run_id: "r",
            status,
            task_queue: "q",
            start_time: start,
            close_time: (status != "Running").then_some(start + Duration::from_secs(5)),
            execution_time: start,
            custom: CUSTOM.as_slice(),
        }
    }

    fn matches(query: &str, row: &Row<'_>) -> bool {
        parse(query).unwrap().filter.matches(row)
    }

    #[test]
    fn comparisons_and_logic_select_the_right_rows() {
        let a = row("order-1", "Running", 1_700_000_000);
        let b = row("order-2", "Completed", 1_800_000_000);
        assert!(matches("WorkflowId = 'order-1'", &a));
        assert!(!matches("WorkflowId = 'order-1'", &b));
        assert!(matches("WorkflowId != 'order-1'", &b));
        assert!(matches("ExecutionStatus IN ('Completed', 'Failed')", &b));
        assert!(!matches(
            "ExecutionStatus NOT IN ('Completed', 'Failed')",
            &b
        ));
        assert!(matches(
            "WorkflowType = 'Hello' AND (WorkflowId = 'x' OR ExecutionStatus = \"Running\")",
            &a
        ));
        assert!(!matches(
            "WorkflowType = 'Hello' AND (WorkflowId = 'x' OR ExecutionStatus = 'Failed')",
            &a
        ));
        assert!(matches("StartTime > '2024-01-01T00:00:00Z'", &b));
        assert!(!matches("StartTime > '2024-01-01T00:00:00Z'", &a));
        assert!(matches(
            "StartTime < '2024-01-01T00:00:00Z' AND CloseTime IS NULL",
            &a
        ));
        assert!(matches("CloseTime IS NOT NULL", &b));
        assert!(matches("WorkflowId STARTS_WITH 'order-'", &a));
        assert!(matches(
            "StartTime BETWEEN '2023-01-01T00:00:00Z' AND '2024-01-01T00:00:00Z'",
            &a
        ));
        assert!(matches("", &a));
        let known = |name: &str| name == "CustomInt";
        let custom = parse_with("CustomInt > 9 AND CustomInt <= 42", &known).unwrap();
        assert!(custom.filter.matches(&a), "numbers compare as numbers");
        assert!(
            !parse_with("CustomInt = 7", &known)
                .unwrap()
                .filter
                .matches(&a)
        );
        assert!(
            parse("CustomInt = 7").is_err(),
            "unknown without the namespace's names"
        );
    }

    #[test]
    fn group_by_takes_execution_status_alone() {
        let query = parse("WorkflowType = 'Hello' GROUP BY ExecutionStatus").unwrap();
        assert_eq!(query.group_by, Some(Field::ExecutionStatus));
        assert_eq!(
            query.to_string(),
            "WorkflowType = 'Hello' GROUP BY ExecutionStatus"
        );
        let bare = parse("GROUP BY ExecutionStatus").unwrap();
        assert_eq!(bare.filter, Filter::All);
        assert_eq!(bare.to_string(), "GROUP BY ExecutionStatus");
        assert_eq!(parse("WorkflowId = 'a'").unwrap().group_by, None);

        let other = parse("GROUP BY WorkflowType").unwrap_err();
        assert!(
            other
                .message
                .contains("ExecutionStatus only, not WorkflowType"),
            "{other}"
        );
        assert_eq!(other.position, "GROUP BY ".len());
        let two = parse("GROUP BY ExecutionStatus, WorkflowType").unwrap_err();
        assert!(two.message.contains("single field"), "{two}");
        assert!(parse("GROUP ExecutionStatus").is_err());
        assert!(parse("GROUP BY").is_err());
        assert!(parse("GROUP BY ExecutionStatus GROUP BY ExecutionStatus").is_err());
    }

    #[test]
    fn and_joins_filters_flat_and_drops_all() {
        let a = parse("WorkflowId = 'a' AND RunId = 'r'").unwrap().filter;
        let b = parse("TaskQueue = 'q'").unwrap().filter;
        let Filter::And(all) = a.clone().and(b.clone()) else {
            panic!("expected a flat AND");
        };
        assert_eq!(all.len(), 3);
        assert_eq!(Filter::All.and(b.clone()), b);
        assert_eq!(a.clone().and(Filter::All), a);
    }

    #[test]
    fn order_by_sorts_by_the_named_fields() {
        let query =
            parse("ExecutionStatus = 'Running' ORDER BY StartTime ASC, WorkflowId DESC").unwrap();
        assert_eq!(
            query.order,
            vec![(Field::StartTime, false), (Field::WorkflowId, true)]
        );
        let a = row("a", "Running", 1);
        let b = row("b", "Running", 2);
        assert_eq!(a.order(&b, &query.order), Ordering::Less);
        assert_eq!(
            a.order(&b, &[]),
            Ordering::Greater,
            "newest first by default"
        );
        assert!(parse("ORDER BY WorkflowId").unwrap().filter == Filter::All);
    }

    #[test]
    fn bad_filters_say_what_and_where() {
        let error = parse("WorkflowId = 'a' AND Colour = 'red'").unwrap_err();
        assert!(error.message.contains("unknown field Colour"), "{error}");
        assert_eq!(error.position, 21);
        let error = parse("WorkflowId = 'a").unwrap_err();
        assert!(error.message.contains("not closed"), "{error}");
        let error = parse("StartTime > 'yesterday'").unwrap_err();
        assert!(error.message.contains("RFC 3339"), "{error}");
        let error = parse("ExecutionStatus = 'Done'").unwrap_err();
        assert!(error.message.contains("not an execution status"), "{error}");
        let error = parse("(WorkflowId = 'a'").unwrap_err();
        assert!(error.message.contains("expected )"), "{error}");
        let error = parse("WorkflowId 'a'").unwrap_err();
        assert!(error.message.contains("expected an operator"), "{error}");
        let error = parse("WorkflowId = 'a' LIMIT 5").unwrap_err();
        assert!(error.message.contains("unexpected text"), "{error}");
    }

    fn refusal(query: &str) -> FilterError {
        let error = parse(query).expect_err("refused");
        assert!(
            error.position <= query.len(),
            "{error} in {} bytes",
            query.len()
        );
        error
    }

    #[test]
    fn deep_nesting_is_refused_naming_the_limit() {
        let at_limit = format!(
            "{}WorkflowId = 'x'{}",
            "(".repeat(MAX_DEPTH),
            ")".repeat(MAX_DEPTH)
        );
        assert!(parse(&at_limit).is_ok(), "{MAX_DEPTH} levels are allowed");
        for levels in [MAX_DEPTH + 1, 3000] {
            let deep = format!(
                "{}WorkflowId = 'x'{}",
                "(".repeat(levels),
                ")".repeat(levels)
            );
            let error = refusal(&deep);
            assert!(
                error.message == "the filter nests deeper than 64 levels",
                "{error}"
            );
            assert_eq!(
                error.position, MAX_DEPTH,
                "at the first parenthesis too many"
            );
        }
        // Unclosed, too: refused before the missing parentheses matter.
        let error = refusal(&"(".repeat(10_000));
        assert!(error.message.contains("deeper than 64 levels"), "{error}");
    }

    #[test]
    fn long_not_chains_are_refused_naming_the_limit() {
        let row = row("a", "Running", 1);
        let even = format!("{}WorkflowId = 'a'", "NOT ".repeat(MAX_DEPTH));
        assert!(matches(&even, &row), "an even count of NOTs cancels out");
        let error = refusal(&format!("{}WorkflowId = 'x'", "NOT ".repeat(10_000)));
        assert!(
            error
                .message
                .contains("the filter nests deeper than 64 levels"),
            "{error}"
        );
        let mixed = format!("{}WorkflowId = 'x'", "NOT (".repeat(40));
        assert!(refusal(&mixed).message.contains("deeper than 64"));
    }

    #[test]
    fn long_and_or_chains_stay_flat_and_are_bounded() {
        let chain = |n: usize, joint: &str| {
            (0..n)
                .map(|i| format!("WorkflowId != 'w{i}'"))
                .collect::<Vec<_>>()
                .join(joint)
        };
        let query = parse(&chain(MAX_TERMS, " AND ")).unwrap();
        let Filter::And(all) = &query.filter else {
            panic!("{:?}", query.filter)
        };
        assert_eq!(all.len(), MAX_TERMS, "one flat list");
        assert!(query.filter.matches(&row("a", "Running", 1)));
        // Parenthesised halves merge into the same flat list.
        let halves = format!("({}) AND ({})", chain(3, " AND "), chain(3, " AND "));
        assert!(matches!(parse(&halves).unwrap().filter, Filter::And(v) if v.len() == 6));
        for joint in [" AND ", " OR "] {
            let error = refusal(&chain(MAX_TERMS + 1, joint));
            assert!(
                error.message == "the filter makes more than 1000 comparisons",
                "{error}"
            );
        }
    }

    #[test]
    fn long_in_lists_and_long_queries_are_refused_naming_the_limit() {
        let list = |n: usize| {
            let values: Vec<String> = (0..n).map(|i| format!("'w{i}'")).collect();
            format!("WorkflowId IN ({})", values.join(","))
        };
        assert!(parse(&list(MAX_IN_VALUES)).is_ok());
        let error = refusal(&list(MAX_IN_VALUES + 1));
        assert!(
            error.message == "the IN list has more than 1000 values",
            "{error}"
        );
        let long = format!("WorkflowId = '{}'", "x".repeat(MAX_QUERY_BYTES));
        let error = refusal(&long);
        assert_eq!(
            error.message,
            format!("the query is {} bytes; the limit is 65536", long.len())
        );
        // Cut on a character boundary.
        let wide = "é".repeat(MAX_QUERY_BYTES);
        assert!(wide.is_char_boundary(refusal(&wide).position));
    }

    #[test]
    fn filters_print_as_text_that_parses_back_to_them() {
        let known = |name: &str| name == "CustomInt";
        for text in [
            "WorkflowId = 'it''s' AND (ExecutionStatus IN ('Running', 'Failed') OR CloseTime IS NULL)",
            "NOT (WorkflowType STARTS_WITH 'Hel' OR CustomInt >= 9) ORDER BY StartTime ASC, WorkflowId DESC",
            "StartTime BETWEEN '2024-01-01T00:00:00.5Z' AND '2024-02-01T00:00:00Z' AND RunId != 'r'",
            "ORDER BY CloseTime DESC",
            "",
        ] {
            let query = parse_with(text, &known).unwrap();
            let printed = query.to_string();
            assert_eq!(parse_with(&printed, &known).unwrap(), query, "{printed}");
        }
    }
}
