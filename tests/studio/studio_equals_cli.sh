#!/usr/bin/env bash
# Studio = CLI, number for number: the studio evaluates a real file on the bundled model under
# Xvfb and dumps what its summary table shows (--dump-view); `ponder export --run ID` of the run
# it stored, with no flags, must give the same numbers. Cases: recon-ema at two rates under both
# calibrations, the model's learned gate (its own rate), multi-signal beside Ours, reopening a
# stored run (--run), a 2-file folder, no arguments (the last run reopened, nothing evaluated),
# the Files tab against export's per_file.csv and the advantage split against advantage_split.csv
# in every case;
# and batch export's per-rate tables equal `ponder export --rate R` of the same run.
set -uo pipefail
ponder="$1"; studio="$2"; model="$3"; work="$4"
if ! command -v xvfb-run >/dev/null; then
  echo "SKIP: xvfb-run is missing (apt-get install xvfb xauth); the studio test needs a display"
  exit 0
fi
rm -rf "$work"; mkdir -p "$work"
export XDG_CONFIG_HOME="$work/config" XDG_DATA_HOME="$work/data"
db="$XDG_DATA_HOME/ponder-studio/runs.sqlite"
file=/usr/lib/python3.11/configparser.py
failures=0
fail() { echo "FAIL $*"; failures=$((failures + 1)); }

studio_view() {  # NAME STUDIO-ARGS...: runs the studio, leaves $work/NAME.json
  local name="$1"; shift
  xvfb-run -a -s '-screen 0 1280x800x24' "$studio" "$@" --screenshot "$work/$name.png" \
    --frames 3 --dump-view "$work/$name.json" >"$work/$name.out" 2>"$work/$name.err" ||
    { fail "$name: ponder-studio exited $?: $(tail -3 "$work/$name.err")"; return 1; }
}

compare() {  # NAME [EXPORT-FLAGS...]: export the view's run and compare every row
  local name="$1"; shift
  local run
  run=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["run"])' "$work/$name.json")
  "$ponder" export --db "$db" --run "$run" --out "$work/$name-export" "$@" >/dev/null \
    2>"$work/$name-export.err" || { fail "$name: export: $(tail -2 "$work/$name-export.err")"; return 1; }
  python3 - "$work/$name.json" "$work/$name-export" <<'PY' && echo "ok $name" || fail "$name"
import csv, json, sys
view = json.load(open(sys.argv[1]))
out = sys.argv[2]
assert not view["error"], view["error"]
rows = {r["method"]: r for r in view["rows"]}
summary = {r["method"]: r for r in csv.DictReader(open(out + "/summary.csv"))}
table1 = next(csv.DictReader(open(out + "/table1_main.csv")))
agreement = {r["Method"]: r for r in csv.DictReader(open(out + "/table5_agreement.csv"))}
same_rate = {r["Method"]: r for r in csv.DictReader(open(out + "/gates_same_rate.csv"))}

def close(a, b, tol, what):
    assert abs(float(a) - float(b)) <= tol, f"{what}: studio {a} vs export {b}"

ours = next(m for m in rows if m.startswith("Ours"))
update = next(m for m in rows if m.startswith("UPDATE_"))
for method, exported in (("SKIP", "SKIP"), (update, update), ("Oracle", "Oracle"), (ours, "Ours")):
    close(rows[method]["loss"], summary[exported]["loss"], 6e-5, method + " loss")
    close(rows[method]["cost"], summary[exported]["cost"], 6e-5, method + " cost")
# The studio's Random row is the expectation, labelled so; the files keep the seeded draw.
random = rows["Random Skip (expected)"]
assert "Random Skip" not in rows, "the expectation and the draw share a label"
close(random["seeded_draw"]["loss"], summary["Random Skip"]["loss"], 6e-5, "Random seeded draw")
close(rows["Oracle"]["loss"], table1["Oracle"], 6e-5, "table1 Oracle")
close(rows[ours]["loss"], table1["Ours"], 6e-5, "table1 Ours")
close(rows[ours]["rate"], table1["Rate"], 6e-4, "Ours rate")
close(100 * rows[ours]["recovery"], table1["Recovery"].rstrip("%"), 0.051, "Ours recovery")
for method, exported in (("SKIP", "SKIP"), (update, update), (ours, "Ours")):
    close(100 * rows[method]["agreement"], agreement[exported]["Agreement"].rstrip("%"), 0.051,
          method + " agreement")
# Ours and every extra policy at the rate it realized (gates_same_rate); a policy that spends
# its own budget is reported that way in the studio too, recovery and agreement included.
for method, row in rows.items():
    if method not in same_rate:
        continue
    close(row["rate"], same_rate[method]["Rate"], 6e-4, method + " rate")
    close(row["loss"], same_rate[method]["Loss"], 6e-5, method + " loss")
    if row["own_rate"]:
        close(100 * row["agreement"], same_rate[method]["Agreement"].rstrip("%"), 0.051,
              method + " agreement at its rate")
# The advantage split (algorithm.md §4.1): the studio's runs always have the static path; its
# split line and the Adaptation Oracle row are export's advantage_split.csv.
split = next(csv.DictReader(open(out + "/advantage_split.csv")))
shown = view["advantage_split"]
assert shown["advantage"] is not None, "a studio run without the static path"
for key, column in (("advantage", "Advantage"), ("adv_static", "adv_static"),
                    ("adv_inner", "adv_inner")):
    close(shown[key], split[column], 6e-5, "split " + key)
if shown["inner_share"] is None:
    assert split["Inner share"] == "n/a", split
else:
    close(100 * shown["inner_share"], split["Inner share"].rstrip("%"), 0.051, "inner share")
close(rows["Adaptation Oracle"]["loss"], split["Adaptation Oracle"], 6e-5, "Adaptation Oracle")
# No interval from fewer files than the bootstrap needs.
for row in view["rows"]:
    assert row["ci"]["loss"] is None and row["ci"]["recovery"] is None, row
# The Files tab is export's per_file.csv, file by file.
per_file = list(csv.DictReader(open(out + "/per_file.csv")))
assert len(per_file) == len(view["files"]), (len(per_file), len(view["files"]))
for shown, exported in zip(view["files"], per_file):
    assert shown["file"] == exported["file"], (shown["file"], exported["file"])
    assert shown["units"] == int(exported["units"]), shown["file"]
    for key, column in (("loss_skip", "loss_skip"), ("loss_update", "loss_update"),
                        ("loss_ours", "loss_ours"), ("loss_oracle", "loss_oracle"),
                        ("rate_ours", "rate_ours"), ("rate_oracle", "rate_oracle"),
                        ("recovery", "recovery_ours")):
        if shown[key] is None:
            assert exported[column] == "", (shown["file"], key)
        else:
            close(shown[key], exported[column], 1e-9, shown["file"] + " " + key)
PY
}

for calibration in profile paper; do
  for rate in 0.3 0.7; do
    name="recon-ema-$calibration-$rate"
    studio_view "$name" "$model" "$file" --rate "$rate" --calibration "$calibration" &&
      compare "$name"
    python3 -c 'import json,sys; v=json.load(open(sys.argv[1])); assert v["calibration"]==sys.argv[2] and abs(v["rate"]-float(sys.argv[3]))<1e-12, v' \
      "$work/$name.json" "$calibration" "$rate" || fail "$name: the view is not at its settings"
  done
done

# The model's learned gate decides its own rate: Random and the Oracle at that rate, the rate
# control does not apply, and moving it changes nothing.
studio_view gate "$model" "$file" --policy "gate:$model/gate" --rate 0.84 && compare gate
studio_view gate-low "$model" "$file" --policy "gate:$model/gate" --rate 0.23
python3 - "$work/gate.json" "$work/gate-low.json" <<'PY' && echo "ok gate ignores the slider" || fail "gate view"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
assert a["own_rate"] and not a["rate_applies"], a
ra = {r["method"]: r for r in a["rows"]}
rb = {r["method"]: r for r in b["rows"]}
for method in ra:
    for key in ("loss", "rate", "recovery", "agreement"):
        assert ra[method][key] == rb[method][key], (method, key, ra[method][key], rb[method][key])
ours = next(r for m, r in ra.items() if m.startswith("Ours"))
oracle = ra["Oracle"]
assert abs(oracle["rate"] - ours["rate"]) < 0.5 / 26 + 1e-9, (oracle["rate"], ours["rate"])
assert 0 <= ours["recovery"] <= 1.5, ours  # against an Oracle with as many updates
PY

studio_view multi "$model" "$file" --policy recon-ema --policy multi-signal --calibration paper &&
  compare multi

# Reopening the first run: the view equals an export with no flags.
first=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["run"])' "$work/recon-ema-profile-0.3.json")
studio_view reopen --run "$first" && compare reopen
python3 -c 'import json,sys; v=json.load(open(sys.argv[1])); assert v["calibration"]=="profile" and abs(v["rate"]-0.3)<1e-12, v' \
  "$work/reopen.json" || fail "reopen: not at the stored settings"

mkdir -p "$work/two"
cp /usr/lib/python3.11/configparser.py /usr/lib/python3.11/json/decoder.py "$work/two/"
studio_view folder "$model" "$work/two" --rate 0.5 && compare folder

# No arguments: the studio reopens the last stored run and evaluates nothing.
before=$("$ponder" runs --db "$db" | wc -l)
last=$("$ponder" runs --db "$db" | tail -1 | awk '{print $1}')
studio_view last && compare last
python3 -c 'import json,sys; v=json.load(open(sys.argv[1])); assert str(v["run"])==sys.argv[2], (v["run"], sys.argv[2])' \
  "$work/last.json" "$last" || fail "no arguments: not the last run"
[ "$("$ponder" runs --db "$db" | wc -l)" = "$before" ] || fail "no arguments: a new run was stored"

# Batch export at two rates: each rate's tables equal `ponder export --rate R` of the run.
xvfb-run -a -s '-screen 0 1280x800x24' "$studio" "$model" "$file" --calibration profile \
  --batch-export "$work/batch" --batch-rates "0.3, 0.7" --screenshot "$work/batch.png" --frames 2 \
  >"$work/batch.out" 2>"$work/batch.err" || fail "batch export: $(tail -3 "$work/batch.err")"
for rate in 0.3 0.7; do
  "$ponder" export --db "$db" --run latest --rate "$rate" --out "$work/cli-$rate" >/dev/null
  for table in units.csv summary.csv table1_main.csv gates_same_rate.csv; do
    cmp -s "$work/batch/rate-$rate"0/"$table" "$work/cli-$rate/$table" ||
      fail "batch rate $rate: $table differs from ponder export --rate $rate"
  done
done
[ "$failures" -eq 0 ] && echo "ok batch export equals ponder export --rate"

[ "$failures" -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
echo "ok studio = CLI"
