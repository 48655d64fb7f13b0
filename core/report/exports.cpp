// Writes the published result files and the paper-layout tables from stored runs.
#include "core/report/exports.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>
#include <system_error>

#include <nlohmann/json.hpp>

#include "core/gating/decision_rules.h"
#include "core/gating/gate.h"
#include "core/gating/slices.h"
#include "core/model/ttt_config.h"
#include "core/util/errors.h"
#include "core/util/file_io.h"

namespace ponder::core {
namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

namespace {

json jsonNumber(double value) {
    return std::isfinite(value) ? json(value) : json(nullptr);
}

// pandas' round(4) followed by its repr, as summary.csv shows it.
std::string rounded4(double value) {
    return shortestDouble(std::round(value * 1e4) / 1e4);
}

std::string ciCell(const BootstrapInterval& interval, int decimals, bool percent) {
    // Too few blocks (files) make no interval worth the name (metrics.h, algorithm.md §8.3).
    if (interval.blocks < kMinBootstrapBlocks)
        return "n/a (needs " + std::to_string(kMinBootstrapBlocks) + "+ files)";
    if (!showableInterval(interval)) return "n/a";
    const double scale = percent ? 100.0 : 1.0;
    return "[" + fixedCell(scale * interval.low, decimals) + ", " +
           fixedCell(scale * interval.high, decimals) + "]" + (percent ? "%" : "");
}

// Units of one run that belong to each language. File mode: by each unit's file; paper mode
// packs files together, so the run is one group (named by its files' language when they
// share one, else "mixed").
std::map<std::string, std::vector<std::size_t>> unitsByLanguage(const StoredRun& run) {
    std::map<std::string, std::vector<std::size_t>> groups;
    if (run.description.mode == "paper") {
        std::set<std::string> languages;
        for (const auto& file : run.inputFiles)
            languages.insert(languageOfPath(file.path));
        const std::string name = languages.size() == 1 ? *languages.begin() : "mixed";
        for (std::size_t i = 0; i < run.units.size(); ++i)
            groups[name].push_back(i);
        return groups;
    }
    for (std::size_t i = 0; i < run.units.size(); ++i)
        groups[languageOfPath(run.units[i].file)].push_back(i);
    return groups;
}

void makeFolder(const fs::path& dir) {
    std::error_code error;
    fs::create_directories(dir, error);
    if (error || !fs::is_directory(dir))
        throw OutputError("cannot create the export folder '" + dir.string() + "'" +
                              (error ? ": " + error.message() : ""),
                          "choose a writable {--out} folder");
}

}  // namespace

std::string shortestDouble(double value) {
    if (std::isnan(value)) return "nan";
    if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
    char buffer[40];
    for (int precision = 1; precision <= 17; ++precision) {
        std::snprintf(buffer, sizeof buffer, "%.*g", precision, value);
        if (std::strtod(buffer, nullptr) == value) break;
    }
    std::string text = buffer;
    // Python's repr keeps a ".0" on integral values ("2.0", not "2").
    if (text.find_first_of(".eEn") == std::string::npos) text += ".0";
    return text;
}

std::string languageOfPath(const std::string& path) {
    static const std::map<std::string, std::string> languages = {{".py", "Python"},
                                                                 {".js", "JavaScript"},
                                                                 {".mjs", "JavaScript"},
                                                                 {".cjs", "JavaScript"},
                                                                 {".jsx", "JavaScript"},
                                                                 {".ts", "TypeScript"},
                                                                 {".go", "Go"},
                                                                 {".java", "Java"},
                                                                 {".c", "C"},
                                                                 {".h", "C"},
                                                                 {".cc", "C++"},
                                                                 {".cpp", "C++"},
                                                                 {".hpp", "C++"},
                                                                 {".rs", "Rust"},
                                                                 {".rb", "Ruby"},
                                                                 {".sh", "Shell"}};
    const auto extension = fs::path(path).extension().string();
    const auto found = languages.find(extension);
    if (found != languages.end()) return found->second;
    return extension.empty() ? "other" : extension;
}

AnalysedRun analyseStoredRun(const StoredRun& run, const AnalysisSettings& settings) {
    AnalysedRun out;
    out.stored = &run;
    out.name =
        run.summary.label.empty() ? "run " + std::to_string(run.summary.id) : run.summary.label;
    const auto table = unitTableFrom(run.units, run.description.tttSha256,
                                     updateStepsOf(run.description.tttConfigJson));
    out.analysis = analyseUnits(table, settings);
    return out;
}

std::string detailedResultsCsv(const AnalysedRun& run) {
    const auto& units = run.stored->units;
    std::string out =
        "method,loss,loss_skip,loss_update,advantage,decision,ttt_loss_init,"
        "ttt_loss_final,cost\n";
    for (const auto& policy : run.analysis.policies) {
        const bool oracle = policy.spec.name == "oracle";
        for (std::size_t i = 0; i < units.size(); ++i) {
            const auto& unit = units[i];
            const bool update = policy.run.decisions[i] != 0;
            const std::string row =
                csvField(policy.method) + "," +
                shortestDouble(update ? unit.lossUpdate : unit.lossSkip) + "," +
                shortestDouble(unit.lossSkip) + "," + shortestDouble(unit.lossUpdate) + "," +
                shortestDouble(unit.advantage) + "," + (update ? "UPDATE" : "SKIP") + "," +
                shortestDouble(unit.reconStep0) + "," +
                (oracle ? "" : shortestDouble(unit.reconStep1)) + "," + (update ? "3.0" : "1.0") +
                "\n";
            // The published file repeats each unit once per sequence of its batch (§4 step 6).
            for (std::int64_t copy = 0; copy < std::max<std::int64_t>(1, unit.sequences); ++copy)
                out += row;
        }
    }
    return out;
}

namespace {

// Method means over detailed_results' rows (each unit weighted by its sequences), as
// `groupby("method").mean()` computes them; alphabetical like pandas' groupby.
std::map<std::string, std::pair<double, double>> methodMeans(const AnalysedRun& run) {
    std::map<std::string, std::pair<double, double>> means;
    const auto& units = run.stored->units;
    for (const auto& policy : run.analysis.policies) {
        double loss = 0, cost = 0, rows = 0;
        for (std::size_t i = 0; i < units.size(); ++i) {
            const double weight = double(std::max<std::int64_t>(1, units[i].sequences));
            const bool update = policy.run.decisions[i] != 0;
            loss += weight * (update ? units[i].lossUpdate : units[i].lossSkip);
            cost += weight * (update ? run.analysis.table.updateCost() : 1.0);
            rows += weight;
        }
        // Not computed on a fast-path run (analyseUnits): no row mean either.
        const bool computed = rows > 0 && std::isfinite(policy.summary.loss);
        means[policy.method] = {computed ? loss / rows : kNaN, computed ? cost / rows : kNaN};
    }
    return means;
}

}  // namespace

std::string summaryCsv(const AnalysedRun& run) {
    std::string out = "method,loss,cost\n";
    for (const auto& [method, values] : methodMeans(run))
        out +=
            csvField(method) + "," + rounded4(values.first) + "," + rounded4(values.second) + "\n";
    return out;
}

std::string summaryJson(const AnalysedRun& run, double rate) {
    json loss = json::object(), cost = json::object();
    for (const auto& [method, values] : methodMeans(run)) {
        loss[method] = jsonNumber(values.first);
        cost[method] = jsonNumber(values.second);
    }
    json root = {{"model_scale", run.name},
                 {"budget", 1.0 + 2.0 * rate},
                 {"methods", {{"loss", loss}, {"cost", cost}}}};
    return root.dump(2) + "\n";
}

std::string correlationJson(const AnalysedRun& run) {
    const auto entry = [&](Signal signal) {
        const auto correlation = signalCorrelation(signal, run.analysis.table);
        return json{{"pearson_r", jsonNumber(correlation.pearson)},
                    {"spearman_rho", jsonNumber(correlation.spearman)}};
    };
    json root = {{"ttt_recon_loss", entry(Signal::ReconStep0)},
                 {"loss_skip", entry(Signal::LossSkip)},
                 {"ttt_improvement", entry(Signal::Improvement)}};
    return root.dump(2) + "\n";
}

std::string unitsCsv(const AnalysedRun& run) {
    TextTable table;
    table.columns = {"unit",
                     "file",
                     "file_index",
                     "batch_idx",
                     "chunk_idx",
                     "n_seqs",
                     "token_start",
                     "n_tokens",
                     "line_start",
                     "line_end",
                     "loss_skip",
                     "loss_update",
                     "advantage",
                     "ttt_loss_init_W0",
                     "ttt_loss_step_0",
                     "ttt_loss_step_1",
                     "improvement",
                     "entropy",
                     "confidence",
                     "seconds",
                     "entropy_update",
                     "confidence_update",
                     "loss_static",
                     "adv_static",
                     "adv_inner"};
    for (const auto& policy : run.analysis.policies)
        table.columns.push_back("decision_" + policy.spec.name +
                                (policy.method == "Ours" ? "_ours" : ""));
    table.columns.push_back("threshold_ours");
    table.columns.push_back("rate_ema_ours");
    const auto& ours = run.analysis.find("Ours").run;
    const auto& units = run.stored->units;
    for (std::size_t i = 0; i < units.size(); ++i) {
        const auto& u = units[i];
        std::vector<std::string> row = {
            std::to_string(u.unit),          u.file,
            std::to_string(u.fileIndex),     std::to_string(u.batchIndex),
            std::to_string(u.chunkIndex),    std::to_string(u.sequences),
            std::to_string(u.tokenStart),    std::to_string(u.tokens),
            std::to_string(u.lineStart),     std::to_string(u.lineEnd),
            shortestDouble(u.lossSkip),      shortestDouble(u.lossUpdate),
            shortestDouble(u.advantage),     shortestDouble(u.reconInit),
            shortestDouble(u.reconStep0),    shortestDouble(u.reconStep1),
            shortestDouble(u.improvement),   shortestDouble(u.entropy),
            shortestDouble(u.confidence),    shortestDouble(u.seconds),
            shortestDouble(u.entropyUpdate), shortestDouble(u.confidenceUpdate),
            shortestDouble(u.lossStatic),    shortestDouble(u.advStatic()),
            shortestDouble(u.advInner())};
        for (const auto& policy : run.analysis.policies)
            row.push_back(policy.run.decisions[i] ? "1" : "0");
        row.push_back(std::isfinite(ours.threshold[i]) ? shortestDouble(ours.threshold[i]) : "");
        row.push_back(std::isfinite(ours.rateEma[i]) ? shortestDouble(ours.rateEma[i]) : "");
        table.addRow(std::move(row));
    }
    return toCsv(table);
}

std::string perFileCsv(const AnalysedRun& run) {
    TextTable table;
    table.columns = {"file",      "file_index",  "units",     "loss_skip",   "loss_update",
                     "loss_ours", "loss_oracle", "rate_ours", "rate_oracle", "recovery_ours"};
    // A value not computed (a fast-path run's Oracle) is an empty cell, as in units.csv.
    const auto number = [](double v) {
        return std::isfinite(v) ? shortestDouble(v) : std::string();
    };
    for (const auto& row : perFileRows(run.analysis, run.stored->units))
        table.addRow({row.file, std::to_string(row.fileIndex), std::to_string(row.units),
                      number(row.lossSkip), number(row.lossUpdate), number(row.lossOurs),
                      number(row.lossOracle), number(row.oursRate), number(row.oracleRate),
                      number(row.recovery)});
    return toCsv(table);
}

namespace {

// A notional cost as "2.03x"; "n/a" alone when not computed.
std::string costCell(double cost) {
    return std::isfinite(cost) ? fixedCell(cost, 2) + "x" : fixedCell(cost, 2);
}

// The always-update column: its method name when the runs share it (UPDATE_1, UPDATE_2, ...),
// else UPDATE_N.
std::string updateColumn(const std::vector<AnalysedRun>& runs) {
    std::set<std::string> names;
    for (const auto& run : runs)
        names.insert(run.analysis.find("update").method);
    return names.size() == 1 ? *names.begin() : "UPDATE_N";
}

}  // namespace

TextTable table1(const std::vector<AnalysedRun>& runs) {
    TextTable table;
    table.caption = "Table 1: loss of SKIP, Oracle and Ours, with Oracle Recovery";
    table.label = "tab:ponder-main";
    table.columns = {"Run",      "Units",           "SKIP", "Oracle", "Ours", "Ours 95% CI",
                     "Recovery", "Recovery 95% CI", "Rate", "Cost"};
    for (const auto& run : runs) {
        const auto& a = run.analysis;
        const auto& ours = a.find("Ours");
        const auto& oracle = a.find("Oracle");
        table.addRow({run.name, std::to_string(a.table.size()),
                      fixedCell(a.find("SKIP").summary.loss, 4), fixedCell(oracle.summary.loss, 4),
                      fixedCell(ours.summary.loss, 4),
                      ciCell(bootstrapMeanLoss(ours.run, a.table), 4, false),
                      percentCell(ours.summary.recovery),
                      ciCell(bootstrapRecovery(ours.run, oracle.run, a.table), 1, true),
                      fixedCell(ours.summary.rate, 3), costCell(ours.summary.cost)});
    }
    return table;
}

TextTable table2(const std::vector<AnalysedRun>& runs, const AnalysisSettings& settings) {
    TextTable table;
    table.caption = "Tables 2 and 7: loss per language (each language replayed on its own units)";
    table.label = "tab:ponder-languages";
    table.columns = {"Run",    "Language", "Units", "SKIP",     updateColumn(runs),
                     "Random", "Oracle",   "Ours",  "Recovery", "Rate"};
    for (const auto& run : runs)
        for (const auto& [language, rows] : unitsByLanguage(*run.stored)) {
            const auto part = analyseUnits(run.analysis.table.rows(rows), settings);
            const auto loss = [&](const char* method) {
                return fixedCell(part.find(method).summary.loss, 4);
            };
            const auto& ours = part.find("Ours").summary;
            table.addRow({run.name, language, std::to_string(rows.size()), loss("SKIP"),
                          loss("update"), loss("Random Skip"), loss("Oracle"), loss("Ours"),
                          percentCell(ours.recovery), fixedCell(ours.rate, 3)});
        }
    return table;
}

TextTable table3(const std::vector<AnalysedRun>& runs) {
    TextTable table;
    table.caption = "Table 3: correlation of each signal with the oracle advantage";
    table.label = "tab:ponder-correlation";
    // The last four columns: the two parts of the advantage (algorithm.md §4.1) over every
    // unit, n/a for a run stored without the static path.
    table.columns = {"Run",
                     "Signal",
                     "Pearson r",
                     "Spearman rho",
                     "n (signal > 0)",
                     "Pearson r (all)",
                     "Spearman rho (all)",
                     "n (all)",
                     "Pearson r (adv_static)",
                     "Spearman rho (adv_static)",
                     "Pearson r (adv_inner)",
                     "Spearman rho (adv_inner)"};
    for (const auto& run : runs)
        for (const auto signal : allSignals()) {
            const auto& units = run.analysis.table;
            const auto positive = signalCorrelation(signal, units);
            const auto all = signalCorrelationAll(signal, units);
            const auto staticPart = signalCorrelationAll(signal, units, AdvantagePart::Static);
            const auto inner = signalCorrelationAll(signal, units, AdvantagePart::Inner);
            table.addRow({run.name, signalName(signal), fixedCell(positive.pearson, 3),
                          fixedCell(positive.spearman, 3), std::to_string(positive.n),
                          fixedCell(all.pearson, 3), fixedCell(all.spearman, 3),
                          std::to_string(all.n), fixedCell(staticPart.pearson, 3),
                          fixedCell(staticPart.spearman, 3), fixedCell(inner.pearson, 3),
                          fixedCell(inner.spearman, 3)});
        }
    return table;
}

TextTable table5(const std::vector<AnalysedRun>& runs) {
    TextTable table;
    table.caption = "Table 5: decision agreement with the Oracle";
    table.label = "tab:ponder-agreement";
    table.columns = {"Run", "Method", "Agreement", "Rate"};
    for (const auto& run : runs)
        for (const auto& policy : run.analysis.policies) {
            if (policy.method == "Oracle") continue;
            table.addRow({run.name, policy.method, percentCell(policy.summary.agreement),
                          fixedCell(policy.summary.rate, 3)});
        }
    return table;
}

TextTable table8(const std::vector<AnalysedRun>& runs) {
    TextTable table;
    table.caption = "Table 8: Random vs Ours vs Oracle at the same target rate";
    table.label = "tab:ponder-random";
    table.columns = {"Run",      "Method",    "Loss",      "Rate",
                     "Cost",     "vs Random", "Agreement", "McNemar b/c vs Random",
                     "McNemar p"};
    for (const auto& run : runs) {
        const auto& a = run.analysis;
        const auto& random = a.find("Random Skip");
        const auto& oracle = a.find("Oracle");
        for (const char* method : {"Random Skip", "Ours", "Oracle"}) {
            const auto& policy = a.find(method);
            const double versusRandom =
                (random.summary.loss - policy.summary.loss) / random.summary.loss;
            std::string counts = "", p = "";
            if (policy.method == "Ours") {
                const auto test =
                    mcnemar(policy.run.decisions, random.run.decisions, oracle.run.decisions);
                counts = std::to_string(test.b) + "/" + std::to_string(test.c);
                p = shortestDouble(std::round(test.pValue * 1e4) / 1e4);
            }
            table.addRow({run.name, policy.method, fixedCell(policy.summary.loss, 4),
                          fixedCell(policy.summary.rate, 3), costCell(policy.summary.cost),
                          policy.method == "Random Skip" ? "" : percentCell(versusRandom, 2),
                          percentCell(policy.summary.agreement), counts, p});
        }
    }
    return table;
}

TextTable table9(const std::vector<AnalysedRun>& runs) {
    TextTable table;
    table.caption = "Table 9: all methods with UPDATE_1 (loss and notional cost)";
    table.label = "tab:ponder-update1";
    table.columns = {"Run", "Method", "Loss", "Cost", "Recovery"};
    for (const auto& run : runs)
        for (const char* method : {"SKIP", "update", "Random Skip", "Oracle", "Ours"}) {
            const auto& summary = run.analysis.find(method).summary;
            table.addRow({run.name, summary.name, fixedCell(summary.loss, 4),
                          costCell(summary.cost), percentCell(summary.recovery)});
        }
    return table;
}

TextTable ablationTable(const std::vector<AnalysedRun>& runs) {
    TextTable table;
    table.caption = "Tables 10 and 11: standard, shuffled-token and diagonal (causal_k = -1) runs";
    table.label = "tab:ponder-ablations";
    table.columns = {"Run",  "Shuffle",  "causal_k",         "SKIP", updateColumn(runs), "Oracle",
                     "Ours", "Recovery", "Pearson r (recon)"};
    for (const auto& run : runs) {
        const auto& a = run.analysis;
        const auto& description = run.stored->description;
        table.addRow(
            {run.name, description.shuffle ? "yes" : "no", std::to_string(description.causalK),
             fixedCell(a.find("SKIP").summary.loss, 4), fixedCell(a.find("update").summary.loss, 4),
             fixedCell(a.find("Oracle").summary.loss, 4), fixedCell(a.find("Ours").summary.loss, 4),
             percentCell(a.find("Ours").summary.recovery),
             fixedCell(signalCorrelation(Signal::ReconStep0, a.table).pearson, 3)});
    }
    return table;
}

TextTable sameRateTable(const std::vector<AnalysedRun>& runs) {
    TextTable table;
    table.caption = "Each gate against Random and the Oracle at the rate it realized";
    table.label = "tab:ponder-same-rate";
    table.columns = {"Run",
                     "Method",
                     "Rate",
                     "Loss",
                     "Random (expected)",
                     "Oracle",
                     "Oracle capture",
                     "Agreement",
                     "Adaptation Oracle",
                     "Adaptation capture"};
    for (const auto& run : runs) {
        for (const auto& policy : run.analysis.policies) {
            static const std::set<std::string> baselines{"skip", "update", "random", "oracle"};
            if (policy.method != "Ours" && baselines.count(policy.spec.name)) continue;
            const auto& same = policy.sameRate;  // core's one comparison (run_analysis.h)
            table.addRow(
                {run.name, displayName(policy), fixedCell(same.rate, 3), fixedCell(same.loss, 4),
                 fixedCell(same.randomExpected, 4), fixedCell(same.oracleLoss, 4),
                 std::isfinite(same.capture) ? percentCell(same.capture) : "",
                 percentCell(same.agreement), fixedCell(same.adaptationOracleLoss, 4),
                 std::isfinite(same.adaptationCapture) ? percentCell(same.adaptationCapture) : ""});
        }
    }
    return table;
}

TextTable advantageSplitTable(const std::vector<AnalysedRun>& runs) {
    TextTable table;
    table.caption =
        "Where the gain comes from: the advantage split into the TTT layer's static "
        "part and its inner loop";
    table.label = "tab:ponder-advantage-split";
    table.columns = {"Run",
                     "Units",
                     "Advantage",
                     "adv_static",
                     "adv_inner",
                     "Inner share",
                     "Oracle",
                     "Adaptation Oracle",
                     "Ours",
                     "Ours: Oracle capture",
                     "Ours: adaptation capture",
                     "r recon_step0 (adv_inner)"};
    for (const auto& run : runs) {
        const auto& a = run.analysis;
        const auto split = advantageSplit(a.table);
        const auto& ours = a.find("Ours");
        const double adaptationLoss = a.adaptationOracle ? a.adaptationOracle->summary.loss : kNaN;
        table.addRow(
            {run.name, std::to_string(a.table.size()), fixedCell(split.advantage, 4),
             fixedCell(split.advStatic, 4), fixedCell(split.advInner, 4),
             percentCell(split.innerShare), fixedCell(a.find("Oracle").summary.loss, 4),
             fixedCell(adaptationLoss, 4), fixedCell(ours.summary.loss, 4),
             percentCell(ours.sameRate.capture), percentCell(ours.sameRate.adaptationCapture),
             fixedCell(
                 signalCorrelationAll(Signal::ReconStep0, a.table, AdvantagePart::Inner).pearson,
                 3)});
    }
    return table;
}

AnalysisSettings replaySettings(const StoredRun& run, const SettingsOverrides& overrides) {
    return resolveSettings(analysisSettingsFromJson(run.settingsJson), overrides,
                           run.description.modelDir);
}

std::vector<fs::path> exportRuns(const std::vector<StoredRun>& runs,
                                 const AnalysisSettings& settings, const fs::path& outDir) {
    makeFolder(outDir);
    std::vector<fs::path> written;
    const auto write = [&](const fs::path& path, const std::string& text) {
        writeFileAtomic(path, text);
        written.push_back(path);
    };
    std::vector<AnalysedRun> analysed;
    for (const auto& run : runs) {
        if (run.units.empty())
            throw InputError("run " + std::to_string(run.summary.id) + " has no units to export",
                             "pick another run (`ponder runs --db F`)");
        analysed.push_back(analyseStoredRun(run, settings));
    }
    for (const auto& run : analysed) {
        const auto dir =
            runs.size() == 1 ? outDir : outDir / ("run-" + std::to_string(run.stored->summary.id));
        makeFolder(dir);
        write(dir / "detailed_results.csv", detailedResultsCsv(run));
        write(dir / "summary.csv", summaryCsv(run));
        write(dir / "summary.json", summaryJson(run, settings.ours.rate));
        write(dir / "correlation.json", correlationJson(run));
        write(dir / "units.csv", unitsCsv(run));
        write(dir / "per_file.csv", perFileCsv(run));
    }
    const std::vector<std::pair<std::string, TextTable>> tables = {
        {"table1_main", table1(analysed)},
        {"table2_languages", table2(analysed, settings)},
        {"table3_correlation", table3(analysed)},
        {"table5_agreement", table5(analysed)},
        {"table8_random", table8(analysed)},
        {"table9_update1", table9(analysed)},
        {"table10_11_ablations", ablationTable(analysed)},
        {"gates_same_rate", sameRateTable(analysed)},
        {"advantage_split", advantageSplitTable(analysed)}};
    for (const auto& [stem, table] : tables) {
        write(outDir / (stem + ".csv"), toCsv(table));
        write(outDir / (stem + ".md"), toMarkdown(table));
        write(outDir / (stem + ".tex"), toLatex(table));
    }
    return written;
}

}  // namespace ponder::core
