//! Protocol-state features for libFuzzer: which method or tool produced which outcome,
//! and which outcome followed which, hashed into a small block of extra counters.
//!
//! libFuzzer reads the `__libfuzzer_extra_counters` section after every input (and zeroes
//! it before the next), so an input that makes the target answer in a new way raises `ft`
//! and is kept. The features are deliberately coarse: a feature per distinct reply text
//! would make every input look new and flood the corpus.

/// How many counters; features are hashed into them.
pub const N_COUNTERS: usize = 4096;

/// libFuzzer's extra counters. Only the fuzz build has them; elsewhere features are just
/// collected in a [`Features`] value.
#[cfg(fuzzing)]
#[used]
#[link_section = "__libfuzzer_extra_counters"]
static COUNTERS: [std::sync::atomic::AtomicU8; N_COUNTERS] =
    [const { std::sync::atomic::AtomicU8::new(0) }; N_COUNTERS];

/// libFuzzer's extra counters for the target's own edges (see [`crate::coverage`]), in
/// the same section: libFuzzer reads and zeroes the whole section after every input.
#[cfg(fuzzing)]
#[used]
#[link_section = "__libfuzzer_extra_counters"]
static CHILD_COUNTERS: [std::sync::atomic::AtomicU8; crate::coverage::MAP_SIZE] =
    [const { std::sync::atomic::AtomicU8::new(0) }; crate::coverage::MAP_SIZE];

// The harness's own SanitizerCoverage counters (inline 8-bit counters, which cargo-fuzz
// builds always have): the linker names the section's bounds.
#[cfg(fuzzing)]
extern "C" {
    static mut __start___sancov_cntrs: u8;
    static mut __stop___sancov_cntrs: u8;
}

/// Zeroes the harness's own coverage counters after an input, so that libFuzzer keeps an
/// input for what it did in the target (its edges and the protocol features), not for
/// the path it took through mcpfuzz's grammar and oracles: with a coverage bridge, those
/// grammar-shaped inputs otherwise fill the corpus by the thousand and bury the few that
/// reached new server code. A no-op outside the fuzz build.
pub fn silence_harness() {
    #[cfg(fuzzing)]
    // SAFETY: the bounds are the linker's for the one section holding the counters; the
    // counters are plain bytes that only instrumentation writes, on this thread.
    unsafe {
        let start = std::ptr::addr_of_mut!(__start___sancov_cntrs);
        let stop = std::ptr::addr_of_mut!(__stop___sancov_cntrs);
        let len = (stop as usize).saturating_sub(start as usize);
        std::ptr::write_bytes(start, 0, len);
    }
}

/// Hands the target's edge map of one input to libFuzzer (a no-op outside the fuzz
/// build). Zero stretches are skipped a word at a time, so a sparse map costs little.
pub fn publish_child(map: &[u8]) {
    #[cfg(fuzzing)]
    for (word_index, word) in map.chunks_exact(8).enumerate() {
        if u64::from_ne_bytes(word.try_into().expect("eight bytes")) == 0 {
            continue;
        }
        for (offset, &byte) in word.iter().enumerate() {
            if byte != 0 {
                if let Some(counter) = CHILD_COUNTERS.get(word_index * 8 + offset) {
                    counter.store(byte, std::sync::atomic::Ordering::Relaxed);
                }
            }
        }
    }
    #[cfg(not(fuzzing))]
    let _ = map;
}

/// Features seen while running one input.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Features {
    indices: Vec<u16>,
}

/// What ended an exchange, beyond the replies themselves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// The target died.
    Crash,
    /// A request got no reply in time.
    Hang,
    /// A finding was raised (its kind's name is hashed in).
    Finding,
    /// The target sent a request to the client.
    ServerRequest,
    /// The target sent a notification.
    Notification,
}

impl Features {
    /// Records that `label` (a method or `tools/call:<name>`) ended in `outcome`, and the
    /// transition from the previous outcome of this input.
    pub fn outcome(&mut self, label: &str, outcome: u8, previous: Option<u8>) {
        self.push(hash(&[label.as_bytes(), &[1, outcome]]));
        self.push(hash(&[&[2, previous.unwrap_or(255), outcome]]));
    }

    /// Records an event tied to `detail` (a label, a method or a finding kind).
    pub fn event(&mut self, event: Event, detail: &str) {
        self.push(hash(&[detail.as_bytes(), &[3, event as u8]]));
    }

    /// Records how many replies the input produced, in log2 buckets.
    pub fn reply_count(&mut self, replies: usize) {
        let bucket = usize::BITS - replies.leading_zeros();
        self.push(hash(&[&[4, bucket as u8]]));
    }

    fn push(&mut self, feature: u64) {
        self.indices.push((feature % N_COUNTERS as u64) as u16);
    }

    /// The counter indices, in the order they were recorded.
    pub fn indices(&self) -> &[u16] {
        &self.indices
    }

    /// Sets libFuzzer's counters (a no-op outside the fuzz build). A feature counts once
    /// per input however often it was seen: libFuzzer turns hit counts into features of
    /// their own, and "the same outcome three times instead of two" kept so many inputs
    /// that the corpus drowned the ones that reached new server code.
    pub fn publish(&self) {
        #[cfg(fuzzing)]
        for &index in &self.indices {
            COUNTERS[index as usize].store(1, std::sync::atomic::Ordering::Relaxed);
        }
    }
}

/// FNV-1a over several byte strings.
fn hash(parts: &[&[u8]]) -> u64 {
    let mut state: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for &byte in *part {
            state ^= byte as u64;
            state = state.wrapping_mul(0x0100_0000_01b3);
        }
        state ^= 0xff;
        state = state.wrapping_mul(0x0100_0000_01b3);
    }
    state
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_observations_give_same_features_and_different_ones_differ() {
        let mut first = Features::default();
        first.outcome("tools/call:echo", 0, None);
        let mut second = Features::default();
        second.outcome("tools/call:echo", 0, None);
        assert_eq!(first, second);
        let mut third = Features::default();
        third.outcome("tools/call:echo", 3, None);
        assert_ne!(first.indices()[0], third.indices()[0]);
        assert!(first.indices().iter().all(|&i| (i as usize) < N_COUNTERS));
    }
}
