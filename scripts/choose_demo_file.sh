#!/usr/bin/env bash
# Chooses the studio's demo file by a fixed rule over a stored held-out evaluation, so it is not
# hand-picked: among the files with at least MIN_UNITS file units, the one whose advantage
# (loss_skip - loss_update per unit) has the largest standard deviation, i.e. the most visible
# spread for the gate to act on. The rule never looks at the gate's decisions. Usage:
#   scripts/choose_demo_file.sh UNITS_CSV [MIN_UNITS]
# UNITS_CSV: units.csv of `ponder export` for a file-mode run over the held-out split
# (scripts/evaluate_default_model.sh writes build/default-model-eval/tables/run-1/units.csv).
set -euo pipefail
units="${1:?usage: $0 UNITS_CSV [MIN_UNITS]}"
min_units="${2:-12}"
# Columns by name: paths hold no commas (corpus files are named safely).
awk -F, -v min="$min_units" '
  NR == 1 { for (i = 1; i <= NF; ++i) col[$i] = i; next }
  {
    file = $col["file"]; a = $col["advantage"]
    n[file]++; sum[file] += a; sq[file] += a * a
  }
  END {
    best = ""
    for (file in n) {
      if (n[file] < min) continue
      mean = sum[file] / n[file]
      sd = sqrt(sq[file] / n[file] - mean * mean)
      printf "%d units  mean advantage %.4f  sd %.4f  %s\n", n[file], mean, sd, file > "/dev/stderr"
      if (best == "" || sd > bestSd) { best = file; bestSd = sd }
    }
    if (best == "") { print "error: no file has " min " units" > "/dev/stderr"; exit 1 }
    print best
  }' "$units"
