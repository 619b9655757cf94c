//! The visibility index: one compact [`Entry`] per run, and per namespace the runs by
//! workflow id, type and status, each set ordered by start time, so list and count read
//! only the runs a filter can match instead of every run.
//!
//! The memory store keeps it current from the entries and deletions each batch carries. A
//! file store answers from its own tables instead, through the same [`page`] and [`count`].

use std::borrow::Borrow;
use std::cell::Cell;
use std::cmp::Ordering;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::ops::Bound;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use super::parser::{Field, Filter, Query, Row, Value};

/// One run as the filter sees it.
#[derive(Debug, Clone, PartialEq)]
#[allow(missing_docs)] // The fields are the language's own.
pub struct Entry {
    pub workflow_id: String,
    pub workflow_type: String,
    pub run_id: Arc<str>,
    /// As the language spells it: `Running`, `Completed`, ...
    pub status: &'static str,
    pub task_queue: String,
    pub start_time: SystemTime,
    pub close_time: Option<SystemTime>,
    pub execution_time: SystemTime,
    /// Search attributes, as `(name, value as text)`.
    pub custom: Vec<(String, String)>,
}

impl Entry {
    /// The entry as the filter reads it.
    pub fn row(&self) -> Row<'_> {
        Row {
            workflow_id: &self.workflow_id,
            workflow_type: &self.workflow_type,
            run_id: &self.run_id,
            status: self.status,
            task_queue: &self.task_queue,
            start_time: self.start_time,
            close_time: self.close_time,
            execution_time: self.execution_time,
            custom: &self.custom,
        }
    }

    fn key(&self) -> Key {
        (self.start_time, Arc::clone(&self.run_id))
    }
}

/// Orders entries as a list shows them: by `order` (newest start first when empty), then
/// by start time and run id, newest first, so pages do not depend on insertion order.
pub fn list_order(a: &Entry, b: &Entry, order: &[(Field, bool)]) -> Ordering {
    a.row()
        .order(&b.row(), order)
        .then_with(|| b.key().cmp(&a.key()))
}

/// `(start time, run id)`: the order of every set below.
type Key = (SystemTime, Arc<str>);

/// How many keys a set holds in a sorted vector before it becomes a tree.
const FEW: usize = 16;

/// A set of keys, ordered. Most workflow ids have one run or a few, and a tree's first
/// node alone costs ten keys' room, so small sets are a sorted vector.
#[derive(Debug)]
enum Keys {
    Few(Vec<Key>),
    Many(BTreeSet<Key>),
}

impl Default for Keys {
    fn default() -> Self {
        Self::Few(Vec::new())
    }
}

impl Keys {
    fn len(&self) -> usize {
        match self {
            Self::Few(keys) => keys.len(),
            Self::Many(keys) => keys.len(),
        }
    }

    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn insert(&mut self, key: Key) {
        match self {
            Self::Few(keys) => match keys.binary_search(&key) {
                Ok(_) => {}
                Err(_) if keys.len() == FEW => {
                    let mut many: BTreeSet<Key> = std::mem::take(keys).into_iter().collect();
                    many.insert(key);
                    *self = Self::Many(many);
                }
                Err(at) => keys.insert(at, key),
            },
            Self::Many(keys) => {
                keys.insert(key);
            }
        }
    }

    fn remove(&mut self, key: &Key) {
        match self {
            Self::Few(keys) => {
                if let Ok(at) = keys.binary_search(key) {
                    keys.remove(at);
                }
            }
            Self::Many(keys) => {
                keys.remove(key);
            }
        }
    }

    /// The keys within `range`, oldest first.
    fn range(
        &self,
        range: (Bound<Key>, Bound<Key>),
    ) -> Box<dyn DoubleEndedIterator<Item = &Key> + '_> {
        match self {
            Self::Many(keys) => Box::new(keys.range(range)),
            Self::Few(keys) => {
                let from = match &range.0 {
                    Bound::Unbounded => 0,
                    Bound::Included(k) => keys.partition_point(|x| x < k),
                    Bound::Excluded(k) => keys.partition_point(|x| x <= k),
                };
                let to = match &range.1 {
                    Bound::Unbounded => keys.len(),
                    Bound::Included(k) => keys.partition_point(|x| x <= k),
                    Bound::Excluded(k) => keys.partition_point(|x| x < k),
                };
                Box::new(keys[from..to.max(from)].iter())
            }
        }
    }
}

/// One namespace's runs.
#[derive(Debug, Default)]
struct Space {
    rows: HashMap<Arc<str>, Entry>,
    by_start: Keys,
    by_workflow_id: HashMap<String, Keys>,
    by_type: HashMap<String, Keys>,
    by_status: HashMap<&'static str, Keys>,
}

fn add(sets: &mut HashMap<String, Keys>, value: &str, key: &Key) {
    match sets.get_mut(value) {
        Some(keys) => keys.insert(key.clone()),
        None => sets
            .entry(value.to_string())
            .or_default()
            .insert(key.clone()),
    }
}

fn take(sets: &mut HashMap<String, Keys>, value: &str, key: &Key) {
    if let Some(set) = sets.get_mut(value) {
        set.remove(key);
        if set.is_empty() {
            sets.remove(value);
        }
    }
}

impl Space {
    fn insert(&mut self, entry: Entry) {
        let key = entry.key();
        self.by_start.insert(key.clone());
        add(&mut self.by_workflow_id, &entry.workflow_id, &key);
        add(&mut self.by_type, &entry.workflow_type, &key);
        self.by_status
            .entry(entry.status)
            .or_default()
            .insert(key.clone());
        self.rows.insert(key.1, entry);
    }

    fn remove(&mut self, run_id: &str) -> Option<Entry> {
        let entry = self.rows.remove(run_id)?;
        let key = entry.key();
        self.by_start.remove(&key);
        take(&mut self.by_workflow_id, &entry.workflow_id, &key);
        take(&mut self.by_type, &entry.workflow_type, &key);
        if let Some(set) = self.by_status.get_mut(entry.status) {
            set.remove(&key);
            if set.is_empty() {
                self.by_status.remove(entry.status);
            }
        }
        Some(entry)
    }

    /// The runs `filter` can match, as sets of keys, newest last: the narrowest index its
    /// top-level `AND` terms name, cut to their start-time range. Every run that matches
    /// is among them; the filter still decides each one.
    fn plan(&self, filter: &Filter) -> Plan<'_> {
        let mut sets: Option<Vec<&Keys>> = None;
        let mut low: Option<(SystemTime, bool)> = None;
        let mut high: Option<(SystemTime, bool)> = None;
        for term in filter.conjuncts() {
            if let Some(candidates) = self.equal_sets(term) {
                let size = |s: &Vec<&Keys>| s.iter().map(|s| s.len()).sum::<usize>();
                if sets
                    .as_ref()
                    .is_none_or(|best| size(&candidates) < size(best))
                {
                    sets = Some(candidates);
                }
            }
            if let Filter::Compare(Field::StartTime, ordering, equal_too, Value::Time(t)) = term {
                // Keep the tighter bound of several.
                match ordering {
                    Ordering::Greater if low.is_none_or(|(l, _)| *t >= l) => {
                        low = Some((*t, *equal_too))
                    }
                    Ordering::Less if high.is_none_or(|(h, _)| *t <= h) => {
                        high = Some((*t, *equal_too))
                    }
                    Ordering::Equal => {
                        low = Some((*t, true));
                        high = Some((*t, true));
                    }
                    _ => {}
                }
            }
        }
        Plan {
            sets: sets.unwrap_or_else(|| vec![&self.by_start]),
            range: key_range(low, high),
        }
    }

    /// The sets an equality term on an indexed field selects.
    fn equal_sets(&self, term: &Filter) -> Option<Vec<&Keys>> {
        let (field, values): (&Field, &[Value]) = match term {
            Filter::Compare(field, Ordering::Equal, _, value) => {
                (field, std::slice::from_ref(value))
            }
            Filter::In(field, values) => (field, values),
            _ => return None,
        };
        let mut seen = HashSet::new();
        let texts = values.iter().filter_map(|v| match v {
            Value::Text(t) => seen.insert(t.as_str()).then_some(t.as_str()),
            Value::Time(_) => None,
        });
        Some(match field {
            Field::WorkflowId => texts.filter_map(|t| self.by_workflow_id.get(t)).collect(),
            Field::WorkflowType => texts.filter_map(|t| self.by_type.get(t)).collect(),
            Field::ExecutionStatus => texts.filter_map(|t| self.by_status.get(t)).collect(),
            _ => return None,
        })
    }
}

/// Which keys to read: the union of disjoint sets, within a range.
struct Plan<'a> {
    sets: Vec<&'a Keys>,
    /// `None` when the start-time bounds leave nothing.
    range: Option<(Bound<Key>, Bound<Key>)>,
}

impl<'a> Plan<'a> {
    /// The keys, newest first.
    fn newest_first(&self) -> Box<dyn Iterator<Item = &'a Key> + 'a> {
        let Some(range) = self.range.clone() else {
            return Box::new(std::iter::empty());
        };
        if let [set] = self.sets[..] {
            return Box::new(set.range(range).rev());
        }
        let mut keys: Vec<&Key> = self
            .sets
            .iter()
            .flat_map(|s| s.range(range.clone()))
            .collect();
        keys.sort_unstable_by(|a, b| b.cmp(a));
        Box::new(keys.into_iter())
    }
}

/// Start-time bounds as key bounds: keys sort by time, then run id (`""` first).
fn key_range(
    low: Option<(SystemTime, bool)>,
    high: Option<(SystemTime, bool)>,
) -> Option<(Bound<Key>, Bound<Key>)> {
    let first_at = |t: SystemTime| (t, Arc::<str>::from(""));
    let just_after = |t: SystemTime| t.checked_add(Duration::from_nanos(1));
    let start = match low {
        None => Bound::Unbounded,
        Some((t, true)) => Bound::Included(first_at(t)),
        // Nothing starts after the end of time.
        Some((t, false)) => Bound::Included(first_at(just_after(t)?)),
    };
    let end = match high {
        None => Bound::Unbounded,
        Some((t, false)) => Bound::Excluded(first_at(t)),
        Some((t, true)) => just_after(t).map_or(Bound::Unbounded, |t| Bound::Excluded(first_at(t))),
    };
    // A tree's `range` panics on a start past the end.
    if let (Bound::Included(s), Bound::Excluded(e)) = (&start, &end)
        && s > e
    {
        return None;
    }
    Some((start, end))
}

/// A page of a list: run ids in list order, and whether more follow.
#[derive(Debug, Default, PartialEq)]
pub struct Page {
    /// The runs of the page.
    pub run_ids: Vec<Arc<str>>,
    /// Whether runs after the page match too.
    pub more: bool,
    /// How many entries were tested against the filter.
    pub examined: usize,
}

/// A count, and how many entries were tested to get it.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Count {
    /// How many runs match.
    pub count: usize,
    /// How many entries were tested against the filter.
    pub examined: usize,
}

/// Every namespace's entries and indexes.
#[derive(Debug, Default)]
pub struct Index {
    spaces: HashMap<String, Space>,
}

impl Index {
    /// The entry of a run.
    pub fn get(&self, namespace: &str, run_id: &str) -> Option<&Entry> {
        self.spaces.get(namespace)?.rows.get(run_id)
    }

    /// Every closed run: `(namespace, entry)`.
    pub fn closed(&self) -> impl Iterator<Item = (&str, &Entry)> {
        self.spaces.iter().flat_map(|(namespace, space)| {
            space
                .rows
                .values()
                .filter(|entry| entry.close_time.is_some())
                .map(move |entry| (namespace.as_str(), entry))
        })
    }

    /// Adds or replaces the entry of a run.
    pub fn upsert(&mut self, namespace: &str, entry: Entry) {
        let space = match self.spaces.get_mut(namespace) {
            Some(space) => space,
            None => self.spaces.entry(namespace.to_string()).or_default(),
        };
        if space.rows.get(&*entry.run_id) == Some(&entry) {
            return;
        }
        space.remove(&entry.run_id);
        space.insert(entry);
    }

    /// Removes the entry of a run.
    pub fn remove(&mut self, namespace: &str, run_id: &str) {
        if let Some(space) = self.spaces.get_mut(namespace) {
            space.remove(run_id);
            if space.rows.is_empty() {
                self.spaces.remove(namespace);
            }
        }
    }

    /// How many runs of `namespace` match `filter`.
    pub fn count(&self, namespace: &str, filter: &Filter) -> Count {
        let Some(space) = self.spaces.get(namespace) else {
            return Count::default();
        };
        let plan = space.plan(filter);
        count(plan.newest_first().map(|key| &space.rows[&key.1]), filter)
    }

    /// The runs of `namespace` that match `query`, in its order, `skip` of them skipped and
    /// at most `limit` returned.
    pub fn page(&self, namespace: &str, query: &Query, skip: usize, limit: usize) -> Page {
        let Some(space) = self.spaces.get(namespace) else {
            return Page::default();
        };
        let plan = space.plan(&query.filter);
        page(
            plan.newest_first().map(|key| &space.rows[&key.1]),
            query,
            skip,
            limit,
        )
    }
}

/// Counts the `candidates` (every run `filter` can match, and maybe more) that match.
pub fn count<E: Borrow<Entry>>(candidates: impl Iterator<Item = E>, filter: &Filter) -> Count {
    let mut count = Count::default();
    for entry in candidates {
        count.examined += 1;
        if filter.matches(&entry.borrow().row()) {
            count.count += 1;
        }
    }
    count
}

/// The page of `candidates` (every run the query's filter can match, and maybe more, newest
/// start first) that `query` selects: `skip` of them skipped, at most `limit` returned.
pub fn page<E: Borrow<Entry>>(
    candidates: impl Iterator<Item = E>,
    query: &Query,
    skip: usize,
    limit: usize,
) -> Page {
    let mut page = Page::default();
    let examined = Cell::new(0);
    let mut matching = candidates
        .inspect(|_| examined.set(examined.get() + 1))
        .filter(|entry| query.filter.matches(&entry.borrow().row()));
    let newest_first = matches!(query.order.as_slice(), [] | [(Field::StartTime, true)]);
    if newest_first {
        // The candidates come in list order: read no further than the page and one more.
        let mut matching = matching.skip(skip);
        page.run_ids = matching
            .by_ref()
            .take(limit)
            .map(|e| Arc::clone(&e.borrow().run_id))
            .collect();
        page.more = matching.next().is_some();
    } else {
        let mut all: Vec<E> = matching.by_ref().collect();
        all.sort_by(|a, b| list_order(a.borrow(), b.borrow(), &query.order));
        page.more = all.len() > skip.saturating_add(limit);
        page.run_ids = all
            .into_iter()
            .skip(skip)
            .take(limit)
            .map(|e| Arc::clone(&e.borrow().run_id))
            .collect();
    }
    page.examined = examined.get();
    page
}

#[cfg(test)]
mod keys_tests {
    use proptest::prelude::*;

    use super::*;

    fn key(n: u8) -> Key {
        (
            SystemTime::UNIX_EPOCH + Duration::from_secs(u64::from(n / 4)),
            Arc::from(format!("{n}")),
        )
    }

    fn bound() -> impl Strategy<Value = Bound<u8>> {
        prop_oneof![
            Just(Bound::Unbounded),
            any::<u8>().prop_map(Bound::Included),
            any::<u8>().prop_map(Bound::Excluded),
        ]
    }

    proptest! {
        /// A set answers ranges as a tree would, on either side of the switch to a tree.
        #[test]
        fn keys_answer_ranges_as_a_tree_does(
            inserted in prop::collection::vec(0u8..64, 0..40),
            removed in prop::collection::vec(0u8..64, 0..10),
            low in bound(),
            high in bound(),
        ) {
            let mut keys = Keys::default();
            let mut tree = BTreeSet::new();
            for n in &inserted {
                keys.insert(key(*n));
                tree.insert(key(*n));
            }
            for n in &removed {
                keys.remove(&key(*n));
                tree.remove(&key(*n));
            }
            prop_assert_eq!(keys.len(), tree.len());
            let range = (low.map(key), high.map(key));
            let valid = match (&range.0, &range.1) {
                (Bound::Included(s) | Bound::Excluded(s), Bound::Included(e) | Bound::Excluded(e)) => {
                    s < e || (s == e && matches!(range, (Bound::Included(_), Bound::Included(_))))
                }
                _ => true,
            };
            prop_assume!(valid);
            let got: Vec<&Key> = keys.range(range.clone()).rev().collect();
            let want: Vec<&Key> = tree.range(range).rev().collect();
            prop_assert_eq!(got, want);
        }
    }
}
