//! Property tests of the parser: whatever a request sends, it answers a query or an error
//! pointing into the input, without panicking or overflowing the stack (a test thread has a
//! small stack, so unbounded recursion would abort the run); filters it prints parse back
//! to filters that match the same runs.

use std::cmp::Ordering;
use std::time::{Duration, SystemTime};

use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};

use super::{Entry, Field, Filter, Query, STATUSES, Value, parse_with};

/// Fixed cases and seed, no files: the same quick run every time.
fn config() -> Config {
    Config {
        cases: 512,
        rng_seed: RngSeed::Fixed(0x5eed_f11e),
        failure_persistence: None,
        ..Config::default()
    }
}

fn known(name: &str) -> bool {
    name == "Tier" || name == "Size"
}

/// Parses, and checks the one promise every outcome keeps.
fn parse_checked(input: &str) -> Option<Query> {
    match parse_with(input, &known) {
        Ok(query) => Some(query),
        Err(error) => {
            assert!(
                error.position <= input.len(),
                "{error} for {} bytes",
                input.len()
            );
            assert!(!error.message.is_empty());
            None
        }
    }
}

const TOKENS: &[&str] = &[
    "(",
    ")",
    "(",
    ")",
    "NOT",
    "AND",
    "OR",
    "not",
    "and",
    "'",
    "\"",
    "`",
    ",",
    "=",
    "!=",
    "<>",
    "<",
    "<=",
    ">",
    ">=",
    "IN",
    "BETWEEN",
    "IS",
    "NULL",
    "STARTS_WITH",
    "ORDER",
    "BY",
    "ASC",
    "DESC",
    "WorkflowId",
    "WorkflowType",
    "RunId",
    "ExecutionStatus",
    "StartTime",
    "CloseTime",
    "TaskQueue",
    "Tier",
    "Size",
    "Colour",
    "'x'",
    "'Running'",
    "'Completed'",
    "'2024-01-01T00:00:00Z'",
    "'it''s'",
    "42",
    "-7",
    "'é'",
    "ü",
    "\u{0}",
    ";",
    "*",
];

fn token_soup() -> impl Strategy<Value = String> {
    let tokens = prop::collection::vec(prop::sample::select(TOKENS), 0..300);
    // Sometimes a long run of one opener in front, past every limit.
    let prefix = (
        0usize..3000,
        prop::sample::select(&["(", "NOT ", "NOT (", "( "][..]),
    );
    (prefix, tokens, any::<bool>()).prop_map(|((count, opener), tokens, spaced)| {
        let joint = if spaced { " " } else { "" };
        format!("{}{}", opener.repeat(count), tokens.join(joint))
    })
}

fn text_field() -> impl Strategy<Value = Field> {
    prop_oneof![
        Just(Field::WorkflowId),
        Just(Field::WorkflowType),
        Just(Field::RunId),
        Just(Field::TaskQueue),
        Just(Field::Custom("Tier".into())),
        Just(Field::Custom("Size".into())),
    ]
}

fn text() -> impl Strategy<Value = String> {
    prop::sample::select(&["a", "b", "it's", "", "9", "42", "a\"b", "Hello"][..])
        .prop_map(String::from)
}

fn time() -> impl Strategy<Value = SystemTime> {
    (0u64..6, prop::sample::select(&[0u32, 500_000_000, 7][..]))
        .prop_map(|(s, n)| SystemTime::UNIX_EPOCH + Duration::new(1_700_000_000 + s, n))
}

fn ordering() -> impl Strategy<Value = (Ordering, bool)> {
    prop::sample::select(
        &[
            (Ordering::Equal, false),
            (Ordering::Less, false),
            (Ordering::Less, true),
            (Ordering::Greater, false),
            (Ordering::Greater, true),
        ][..],
    )
}

fn comparison() -> impl Strategy<Value = Filter> {
    let time_field = prop_oneof![
        Just(Field::StartTime),
        Just(Field::CloseTime),
        Just(Field::ExecutionTime)
    ];
    let status = prop::sample::select(&STATUSES[..]).prop_map(|s| Value::Text(s.into()));
    prop_oneof![
        (text_field(), ordering(), text()).prop_map(|(f, (o, e), v)| Filter::Compare(
            f,
            o,
            e,
            Value::Text(v)
        )),
        (time_field.clone(), ordering(), time()).prop_map(|(f, (o, e), t)| Filter::Compare(
            f,
            o,
            e,
            Value::Time(t)
        )),
        status.clone().prop_map(|v| Filter::Compare(
            Field::ExecutionStatus,
            Ordering::Equal,
            false,
            v
        )),
        prop::collection::vec(status, 1..4).prop_map(|v| Filter::In(Field::ExecutionStatus, v)),
        (
            text_field(),
            prop::collection::vec(text().prop_map(Value::Text), 1..4)
        )
            .prop_map(|(f, v)| Filter::In(f, v)),
        (text_field(), text()).prop_map(|(f, p)| Filter::StartsWith(f, p)),
        prop_oneof![text_field(), time_field].prop_map(Filter::IsNull),
    ]
}

fn filter() -> impl Strategy<Value = Filter> {
    comparison().prop_recursive(6, 48, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 2..4).prop_map(Filter::And),
            prop::collection::vec(inner.clone(), 2..4).prop_map(Filter::Or),
            inner.prop_map(|f| Filter::Not(Box::new(f))),
        ]
    })
}

fn sample_rows() -> Vec<Entry> {
    let at = |s: u64| SystemTime::UNIX_EPOCH + Duration::new(1_700_000_000 + s, 0);
    let custom = |pairs: &[(&str, &str)]| {
        pairs
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    };
    vec![
        Entry {
            workflow_id: "a".into(),
            workflow_type: "Hello".into(),
            run_id: "it's".into(),
            status: "Running",
            task_queue: "b".into(),
            start_time: at(2),
            close_time: None,
            execution_time: at(2),
            custom: custom(&[("Tier", "a"), ("Size", "42")]),
        },
        Entry {
            workflow_id: "it's".into(),
            workflow_type: "a\"b".into(),
            run_id: "9".into(),
            status: "Failed",
            task_queue: "".into(),
            start_time: at(3),
            close_time: Some(SystemTime::UNIX_EPOCH + Duration::new(1_700_000_004, 7)),
            execution_time: at(5),
            custom: custom(&[("Size", "9")]),
        },
        Entry {
            workflow_id: "".into(),
            workflow_type: "b".into(),
            run_id: "a".into(),
            status: "Completed",
            task_queue: "Hello".into(),
            start_time: SystemTime::UNIX_EPOCH + Duration::new(1_700_000_001, 500_000_000),
            close_time: Some(at(5)),
            execution_time: at(1),
            custom: Vec::new(),
        },
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_text_parses_or_is_refused_within_the_input(input in any::<String>()) {
        parse_checked(&input);
    }

    #[test]
    fn token_soups_parse_or_are_refused_within_the_input(input in token_soup()) {
        if let Some(query) = parse_checked(&input) {
            // A query parsed is safe to test and to drop.
            for row in sample_rows() {
                query.filter.matches(&row.row());
            }
        }
    }

    #[test]
    fn printed_filters_parse_back_and_match_the_same_runs(filter in filter()) {
        let printed = filter.to_string();
        let query = parse_with(&printed, &known)
            .map_err(|e| TestCaseError::fail(format!("{e}: {printed}")))?;
        for row in sample_rows() {
            prop_assert_eq!(
                query.filter.matches(&row.row()),
                filter.matches(&row.row()),
                "{} on {:?}", printed, row
            );
        }
        // What the parser builds prints to text that parses back to itself.
        let again = query.to_string();
        prop_assert_eq!(parse_with(&again, &known).unwrap(), query, "{}", again);
    }
}
