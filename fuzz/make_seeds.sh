#!/usr/bin/env bash
# Writes the seed corpora of the fuzz targets (gitignored): small JPEGs made from the photos in
# IMAGES/, in the codings the codecs have paths for.
# - fuzz/corpus/recompress/ (`jpeg::pixel::recompress`): each seed starts with the settings byte the
#   target reads first (see fuzz_targets/recompress.rs: quality 1 + b % 100; 0x80
#   keep_metadata, 0x40 keep_icc, 0x20 strict, 0x10 best).
# - fuzz/corpus/transcode/ (`jpeg::dct::recompress`): the same byte, with 0x10 meaning
#   any_subsampling (see fuzz_targets/transcode.rs). Its own seeds (`t-*`: progressive,
#   restart intervals, non-interleaved scans, 16-bit tables, every subsampling, gray, small odd
#   sizes), plus a copy of the recompress seeds (`r-*`, their byte read the transcoder's way).
# Needs libjpeg-turbo-progs (djpeg, cjpeg, jpegtran) and python3 with Pillow for the EXIF
# orientation and CMYK seeds (skipped without it).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
images="$here/../IMAGES"
out="$here/corpus/recompress"
tout="$here/corpus/transcode"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out" "$tout"

# seed NAME SETTINGS_BYTE(hex) FILE: a recompress seed (copied to the transcode corpus as r-NAME).
seed() { { printf "\\x$2"; cat "$3"; } > "$out/$1"; cp "$out/$1" "$tout/r-$1"; }
# tseed NAME SETTINGS_BYTE(hex) FILE: a transcode seed.
tseed() { { printf "\\x$2"; cat "$3"; } > "$tout/t-$1"; }

for photo in dogs fig leaf mountains; do
    djpeg -scale 1/8 "$images/$photo.jpg" > "$tmp/$photo.ppm"
    # Smaller still (1/16), for the variants: fewer bytes, faster executions.
    djpeg -scale 1/8 "$images/$photo.jpg" | cjpeg -quality 95 | djpeg -scale 1/2 > "$tmp/$photo-small.ppm"
done

# Baseline 4:2:0 (the raw-planes path), settings: q80, all kept, strict.
cjpeg -quality 80 "$tmp/dogs.ppm" > "$tmp/a.jpg";                        seed dogs-baseline-420.jpg ef "$tmp/a.jpg"
cjpeg -quality 80 "$tmp/mountains.ppm" > "$tmp/a.jpg";                   seed mountains-baseline-420-lenient.jpg 4f "$tmp/a.jpg"
# 4:4:4 and 4:2:2 (the RGB scanline path).
cjpeg -quality 80 -sample 1x1 "$tmp/fig-small.ppm" > "$tmp/a.jpg";       seed fig-444.jpg e0 "$tmp/a.jpg"
cjpeg -quality 80 -sample 2x1 "$tmp/leaf-small.ppm" > "$tmp/a.jpg";      seed leaf-422.jpg 6a "$tmp/a.jpg"
# Progressive, grayscale, arithmetic, restart markers every MCU row.
cjpeg -quality 80 -progressive "$tmp/fig-small.ppm" > "$tmp/a.jpg";      seed fig-progressive.jpg e1 "$tmp/a.jpg"
cjpeg -quality 80 -grayscale "$tmp/leaf-small.ppm" > "$tmp/a.jpg";       seed leaf-gray.jpg a4 "$tmp/a.jpg"
cjpeg -quality 80 -grayscale -progressive "$tmp/dogs-small.ppm" > "$tmp/a.jpg"; seed dogs-gray-progressive.jpg 05 "$tmp/a.jpg"
cjpeg -quality 80 "$tmp/mountains-small.ppm" | jpegtran -arithmetic > "$tmp/a.jpg"; seed mountains-arithmetic.jpg e2 "$tmp/a.jpg"
cjpeg -quality 80 -sample 1x1 -progressive "$tmp/dogs-small.ppm" | jpegtran -arithmetic > "$tmp/a.jpg"; seed dogs-arithmetic-progressive-444.jpg 33 "$tmp/a.jpg"
cjpeg -quality 80 -restart 1 "$tmp/dogs-small.ppm" > "$tmp/a.jpg";       seed dogs-restart1.jpg e3 "$tmp/a.jpg"
cjpeg -quality 80 -restart 1B -sample 1x1 "$tmp/fig-small.ppm" > "$tmp/a.jpg"; seed fig-restart1block-444.jpg 46 "$tmp/a.jpg"
# The same as above with `best` (mozjpeg's trellis search) on.
cjpeg -quality 80 "$tmp/leaf-small.ppm" > "$tmp/a.jpg";                  seed leaf-420-best.jpg f3 "$tmp/a.jpg"
python3 - "$tmp" <<'PY' || echo "python3/Pillow missing: EXIF, CMYK, ICC and tiny seeds skipped" >&2
import io, sys
from PIL import Image
tmp = sys.argv[1]
photo = Image.open(f"{tmp}/fig-small.ppm").convert("RGB")
def save(name, im, **kw):
    im.save(f"{tmp}/{name}", "JPEG", quality=80, **kw)
# EXIF orientation 6 (rotate 90) and 5: applied to the pixels when metadata is dropped.
for orientation in (5, 6):
    exif = Image.Exif()
    exif[0x0112] = orientation
    save(f"exif{orientation}.jpg", photo, exif=exif.tobytes())
# Adobe CMYK (the YCCK path).
save("cmyk.jpg", photo.convert("CMYK"))
# Tiny images: partial MCUs.
save("tiny1x1.jpg", photo.resize((1, 1)))
save("tiny17x9.jpg", photo.resize((17, 9)), subsampling=2)
# An sRGB ICC profile, for cjpeg -icc.
from PIL import ImageCms
open(f"{tmp}/srgb.icc", "wb").write(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
PY
[ -f "$tmp/exif6.jpg" ] && seed fig-exif6-420.jpg 21 "$tmp/exif6.jpg"
[ -f "$tmp/exif5.jpg" ] && seed fig-exif5-420-best.jpg 7e "$tmp/exif5.jpg"
[ -f "$tmp/cmyk.jpg" ] && seed fig-cmyk.jpg e4 "$tmp/cmyk.jpg"
[ -f "$tmp/tiny1x1.jpg" ] && seed tiny-1x1.jpg 0f "$tmp/tiny1x1.jpg"
[ -f "$tmp/tiny17x9.jpg" ] && seed tiny-17x9-420.jpg 2a "$tmp/tiny17x9.jpg"
# An embedded ICC profile, kept (0xc5) and dropped (0xa5).
if [ -f "$tmp/srgb.icc" ]; then
    cjpeg -quality 80 -icc "$tmp/srgb.icc" "$tmp/mountains-small.ppm" > "$tmp/a.jpg"
    seed mountains-icc.jpg c5 "$tmp/a.jpg"
    seed mountains-icc-dropped.jpg a5 "$tmp/a.jpg"
fi

# ---- transcode seeds. Settings bytes: 0xe0-0xef keep all, strict, 4:2:0/gray only; 0xf0-0xff
# the same with any_subsampling; others mix the flags (0x80 keep_metadata, 0x40 keep_icc,
# 0x20 strict, 0x10 any_subsampling). Quality 1 + b % 100.
printf '0;\n1;\n2;\n' > "$tmp/sequential-3scans.txt"    # one sequential scan per component
# 4:2:0 (what --method auto transcodes) in every coding the transcoder reads.
cjpeg -quality 80 "$tmp/dogs-small.ppm" > "$tmp/a.jpg";                      tseed 420-baseline.jpg e0 "$tmp/a.jpg"
tseed 420-baseline-lenient-nometa.jpg 03 "$tmp/a.jpg"
cjpeg -quality 80 -progressive "$tmp/fig-small.ppm" > "$tmp/a.jpg";          tseed 420-progressive.jpg e1 "$tmp/a.jpg"
cjpeg -quality 80 -progressive -restart 1 "$tmp/leaf-small.ppm" > "$tmp/a.jpg"; tseed 420-progressive-restart1.jpg e2 "$tmp/a.jpg"
cjpeg -quality 80 -restart 1 "$tmp/mountains-small.ppm" > "$tmp/a.jpg";      tseed 420-restart1row.jpg e3 "$tmp/a.jpg"
cjpeg -quality 80 -restart 1B "$tmp/fig-small.ppm" > "$tmp/a.jpg";           tseed 420-restart1block-lenient.jpg c4 "$tmp/a.jpg"
cjpeg -quality 80 -scans "$tmp/sequential-3scans.txt" "$tmp/dogs-small.ppm" > "$tmp/a.jpg"; tseed 420-noninterleaved.jpg e5 "$tmp/a.jpg"
# Quality 1 without -baseline: 16-bit quantization tables, an extended (SOF1) frame.
cjpeg -quality 1 "$tmp/leaf-small.ppm" 2>/dev/null > "$tmp/a.jpg";          tseed 420-extended-16bit-tables.jpg e6 "$tmp/a.jpg"
# Other subsamplings: transcoded with any_subsampling, refused (pixel path) without.
cjpeg -quality 80 -sample 2x1 "$tmp/leaf-small.ppm" > "$tmp/a.jpg";          tseed 422.jpg f7 "$tmp/a.jpg"
tseed 422-not-covered.jpg e7 "$tmp/a.jpg"
cjpeg -quality 80 -sample 2x1 -progressive "$tmp/dogs-small.ppm" > "$tmp/a.jpg"; tseed 422-progressive.jpg b8 "$tmp/a.jpg"
cjpeg -quality 80 -sample 1x1 "$tmp/fig-small.ppm" > "$tmp/a.jpg";           tseed 444.jpg f9 "$tmp/a.jpg"
cjpeg -quality 80 -sample 1x1 -progressive -restart 1 "$tmp/mountains-small.ppm" > "$tmp/a.jpg"; tseed 444-progressive-restart1.jpg 3a "$tmp/a.jpg"
cjpeg -quality 80 -sample 1x2 "$tmp/leaf-small.ppm" > "$tmp/a.jpg";          tseed 440.jpg fb "$tmp/a.jpg"
cjpeg -quality 80 -sample 4x1 "$tmp/dogs-small.ppm" > "$tmp/a.jpg";          tseed 411.jpg fc "$tmp/a.jpg"
cjpeg -quality 80 -sample 1x1,2x2,1x1 "$tmp/fig-small.ppm" > "$tmp/a.jpg";   tseed chroma-above-luma.jpg fd "$tmp/a.jpg"
# A horizontal factor of 3: legal, decoded by libjpeg, not by zune-jpeg (the target skips its check).
cjpeg -quality 80 -sample 3x1 "$tmp/leaf-small.ppm" > "$tmp/a.jpg";          tseed 3x1.jpg f4 "$tmp/a.jpg"
# 4x4 luma: 18 blocks an MCU, legal only in non-interleaved scans.
cjpeg -quality 80 -sample 4x4,1x1,1x1 -scans "$tmp/sequential-3scans.txt" "$tmp/mountains-small.ppm" > "$tmp/a.jpg"; tseed 4x4-noninterleaved.jpg fe "$tmp/a.jpg"
# Gray.
cjpeg -quality 80 -grayscale "$tmp/leaf-small.ppm" > "$tmp/a.jpg";           tseed gray.jpg e8 "$tmp/a.jpg"
cjpeg -quality 80 -grayscale -progressive -restart 1B "$tmp/fig-small.ppm" > "$tmp/a.jpg"; tseed gray-progressive-restart1block.jpg 29 "$tmp/a.jpg"
# Small odd sizes (partial MCUs and blocks): exact crops of a small photo.
cjpeg -quality 95 "$tmp/fig-small.ppm" > "$tmp/src.jpg"
crop() { jpegtran -crop "$1+0+0" "$tmp/src.jpg" | djpeg > "$tmp/crop.ppm"; }
crop 1x1;   cjpeg -quality 80 "$tmp/crop.ppm" > "$tmp/a.jpg";                 tseed 1x1-420.jpg ea "$tmp/a.jpg"
crop 17x9;  cjpeg -quality 80 "$tmp/crop.ppm" > "$tmp/a.jpg";                 tseed 17x9-420.jpg eb "$tmp/a.jpg"
crop 9x17;  cjpeg -quality 80 -progressive "$tmp/crop.ppm" > "$tmp/a.jpg";    tseed 9x17-420-progressive.jpg ec "$tmp/a.jpg"
crop 15x7;  cjpeg -quality 80 -sample 2x1 -restart 1B "$tmp/crop.ppm" > "$tmp/a.jpg"; tseed 15x7-422-restart1block.jpg f0 "$tmp/a.jpg"
crop 3x33;  cjpeg -quality 80 -sample 1x1 -progressive "$tmp/crop.ppm" > "$tmp/a.jpg"; tseed 3x33-444-progressive.jpg f1 "$tmp/a.jpg"
crop 33x3;  cjpeg -quality 80 -grayscale "$tmp/crop.ppm" > "$tmp/a.jpg";      tseed 33x3-gray.jpg ed "$tmp/a.jpg"
crop 23x21; cjpeg -quality 80 -scans "$tmp/sequential-3scans.txt" "$tmp/crop.ppm" > "$tmp/a.jpg"; tseed 23x21-420-noninterleaved.jpg ee "$tmp/a.jpg"
ls -l "$out" "$tout"

# fuzz/corpus/restore/ (`archive::restore`): archives (`photopress --archive`) of small JPEGs in
# each layout Lepton holds (baseline, progressive, gray, 4:4:4 with restart markers). Needs the
# photopress binary built (target/debug or target/release).
rout="$here/corpus/restore"
mkdir -p "$rout" "$tmp/lep-in"
# The newer of the release and debug builds (an old build may not know --archive).
bin=$(ls -t "$here"/../target/release/photopress "$here"/../target/debug/photopress 2>/dev/null | head -1 || true)
if [ -n "$bin" ] && [ -x "$bin" ]; then
    cjpeg -quality 80 "$tmp/dogs-small.ppm" > "$tmp/lep-in/baseline.jpg"
    cjpeg -quality 80 -progressive "$tmp/fig-small.ppm" > "$tmp/lep-in/progressive.jpg"
    cjpeg -quality 80 -grayscale "$tmp/leaf-small.ppm" > "$tmp/lep-in/gray.jpg"
    cjpeg -quality 80 -sample 1x1 -restart 1 "$tmp/mountains-small.ppm" > "$tmp/lep-in/444-restart.jpg"
    "$bin" --archive "$tmp/lep-in" -o "$rout" --prefix '' --progress never --quiet >/dev/null
else
    echo "no photopress binary: build it first for the restore seeds" >&2
fi

# fuzz/corpus/archive/ (`archive::archive`): the transcoder's own seeds without their settings
# byte (plain JPEGs: every layout Lepton holds, and a few it does not).
aout="$here/corpus/archive"
mkdir -p "$aout"
for f in "$tout"/t-*; do tail -c +2 "$f" > "$aout/$(basename "$f")"; done
