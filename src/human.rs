//! Figures in human terms for the report and the log: sizes in B/KiB/MiB/GiB, durations in
//! ms/s/min/h, and a size change as a signed percentage.
use std::time::Duration;

/// `812 B`, `66 KiB`, `1.1 MiB`, `12 GiB`: binary units, one decimal below 10.
pub fn size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    // Rounded as printed: 1023.7 KiB would read "1024 KiB", so it is 1.0 MiB.
    while value.round() >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if value < 9.95 {
        format!("{value:.1} {}", UNITS[unit])
    } else {
        format!("{value:.0} {}", UNITS[unit])
    }
}

/// `840 ms`, `2.7 s`, `45 s`, `3 min 05 s`, `1 h 05 min`.
pub fn duration(duration: Duration) -> String {
    let secs = duration.as_secs_f64();
    if secs < 1.0 {
        return format!("{:.0} ms", secs * 1e3);
    }
    if secs < 9.95 {
        return format!("{secs:.1} s");
    }
    let whole = secs.round() as u64;
    match whole {
        0..60 => format!("{whole} s"),
        60..3600 => format!("{} min {:02} s", whole / 60, whole % 60),
        _ => format!("{} h {:02} min", whole / 3600, whole % 3600 / 60),
    }
}

/// The change from `before` to `after` bytes as a whole signed percentage: `-94 %`, `+3 %`,
/// `0 %`; `-0 %`/`+0 %` never appear (a change below half a percent reads `0 %`).
pub fn change(before: u64, after: u64) -> String {
    if before == 0 {
        return "0 %".to_string();
    }
    let percent = ((after as f64 - before as f64) / before as f64 * 100.0).round() as i64;
    match percent {
        0 => "0 %".to_string(),
        p if p > 0 => format!("+{p} %"),
        p => format!("{p} %"),
    }
}

/// `1.1 MiB -> 66 KiB (-94 %)`.
pub fn sizes(before: u64, after: u64) -> String {
    format!(
        "{} -> {} ({})",
        size(before),
        size(after),
        change(before, after)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_in_binary_units() {
        assert_eq!(size(0), "0 B");
        assert_eq!(size(1023), "1023 B");
        assert_eq!(size(1024), "1.0 KiB");
        assert_eq!(size(67_584), "66 KiB");
        assert_eq!(size(1_153_434), "1.1 MiB");
        assert_eq!(size(1024 * 1024 - 1), "1.0 MiB");
        assert_eq!(size(3 << 30), "3.0 GiB");
        assert_eq!(size(12 << 30), "12 GiB");
    }

    #[test]
    fn durations_in_the_unit_that_reads() {
        assert_eq!(duration(Duration::from_micros(125_300)), "125 ms");
        assert_eq!(duration(Duration::from_millis(2_740)), "2.7 s");
        assert_eq!(duration(Duration::from_millis(45_400)), "45 s");
        assert_eq!(duration(Duration::from_secs(185)), "3 min 05 s");
        assert_eq!(duration(Duration::from_secs(2_700)), "45 min 00 s");
        assert_eq!(duration(Duration::from_secs(3_900)), "1 h 05 min");
    }

    #[test]
    fn changes_are_signed_percentages() {
        assert_eq!(change(1000, 60), "-94 %");
        assert_eq!(change(1000, 1000), "0 %");
        assert_eq!(change(1000, 1001), "0 %");
        assert_eq!(change(1000, 1030), "+3 %");
        assert_eq!(change(0, 0), "0 %");
        assert_eq!(sizes(1_153_434, 67_584), "1.1 MiB -> 66 KiB (-94 %)");
    }
}
