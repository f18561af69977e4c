//! Deterministic shards: which of N array tasks handles a key.
//!
//! A key belongs to shard `u64::from_le_bytes(first 8 bytes of MD5(key)) % N`, rclone's
//! `--hash-filter` rule, so other tools can compute it too. The shard depends on the key alone:
//! keys added to the listing later never move an existing key to another shard (index ranges
//! over a sorted listing would move half of them), and every task can decide for itself without
//! seeing the others' keys.
//!
//! The index comes from `--shard-index` or the array engine: Slurm (`SLURM_ARRAY_TASK_ID`),
//! Kubernetes Indexed Jobs (`JOB_COMPLETION_INDEX`), AWS Batch (`AWS_BATCH_JOB_ARRAY_INDEX`).
//! The count is always explicit: no engine reliably tells the job's total (Slurm's
//! `SLURM_ARRAY_TASK_COUNT` is the size of one submission, Kubernetes has none).
use md5::{Digest, Md5};

/// The variables that may carry the shard index, in the order they are tried.
pub const INDEX_VARIABLES: [&str; 3] = [
    "SLURM_ARRAY_TASK_ID",
    "JOB_COMPLETION_INDEX",
    "AWS_BATCH_JOB_ARRAY_INDEX",
];

/// Why no shard could be chosen. The command line turns these into exit code 2.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShardError {
    /// The count is 0 (only a library caller can pass it; the command line refuses it first).
    #[error(
        "{} must be at least 1",
        crate::names::name(crate::names::Setting::ShardCount)
    )]
    ZeroCount,
    /// No `--shard-index`, and none of [`INDEX_VARIABLES`] is set (or each is empty).
    #[error(
        "no shard index: pass {} or run as an array task \
         (SLURM_ARRAY_TASK_ID, JOB_COMPLETION_INDEX or AWS_BATCH_JOB_ARRAY_INDEX)",
        crate::names::name(crate::names::Setting::ShardIndex)
    )]
    NoIndex,
    /// The first index variable set holds something other than digits (spaces around them
    /// aside), or a number too large for a `u64`.
    #[error("{variable}={value:?} is not a shard index (a whole number from 0)")]
    NotANumber {
        /// The variable's name, one of [`INDEX_VARIABLES`].
        variable: &'static str,
        /// Its value as set.
        value: String,
    },
    /// The index, given or from the environment, is not below the count.
    #[error(
        "shard index {index} is out of range for {} {count}: indices run from 0 to {} \
         (a Slurm array for {count} shards is --array=0-{})",
        crate::names::name(crate::names::Setting::ShardCount),
        count.saturating_sub(1),
        count.saturating_sub(1)
    )]
    OutOfRange {
        /// The shard index found.
        index: u64,
        /// The `--shard-count`.
        count: u64,
    },
}

/// The 64-bit hash of a key: the first 8 bytes of its MD5, read little-endian.
pub fn key_hash(key: &[u8]) -> u64 {
    let digest = Md5::digest(key);
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_le_bytes(first)
}

/// The shard of `key` among `count` shards. A count of 0 (never valid for a [`Shard`]) gives 0
/// rather than a division by zero.
pub fn shard_of(key: &[u8], count: u64) -> u64 {
    key_hash(key).checked_rem(count).unwrap_or(0)
}

/// One task's share of the keys: shard `index` of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// This task's shard, `0..count`.
    pub index: u64,
    /// How many shards the keys are dealt into, at least 1.
    pub count: u64,
}

impl Shard {
    /// The whole input as one shard: what a run without sharding is (its manifest goes to
    /// `n1/shard-0`).
    pub const ALL: Shard = Shard { index: 0, count: 1 };

    /// The shard from `--shard-index` (`index`) and `--shard-count` (`count`), falling back to
    /// the first of [`INDEX_VARIABLES`] that `env` finds set. `env` is `|name| std::env::var(name).ok()`
    /// in the program, a table in tests. A variable set to an empty string counts as unset.
    pub fn from_args(
        index: Option<u64>,
        count: u64,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Shard, ShardError> {
        if count == 0 {
            return Err(ShardError::ZeroCount);
        }
        let index = match index {
            Some(index) => index,
            None => index_from_env(&env)?,
        };
        if index >= count {
            return Err(ShardError::OutOfRange { index, count });
        }
        Ok(Shard { index, count })
    }

    /// Whether `key` belongs to this shard.
    pub fn contains(&self, key: &[u8]) -> bool {
        shard_of(key, self.count) == self.index
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "shard {} of {}", self.index, self.count)
    }
}

fn index_from_env(env: &impl Fn(&str) -> Option<String>) -> Result<u64, ShardError> {
    for variable in INDEX_VARIABLES {
        let Some(value) = env(variable) else { continue };
        let trimmed = value.trim();
        if trimmed.is_empty() {
            continue;
        }
        // Only digits: `u64::from_str` would also take a leading `+`, which no engine writes.
        if !trimmed.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ShardError::NotANumber { variable, value });
        }
        return trimmed
            .parse()
            .map_err(|_| ShardError::NotANumber { variable, value });
    }
    Err(ShardError::NoIndex)
}

/// Deals `keys` into `count` lists, list K holding shard K's keys in their original order (the
/// `plan` step). A count of 0 gives no lists.
pub fn split_keys<K: AsRef<[u8]>>(keys: impl IntoIterator<Item = K>, count: u64) -> Vec<Vec<K>> {
    let mut lists: Vec<Vec<K>> = (0..count).map(|_| Vec::new()).collect();
    for key in keys {
        let shard = shard_of(key.as_ref(), count);
        // `shard < count == lists.len()` whenever count > 0; with count 0 there is no list.
        if let Some(list) = usize::try_from(shard).ok().and_then(|i| lists.get_mut(i)) {
            list.push(key);
        }
    }
    lists
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// Keys shaped like a photo library: nested folders, numbered files, some non-ASCII.
    fn keys(n: usize) -> Vec<String> {
        (0..n)
            .map(|i| match i % 4 {
                0 => format!("2023/{:02}/IMG_{i:05}.jpg", i % 12 + 1),
                1 => format!("trips/été/DSC{i}.JPG"),
                2 => format!("p{i}.jpeg"),
                _ => format!("a/b/c/d/{}/{i}.jpg", i % 7),
            })
            .collect()
    }

    fn env_from(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn hash_matches_md5_computed_independently() {
        // From Python: int.from_bytes(hashlib.md5(key).digest()[:8], 'little').
        assert_eq!(key_hash(b""), 338_333_539_836_370_388);
        assert_eq!(key_hash(b"sub/dir/photo.jpg"), 2_462_551_232_837_221_074);
        assert_eq!(key_hash(b"a.jpg"), 6_341_708_373_261_108_793);
        assert_eq!(
            key_hash("ü/straße.jpg".as_bytes()),
            1_509_293_584_975_296_622
        );
        assert_eq!(shard_of(b"sub/dir/photo.jpg", 7), 3);
        assert_eq!(shard_of(b"sub/dir/photo.jpg", 1000), 74);
        assert_eq!(shard_of(b"a.jpg", 16), 9);
        assert_eq!(shard_of("ü/straße.jpg".as_bytes(), 7), 5);
    }

    #[test]
    fn zero_count_does_not_divide() {
        assert_eq!(shard_of(b"a.jpg", 0), 0);
        assert!(split_keys(["a.jpg"], 0).is_empty());
    }

    #[test]
    fn every_key_in_exactly_one_shard() {
        let keys = keys(3000);
        let position: HashMap<&str, usize> = keys
            .iter()
            .enumerate()
            .map(|(i, k)| (k.as_str(), i))
            .collect();
        for count in 1..=16u64 {
            let shards: Vec<Shard> = (0..count).map(|index| Shard { index, count }).collect();
            for key in &keys {
                let owners = shards.iter().filter(|s| s.contains(key.as_bytes())).count();
                assert_eq!(owners, 1, "{key} in {owners} of {count} shards");
            }
            let lists = split_keys(keys.iter(), count);
            assert_eq!(lists.len() as u64, count);
            assert_eq!(lists.iter().map(Vec::len).sum::<usize>(), keys.len());
            for (index, list) in lists.iter().enumerate() {
                let shard = Shard {
                    index: index as u64,
                    count,
                };
                assert!(list.iter().all(|key| shard.contains(key.as_bytes())));
                // The original order is kept within a list.
                let positions: Vec<usize> = list
                    .iter()
                    .map(|key| position.get(key.as_str()).copied().unwrap_or(usize::MAX))
                    .collect();
                assert!(positions.windows(2).all(|w| w[0] < w[1]));
            }
        }
    }

    #[test]
    fn appending_and_reordering_keys_moves_none() {
        let before = keys(2000);
        let mut after = keys(2600);
        after.reverse();
        for count in [2u64, 5, 16] {
            let old: HashMap<&String, u64> = split_keys(before.iter(), count)
                .into_iter()
                .enumerate()
                .flat_map(|(index, list)| list.into_iter().map(move |k| (k, index as u64)))
                .collect();
            let new = split_keys(after.iter(), count);
            for (index, list) in new.iter().enumerate() {
                for key in list {
                    if let Some(&was) = old.get(key) {
                        assert_eq!(was, index as u64, "{key} moved with {count} shards");
                    }
                }
            }
        }
    }

    #[test]
    fn shards_are_roughly_balanced() {
        let keys = keys(4000);
        for count in [2u64, 4, 8, 13] {
            let expected = keys.len() as f64 / count as f64;
            for list in split_keys(keys.iter(), count) {
                let deviation = (list.len() as f64 - expected).abs() / expected;
                assert!(
                    deviation < 0.2,
                    "{} keys in a shard of {count}, expected about {expected}",
                    list.len()
                );
            }
        }
    }

    #[test]
    fn argument_wins_over_environment() {
        let env = env_from(&[("SLURM_ARRAY_TASK_ID", "3")]);
        assert_eq!(
            Shard::from_args(Some(1), 4, env),
            Ok(Shard { index: 1, count: 4 })
        );
    }

    #[test]
    fn environment_in_order_slurm_kubernetes_aws() {
        let all = env_from(&[
            ("SLURM_ARRAY_TASK_ID", "1"),
            ("JOB_COMPLETION_INDEX", "2"),
            ("AWS_BATCH_JOB_ARRAY_INDEX", "3"),
        ]);
        assert_eq!(Shard::from_args(None, 4, all).map(|s| s.index), Ok(1));
        let k8s_aws = env_from(&[
            ("JOB_COMPLETION_INDEX", "2"),
            ("AWS_BATCH_JOB_ARRAY_INDEX", "3"),
        ]);
        assert_eq!(Shard::from_args(None, 4, k8s_aws).map(|s| s.index), Ok(2));
        let aws = env_from(&[("AWS_BATCH_JOB_ARRAY_INDEX", " 3\n")]);
        assert_eq!(Shard::from_args(None, 4, aws).map(|s| s.index), Ok(3));
        // An empty variable is skipped, not an error.
        let empty_slurm = env_from(&[("SLURM_ARRAY_TASK_ID", ""), ("JOB_COMPLETION_INDEX", "0")]);
        assert_eq!(
            Shard::from_args(None, 4, empty_slurm).map(|s| s.index),
            Ok(0)
        );
    }

    #[test]
    fn no_index_names_the_variables_and_the_flag() {
        let err = Shard::from_args(None, 4, env_from(&[])).unwrap_err();
        assert_eq!(err, ShardError::NoIndex);
        let message = err.to_string();
        let flag = crate::names::name(crate::names::Setting::ShardIndex);
        for name in INDEX_VARIABLES.iter().chain(&[flag]) {
            assert!(message.contains(name), "{message:?} lacks {name}");
        }
    }

    #[test]
    fn a_bad_number_names_its_variable() {
        for bad in ["x", "-1", "+1", "1.0", "99999999999999999999999"] {
            let env = env_from(&[("JOB_COMPLETION_INDEX", bad)]);
            let err = Shard::from_args(None, 4, env).unwrap_err();
            assert_eq!(
                err,
                ShardError::NotANumber {
                    variable: "JOB_COMPLETION_INDEX",
                    value: bad.to_string()
                }
            );
            assert!(err.to_string().starts_with("JOB_COMPLETION_INDEX="));
        }
        // The first set variable decides: a bad one is not skipped for a good one after it.
        let env = env_from(&[("SLURM_ARRAY_TASK_ID", "a"), ("JOB_COMPLETION_INDEX", "1")]);
        assert!(matches!(
            Shard::from_args(None, 4, env),
            Err(ShardError::NotANumber {
                variable: "SLURM_ARRAY_TASK_ID",
                ..
            })
        ));
    }

    #[test]
    fn index_must_be_below_count() {
        assert_eq!(
            Shard::from_args(Some(4), 4, env_from(&[])),
            Err(ShardError::OutOfRange { index: 4, count: 4 })
        );
        // Slurm arrays numbered from 1 are the likely cause; the message says how to submit.
        let env = env_from(&[("SLURM_ARRAY_TASK_ID", "4")]);
        let err = Shard::from_args(None, 4, env).unwrap_err();
        assert!(err.to_string().contains("--array=0-3"), "{err}");
        assert_eq!(
            Shard::from_args(Some(3), 4, env_from(&[])),
            Ok(Shard { index: 3, count: 4 })
        );
    }

    #[test]
    fn count_must_be_positive() {
        assert_eq!(
            Shard::from_args(Some(0), 0, env_from(&[])),
            Err(ShardError::ZeroCount)
        );
    }

    #[test]
    fn one_shard_holds_everything() {
        assert!(keys(500).iter().all(|k| Shard::ALL.contains(k.as_bytes())));
        assert_eq!(Shard { index: 2, count: 8 }.to_string(), "shard 2 of 8");
    }
}
