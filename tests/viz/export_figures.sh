#!/usr/bin/env bash
# `ponder export --figures` end to end: a tiny model evaluates two files into a run store, and
# the export writes the four run figures as valid PNG, SVG, PDF (font embedded) and CSV.
set -uo pipefail
ponder="$1"
work="$2"
rm -rf "$work"; mkdir -p "$work"
failures=0
pass() { echo "ok   $1"; }
fail() { echo "FAIL $1"; failures=$((failures + 1)); }

corpus=/usr/lib/python3.11/json
"$ponder" make-test-model "$work/model" --layers 1 --embd 32 --heads 2 --ttt --corpus "$corpus" \
  --vocab 300 >/dev/null || { echo "FAIL make-test-model"; exit 1; }
"$ponder" eval --model "$work/model" "$corpus/decoder.py" "$corpus/encoder.py" --chunk 64 \
  --db "$work/runs.sqlite" --label "figure test" --quiet >/dev/null || { echo "FAIL eval"; exit 1; }

if "$ponder" export --db "$work/runs.sqlite" --out "$work/out" --figures png,svg,pdf,csv --dpi 100 \
     >"$work/stdout" 2>"$work/stderr"; then
  pass "export --figures png,svg,pdf,csv"
else
  fail "export --figures: $(cat "$work/stderr")"
fi
for stem in fig_signal fig_advantage fig_decisions fig_scatter fig_sweep; do
  for ext in png svg pdf csv; do
    [ -s "$work/out/$stem.$ext" ] || fail "missing $stem.$ext"
  done
  head -c 8 "$work/out/$stem.png" | od -An -tx1 | tr -d ' \n' | grep -q '^89504e470d0a1a0a$' \
    || fail "$stem.png is not a PNG"
  grep -q '<svg' "$work/out/$stem.svg" && grep -q '<path' "$work/out/$stem.svg" \
    || fail "$stem.svg has no SVG paths"
  head -c 5 "$work/out/$stem.pdf" | grep -q '%PDF-' || fail "$stem.pdf is not a PDF"
  grep -aq '/FontFile' "$work/out/$stem.pdf" || fail "$stem.pdf has no embedded font"
done
[ "$failures" = 0 ] && pass "five figures in every format"
for ext in png svg pdf; do
  [ -s "$work/out/fig_overview.$ext" ] || fail "missing fig_overview.$ext"
done
[ ! -e "$work/out/fig_overview.csv" ] && pass "fig_overview in every image format" \
  || fail "fig_overview.csv should not exist"
# 504 x 288 pt at 100 dpi is 700 x 400 pixels (PNG IHDR width and height, big-endian).
size=$(od -An -tu1 -j16 -N8 "$work/out/fig_signal.png" | awk '{print $3*256+$4 "x" $7*256+$8}')
[ "$size" = "700x400" ] && pass "PNG size follows --dpi" || fail "PNG is $size, expected 700x400"
# The decision strip is a thin figure: 504 x 115.2 pt (0.4 of the height) at 100 dpi.
size=$(od -An -tu1 -j16 -N8 "$work/out/fig_decisions.png" | awk '{print $3*256+$4 "x" $7*256+$8}')
[ "$size" = "700x160" ] && pass "decision strip is thin" || fail "fig_decisions.png is $size, expected 700x160"
size=$(od -An -tu1 -j16 -N8 "$work/out/fig_overview.png" | awk '{print $3*256+$4 "x" $7*256+$8}')
[ "$size" = "1400x800" ] && pass "overview is 2 x 2 panels" || fail "overview is $size, expected 1400x800"
head -1 "$work/out/fig_signal.csv" | grep -q '^series,chunk,recon_step0$' \
  && pass "figure CSV header" || fail "fig_signal.csv header: $(head -1 "$work/out/fig_signal.csv")"

"$ponder" export --db "$work/runs.sqlite" --out "$work/bad" --figures gif >/dev/null 2>"$work/stderr"
[ $? = 2 ] && grep -q "unknown format 'gif'" "$work/stderr" \
  && pass "unknown figure format is a usage error" || fail "--figures gif: $(cat "$work/stderr")"

echo "$failures failure(s)"
[ "$failures" = 0 ]
