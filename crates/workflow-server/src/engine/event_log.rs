//! A run's history in memory, each event kept encoded as the store holds it. A decoded
//! event takes about 2 KB whatever it says (its attributes are one large enum); an encoded
//! event of a hello workflow takes about a hundred bytes. Readers decode what they hand out.

use std::ops::Range;

use prost::Message;
use temporalio_protos::temporal::api::history::v1::HistoryEvent;

use crate::store::StoreError;

/// The events of one run, in order, encoded.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct EventLog {
    events: Vec<Vec<u8>>,
    bytes: usize,
}

fn decode(bytes: &[u8]) -> HistoryEvent {
    // Every entry was encoded here or checked when it was read from the store.
    HistoryEvent::decode(bytes).expect("an event log holds only events that decode")
}

impl EventLog {
    /// The events as the store holds them, each checked to decode.
    pub(crate) fn from_stored(events: Vec<Vec<u8>>) -> Result<Self, StoreError> {
        for bytes in &events {
            HistoryEvent::decode(bytes.as_slice()).map_err(|source| StoreError::Corrupt {
                what: "event",
                source,
            })?;
        }
        let bytes = events.iter().map(Vec::len).sum();
        Ok(Self { events, bytes })
    }

    pub(crate) fn len(&self) -> usize {
        self.events.len()
    }

    /// How many bytes the events take encoded: Temporal's history size.
    pub(crate) fn encoded_size(&self) -> usize {
        self.bytes
    }

    pub(crate) fn push(&mut self, event: &HistoryEvent) {
        let bytes = event.encode_to_vec();
        self.bytes += bytes.len();
        self.events.push(bytes);
    }

    /// The event at `index` (event id minus one).
    pub(crate) fn get(&self, index: usize) -> Option<HistoryEvent> {
        self.events.get(index).map(|bytes| decode(bytes))
    }

    pub(crate) fn first(&self) -> Option<HistoryEvent> {
        self.get(0)
    }

    pub(crate) fn last(&self) -> Option<HistoryEvent> {
        self.events.last().map(|bytes| decode(bytes))
    }

    /// The events at `range` (cut to what there is), decoded.
    pub(crate) fn decode(&self, range: Range<usize>) -> Vec<HistoryEvent> {
        let end = range.end.min(self.events.len());
        let start = range.start.min(end);
        self.events[start..end].iter().map(|b| decode(b)).collect()
    }

    /// Every event, decoded.
    pub(crate) fn decode_all(&self) -> Vec<HistoryEvent> {
        self.decode(0..self.events.len())
    }

    /// The events newest first, each decoded as the reader reaches it.
    pub(crate) fn newest_first(&self) -> impl Iterator<Item = HistoryEvent> + '_ {
        self.events.iter().rev().map(|bytes| decode(bytes))
    }

    /// The events from `index` on, encoded: `(event id, bytes)`.
    pub(crate) fn encoded_from(&self, index: usize) -> impl Iterator<Item = (i64, &[u8])> {
        self.events
            .iter()
            .enumerate()
            .skip(index)
            .map(|(i, bytes)| (i as i64 + 1, bytes.as_slice()))
    }
}

impl FromIterator<HistoryEvent> for EventLog {
    fn from_iter<I: IntoIterator<Item = HistoryEvent>>(events: I) -> Self {
        let mut log = Self::default();
        for event in events {
            log.push(&event);
        }
        log
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(id: i64) -> HistoryEvent {
        HistoryEvent {
            event_id: id,
            task_id: id * 10,
            ..Default::default()
        }
    }

    #[test]
    fn events_come_back_as_they_went_in_and_ranges_are_cut_to_what_there_is() {
        let log: EventLog = (1..=3).map(event).collect();
        assert_eq!(log.len(), 3);
        assert_eq!(log.first(), Some(event(1)));
        assert_eq!(log.last(), Some(event(3)));
        assert_eq!(log.decode(1..10), vec![event(2), event(3)]);
        assert_eq!(log.decode(5..10), vec![]);
        let ids: Vec<i64> = log.newest_first().map(|e| e.event_id).collect();
        assert_eq!(ids, [3, 2, 1]);
        let encoded: Vec<i64> = log.encoded_from(1).map(|(id, _)| id).collect();
        assert_eq!(encoded, [2, 3]);
        let size: usize = (1..=3).map(|i| event(i).encoded_len()).sum();
        assert_eq!(log.encoded_size(), size);
    }

    #[test]
    fn stored_events_that_do_not_decode_are_refused_as_corrupt() {
        let refused = EventLog::from_stored(vec![event(1).encode_to_vec(), vec![0xff, 0xff]]);
        assert!(matches!(
            refused,
            Err(StoreError::Corrupt { what: "event", .. })
        ));
        let stored = EventLog::from_stored(vec![event(1).encode_to_vec()]).unwrap();
        assert_eq!(stored.decode_all(), vec![event(1)]);
    }
}
