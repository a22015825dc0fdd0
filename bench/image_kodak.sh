#!/bin/sh
# Kodak RD of the learned image codec against JPEG (libjpeg-turbo's cjpeg,
# -optimize, 4:2:0), x265 and SVT-AV1 (intra, through nvc-rd), PSNR on RGB,
# with BD-rates per image averaged over the set.
#
#   bench/image_kodak.sh [KODAK_DIR [OUT_DIR [IMAGE_QS]]]
#
# Needs a build with FFmpeg (nvc-rd's classic codecs), ffmpeg and cjpeg/djpeg
# (Debian: libjpeg-turbo-progs). Writes OUT_DIR (nvc-rd's results, resumable)
# and OUT_DIR/jpeg.csv, prints the BD table. NVC_BUILDDIR: the build folder.
set -eu
build=${NVC_BUILDDIR:-$(cd "$(dirname "$0")/.." && pwd)}
kodak=${1:-../shared/data/image/kodak}
out=${2:-kodak-rd}
qs=${3:-0,10,21,31,42,52,63}
for t in ffmpeg cjpeg djpeg; do
  command -v $t >/dev/null || { echo "image_kodak.sh: $t not found"; exit 77; }
done
mkdir -p "$out"
"$build/tools/nvc-rd" -c image,x265,svtav1 --q "image=$qs" --points 6 --bpp-range 0.1,2.0 \
  -o "$out" -t "${THREADS:-2}" -q "$kodak"

# JPEG: bytes of the .jpg file, PSNR-RGB of its decoding
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
jcsv=$out/jpeg.csv
[ -s "$jcsv" ] || echo "clip,quality,bytes,bpp,psnr_rgb" >"$jcsv"
for f in "$kodak"/*.png; do
  clip=$(basename "$f" .png)
  ffmpeg -nostdin -loglevel error -y -i "$f" -pix_fmt rgb24 "$tmp/in.ppm"
  wh=$(head -c 20 "$tmp/in.ppm" | sed -n 2p)
  for q in 10 20 35 50 70 85 95; do
    grep -q "^$clip,$q," "$jcsv" && continue
    cjpeg -quality $q -optimize "$tmp/in.ppm" >"$tmp/o.jpg" 2>/dev/null
    djpeg -ppm "$tmp/o.jpg" >"$tmp/d.ppm"
    ffmpeg -nostdin -loglevel error -y -i "$tmp/d.ppm" "$tmp/d.png"
    bytes=$(wc -c <"$tmp/o.jpg")
    psnr=$("$build/tools/nvc-metrics" -m rgb -c "$f" "$tmp/d.png" | awk -F, 'NR==1{for(i=1;i<=NF;i++)if($i=="psnr_rgb")c=i} $1=="mean"{print $c}')
    echo "$wh" | awk -v c="$clip" -v q=$q -v b="$bytes" -v p="$psnr" '{printf "%s,%s,%s,%.6f,%s\n", c, q, b, b*8/($1*$2), p}' >>"$jcsv"
  done
done

# BD-rates per image (cubic), averaged
points() { # CODEC CLIP: bpp:psnr_rgb list from rd.csv
  awk -F, -v c="$1" -v k="$2" 'NR==1{for(i=1;i<=NF;i++){if($i=="bpp")b=i;if($i=="psnr_rgb")p=i;if($i=="codec")cc=i;if($i=="clip")cl=i}}
       NR>1 && $cc==c && $cl==k {printf "%s%s:%s", s, $b, $p; s=","}' "$out/rd.csv"
}
jpoints() {
  awk -F, -v k="$1" '$1==k{printf "%s%s:%s", s, $4, $5; s=","}' "$jcsv"
}
bd() { "$build/tools/nvc-rd" --bd "$1" "$2" 2>/dev/null | awk '/^cubic/ && $3 ~ /^[-+]?[0-9]/{print $3}'; }
echo "BD-rate (PSNR-RGB, cubic; negative = fewer bits), per image and mean:"
echo "clip,image_vs_jpeg,image_vs_x265,image_vs_svtav1,jpeg_vs_x265,svtav1_vs_x265"
for f in "$kodak"/*.png; do
  k=$(basename "$f" .png)
  im=$(points image "$k"); x5=$(points x265 "$k"); av=$(points svtav1 "$k"); jp=$(jpoints "$k")
  echo "$k,$(bd "$jp" "$im"),$(bd "$x5" "$im"),$(bd "$av" "$im"),$(bd "$x5" "$jp"),$(bd "$x5" "$av")"
done | tee "$out/bd_image.csv" | cat
awk -F, '{for(i=2;i<=6;i++) if($i!=""){s[i]+=$i;n[i]++}} END{printf "mean"; for(i=2;i<=6;i++) printf ",%s", n[i]?sprintf("%.2f%%",s[i]/n[i]):"n/a"; print ""}' "$out/bd_image.csv"
