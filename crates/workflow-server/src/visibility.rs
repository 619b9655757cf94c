//! Visibility: the subset of Temporal's list filter language this server understands, a
//! parser for it, and the test of one run against a parsed filter.
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

use std::cmp::Ordering;
use std::time::SystemTime;

/// A filter the parser refused, with what was wrong and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid query: {message} (at character {position})")]
pub struct FilterError {
    /// What was wrong.
    pub message: String,
    /// Where, as a byte offset into the query.
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

/// A literal, checked against its field's type when parsed.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A quoted string (or a bare number).
    Text(String),
    /// An RFC 3339 time, for the time fields.
    Time(SystemTime),
}

/// A parsed filter.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// No filter: everything matches.
    All,
    /// Both.
    And(Box<Filter>, Box<Filter>),
    /// Either.
    Or(Box<Filter>, Box<Filter>),
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

/// A parsed query: the filter and the order.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    /// Which runs.
    pub filter: Filter,
    /// `(field, descending)`; empty means newest start first.
    pub order: Vec<(Field, bool)>,
}

/// What a filter is tested against.
#[derive(Debug, Clone)]
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
    pub custom: Vec<(&'a str, String)>,
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
    /// Whether a run passes the filter.
    pub fn matches(&self, row: &Row<'_>) -> bool {
        match self {
            Self::All => true,
            Self::And(a, b) => a.matches(row) && b.matches(row),
            Self::Or(a, b) => a.matches(row) || b.matches(row),
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

    fn keyword(&mut self, keyword: &str) -> bool {
        let found = self.peek_keyword(keyword);
        if found {
            self.at += 1;
        }
        found
    }

    fn symbol(&mut self, symbol: &str) -> bool {
        let found = matches!(self.tokens.get(self.at), Some((Token::Symbol(s), _)) if *s == symbol);
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
        let mut left = self.and()?;
        while self.keyword("OR") {
            left = Filter::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Filter, FilterError> {
        let mut left = self.unary()?;
        while self.keyword("AND") {
            left = Filter::And(Box::new(left), Box::new(self.unary()?));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Filter, FilterError> {
        if self.keyword("NOT") {
            return Ok(Filter::Not(Box::new(self.unary()?)));
        }
        if self.symbol("(") {
            let inner = self.or()?;
            self.expect_symbol(")")?;
            return Ok(inner);
        }
        self.comparison()
    }

    fn comparison(&mut self) -> Result<Filter, FilterError> {
        let field = self.field()?;
        let negated = self.keyword("NOT");
        if self.keyword("IN") {
            self.expect_symbol("(")?;
            let mut values = vec![self.value(&field)?];
            while self.symbol(",") {
                values.push(self.value(&field)?);
            }
            self.expect_symbol(")")?;
            let filter = Filter::In(field, values);
            return Ok(if negated {
                Filter::Not(Box::new(filter))
            } else {
                filter
            });
        }
        if self.keyword("BETWEEN") {
            let low = self.value(&field)?;
            if !self.keyword("AND") {
                return self.error("expected AND in BETWEEN");
            }
            let high = self.value(&field)?;
            let filter = Filter::And(
                Box::new(Filter::Compare(field.clone(), Ordering::Greater, true, low)),
                Box::new(Filter::Compare(field, Ordering::Less, true, high)),
            );
            return Ok(if negated {
                Filter::Not(Box::new(filter))
            } else {
                filter
            });
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
            return Ok(if not {
                Filter::Not(Box::new(filter))
            } else {
                filter
            });
        }
        let (ordering, equal_too, negate) = if self.symbol("=") {
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
        Ok(if negate {
            Filter::Not(Box::new(filter))
        } else {
            filter
        })
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
/// ```
pub fn parse(input: &str) -> Result<Query, FilterError> {
    parse_with(input, &|_| false)
}

/// Parses a list filter that may also name the search attributes `known` accepts.
pub fn parse_with(input: &str, known: &dyn Fn(&str) -> bool) -> Result<Query, FilterError> {
    let mut parser = Parser {
        known,
        tokens: tokenize(input)?,
        at: 0,
        end: input.len(),
    };
    let filter = if parser.tokens.is_empty() || parser.peek_keyword("ORDER") {
        Filter::All
    } else {
        parser.or()?
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
    Ok(Query { filter, order })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

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
            custom: vec![("CustomInt", "42".to_string())],
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
}
