//! The focus: inputs that just reached new code in the target, and the place in each
//! that was edited last, so that the mutator keeps working where it last paid off.
//!
//! libFuzzer spreads its mutations over the whole corpus, weighting inputs by how rare
//! their features are. A server that checks its input one character at a time rewards
//! each matching character with a few new edges, but the input that earned them is one
//! of hundreds or thousands, and each of its mutations edits a random place in a
//! script of several messages. The next character then costs millions of executions.
//! The focus closes that gap the way AFL's queue favours fresh finds: the harness
//! [`reward`](Focus::reward)s an input whose run reached new target edges, and for a
//! while part of the mutations start from it (the newest most often) and change the
//! same slot again (growing or correcting free text at its end). An entry is dropped
//! after a fixed number of picks, so a place that stopped paying off stops taking
//! mutations from the rest of the corpus.

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard};

use super::Rng;

/// Entries kept at once; the oldest goes first.
const CAPACITY: usize = 16;

/// Picks an entry gets before it is dropped.
const ENERGY: u32 = 4_000;

/// Where an edit happened: a step of the script and, for a value edit, the index of
/// the slot in that step's walk (`mutate/walk.rs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Place {
    pub step: usize,
    pub slot: Option<usize>,
}

/// An input to mutate from, with the place its own last edit touched.
#[derive(Debug)]
struct Entry {
    bytes: Vec<u8>,
    place: Option<Place>,
    energy: u32,
}

/// The mutator's memory of rewarded inputs; see the module documentation.
#[derive(Debug, Default)]
pub struct Focus {
    /// The last mutation's output (its hash) and the place it edited, waiting to learn
    /// whether its run paid off.
    pending: Option<(u64, Option<Place>)>,
    frontier: VecDeque<Entry>,
}

static SHARED: Mutex<Focus> = Mutex::new(Focus::new());

impl Focus {
    /// An empty focus: every mutation starts from libFuzzer's pick.
    pub const fn new() -> Focus {
        Focus {
            pending: None,
            frontier: VecDeque::new(),
        }
    }

    /// The focus the fuzz target's mutator and the harness share.
    pub fn shared() -> MutexGuard<'static, Focus> {
        SHARED.lock().unwrap_or_else(|poison| poison.into_inner())
    }

    /// Records that the run of `data` reached new edges in the target: it becomes the
    /// newest entry, with the place of the edit that made it when the mutator made it.
    pub fn reward(&mut self, data: &[u8]) {
        let place = match self.pending.take() {
            Some((hash, place)) if hash == fingerprint(data) => place,
            _ => None,
        };
        if self.frontier.len() == CAPACITY {
            self.frontier.pop_front();
        }
        self.frontier.push_back(Entry {
            bytes: data.to_vec(),
            place,
            energy: ENERGY,
        });
    }

    /// How many inputs are in focus.
    pub fn len(&self) -> usize {
        self.frontier.len()
    }

    /// Whether no input is in focus.
    pub fn is_empty(&self) -> bool {
        self.frontier.is_empty()
    }

    /// Remembers the mutation just written, to match it with its run.
    pub(super) fn remember(&mut self, output: &[u8], place: Option<Place>) {
        self.pending = Some((fingerprint(output), place));
    }

    /// Forgets the last mutation (libFuzzer's own ran instead).
    pub(super) fn forget(&mut self) {
        self.pending = None;
    }

    /// One time in two while anything is in focus, an entry to mutate instead of
    /// libFuzzer's pick: the newest half of those times, otherwise any.
    pub(super) fn pick(&mut self, rng: &mut Rng) -> Option<(Vec<u8>, Option<Place>)> {
        if self.frontier.is_empty() || rng.below(2) == 0 {
            return None;
        }
        let len = self.frontier.len();
        let at = if rng.below(2) == 0 {
            len - 1
        } else {
            rng.below(len)
        };
        let entry = &mut self.frontier[at];
        entry.energy -= 1;
        let picked = (entry.bytes.clone(), entry.place);
        if entry.energy == 0 {
            self.frontier.remove(at);
        }
        Some(picked)
    }
}

/// FNV-1a of the bytes: enough to tell one mutation's output from the next input.
fn fingerprint(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rewarded_mutation_keeps_its_place() {
        let mut focus = Focus::new();
        let place = Place {
            step: 2,
            slot: Some(7),
        };
        focus.remember(b"abc", Some(place));
        focus.reward(b"abc");
        // Another input than the last mutation: no place.
        focus.remember(b"xyz", Some(place));
        focus.reward(b"other");
        let places: Vec<_> = focus.frontier.iter().map(|entry| entry.place).collect();
        assert_eq!(places, [Some(place), None]);
    }

    #[test]
    fn picks_favour_the_newest_and_use_up_entries() {
        let mut focus = Focus::new();
        focus.reward(b"old");
        focus.reward(b"new");
        let mut rng = Rng::new(5);
        let mut newest = 0;
        let mut picks = 0;
        for _ in 0..4_000 {
            if let Some((bytes, _)) = focus.pick(&mut rng) {
                picks += 1;
                newest += usize::from(bytes == b"new");
            }
        }
        assert!((1_700..2_300).contains(&picks), "{picks} picks");
        assert!(
            newest * 10 > picks * 7,
            "{newest} of {picks} were the newest"
        );
        for _ in 0..4 * ENERGY {
            focus.pick(&mut rng);
        }
        assert!(focus.is_empty());
    }

    #[test]
    fn capacity_drops_the_oldest() {
        let mut focus = Focus::new();
        for index in 0..CAPACITY + 3 {
            focus.reward(&[index as u8]);
        }
        assert_eq!(focus.len(), CAPACITY);
        assert_eq!(focus.frontier[0].bytes, [3]);
    }
}
