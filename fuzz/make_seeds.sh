#!/usr/bin/env bash
# Writes the seed corpus of the `recompress` target into fuzz/corpus/recompress/ (gitignored):
# small JPEGs made from the photos in IMAGES/, in the codings the codec has paths for. Each
# seed starts with the settings byte the target reads first (see fuzz_targets/recompress.rs:
# quality 1 + b % 100; 0x80 keep_metadata, 0x40 keep_icc, 0x20 strict, 0x10 best).
# Needs libjpeg-turbo-progs (djpeg, cjpeg, jpegtran) and python3 with Pillow for the EXIF
# orientation and CMYK seeds (skipped without it).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
images="$here/../IMAGES"
out="$here/corpus/recompress"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out"

# seed NAME SETTINGS_BYTE(hex) FILE
seed() { { printf "\\x$2"; cat "$3"; } > "$out/$1"; }

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
ls -l "$out"
