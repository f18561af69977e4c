//! Targets instead of a fixed quality (issue 10): the lowest quality whose output still scores
//! a perceptual SCORE against the input (`--target-quality`), the highest quality whose output
//! fits a size (`--target-size`), and the saving below which the original is kept
//! (`--min-savings`). This module parses them and searches; the caller encodes and scores.
//!
//! Both searches are bisections over the integer qualities `1..=ceiling` (the run's `-q`),
//! assuming what holds for JPEG's scaled tables: a higher quality gives a larger file and a
//! higher score. At most [`MAX_STEPS`] candidates are made per image; every candidate the
//! caller makes is kept by it, so the chosen one is never encoded twice.
use std::fmt;

/// The most candidates one image's search makes: enough for a bisection of 1..=100.
pub const MAX_STEPS: u32 = 8;

/// The perceptual metric of `--target-quality`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// SSIMULACRA 2 (Cloudinary, as used to tune JPEG XL and jpegli): 100 is identical, 90 is
    /// visually lossless at a normal viewing distance, 70 high quality, 50 medium; it can go
    /// below 0 for very low qualities.
    Ssimulacra2,
}

impl Metric {
    pub fn as_str(self) -> &'static str {
        match self {
            Metric::Ssimulacra2 => "ssimulacra2",
        }
    }
}

/// `--target-quality METRIC:SCORE`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QualityTarget {
    pub metric: Metric,
    pub score: f64,
}

impl fmt::Display for QualityTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.metric.as_str(), self.score)
    }
}

/// A size in bytes, or a share of each input's size (`--target-size`, `--min-savings`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SizeLimit {
    Bytes(u64),
    /// Percent of the input's size, in `(0, 100]`.
    Percent(f64),
}

impl SizeLimit {
    /// The limit for an input of `input` bytes.
    pub fn of(self, input: u64) -> u64 {
        match self {
            SizeLimit::Bytes(bytes) => bytes,
            SizeLimit::Percent(pct) => (input as f64 * pct / 100.0).floor() as u64,
        }
    }
}

impl fmt::Display for SizeLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SizeLimit::Bytes(bytes) => write!(f, "{bytes}"),
            SizeLimit::Percent(pct) => write!(f, "{pct}%"),
        }
    }
}

/// Parses `ssimulacra2:70`, or a bare `70` (SSIMULACRA 2, the only metric). The score must be
/// in `(0, 100]`: 100 is identical, and targets at or below 0 ask for no quality at all.
pub fn parse_quality_target(text: &str) -> Result<QualityTarget, String> {
    let (metric, score) = match text.split_once(':') {
        Some((name, score)) => (name.trim().to_ascii_lowercase(), score),
        None => (Metric::Ssimulacra2.as_str().to_string(), text),
    };
    let metric = match metric.as_str() {
        "ssimulacra2" | "ssimulacra" => Metric::Ssimulacra2,
        "dssim" => {
            return Err(
                "dssim is not offered (its crate is AGPL-licensed); use ssimulacra2:SCORE (e.g. ssimulacra2:70)"
                    .into(),
            );
        }
        other => return Err(format!("unknown metric {other:?}: use ssimulacra2:SCORE")),
    };
    let score: f64 = score
        .trim()
        .parse()
        .map_err(|_| format!("{score:?} is not a number: use e.g. ssimulacra2:70"))?;
    if !(score > 0.0 && score <= 100.0) {
        return Err(format!(
            "a {} score is at most 100 (identical) and must be above 0; 70 is high quality, 90 visually lossless",
            metric.as_str()
        ));
    }
    Ok(QualityTarget { metric, score })
}

/// Parses `500K`, `2M`, `123456` (bytes; K, M, G are binary: 1K = 1024) or `40%` (of each
/// input). Zero, negative and over-100 % values are refused.
pub fn parse_size_limit(text: &str) -> Result<SizeLimit, String> {
    let text = text.trim();
    if let Some(pct) = text.strip_suffix('%') {
        let pct: f64 = pct
            .trim()
            .parse()
            .map_err(|_| format!("{text:?} is not a percentage (e.g. 40%)"))?;
        if !(pct > 0.0 && pct <= 100.0) {
            return Err(format!(
                "{text:?}: a percentage must be above 0 and at most 100"
            ));
        }
        return Ok(SizeLimit::Percent(pct));
    }
    let bytes = crate::memory::parse_size(text)?;
    if bytes == 0 {
        return Err("a size must be above 0 (e.g. 500K, 2M or 40%)".into());
    }
    Ok(SizeLimit::Bytes(bytes))
}

/// What a search found.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Found {
    pub quality: u8,
    /// The candidate's measure: its score (quality search) or its bytes (size search).
    pub measure: f64,
    /// False when no quality in range meets the target: `quality` is then the nearest
    /// (the ceiling for a score, 1 for a size).
    pub met: bool,
    /// Candidates made.
    pub steps: u32,
}

/// The lowest quality in `1..=ceiling` whose `score(q)` is at least `target`.
pub fn lowest_quality_scoring<E>(
    ceiling: u8,
    target: f64,
    score: impl FnMut(u8) -> Result<f64, E>,
) -> Result<Found, E> {
    // SSIMULACRA 2 gains about half a point a quality step between q40 and q80 (measured on
    // the shipped photos); the first guess puts 65 at q50.
    let first = (50.0 + (target - 65.0) / 0.5)
        .round()
        .clamp(1.0, f64::from(ceiling)) as u8;
    let found = boundary(ceiling, target, first, 0.5, score)?;
    Ok(match found.pass {
        Some((quality, measure)) => Found {
            quality,
            measure,
            met: true,
            steps: found.steps,
        },
        None => Found {
            quality: ceiling,
            measure: found.at_ceiling.unwrap_or(f64::NAN),
            met: false,
            steps: found.steps,
        },
    })
}

/// The highest quality in `1..=ceiling` whose `bytes(q)` is at most `limit`.
pub fn highest_quality_fitting<E>(
    ceiling: u8,
    limit: u64,
    mut bytes: impl FnMut(u8) -> Result<u64, E>,
) -> Result<Found, E> {
    // The boundary of "too large" on the log of the size, which is close to linear in the
    // quality (about 2.5 % more bytes a step); the first guess is the ceiling: when it fits,
    // one candidate is all it takes.
    let goal = (limit as f64 + 0.5).ln();
    let mut sizes: Vec<(u8, u64)> = Vec::new();
    let found = boundary(ceiling, goal, ceiling, 0.025, |q| {
        let b = bytes(q)?;
        sizes.push((q, b));
        Ok((b as f64).ln())
    })?;
    // "Passing" the goal is being too large: the answer is the highest quality measured
    // below it.
    Ok(match found.fail {
        Some((quality, _)) => Found {
            quality,
            measure: sizes
                .iter()
                .find(|(made, _)| *made == quality)
                .map_or(f64::NAN, |(_, b)| *b as f64),
            met: true,
            steps: found.steps,
        },
        None => Found {
            quality: 1,
            measure: sizes
                .iter()
                .find(|(made, _)| *made == 1)
                .map_or(f64::NAN, |(_, b)| *b as f64),
            met: false,
            steps: found.steps,
        },
    })
}

/// What [`boundary`] found.
struct Boundary {
    /// The lowest quality found whose value reaches the goal, with its value.
    pass: Option<(u8, f64)>,
    /// The highest quality found whose value is below the goal.
    fail: Option<(u8, f64)>,
    /// The value at the ceiling, if it was measured.
    at_ceiling: Option<f64>,
    steps: u32,
}

/// The lowest quality `q` in `1..=ceiling` with `value(q) >= goal`, for a value that grows
/// smoothly with the quality. A secant search: from `first`, it extrapolates (by `slope`, the
/// value per quality step, until two values give the real slope) to bracket the goal, then
/// interpolates in the bracket, bisecting when two interpolations did not halve it.
/// At most [`MAX_STEPS`] values.
fn boundary<E>(
    ceiling: u8,
    goal: f64,
    first: u8,
    slope: f64,
    mut value: impl FnMut(u8) -> Result<f64, E>,
) -> Result<Boundary, E> {
    let ceiling = ceiling.clamp(1, 100);
    // The bracket: `lo` fails (0: below the range), `hi` passes (ceiling + 1: above it).
    let (mut lo, mut hi): ((u8, Option<f64>), (u8, Option<f64>)) = ((0, None), (ceiling + 1, None));
    let mut measured: Vec<(u8, f64)> = Vec::new();
    let mut at_ceiling = None;
    // Bracket width when the last two interpolations began, and how many have run since.
    let mut checkpoint: Option<(u8, u32)> = None;
    while hi.0 - lo.0 > 1 && (measured.len() as u32) < MAX_STEPS {
        let width = hi.0 - lo.0;
        let guess = match (lo.1, hi.1) {
            _ if measured.is_empty() => f64::from(first),
            (Some(vl), Some(vh)) => {
                let (mut since, mut runs) = checkpoint.unwrap_or((width, 0));
                let middle = f64::from(lo.0) + f64::from(width) / 2.0;
                let guess = if runs >= 2 && 2 * u32::from(width) > u32::from(since) {
                    (since, runs) = (width, 0);
                    middle
                } else if vh > vl {
                    f64::from(lo.0) + (goal - vl) / (vh - vl) * f64::from(width)
                } else {
                    middle
                };
                runs += 1;
                if runs == 2 && 2 * u32::from(width) <= u32::from(since) {
                    (since, runs) = (width, 0);
                }
                checkpoint = Some((since, runs));
                guess
            }
            _ => {
                // One side known: the slope of the last two values, else the caller's.
                let s = match measured.as_slice() {
                    [.., (q1, v1), (q2, v2)] if q1 != q2 => {
                        (v2 - v1) / (f64::from(*q2) - f64::from(*q1))
                    }
                    _ => slope,
                };
                let s = if s > slope / 4.0 { s } else { slope };
                match (lo.1, hi.1) {
                    // One step past the goal's estimate, to bracket it at once.
                    (Some(vl), _) => f64::from(lo.0) + (goal - vl) / s + 1.0,
                    (_, Some(vh)) => f64::from(hi.0) - (vh - goal) / s - 1.0,
                    _ => f64::from(first),
                }
            }
        };
        let q = guess
            .round()
            .clamp(f64::from(lo.0 + 1), f64::from(hi.0 - 1)) as u8;
        let v = value(q)?;
        measured.push((q, v));
        if q == ceiling {
            at_ceiling = Some(v);
        }
        if v >= goal {
            hi = (q, Some(v));
        } else {
            lo = (q, Some(v));
        }
    }
    Ok(Boundary {
        pass: hi.1.map(|v| (hi.0, v)),
        fail: lo.1.map(|v| (lo.0, v)),
        at_ceiling,
        steps: measured.len() as u32,
    })
}

/// The outcome of a target search: the chosen candidate and what it measured.
pub struct Chosen {
    pub encoded: Vec<u8>,
    pub quality: u8,
    /// Its score, under `--target-quality`.
    pub score: Option<f64>,
}

/// The candidates made for one image, by quality: none is made twice.
struct Candidates<F> {
    made: Vec<(u8, Vec<u8>)>,
    encode_at: F,
}

impl<F: FnMut(u8) -> Result<Vec<u8>, crate::ImageError>> Candidates<F> {
    fn at(&mut self, q: u8) -> Result<&[u8], crate::ImageError> {
        let i = match self.made.iter().position(|(made, _)| *made == q) {
            Some(i) => i,
            None => {
                let encoded = (self.encode_at)(q)?;
                self.made.push((q, encoded));
                self.made.len() - 1
            }
        };
        Ok(self.made[i].1.as_slice())
    }

    fn take(mut self, q: u8) -> Result<Vec<u8>, crate::ImageError> {
        self.at(q)?;
        let i = self
            .made
            .iter()
            .position(|(made, _)| *made == q)
            .unwrap_or(0);
        Ok(self.made.swap_remove(i).1)
    }
}

/// Encodes `input` to the run's target: `encode_at(q)` makes the candidate at quality `q`
/// (the caller's codec), `options.quality` is the ceiling. `name` is for the log.
pub fn encode_to_target(
    input: &[u8],
    options: &crate::Options,
    name: &std::path::Path,
    encode_at: impl FnMut(u8) -> Result<Vec<u8>, crate::ImageError>,
) -> Result<Chosen, crate::ImageError> {
    use crate::ImageError;
    use tracing::{info, warn};
    let mut candidates = Candidates {
        made: Vec::new(),
        encode_at,
    };
    // (Without a target: the one quality, 100 under --lossless, as its marker says.)
    let ceiling = options.output_quality();
    let (found, score) = if let Some(target) = options.target_quality {
        let reference = crate::metric::Reference::new(input, options.strip)?;
        let mut tried = Vec::new();
        let found = lowest_quality_scoring(ceiling, target.score, |q| {
            let s = reference.score(candidates.at(q)?)?;
            tried.push(format!("q{q}={s:.1}"));
            Ok::<_, ImageError>(s)
        })?;
        if found.met {
            info!(
                target: "CompressOneImage",
                "{}: quality {} scores {:.1} ({} target {}; tried {})",
                name.display(), found.quality, found.measure, target.metric.as_str(), target.score, tried.join(" ")
            );
        } else {
            warn!(
                target: "CompressOneImage",
                "{}: {} {:.1} at quality {}, below the target {}: written at {} (a higher -q lets the search go higher)",
                name.display(), target.metric.as_str(), found.measure, found.quality, target.score, found.quality
            );
        }
        (found, Some(found.measure))
    } else if let Some(limit) = options.target_size {
        let limit = limit.of(input.len() as u64);
        let found = highest_quality_fitting(ceiling, limit, |q| {
            Ok::<_, ImageError>(candidates.at(q)?.len() as u64)
        })?;
        if !found.met {
            return Err(ImageError::DoesNotFit {
                limit,
                smallest: found.measure as u64,
            });
        }
        info!(
            target: "CompressOneImage",
            "{}: quality {} fits in {} ({} candidates)",
            name.display(), found.quality, crate::human::size(limit), found.steps
        );
        (found, None)
    } else {
        return Ok(Chosen {
            encoded: candidates.take(ceiling)?,
            quality: ceiling,
            score: None,
        });
    };
    Ok(Chosen {
        encoded: candidates.take(found.quality)?,
        quality: found.quality,
        score,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn never<T>(r: Result<T, ()>) -> T {
        r.unwrap_or_else(|()| unreachable!())
    }

    #[test]
    fn lowest_quality_is_found_for_every_threshold() {
        for threshold in 1..=100u8 {
            let mut calls = 0;
            let found = never(lowest_quality_scoring(100, f64::from(threshold), |q| {
                calls += 1;
                Ok(f64::from(q))
            }));
            assert_eq!(found.quality, threshold);
            assert!(found.met);
            assert!(calls <= MAX_STEPS, "{calls} calls for {threshold}");
        }
    }

    #[test]
    fn an_unreachable_score_gives_the_ceiling_unmet() {
        let found = never(lowest_quality_scoring(90, 95.0, |q| Ok(f64::from(q))));
        assert_eq!((found.quality, found.met, found.measure), (90, false, 90.0));
    }

    #[test]
    fn highest_fitting_quality_is_found_and_q1_reported_when_nothing_fits() {
        // Bytes grow with quality: 1000 + 100 q.
        for limit in [1100u64, 5000, 10_999, 11_000, 50_000] {
            let found = never(highest_quality_fitting(100, limit, |q| {
                Ok(1000 + 100 * u64::from(q))
            }));
            let expected = ((limit - 1000) / 100).min(100) as u8;
            assert_eq!(
                (found.quality, found.met),
                (expected, true),
                "limit {limit}"
            );
        }
        let found = never(highest_quality_fitting(100, 500, |q| {
            Ok(1000 + u64::from(q))
        }));
        assert_eq!(
            (found.quality, found.met, found.measure),
            (1, false, 1001.0)
        );
    }

    #[test]
    fn targets_parse_and_bad_values_are_refused() {
        assert_eq!(
            parse_quality_target("ssimulacra2:70"),
            Ok(QualityTarget {
                metric: Metric::Ssimulacra2,
                score: 70.0
            })
        );
        assert_eq!(parse_quality_target("85.5").map(|t| t.score), Ok(85.5));
        for bad in [
            "ssimulacra2:101",
            "ssimulacra2:0",
            "ssimulacra2:-5",
            "x:70",
            "dssim:0.002",
            "ssimulacra2:abc",
        ] {
            assert!(parse_quality_target(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_size_limit("500K"), Ok(SizeLimit::Bytes(500 << 10)));
        assert_eq!(parse_size_limit("40%"), Ok(SizeLimit::Percent(40.0)));
        for bad in ["0", "0K", "-5K", "0%", "101%", "abc", "%"] {
            assert!(parse_size_limit(bad).is_err(), "{bad}");
        }
        assert_eq!(SizeLimit::Percent(40.0).of(1000), 400);
    }

    #[test]
    fn smooth_curves_take_few_candidates() {
        // Shaped like the measured curves: score saturating towards 100, size exponential.
        let score = |q: u8| 100.0 - 60.0 * (-f64::from(q) / 45.0).exp();
        let mut worst = 0;
        for target in [50.0, 60.0, 70.0, 80.0, 85.0, 90.0] {
            let found = never(lowest_quality_scoring(95, target, |q| Ok(score(q))));
            let exact = (1..=95).find(|&q| score(q) >= target).unwrap_or(95);
            assert_eq!(found.quality, exact, "target {target}");
            worst = worst.max(found.steps);
        }
        assert!(worst <= 5, "{worst} candidates");
        let size = |q: u8| (20_000.0 * (0.03 * f64::from(q)).exp()) as u64;
        worst = 0;
        for limit in [25_000u64, 60_000, 100_000, 200_000, 400_000] {
            let found = never(highest_quality_fitting(95, limit, |q| Ok(size(q))));
            let exact = (1..=95).rev().find(|&q| size(q) <= limit).unwrap_or(1);
            assert_eq!(found.quality, exact, "limit {limit}");
            worst = worst.max(found.steps);
        }
        assert!(worst <= 5, "{worst} candidates");
    }

    #[test]
    fn a_jagged_curve_still_gives_a_quality_that_meets_the_target() {
        // Not monotone: the answer must still be one that was measured to pass.
        let score = |q: u8| f64::from(q) + if q.is_multiple_of(3) { 4.0 } else { 0.0 };
        for target in [20.0, 50.0, 77.0] {
            let found = never(lowest_quality_scoring(100, target, |q| Ok(score(q))));
            assert!(
                found.met && score(found.quality) >= target,
                "{target}: {found:?}"
            );
        }
    }
}
