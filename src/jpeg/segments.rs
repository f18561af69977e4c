//! The input's metadata carried into an output as it was: without `--strip`, every APPn and
//! COM segment the input holds before its first scan is in the output, in the input's order,
//! byte for byte — its JFIF segment and any JFIF extension (JFXX thumbnail) or other APP0, its
//! Adobe segment, EXIF, XMP, ICC chunks, IPTC and makers' blocks alike. Both codecs write a
//! JFIF (and, for some colour spaces, an Adobe) segment of their own and copy the rest
//! ([`crate::jpeg::pixel::keep_marker`]); this puts the input's own APP0 and APP14 back in
//! their places.
//!
//! What does not come across, and why:
//! - a multi-picture index (APP2 `MPF`): it points at pictures after the end of the file,
//!   which are not copied;
//! - an earlier photopress provenance marker (COM): the output carries its own, last;
//! - an Adobe segment whose colour transform would misdescribe the output (an RGB-coded input
//!   written as YCbCr): the encoder's own, or none, stands instead;
//! - under `--strip-icc`, the ICC profile.
//!
//! When the input has no JFIF segment, the encoder's stays first.
use crate::jpeg::header::leading_segments;
use crate::jpeg::marker::{COM, is_marker};
use crate::jpeg::pixel::{EncodeSettings, keep_marker};

const APP0: u8 = 0xE0;
const APP14: u8 = 0xEE;

/// One segment: its marker code and its body (after the length field).
type Segment<'a> = (u8, &'a [u8]);

/// `output`, an encoder's file for `input`, with the input's APPn and COM segments in place of
/// the ones the encoder wrote (see the module's rules). Under `--strip` (or when `output` is
/// not laid out as the encoders write it) `output` comes back as it is.
pub fn carry(input: &[u8], output: Vec<u8>, settings: &EncodeSettings) -> Vec<u8> {
    if !settings.keep_metadata {
        return output;
    }
    let (Some((inputs, _)), Some((outputs, rest))) = (leading(input), leading_output(&output))
    else {
        return output;
    };
    let encoder_jfif = outputs.iter().find(|s| is_jfif(s)).copied();
    let encoder_adobe = outputs.iter().find(|s| is_adobe(s)).copied();
    let provenance = outputs
        .iter()
        .find(|(c, b)| *c == COM && is_marker(b))
        .copied();
    let components = crate::jpeg::header::read_frame(&output)
        .map(|f| f.components.len())
        .unwrap_or(0);
    // The transform an Adobe segment must declare for the output's samples: the encoder's
    // when it wrote one, else YCbCr for three components, none for one.
    let wanted = match (encoder_adobe, components) {
        (Some(adobe), _) => transform(&adobe),
        (None, 3) => Some(1),
        (None, 1) => Some(0),
        _ => None,
    };

    let mut list: Vec<Segment<'_>> = Vec::with_capacity(inputs.len() + 3);
    if !inputs.iter().any(is_jfif) {
        list.extend(encoder_jfif);
    }
    let mut adobe_placed = false;
    for segment in &inputs {
        let (code, body) = *segment;
        if code == APP0 {
            list.push(*segment);
        } else if is_adobe(segment) {
            if wanted.is_some() && transform(segment) == wanted {
                list.push(*segment);
                adobe_placed = true;
            } else if let Some(adobe) = encoder_adobe {
                list.push(adobe);
                adobe_placed = true;
            }
        } else if keep_marker_of(code, body, settings) {
            list.push(*segment);
        }
    }
    if !adobe_placed {
        list.extend(encoder_adobe);
    }
    list.extend(provenance);

    // Every segment the encoder wrote must be accounted for: its JFIF and Adobe segments, the
    // provenance marker, and copies of the input's. Anything else (a codec that wrote a
    // segment of its own) keeps the encoder's file as it is.
    let accounted = outputs.iter().all(|s| {
        Some(*s) == encoder_jfif
            || Some(*s) == encoder_adobe
            || Some(*s) == provenance
            || inputs.contains(s)
    });
    if !accounted {
        return output;
    }
    let mut carried = Vec::with_capacity(output.len() + 1024);
    carried.extend_from_slice(&[0xFF, 0xD8]);
    for (code, body) in list {
        let Ok(len) = u16::try_from(body.len() + 2) else {
            return output;
        };
        carried.extend_from_slice(&[0xFF, code]);
        carried.extend_from_slice(&len.to_be_bytes());
        carried.extend_from_slice(body);
    }
    carried.extend_from_slice(&output[rest..]);
    carried
}

/// The rule the codecs copy other segments by, as a marker code.
fn keep_marker_of(code: u8, body: &[u8], settings: &EncodeSettings) -> bool {
    let marker = match code {
        COM => mozjpeg::Marker::COM,
        0xE0..=0xEF => mozjpeg::Marker::APP(code - 0xE0),
        _ => return false,
    };
    keep_marker(marker, body, settings)
}

fn is_jfif((code, body): &Segment<'_>) -> bool {
    *code == APP0 && body.starts_with(b"JFIF\0")
}

fn is_adobe((code, body): &Segment<'_>) -> bool {
    *code == APP14 && body.starts_with(b"Adobe") && body.len() >= 12
}

/// An Adobe segment's colour transform: 0 none (RGB, CMYK, gray), 1 YCbCr, 2 YCCK.
fn transform((_, body): &Segment<'_>) -> Option<u8> {
    body.get(11).copied()
}

/// The APPn and COM segments of a file before its first scan, and the offset where the first
/// other segment (a table, the frame) starts. `None` for a file that does not start with SOI
/// or whose segments run past its end.
fn leading(file: &[u8]) -> Option<(Vec<Segment<'_>>, usize)> {
    let (segments, first_other, _) = leading_segments(file)?;
    Some((segments, first_other))
}

/// [`leading`] for an encoder's output, which writes every APPn and COM before its tables:
/// `None` when one comes after them.
fn leading_output(file: &[u8]) -> Option<(Vec<Segment<'_>>, usize)> {
    let (segments, first_other, last_app_end) = leading_segments(file)?;
    (last_app_end <= first_other).then_some((segments, first_other))
}

#[cfg(test)]
mod tests;
