#!/usr/bin/env bash
# ponder-studio headless: a tiny model evaluates a real file, the studio renders 30 frames
# after the run and saves the window; png_check verifies size, ink and decision colours.
set -uo pipefail
ponder="$1"; studio="$2"; check="$3"; work="$4"
if ! command -v xvfb-run >/dev/null; then
  echo "SKIP: xvfb-run is missing (apt-get install xvfb xauth); the studio test needs a display"
  exit 0
fi
rm -rf "$work"; mkdir -p "$work"
"$ponder" make-test-model "$work/model" --layers 2 --embd 32 --heads 2 --ttt \
  --corpus /usr/lib/python3.11/json --vocab 512 >/dev/null || { echo "FAIL make-test-model"; exit 1; }
export XDG_CONFIG_HOME="$work/config" XDG_DATA_HOME="$work/data"
xvfb-run -a -s '-screen 0 1280x800x24' "$studio" --model "$work/model" \
  --open /usr/lib/python3.11/json/decoder.py --rate 0.5 --screenshot "$work/out.png" --frames 30 \
  >"$work/stdout" 2>"$work/stderr" || { echo "FAIL ponder-studio: $(tail -5 "$work/stderr")"; exit 1; }
[ -f "$XDG_DATA_HOME/ponder-studio/runs.sqlite" ] || { echo "FAIL the run was not stored"; exit 1; }
[ ! -e imgui.ini ] || { echo "FAIL imgui.ini written to the working directory"; exit 1; }
"$check" "$work/out.png" 1280 800 || exit 1

# A bad model directory is an error state and a toast, not a crash: the studio still renders.
mkdir -p "$work/bad-model"; echo '{' >"$work/bad-model/config.json"
xvfb-run -a -s '-screen 0 1280x800x24' "$studio" --model "$work/bad-model" \
  --open /usr/lib/python3.11/json/decoder.py --screenshot "$work/bad.png" --frames 5 \
  >"$work/bad.stdout" 2>"$work/bad.stderr" || { echo "FAIL bad model crashed: $(tail -3 "$work/bad.stderr")"; exit 1; }
grep -q "error:" "$work/bad.stderr" || { echo "FAIL no error reported for a bad model"; exit 1; }
[ -s "$work/bad.png" ] || { echo "FAIL no screenshot with a bad model"; exit 1; }
echo "ok ponder-studio screenshot"
