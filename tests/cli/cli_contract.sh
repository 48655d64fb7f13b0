#!/usr/bin/env bash
# Black-box checks of the `ponder` command line (design.md §9): exit codes 0/1/2 and exactly
# one "error:" line plus one "hint:" line on stderr for bad input, never a crash.
set -uo pipefail
source "$(dirname "$0")/expect.sh"
setup_work "$@"

model="$work/model"
expect "make-test-model" 0 "$ponder" make-test-model "$model" --layers 2 --embd 32 --heads 2 --seed 3
expect "info --model on a valid model" 0 "$ponder" info --model "$model" --no-gemm
grep -q "parameters:" "$work/out" && pass "info prints the parameter count" || fail "info output lacks parameters"
grep -q "ttt:        absent" "$work/out" && pass "info reports the missing TTT checkpoint" || fail "info lacks ttt line"
grep -q "^ranks:      gloo for cpu" "$work/out" && pass "info names the ranks' collectives" \
  || fail "info lacks the ranks line"

sample="$work/sample.py"
printf 'def add(a, b):\n    return a + b  # héllo\n' >"$sample"
expect "tokenize a file" 0 "$ponder" tokenize --model "$model" "$sample"
ids=$(cat "$work/out")
expect "tokenize --count" 0 "$ponder" tokenize --model "$model" --count "$sample"
[ "$(cat "$work/out")" = "$(echo "$ids" | wc -w)" ] && pass "--count equals the number of ids" \
  || fail "--count $(cat "$work/out") differs from $(echo "$ids" | wc -w) ids"
# A bytes-only tokenizer has one id per byte.
[ "$(echo "$ids" | wc -w)" = "$(wc -c <"$sample")" ] && pass "byte-level ids cover every byte" \
  || fail "byte-level tokenizer gave $(echo "$ids" | wc -w) ids for $(wc -c <"$sample") bytes"

# Usage errors: exit 2.
expect "unknown command" 2 "$ponder" frobnicate
expect "unknown option" 2 "$ponder" info --modle "$model"
expect "missing value" 2 "$ponder" tokenize --model
expect "tokenize without --model" 2 "$ponder" tokenize "$sample"
expect "bad integer" 2 "$ponder" info --threads many

# Bad input: exit 1.
expect "missing model dir" 1 "$ponder" info --model "$work/nope" --no-gemm
: >"$work/empty.py"
expect "empty file" 1 "$ponder" tokenize --model "$model" "$work/empty.py"
printf 'abc\000def' >"$work/binary.bin"
expect "binary file" 1 "$ponder" tokenize --model "$model" "$work/binary.bin"
printf 'caf\351\n' >"$work/latin1.py"
expect "non-UTF-8 file" 1 "$ponder" tokenize --model "$model" "$work/latin1.py"
expect "directory as file" 1 "$ponder" tokenize --model "$model" "$work"

cp -r "$model" "$work/truncated"
size=$(stat -c %s "$model/model.safetensors")
truncate -s $((size - 1000)) "$work/truncated/model.safetensors"
expect "truncated weights" 1 "$ponder" info --model "$work/truncated" --no-gemm
grep -q "truncated" "$work/err" && pass "truncated weights are called truncated" || fail "message: $(cat "$work/err")"

cp -r "$model" "$work/badheader"
printf '\377\377\377\377\377\377\377\377' | dd of="$work/badheader/model.safetensors" bs=1 seek=0 conv=notrunc status=none
expect "bad header length" 1 "$ponder" info --model "$work/badheader" --no-gemm

cp -r "$model" "$work/garbage"
head -c 4096 /dev/urandom >"$work/garbage/model.safetensors"
expect "random bytes as weights" 1 "$ponder" info --model "$work/garbage" --no-gemm

cp -r "$model" "$work/wrongshape"
sed -i 's/"n_embd": 32/"n_embd": 48/' "$work/wrongshape/config.json"
expect "shapes that disagree with config.json" 1 "$ponder" info --model "$work/wrongshape" --no-gemm
grep -q "shape" "$work/err" && pass "the shape error names a shape" || fail "message: $(cat "$work/err")"

cp -r "$model" "$work/badconfig"
echo '{"n_layer": 2' >"$work/badconfig/config.json"
expect "malformed config.json" 1 "$ponder" info --model "$work/badconfig" --no-gemm

mkdir -p "$work/notok"
expect "tokenizer dir without files" 1 "$ponder" tokenize --model "$work/notok" "$sample"

# Evaluation (design.md §4, §9) on a real Python file with a TTT test model.
tmodel="$work/tmodel"
expect "make-test-model --ttt" 0 "$ponder" make-test-model "$tmodel" --layers 2 --embd 32 --heads 2 --seed 4 --ttt
real=/usr/lib/python3.11/json/decoder.py
expect "eval --json on a real file" 0 "$ponder" eval --model "$tmodel" "$real" --json "$work/eval.json" --quiet
python3 - "$work/eval.json" <<'PY' && pass "eval JSON follows the contract" || fail "eval JSON contract"
import json, sys
d = json.load(open(sys.argv[1]))
assert list(d) == ["run", "units", "policies"], list(d)
keys = {"file", "unit", "token_start", "n_tokens", "loss_skip", "loss_update", "advantage",
        "recon_step0", "recon_init", "recon_step1", "entropy", "confidence", "entropy_update",
        "confidence_update"}
assert d["units"] and all(keys <= set(u) for u in d["units"])
assert all(abs(u["advantage"] - (u["loss_skip"] - u["loss_update"])) < 1e-9 for u in d["units"])
assert {"skip", "update", "random", "oracle"} <= set(d["policies"])
for p in d["policies"].values():
    assert len(p["decisions"]) == len(d["units"])
assert d["policies"]["oracle"]["recovery"] == 1.0
assert d["run"]["tokens"] > 0 and d["run"]["backbone_sha256"]
PY
# The advantage split (algorithm.md §4.1): null without --static-path, the two parts sum to the
# advantage with it; the gated fast path refuses it as a usage error.
expect "eval --static-path" 0 "$ponder" eval --model "$tmodel" "$real" --chunk 64 --static-path \
  --json "$work/split.json" --quiet
python3 - "$work/eval.json" "$work/split.json" <<'PY' && pass "eval JSON splits the advantage" || fail "advantage split"
import json, sys
plain, split = (json.load(open(p))["units"] for p in sys.argv[1:])
assert all(u["loss_static"] is None and u["adv_inner"] is None for u in plain)
for u in split:
    assert abs(u["adv_static"] - (u["loss_skip"] - u["loss_static"])) < 1e-9, u
    assert abs(u["adv_static"] + u["adv_inner"] - u["advantage"]) < 1e-9, u
assert any(abs(u["adv_inner"]) > 1e-7 for u in split)
PY
expect "eval --fast --static-path is a usage error" 2 "$ponder" eval --model "$tmodel" "$real" \
  --fast --static-path --quiet
expect "eval --mode paper" 0 "$ponder" eval --model "$tmodel" --mode paper --chunk 64 "$real" --quiet
# The earlier releases' multi-signal gate (docs/gates.md §1) runs beside Ours on the same units.
expect "eval with the advanced policies" 0 "$ponder" eval --model "$tmodel" "$real" --chunk 64 \
  --policy recon-ema --policy advanced-budget --policy advanced-budget-ema \
  --policy advanced-threshold --json "$work/advanced.json" --quiet
python3 - "$work/advanced.json" <<'PY' && pass "advanced policies decide every unit" || fail "advanced policies"
import json, sys
d = json.load(open(sys.argv[1]))
n = len(d["units"])
for name in ("advanced-budget", "advanced-budget-ema", "advanced-threshold"):
    p = d["policies"][name]
    assert len(p["decisions"]) == n and len(p["threshold"]) == n, name
    assert all(t is not None for t in p["threshold"]), name
assert d["policies"]["advanced-threshold"]["threshold"] == [0.5] * n
PY
expect "unknown --advanced-std" 2 "$ponder" eval --model "$tmodel" "$real" --policy advanced-budget \
  --advanced-std batch
grep -q "advanced-std" "$work/err" && pass "--advanced-std error names it" || fail "message: $(cat "$work/err")"
# The learned gates (docs/gates.md §2-4): train one, run it beside Ours, refuse bad folders.
gate="$work/gate"
expect "train-gate on real code" 0 "$ponder" train-gate --model "$tmodel" --out "$gate" \
  --chunk 64 --steps 6 --batch 4 --warmup 0 --quiet /usr/lib/python3.11/json
[ -f "$gate/gate.json" ] && [ -f "$gate/gate.safetensors" ] && pass "train-gate writes the gate files" \
  || fail "train-gate left no gate files"
expect "eval with a gate policy" 0 "$ponder" eval --model "$tmodel" "$real" --chunk 64 \
  --policy recon-ema --policy "gate:$gate" --json "$work/gate.json" --quiet
python3 - "$work/gate.json" "$gate" <<'PY' && pass "the gate decides every unit; units carry features" || fail "gate policy JSON"
import json, sys
d = json.load(open(sys.argv[1]))
n = len(d["units"])
p = d["policies"]["gate:" + sys.argv[2]]
assert len(p["decisions"]) == n and set(p["decisions"]) <= {0, 1}
assert all(len(u["gate_features"]) == 28 for u in d["units"])
assert d["run"]["ttt_sha256"] == json.load(open(sys.argv[2] + "/gate.json"))["ttt_sha256"]
PY
expect "a missing gate folder" 1 "$ponder" eval --model "$tmodel" "$real" --policy "gate:$work/nogate"
expect_message "the missing gate is named" "does not exist"
cp -r "$gate" "$work/othergate"
sed -i 's/"ttt_sha256": "[0-9a-f]*"/"ttt_sha256": "0000"/' "$work/othergate/gate.json"
expect "a gate of another TTT layer" 1 "$ponder" eval --model "$tmodel" "$real" --chunk 64 \
  --policy "gate:$work/othergate"
expect_message "the mismatch is named" "another TTT layer"
expect "--force-gate runs it anyway" 0 "$ponder" eval --model "$tmodel" "$real" --chunk 64 \
  --policy "gate:$work/othergate" --force-gate --quiet
cp -r "$gate" "$work/brokengate"
head -c 100 "$gate/gate.safetensors" >"$work/brokengate/gate.safetensors"
expect "a truncated gate" 1 "$ponder" eval --model "$tmodel" "$real" --policy "gate:$work/brokengate"
# --train-ttt: the TTT layer learns with the gate; the output is a model directory whose own gate
# runs on it (and only on it: the original layer is another one).
expect "train-gate --train-ttt on real code" 0 "$ponder" train-gate --model "$tmodel" \
  --out "$work/joint" --chunk 64 --steps 4 --batch 4 --warmup 0 --quiet --train-ttt \
  /usr/lib/python3.11/json
cmp -s "$tmodel/ttt.safetensors" "$work/joint/ttt.safetensors" \
  && fail "--train-ttt left the TTT layer unchanged" || pass "--train-ttt trains the TTT layer"
expect "the joint model runs its own gate" 0 "$ponder" eval --model "$work/joint" "$real" \
  --chunk 64 --policy "gate:$work/joint/gate" --quiet
expect "the joint gate on the original layer" 1 "$ponder" eval --model "$tmodel" "$real" \
  --chunk 64 --policy "gate:$work/joint/gate"
expect "--train-ttt into the model's own folder" 1 "$ponder" train-gate --model "$tmodel" \
  --out "$tmodel" --train-ttt "$real"
expect "--fresh-ttt without --train-ttt" 2 "$ponder" train-gate --model "$tmodel" --out "$work/g2" \
  --fresh-ttt "$real"
expect "train-gate with an unknown kind" 1 "$ponder" train-gate --model "$tmodel" --out "$work/g3" \
  --kind svm "$real"
expect "eval without a TTT checkpoint" 1 "$ponder" eval --model "$model" "$real"
grep -q "ttt" "$work/err" && pass "missing TTT error names it" || fail "message: $(cat "$work/err")"
cp -r "$tmodel" "$work/mismatch"
cp "$model/model.safetensors" "$work/mismatch/model.safetensors"
cp "$model/config.json" "$work/mismatch/config.json"
expect "eval with a checkpoint for another backbone" 1 "$ponder" eval --model "$work/mismatch" "$real"
grep -q "force-checkpoint" "$work/err" && pass "mismatch hint names --force-checkpoint" || fail "message: $(cat "$work/err")"
expect "eval of an empty file" 1 "$ponder" eval --model "$tmodel" "$work/empty.py"
expect "eval of a binary file" 1 "$ponder" eval --model "$tmodel" "$work/binary.bin"
expect "eval of a file shorter than 64 tokens" 1 "$ponder" eval --model "$tmodel" "$sample"
expect "eval --chunk not a multiple of 16" 1 "$ponder" eval --model "$tmodel" --chunk 100 "$real"
expect "eval --mode bogus" 2 "$ponder" eval --model "$tmodel" --mode bogus "$real"
expect "eval to an unwritable JSON path" 1 "$ponder" eval --model "$tmodel" "$real" --quiet --json "$work/no/such/dir/out.json"
expect "eval --policy bogus" 2 "$ponder" eval --model "$tmodel" "$real" --policy bogus
expect "eval --rate 1.5" 2 "$ponder" eval --model "$tmodel" "$real" --rate 1.5
expect "eval --causal-k 2" 2 "$ponder" eval --model "$tmodel" "$real" --causal-k 2
expect "eval --calibration profile without calibration.json" 1 "$ponder" eval --model "$tmodel" "$real" --calibration profile

# Policies, the run store, exports, sweep and calibration (design.md §5-§9) on real folders.
corpus=/usr/lib/python3.11/json
db="$work/runs.sqlite"
expect "eval --db with extra policies" 0 "$ponder" eval --model "$tmodel" "$corpus" --chunk 128 \
  --policy recon-ema --policy recon-ema-paper --policy improvement-topk --db "$db" --label json-pkg \
  --json "$work/policies.json" --quiet
python3 - "$work/policies.json" <<'PY' && pass "eval JSON holds every requested policy with trajectories" || fail "policies JSON"
import json, sys
d = json.load(open(sys.argv[1]))
p = d["policies"]
assert {"skip", "update", "random", "oracle", "recon-ema", "recon-ema-paper", "improvement-topk"} <= set(p), list(p)
n = len(d["units"])
assert n > 16
for name in ("recon-ema", "recon-ema-paper"):
    assert len(p[name]["threshold"]) == n and len(p[name]["rate_ema"]) == n
    assert all(x == 1 for x in p[name]["decisions"][:16])   # forced calibration UPDATEs
assert abs(p["recon-ema"]["rate"] - sum(p["recon-ema"]["decisions"]) / n) < 1e-12
assert p["skip"]["recovery"] == 0.0
PY
expect "eval --max-units 3" 0 "$ponder" eval --model "$tmodel" "$corpus" --chunk 128 --max-units 3 --json "$work/three.json" --quiet
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert [u["unit"] for u in d["units"]] == [0, 1, 2]' "$work/three.json" \
  && pass "--max-units keeps the first units" || fail "--max-units"
expect "eval --db --shuffle" 0 "$ponder" eval --model "$tmodel" "$corpus" --chunk 128 --shuffle --db "$db" --quiet
expect "eval --db --causal-k -1" 0 "$ponder" eval --model "$tmodel" "$corpus" --chunk 128 --causal-k -1 --db "$db" --quiet
expect "runs lists the stored runs" 0 "$ponder" runs --db "$db"
[ "$(wc -l <"$work/out")" = 3 ] && grep -q "json-pkg" "$work/out" && grep -q "complete" "$work/out" \
  && pass "three complete runs, labelled" || fail "runs output: $(cat "$work/out")"
expect "export latest" 0 "$ponder" export --db "$db" --out "$work/export"
for f in detailed_results.csv summary.csv summary.json correlation.json units.csv \
         table1_main.{csv,md,tex} table2_languages.{csv,md,tex} table3_correlation.{csv,md,tex} \
         table5_agreement.{csv,md,tex} table8_random.{csv,md,tex} table9_update1.{csv,md,tex} \
         table10_11_ablations.{csv,md,tex}; do
  [ -s "$work/export/$f" ] || fail "export lacks $f"
done
pass "export wrote every file"
expect "export three runs side by side" 0 "$ponder" export --db "$db" --run 1 --run 2 --run 3 --out "$work/export3"
python3 - "$work/export3" <<'PY' && pass "ablation table holds standard, shuffled and diagonal runs" || fail "ablation table"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1] + "/table10_11_ablations.csv")))
assert [(r["Shuffle"], r["causal_k"]) for r in rows] == [("no", "0"), ("yes", "0"), ("no", "-1")], rows
assert all(open(sys.argv[1] + f"/run-{i}/summary.csv").readline().strip() == "method,loss,cost" for i in (1, 2, 3))
PY
python3 - "$work/export3/run-1/detailed_results.csv" "$work/policies.json" <<'PY' && pass "detailed_results agrees with the eval JSON" || fail "detailed_results vs JSON"
import csv, json, sys
rows = list(csv.DictReader(open(sys.argv[1])))
d = json.load(open(sys.argv[2]))
n = len(d["units"])
ours = [r for r in rows if r["method"] == "Ours"]
assert len(ours) == n
assert [1 if r["decision"] == "UPDATE" else 0 for r in ours] == d["policies"]["recon-ema"]["decisions"]
assert abs(sum(float(r["loss"]) for r in ours) / n - d["policies"]["recon-ema"]["loss"]) < 1e-9
PY
expect "export of an unknown run" 1 "$ponder" export --db "$db" --run 99 --out "$work/x"
expect "export into an unwritable folder" 1 "$ponder" export --db "$db" --out "$work/export/summary.csv/sub"
expect "runs on a missing database" 1 "$ponder" runs --db "$work/none.sqlite"
printf 'not a database at all, just text that is long enough to look like a header....' >"$work/text.sqlite"
expect "runs on a file that is not a database" 1 "$ponder" runs --db "$work/text.sqlite"
expect "sweep a stored run" 0 "$ponder" sweep --db "$db" --run 1 --rates 0.1:0.9:0.2
python3 - "$work/out" <<'PY' && pass "sweep: oracle <= ours-independent random; rates rise" || fail "sweep output: $(cat "$work/out")"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
assert [r["target_rate"] for r in rows] == ["0.1000", "0.3000", "0.5000", "0.7000", "0.9000"]
for r in rows:
    assert float(r["oracle_loss"]) <= float(r["random_expected_loss"]) + 1e-12
PY
expect "sweep --rates nonsense" 2 "$ponder" sweep --db "$db" --rates 0.9:0.1:0.1

# bench --train runs the real training loops on the model's shapes, in a scratch folder.
expect "bench --train" 0 "$ponder" bench --train --model "$tmodel" /usr/lib/python3.11/json \
  --steps 1 --threads 1
grep -q '^train-base bf16 ' "$work/out" && grep -q '^train-ttt ' "$work/out" \
  && grep -q '^bf16 / fp32 ' "$work/out" && pass "bench --train prints both loops in both precisions" \
  || fail "bench --train output: $(head -c 400 "$work/out")"
expect "bench --train without --model" 2 "$ponder" bench --train
expect "bench --train --precision fp8" 2 "$ponder" bench --train --model "$tmodel" --precision fp8
expect "calibrate on held-out code" 0 "$ponder" calibrate --model "$tmodel" /usr/lib/python3.11/email --chunk 128 --quiet
[ -s "$tmodel/calibration.json" ] && pass "calibration.json written" || fail "no calibration.json"
expect "eval --calibration profile" 0 "$ponder" eval --model "$tmodel" "$corpus" --chunk 128 \
  --calibration profile --json "$work/profile.json" --quiet
python3 - "$work/profile.json" "$tmodel/calibration.json" <<'PY' && pass "profile calibration starts at the median of calibration.json" || fail "profile JSON"
import json, sys
p = json.load(open(sys.argv[1]))["policies"]["recon-ema"]
c = json.load(open(sys.argv[2]))
assert c["levels"][50] == 0.5
# τ0 for rate 0.5 is the 0.5 quantile, used for the very first unit (no forced phase).
assert abs(p["threshold"][0] - c["quantiles"]["recon_step0"][50]) < 1e-12, (p["threshold"][0], c["quantiles"]["recon_step0"][50])
assert p["decisions"][0] == (1 if json.load(open(sys.argv[1]))["units"][0]["recon_step0"] > p["threshold"][0] else 0)
PY

echo
if [ "$failures" -eq 0 ]; then echo "cli contract: all checks passed"; exit 0; fi
echo "cli contract: $failures check(s) failed"; exit 1
