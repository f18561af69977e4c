//! The target searches: the lowest quality whose output still scores a perceptual SCORE
//! against the input (`--target-quality`), the highest quality whose output fits a size
//! (`--target-size`). The targets' values and parsers are `options::target`'s; this module
//! searches, and the caller encodes and scores.
//!
//! Both searches are over the integer qualities `1..=ceiling` (the run's `-q`). The score
//! search assumes what holds for JPEG's scaled tables, a higher quality scoring higher, makes
//! at most [`MAX_STEPS`] candidates and may stop a little above the lowest passing quality
//! (see `SETTLE`); the size search is exact (the highest quality that
//! fits, as an exhaustive search finds it) on size curves that turn back only locally, as
//! real ones do (see [`highest_quality_fitting`]). Every candidate the caller makes is kept by
//! it, so the chosen one is never encoded twice.

/// The most candidates one image's search makes: enough for a bisection of 1..=100.
pub const MAX_STEPS: u32 = 8;

/// What a search found.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Found {
    /// The quality chosen: the lowest passing (score search) or the highest fitting (size
    /// search).
    pub quality: u8,
    /// The candidate's measure: its score (quality search) or its bytes (size search).
    pub measure: f64,
    /// False when no quality in range meets the target: `quality` is then the nearest
    /// (the ceiling for a score, 1 for a size).
    pub met: bool,
    /// Candidates made.
    pub steps: u32,
}

/// When the quality just below the lowest one measured to pass is predicted (on the chord of
/// the bracket, or with no failure measured yet on the last two values' slope) to fail, or to
/// pass by less than `-SETTLE` of a step's gain, the search stops without measuring it: a
/// score costs far more than the 2 to 3 % of bytes a step can be worth, and SSIMULACRA 2 is
/// jagged by about a step's gain from one quality to the next anyway. The answer is always a
/// quality measured to pass: on a straight curve the lowest or the one above it, on a flat
/// stretch (which the chord of a wide bracket does not see) a few steps above. Replayed over
/// the corpus's measured curves (`bench/search_replay.py`), a whole step (-1) makes 2.70
/// candidates a photo where stopping only on a predicted failure (0) made 3.14, for 0.798x
/// the bytes of the fixed quality with the same worst case instead of 0.7915x (-1.25: 2.58
/// candidates, 0.801x).
const SETTLE: f64 = -1.0;

/// The lowest quality in `1..=ceiling` whose `score(q)` is at least `target`, or a little
/// above it: the lowest measured to pass once the one below is predicted to fail or to pass
/// by less than a step's gain (see `SETTLE`).
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
    let found = boundary(ceiling, target, first, 0.5, Some(SETTLE), score)?;
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

/// How far the size curve may turn back: a quality this many steps or more above another is
/// never smaller. Adjacent qualities can swap sizes, by a few bytes (a Huffman table's worth),
/// and near the input's own quality a step up can give smaller tables than the one before:
/// over q1..=100 of the four shipped photos (as they are, with 60 KB and 500 KB of metadata,
/// and resized to 800 pixels) the widest such turn was q92 below q90, two steps.
const SIZE_TURN: u8 = 3;

/// The highest quality in `1..=ceiling` whose `bytes(q)` is at most `limit`: exactly the
/// quality an exhaustive search finds, for any size curve that turns back less than
/// `SIZE_TURN` steps (sizes need not be monotone, nor move much: on a photo that is mostly
/// metadata they barely do).
///
/// The ceiling first: when it fits, it is the answer. Else a bracket search keeps `lo`, the
/// highest quality measured to fit (0, below the range, until one does), and `hi`, a quality
/// above it measured not to fit, and narrows them to neighbours. It interpolates on the log
/// of the size (Illinois' rule: an end that stays a second time counts half), at least a
/// quarter of the bracket from its ends, and bisects after three candidates in a row on one
/// side: bends and flat stretches cost a few candidates, not one a quality. Then
/// `lo + 2 ..= lo + SIZE_TURN` are checked: when none fits, no quality above `lo` does (each
/// is `SIZE_TURN` or more above `lo + 1`, which does not fit); one that fits restarts the
/// search above it. So nothing fits only when quality 1 was measured and does not fit (nor
/// do 2 and 3); the measure is then quality 1's size.
pub fn highest_quality_fitting<E>(
    ceiling: u8,
    limit: u64,
    mut bytes: impl FnMut(u8) -> Result<u64, E>,
) -> Result<Found, E> {
    let ceiling = ceiling.clamp(1, 100);
    let fits = |b: u64| b <= limit;
    // Every size measured, in order; none is asked for twice.
    let mut measured: Vec<(u8, u64)> = Vec::new();
    let mut measure = |q: u8, measured: &mut Vec<(u8, u64)>| -> Result<u64, E> {
        if let Some(&(_, b)) = measured.iter().find(|(made, _)| *made == q) {
            return Ok(b);
        }
        let b = bytes(q)?;
        measured.push((q, b));
        Ok(b)
    };
    let top = measure(ceiling, &mut measured)?;
    if fits(top) {
        return Ok(Found {
            quality: ceiling,
            measure: top as f64,
            met: true,
            steps: 1,
        });
    }
    // Interpolated on the log of the size, whose slope is about 2.5 % a step without metadata.
    let goal = (limit as f64 + 0.5).ln();
    let distance = |b: u64| (b as f64).ln() - goal;
    // The bracket, and each end's distance to the goal (Illinois' weights): `lo` fits (0:
    // none measured yet), `hi` does not.
    let (mut lo, mut hi) = (0u8, ceiling);
    let (mut d_lo, mut d_hi) = (None::<f64>, distance(top));
    // The side the last candidate fell on, and how many in a row fell there.
    let (mut stayed, mut run): (Option<bool>, u32) = (None, 0);
    loop {
        while hi - lo > 1 {
            let width = f64::from(hi - lo);
            let guess = match d_lo {
                // Three in a row on one side: the interpolation is not closing in.
                _ if run >= 3 => f64::from(lo) + width / 2.0,
                // Interpolated, and kept a quarter of the bracket from its ends: on a flat
                // stretch the goal sits at one end, and the bracket would shrink by one a step.
                Some(d_lo) if d_hi > 0.0 && d_lo < 0.0 => {
                    let guess = f64::from(lo) + -d_lo / (d_hi - d_lo) * width;
                    if width >= 4.0 {
                        guess.clamp(f64::from(lo) + width / 4.0, f64::from(hi) - width / 4.0)
                    } else {
                        guess
                    }
                }
                Some(_) => f64::from(lo) + width / 2.0,
                // Nothing fits yet: down from `hi` by the slope of the last two sizes (the
                // usual one at first), one step past the estimate to bracket the goal at once;
                // a flat or falling curve goes straight to quality 1.
                None => {
                    let slope = match measured.as_slice() {
                        [.., (q1, b1), (q2, b2)] => {
                            ((*b2 as f64).ln() - (*b1 as f64).ln())
                                / (f64::from(*q2) - f64::from(*q1))
                        }
                        _ => 0.025,
                    };
                    if slope > 0.025 / 4.0 {
                        f64::from(hi) - d_hi / slope - 1.0
                    } else {
                        1.0
                    }
                }
            };
            let q = guess.round().clamp(f64::from(lo + 1), f64::from(hi - 1)) as u8;
            let b = measure(q, &mut measured)?;
            let fit = fits(b);
            // Illinois: the end that stays a second time counts half.
            if fit {
                lo = q;
                d_lo = Some(distance(b));
                if stayed == Some(true) {
                    d_hi /= 2.0;
                }
            } else {
                hi = q;
                d_hi = distance(b);
                if stayed == Some(false) {
                    d_lo = d_lo.map(|d| d / 2.0);
                }
            }
            run = if stayed == Some(fit) { run + 1 } else { 1 };
            stayed = Some(fit);
        }
        // `lo + 1` does not fit; one of the next few may, where the curve turns back.
        let higher = (lo + 2..=(lo + SIZE_TURN).min(ceiling))
            .rev()
            .map(|q| measure(q, &mut measured).map(|b| (q, b)))
            .find(|m| m.as_ref().map_or(true, |&(_, b)| fits(b)))
            .transpose()?;
        let Some((q, b)) = higher else { break };
        lo = q;
        d_lo = Some(distance(b));
        (hi, d_hi) = measured
            .iter()
            .filter(|&&(made, b)| made > q && !fits(b))
            .min_by_key(|&&(made, _)| made)
            .map_or((ceiling, distance(top)), |&(made, b)| (made, distance(b)));
        (stayed, run) = (None, 0);
    }
    let steps = measured.len() as u32;
    Ok(if lo == 0 {
        Found {
            quality: 1,
            measure: measured
                .iter()
                .find(|(made, _)| *made == 1)
                .map_or(f64::NAN, |&(_, b)| b as f64),
            met: false,
            steps,
        }
    } else {
        Found {
            quality: lo,
            measure: measured
                .iter()
                .find(|(made, _)| *made == lo)
                .map_or(f64::NAN, |&(_, b)| b as f64),
            met: true,
            steps,
        }
    })
}

/// What [`boundary`] found.
struct Boundary {
    /// The lowest quality found whose value reaches the goal, with its value.
    pass: Option<(u8, f64)>,
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
    settle: Option<f64>,
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
        if let (Some(share), Some(vl), Some(vh)) = (settle, lo.1, hi.1) {
            let step = (vh - vl) / f64::from(width);
            if step > 0.0 && vh - step < goal - share * step {
                break;
            }
        }
        // The same with only a pass measured: the step's gain is the slope of the last two
        // values (both passed), else the caller's.
        if let (Some(share), None, Some(vh)) = (settle, lo.1, hi.1) {
            let step = one_sided_slope(&measured, slope);
            if vh - step < goal - share * step {
                break;
            }
        }
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
                // One side known: at the goal's estimate on the slope of the last two values
                // (else the caller's). A pass there that clearly leaves the step below failing
                // ends the search (above); aiming past the estimate would measure that step.
                let s = one_sided_slope(&measured, slope);
                match (lo.1, hi.1) {
                    (Some(vl), _) => f64::from(lo.0) + (goal - vl) / s,
                    (_, Some(vh)) => f64::from(hi.0) - (vh - goal) / s,
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
        at_ceiling,
        steps: measured.len() as u32,
    })
}

/// The gain a quality step is taken to bring while only one side of the goal is measured: the
/// slope of the last two values measured, or `slope` (the caller's) when there are fewer or
/// they gain less than a quarter of it.
fn one_sided_slope(measured: &[(u8, f64)], slope: f64) -> f64 {
    let s = match measured {
        [.., (q1, v1), (q2, v2)] if q1 != q2 => (v2 - v1) / (f64::from(*q2) - f64::from(*q1)),
        _ => slope,
    };
    if s > slope / 4.0 { s } else { slope }
}

/// The outcome of a target search: the chosen candidate and what it measured.
pub struct Chosen {
    /// The chosen candidate's JPEG bytes.
    pub encoded: Vec<u8>,
    /// The quality it was encoded at (the run's quality without a target).
    pub quality: u8,
    /// Its score, under `--target-quality`.
    pub score: Option<f64>,
    /// Candidates encoded to find it (1 without a target).
    pub candidates: u32,
}

/// The candidates made for one image, by quality: none is made twice.
struct Candidates<F> {
    made: Vec<(u8, Vec<u8>)>,
    encode_at: F,
}

impl<F: FnMut(u8) -> Result<Vec<u8>, crate::error::ImageError>> Candidates<F> {
    fn at(&mut self, q: u8) -> Result<&[u8], crate::error::ImageError> {
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

    fn take(mut self, q: u8) -> Result<Vec<u8>, crate::error::ImageError> {
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
    options: &crate::options::Options,
    name: &std::path::Path,
    encode_at: impl FnMut(u8) -> Result<Vec<u8>, crate::error::ImageError>,
) -> Result<Chosen, crate::error::ImageError> {
    use crate::error::ImageError;
    use tracing::{info, warn};
    let mut candidates = Candidates {
        made: Vec::new(),
        encode_at,
    };
    // (Without a target: the one quality, 100 under --lossless, as its marker says.)
    let ceiling = options.output_quality();
    let (found, score) = if let Some(target) = options.target_quality {
        // Under --strip the encoders turn rotated photos upright, so the input is turned too;
        // candidates are never turned: upright when the input was, tagged as it otherwise.
        let reference = crate::photo::metric::Reference::new(crate::jpeg::pixel::decode_rgb(
            input,
            options.strip,
        )?)?;
        let mut tried = Vec::new();
        // Passing needs the full-size score at least the target, plus the agreement margin.
        let goal = target.score + crate::photo::metric::AGREEMENT;
        let found = lowest_quality_scoring(ceiling, goal, |q| {
            let s = reference.score(&crate::jpeg::pixel::decode_rgb(candidates.at(q)?, false)?)?;
            tried.push(format!("q{q}={s:.2}"));
            Ok::<_, ImageError>(s)
        })?;
        if found.met {
            info!(
                target: "CompressOneImage",
                "{}: quality {} scores {:.2} ({} target {}; {} candidates: {})",
                name.display(), found.quality, found.measure, target.metric.as_str(), target.score,
                found.steps, tried.join(" ")
            );
        } else {
            warn!(
                target: "CompressOneImage",
                "{}: {} {:.2} at quality {}, below the target {}: written at {} (a higher -q lets the search go higher)",
                name.display(), target.metric.as_str(), found.measure, found.quality, target.score, found.quality
            );
        }
        (found, Some(found.measure))
    } else if let Some(limit) = options.target_size {
        let limit = limit.of(input.len() as u64);
        let mut tried = Vec::new();
        let found = highest_quality_fitting(ceiling, limit, |q| {
            let bytes = candidates.at(q)?.len() as u64;
            tried.push(format!("q{q}={bytes}"));
            Ok::<_, ImageError>(bytes)
        })?;
        if !found.met {
            // Quality 1 was measured: the search says nothing fits only then.
            return Err(ImageError::DoesNotFit {
                limit,
                at_quality_1: found.measure as u64,
            });
        }
        info!(
            target: "CompressOneImage",
            "{}: quality {} fits in {} ({} bytes; tried {})",
            name.display(), found.quality, crate::human::size(limit), found.measure, tried.join(" ")
        );
        (found, None)
    } else {
        return Ok(Chosen {
            encoded: candidates.take(ceiling)?,
            quality: ceiling,
            score: None,
            candidates: 1,
        });
    };
    let made = candidates.made.len() as u32;
    Ok(Chosen {
        encoded: candidates.take(found.quality)?,
        quality: found.quality,
        score,
        candidates: made,
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
        // On a straight line the step below the answer is predicted exactly: the search stops
        // at the lowest passing quality, or one above it when that one passes by less than a
        // step (SETTLE); never lower, never further.
        let mut above = 0;
        for threshold in 1..=100u8 {
            let mut calls = 0;
            let found = never(lowest_quality_scoring(100, f64::from(threshold), |q| {
                calls += 1;
                Ok(f64::from(q))
            }));
            assert!(
                found.quality == threshold || found.quality == threshold + 1,
                "{} for {threshold}",
                found.quality
            );
            above += u32::from(found.quality > threshold);
            assert!(found.met);
            assert!(calls <= MAX_STEPS, "{calls} calls for {threshold}");
        }
        // Most land on the answer itself (4 of the 100).
        assert!(above <= 10, "{above} of 100 one step above");
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

    /// Sizes at q1..=100 measured on the shipped photos (`-q Q --allow-larger`): `dogs.jpg`
    /// with 500 KB of APP15 metadata (q92 is smaller than q90 and q91: its tables are the
    /// input's own), and `leaf.jpg` resized to 800 pixels (q50 is 4 bytes smaller than q49).
    const DOGS_500K: [u64; 100] = [
        545_952, 545_961, 547_513, 551_490, 555_690, 560_466, 564_963, 569_625, 574_048, 578_743,
        583_688, 586_970, 593_783, 596_156, 601_306, 606_479, 611_295, 614_958, 619_418, 624_428,
        628_344, 633_040, 639_042, 640_778, 644_846, 650_362, 653_399, 658_989, 665_612, 672_567,
        675_472, 676_221, 678_727, 680_070, 681_587, 683_200, 688_403, 691_070, 700_305, 701_232,
        707_776, 711_065, 717_639, 730_049, 732_142, 742_343, 743_068, 745_388, 746_952, 746_985,
        747_005, 749_649, 752_038, 752_022, 753_935, 754_016, 758_266, 761_424, 761_561, 761_834,
        764_815, 767_093, 769_431, 770_080, 785_402, 786_496, 787_114, 828_181, 838_463, 916_648,
        940_738, 963_520, 977_546, 1_008_532, 1_008_496, 1_011_663, 1_015_136, 1_033_982,
        1_036_098, 1_046_607, 1_057_850, 1_064_561, 1_071_008, 1_074_189, 1_078_350, 1_089_783,
        1_092_487, 1_111_107, 1_129_127, 1_173_867, 1_177_087, 1_159_143, 1_176_988, 1_229_413,
        1_280_016, 1_295_429, 1_292_804, 1_299_165, 1_301_594, 1_301_510,
    ];
    const LEAF_800: [u64; 100] = [
        17_892, 17_892, 17_923, 18_209, 18_634, 19_116, 19_526, 19_936, 20_569, 21_016, 21_415,
        21_898, 22_443, 22_872, 23_296, 23_796, 24_269, 24_642, 25_101, 25_566, 25_930, 26_319,
        26_787, 27_192, 27_569, 27_963, 28_389, 28_775, 29_039, 29_407, 29_758, 30_035, 30_515,
        30_758, 31_179, 31_501, 31_739, 32_221, 32_563, 32_683, 33_237, 33_550, 33_721, 34_220,
        34_500, 34_815, 34_892, 35_449, 35_909, 35_905, 35_930, 36_481, 37_102, 37_208, 37_529,
        37_887, 38_503, 39_016, 39_288, 39_550, 40_263, 40_551, 41_216, 41_500, 42_152, 42_680,
        43_078, 43_925, 44_545, 45_179, 46_046, 46_373, 47_403, 48_533, 48_646, 49_499, 50_955,
        52_303, 52_862, 54_340, 55_755, 56_993, 59_285, 60_707, 62_413, 65_029, 66_671, 70_030,
        72_418, 77_080, 80_949, 83_822, 91_063, 99_607, 109_343, 123_732, 141_926, 169_445,
        225_317, 257_700,
    ];

    /// What an exhaustive search finds: the highest fitting quality, else 1 unmet.
    fn exhaustive(ceiling: u8, limit: u64, bytes: &dyn Fn(u8) -> u64) -> (u8, bool) {
        (1..=ceiling)
            .rev()
            .find(|&q| bytes(q) <= limit)
            .map_or((1, false), |q| (q, true))
    }

    /// Runs the size search on `bytes` for every ceiling and for each limit at, just below and
    /// just above every size the curve takes (and far below all of them), checking it against
    /// the exhaustive search; returns the mean and the most candidates.
    fn check_size_search(what: &str, bytes: &dyn Fn(u8) -> u64) -> (f64, u32) {
        let (mut total, mut runs, mut worst) = (0u64, 0u64, 0u32);
        for ceiling in [1u8, 2, 3, 5, 30, 50, 80, 95, 100] {
            let mut limits: Vec<u64> = (1..=ceiling)
                .flat_map(|q| {
                    let b = bytes(q);
                    [b.saturating_sub(1), b, b + 1]
                })
                .chain([1, bytes(1) / 2])
                .collect();
            limits.sort_unstable();
            limits.dedup();
            for limit in limits {
                let mut asked: Vec<u8> = Vec::new();
                let found = never(highest_quality_fitting(ceiling, limit, |q| {
                    asked.push(q);
                    Ok(bytes(q))
                }));
                let context = format!("{what}: ceiling {ceiling}, limit {limit}, asked {asked:?}");
                assert_eq!(
                    (found.quality, found.met),
                    exhaustive(ceiling, limit, bytes),
                    "{context}"
                );
                // What it measures is the chosen quality's size, or quality 1's when nothing
                // fits: measured, never made up.
                assert_eq!(found.measure, bytes(found.quality) as f64, "{context}");
                assert!(asked.contains(&found.quality), "{context}");
                let mut distinct = asked.clone();
                distinct.sort_unstable();
                distinct.dedup();
                assert_eq!(distinct.len(), asked.len(), "asked twice: {context}");
                assert!(asked.iter().all(|q| (1..=ceiling).contains(q)), "{context}");
                assert_eq!(found.steps as usize, asked.len(), "{context}");
                total += u64::from(found.steps);
                runs += 1;
                worst = worst.max(found.steps);
            }
        }
        (total as f64 / runs as f64, worst)
    }

    #[test]
    fn the_size_search_finds_what_an_exhaustive_search_finds() {
        let real = |sizes: &'static [u64; 100]| move |q: u8| sizes[usize::from(q) - 1];
        let exp = |q: u8| (20_000.0 * (0.03 * f64::from(q)).exp()) as u64;
        type Curve = Box<dyn Fn(u8) -> u64>;
        let cases: Vec<(&str, Curve)> = vec![
            ("dogs + 500 KB of metadata", Box::new(real(&DOGS_500K))),
            (
                "dogs + 60 KB of metadata",
                Box::new(move |q| DOGS_500K[usize::from(q) - 1] - 440_028),
            ),
            ("leaf at 800 pixels", Box::new(real(&LEAF_800))),
            ("exponential", Box::new(exp)),
            // Mostly a constant: the pixels move the size by a few hundred bytes.
            (
                "500 KB + small",
                Box::new(|q| 500_000 + (300.0 * (0.04 * f64::from(q)).exp()) as u64),
            ),
            ("500 KB + linear", Box::new(|q| 500_000 + 7 * u64::from(q))),
            ("flat", Box::new(|_| 100_000)),
            // Flat stretches, as where coarse tables stop changing.
            ("plateaus", Box::new(|q| 30_000 + 1_000 * u64::from(q / 10))),
            (
                "flat then steep",
                Box::new(|q| {
                    if q < 90 {
                        70_000
                    } else {
                        70_000 + 50_000 * u64::from(q - 89)
                    }
                }),
            ),
            // Not monotone: neighbours swap, and every third quality is larger than the two
            // above it.
            (
                "swapped neighbours",
                Box::new(move |q| exp(q) + if q % 2 == 1 { 700 } else { 0 }),
            ),
            (
                "every third high",
                Box::new(|q| 1_000 * u64::from(q) + if q % 3 == 0 { 1_500 } else { 0 }),
            ),
            // Quality 1 larger than 2 and 3.
            (
                "turned back at the bottom",
                Box::new(|q| match q {
                    1 => 5_000,
                    2 => 4_000,
                    3 => 4_500,
                    _ => 4_000 + 200 * u64::from(q),
                }),
            ),
        ];
        let mut stats = Vec::new();
        for (what, bytes) in &cases {
            let (mean, worst) = check_size_search(what, bytes.as_ref());
            eprintln!("{what}: {mean:.2} candidates on average, {worst} at most");
            stats.push((*what, mean, worst));
        }
        for (i, &(what, mean, worst)) in stats.iter().enumerate() {
            // On the real curves and a smooth one: the ceiling, a few to bracket the goal,
            // the answer's neighbours.
            let (most_on_average, most) = if i < 4 { (8.0, 12) } else { (9.0, 14) };
            assert!(
                mean <= most_on_average && worst <= most,
                "{what}: {mean:.1} candidates on average, {worst} at most"
            );
        }
    }

    #[test]
    fn a_photo_that_is_mostly_metadata_fits_at_its_highest_quality() {
        // Limits that only low qualities fit, on the measured curve of a photo whose 500 KB of
        // metadata dwarf its pixels.
        for (limit, expected) in [
            (545_952u64, 1u8),
            (545_961, 2),
            (547_600, 3),
            (560_000, 5),
            (575_000, 9),
            (600_000, 14),
        ] {
            let found = never(highest_quality_fitting(95, limit, |q| {
                Ok(DOGS_500K[usize::from(q) - 1])
            }));
            assert_eq!(
                (found.quality, found.met),
                (expected, true),
                "limit {limit}"
            );
            assert_eq!(found.measure, DOGS_500K[usize::from(expected) - 1] as f64);
        }
        // One byte below quality 1's size: it does not fit, and that size is what is reported.
        let found = never(highest_quality_fitting(95, 545_951, |q| {
            Ok(DOGS_500K[usize::from(q) - 1])
        }));
        assert_eq!(
            (found.quality, found.met, found.measure),
            (1, false, 545_952.0)
        );
    }

    #[test]
    fn a_failed_candidate_stops_the_size_search() {
        let mut asked = 0;
        let result = highest_quality_fitting(95, 10_000, |q| {
            asked += 1;
            if q < 50 {
                Err(q)
            } else {
                Ok(20_000 + u64::from(q))
            }
        });
        assert!(matches!(result, Err(q) if q < 50), "{result:?}");
        assert!(asked <= 3);
    }

    #[test]
    fn smooth_curves_take_few_candidates() {
        // Shaped like the measured curves: score saturating towards 100, size exponential.
        let score = |q: u8| 100.0 - 60.0 * (-f64::from(q) / 45.0).exp();
        let mut worst = 0;
        for target in [50.0, 60.0, 70.0, 80.0, 85.0, 90.0] {
            let found = never(lowest_quality_scoring(95, target, |q| Ok(score(q))));
            let exact = (1..=95).find(|&q| score(q) >= target).unwrap_or(95);
            assert!(
                found.quality == exact || found.quality == exact + 1,
                "target {target}: {} for {exact}",
                found.quality
            );
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
        // Exact, it makes 5 at the least below the ceiling: the ceiling, the answer, the one
        // above and the two above that, where a size curve may turn back.
        assert!(worst <= 8, "{worst} candidates");
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
