#!/usr/bin/env bash
# Gemma 3 through the real `ponder` binary: a seeded HF-layout directory (shards, SentencePiece),
# info with its memory line, eval in file and paper mode (F32 and BF16), the store and export,
# train-ttt writing a Gemma checkpoint, and the refusals (a GPT-2 checkpoint, a Gemma 2 config).
set -uo pipefail
source "$(dirname "$0")/expect.sh"
setup_work "$@"

model="$work/gemma"
src="$(dirname "$0")/../.."
corpus=(--corpus "$src/core/model/gemma3_model.cpp" --corpus "$src/core/gating/gate.cpp"
        --corpus "$src/README.md")
expect "make-test-model --arch gemma3" 0 "$ponder" make-test-model "$model" --arch gemma3 \
  --layers 2 --embd 32 --heads 2 --kv-heads 1 --head-dim 24 --window 32 --positions 600 \
  --vocab 600 "${corpus[@]}" --shards 2 --ttt --seed 3
[ -f "$model/tokenizer.model" ] && [ -f "$model/model.safetensors.index.json" ] \
  && grep -q '"model_type": "gemma3_text"' "$model/config.json" \
  && grep -q '"backbone_arch": "gemma3_text"' "$model/ttt.json" \
  && pass "HF layout: config, index + shards, tokenizer.model, a Gemma TTT checkpoint" \
  || fail "Gemma directory layout: $(ls "$model")"

expect "info --model on Gemma 3" 0 "$ponder" info --model "$model" --no-gemm
grep -q '^backbone: *gemma3_text, 2 layers, width 32' "$work/out" \
  && grep -q '^memory: .* with --dtype bf16' "$work/out" && grep -q 'in 2 shards' "$work/out" \
  && grep -q 'SentencePiece' "$work/out" \
  && pass "info names the architecture, size, memory, shards and tokenizer" \
  || fail "info output: $(cat "$work/out")"

real=/usr/lib/python3.11/json/decoder.py
expect "eval on Gemma 3 (file mode, stored)" 0 "$ponder" eval --model "$model" "$real" --chunk 128 \
  --db "$work/runs.sqlite" --json "$work/f32.json" --quiet
expect "eval --dtype bf16" 0 "$ponder" eval --model "$model" "$real" --chunk 128 --dtype bf16 \
  --json "$work/bf16.json" --quiet
python3 - "$work/f32.json" "$work/bf16.json" <<'PY' && pass "F32 and BF16 runs agree closely; UPDATE differs from SKIP" || fail "Gemma eval JSON"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
assert len(a["units"]) == len(b["units"]) >= 3
for u, v in zip(a["units"], b["units"]):
    assert abs(u["loss_skip"] - v["loss_skip"]) < 0.05 * u["loss_skip"], (u, v)
    assert u["loss_update"] != u["loss_skip"]
assert set(a["policies"]) >= {"skip", "update", "random", "oracle"}
assert (a["run"]["dtype"], b["run"]["dtype"]) == ("float32", "bfloat16"), (a["run"], b["run"])
PY
# Gated generation on Gemma 3: its KV cache, SentencePiece decoding, the stream stored whole.
head -c 400 "$real" >"$work/prompt.py"
expect "generate on Gemma 3 (stored, JSON)" 0 "$ponder" generate --model "$model" \
  --prompt "$work/prompt.py" --max-tokens 40 --chunk 32 --decide-every minibatch --no-stop-at-eot \
  --temperature 0.7 --seed 5 --db "$work/generate.sqlite" --json "$work/generate.json" --quiet
python3 - "$work/generate.json" <<'PY' && pass "Gemma 3 generation: 40 tokens, both paths per token" || fail "Gemma 3 generation JSON"
import json, sys
g = json.load(open(sys.argv[1]))["generation"]
assert g["generated_tokens"] == 40, g["generated_tokens"]
n = len(g["ids"]) - 1
assert len(g["token_loss_skip"]) == len(g["token_loss_update"]) == n
assert any(abs(a - b) > 1e-6 for a, b in zip(g["token_loss_skip"], g["token_loss_update"]))
PY

expect "eval in paper mode on Gemma 3" 0 "$ponder" eval --model "$model" /usr/lib/python3.11/json \
  --mode paper --chunk 64 --quiet
expect "export of the Gemma run" 0 "$ponder" export --db "$work/runs.sqlite" --run latest \
  --out "$work/export"
[ -s "$work/export/summary.csv" ] && pass "exports of a Gemma run" || fail "no summary.csv"

expect "train-ttt on Gemma 3" 0 "$ponder" train-ttt --model "$model" /usr/lib/python3.11/json \
  --out "$work/trained" --chunk 64 --batch 2 --steps 3 --quiet
grep -q '"ttt_width": 48' "$work/trained/ttt.json" && grep -q '"fast_norm": "rmsnorm"' "$work/trained/ttt.json" \
  && pass "train-ttt writes the Gemma attachment (RMS fast norm, projections)" \
  || fail "trained ttt.json: $(cat "$work/trained/ttt.json")"

# The trained checkpoint on another Gemma directory of the same shapes (another seed):
# refused for its backbone hash, accepted with --force-checkpoint.
expect "make-test-model, same shapes, other seed" 0 "$ponder" make-test-model "$work/twin" \
  --arch gemma3 --layers 2 --embd 32 --heads 2 --kv-heads 1 --head-dim 24 --window 32 \
  --positions 600 --vocab 600 "${corpus[@]}" --seed 4
cp "$work/trained/ttt.json" "$work/trained/ttt.safetensors" "$work/twin/"
expect "another Gemma backbone's checkpoint" 1 "$ponder" eval --model "$work/twin" "$real" \
  --chunk 128 --quiet
expect_message "names the backbone mismatch" "backbone"
expect "another Gemma backbone's checkpoint, forced" 0 "$ponder" eval --model "$work/twin" \
  "$real" --chunk 128 --force-checkpoint --quiet

# A GPT-2 checkpoint on the Gemma backbone: refused even with --force-checkpoint.
"$ponder" make-test-model "$work/gpt2" --layers 2 --embd 32 --heads 2 --ttt >/dev/null
cp "$work/gpt2/ttt.json" "$work/gpt2/ttt.safetensors" "$model/"
expect "GPT-2 checkpoint on Gemma" 1 "$ponder" eval --model "$model" "$real" --chunk 128 \
  --force-checkpoint --quiet
expect_message "names both architectures" "made for a gpt2 backbone, this one is gemma3_text"
sed -i 's/"gemma3_text"/"gemma2"/' "$model/config.json"
expect "Gemma 2 config" 1 "$ponder" eval --model "$model" "$real" --quiet
expect_message "says it is an earlier Gemma" "earlier Gemma"

echo "$checks checks, $failures failures"
[ "$failures" = 0 ]
