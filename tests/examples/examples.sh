#!/usr/bin/env bash
# The engine API's examples work as documented: evaluate a real file and store it, then replay
# the stored run at another rate, which must give the Ours loss `ponder export --rate` gives.
set -uo pipefail
evaluate="$1"; replay="$2"; ponder="$3"; model="$4"; work="$5"
rm -rf "$work"; mkdir -p "$work"
file=/usr/lib/python3.11/configparser.py
"$evaluate" "$model" "$file" --rate 0.5 --db "$work/runs.sqlite" >"$work/evaluate.out" \
  2>"$work/evaluate.err" || { echo "FAIL evaluate_file: $(tail -2 "$work/evaluate.err")"; exit 1; }
grep -q "^Ours (recon-ema)" "$work/evaluate.out" || { echo "FAIL no Ours row"; cat "$work/evaluate.out"; exit 1; }
grep -q "^Random Skip (expected)" "$work/evaluate.out" || { echo "FAIL no Random row"; exit 1; }
"$replay" "$work/runs.sqlite" latest 0.3 >"$work/replay.out" 2>"$work/replay.err" ||
  { echo "FAIL replay_run: $(tail -2 "$work/replay.err")"; exit 1; }
"$ponder" export --db "$work/runs.sqlite" --run latest --rate 0.3 --out "$work/export" >/dev/null ||
  { echo "FAIL ponder export"; exit 1; }
python3 - "$work/replay.out" "$work/export/table1_main.csv" <<'PY' || exit 1
import csv, sys
rows = {line[:24].strip(): line[24:].split() for line in open(sys.argv[1]) if line[:1] != "r"}
exported = next(csv.DictReader(open(sys.argv[2])))
ours = float(rows["Ours (recon-ema)"][0])
assert abs(ours - float(exported["Ours"])) < 6e-5, (ours, exported["Ours"])
assert "profile calibration" in open(sys.argv[1]).read()
PY
echo "ok examples: evaluate_file and replay_run"
