#!/usr/bin/env bash
# The workbench's layout at 1280x800, at font scale 1 and 1.5: a folder run with two policies
# beside Ours and a selected chunk; each plot frame the studio reports (--dump-view) must be on
# screen whole, at least MIN px high, its axis drawn there (frame_check reads the pixels).
# Then the Sweep enlarged over the whole right side, and the chunk table's tab.
set -uo pipefail
ponder="$1"; studio="$2"; check="$3"; work="$4"
if ! command -v xvfb-run >/dev/null; then
  echo "SKIP: xvfb-run is missing (apt-get install xvfb xauth); the layout test needs a display"
  exit 0
fi
rm -rf "$work"; mkdir -p "$work/config/ponder-studio" "$work/data"
"$ponder" make-test-model "$work/model" --layers 2 --embd 32 --heads 2 --ttt \
  --corpus /usr/lib/python3.11/json --vocab 512 >/dev/null || { echo "FAIL make-test-model"; exit 1; }
export XDG_CONFIG_HOME="$work/config" XDG_DATA_HOME="$work/data"
readonly MIN=60  # px: a frame with three readable ticks at scale 1.5 (three 22 px labels)
failures=0

# shoot NAME SETTINGS_JSON [studio options...]: a 1280x800 screenshot and its view dump.
shoot() {
  local name="$1" settings="$2"; shift 2
  echo "$settings" >"$XDG_CONFIG_HOME/ponder-studio/settings.json"
  xvfb-run -a -s '-screen 0 1280x800x24' "$studio" "$@" --policy recon-ema \
    --policy recon-ema-inverted --policy advanced-threshold --select 3 \
    --screenshot "$work/$name.png" --dump-view "$work/$name.json" --frames 8 \
    >"$work/$name.stdout" 2>"$work/$name.stderr" ||
    { echo "FAIL $name: ponder-studio: $(tail -3 "$work/$name.stderr")"; return 1; }
}
# frames NAME MIN_HEIGHT PLOT...: the frame check, named in the log.
frames() {
  local name="$1"; shift
  echo "-- $name"
  "$check" "$work/$name.png" "$work/$name.json" "$@" || failures=$((failures + 1))
}

# The first run evaluates the folder and stores run 1; the others reopen it.
shoot scale-1 '{"font_scale": 1.0}' --model "$work/model" --open /usr/lib/python3.11/json \
  --rate 0.5 || exit 1
frames scale-1 "$MIN" fig_signal fig_advantage fig_decisions chunk-tokens
shoot scale-1.5 '{"font_scale": 1.5}' --run 1 || exit 1
# At 1.5 the stacked tab scrolls past the signal plot; the chunk plot keeps its room.
frames scale-1.5 "$MIN" fig_signal chunk-tokens
shoot enlarged '{"font_scale": 1.5, "enlarged_plot": "fig_sweep"}' --run 1 || exit 1
frames enlarged "$MIN" fig_sweep=300
grep -q '"plot": "fig_signal"' "$work/enlarged.json" &&
  { echo "FAIL the enlarged sweep shares the right side with fig_signal"; failures=$((failures + 1)); }
shoot chunks '{"font_scale": 1.0, "right_tab": "chunks", "chunk_sort": "advantage"}' --run 1 ||
  exit 1
frames chunks "$MIN" chunk-tokens
grep -q '"plot": "fig_signal"' "$work/chunks.json" &&
  { echo "FAIL the chunk table's tab drew the plots"; failures=$((failures + 1)); }
[ "$failures" -eq 0 ] || { echo "FAIL $failures layout checks"; exit 1; }
echo "ok the workbench's layout at font scale 1 and 1.5"
