//! The targets a run may ask for instead of a fixed quality, as values: a perceptual score
//! (`--target-quality`), a size (`--target-size`), and the saving below which the original is
//! kept (`--min-savings`), with their parsers. The searches are `photo::search`'s.
use std::fmt;

/// The default ceiling of a target's search (the quality used when a target is set and no
/// quality is given): above 95, files grow fast for little visible gain.
pub const TARGET_CEILING: u8 = 95;

/// The perceptual metric of `--target-quality`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// SSIMULACRA 2 (Cloudinary, as used to tune JPEG XL and jpegli): 100 is identical, 90 is
    /// visually lossless at a normal viewing distance, 70 high quality, 50 medium; it can go
    /// below 0 for very low qualities.
    Ssimulacra2,
}

impl Metric {
    /// The metric's name as `--target-quality` takes it and messages print it (`ssimulacra2`).
    pub fn as_str(self) -> &'static str {
        match self {
            Metric::Ssimulacra2 => "ssimulacra2",
        }
    }
}

/// `--target-quality METRIC:SCORE`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QualityTarget {
    /// The metric that scores each candidate against the input.
    pub metric: Metric,
    /// The lowest score an output may have, in `(0, 100]`.
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
    /// A number of bytes, above 0 (`500K`, `2M`, `123456`).
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
