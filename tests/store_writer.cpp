// Test helper for the run store's crash-safety check (tests/store/kill_during_write.sh):
//   store_writer write DB BATCH MARKER  appends deterministic units in batches until killed,
//                                       appending "committed N" to MARKER after each commit;
//   store_writer check DB RUN BATCH     reopens DB and prints what survived, one fact a line.
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "core/store/run_store.h"
#include "core/util/errors.h"

using namespace ponder::core;

namespace {

constexpr std::int64_t kTokensPerUnit = 512;
constexpr std::int64_t kMaxUnits = 2'000'000;  // a bound in case nobody kills us

UnitRecord makeUnit(std::int64_t index) {
    UnitRecord u;
    u.unit = index;
    u.fileIndex = index % 7;
    u.file = "file" + std::to_string(u.fileIndex) + ".py";
    u.tokenStart = index * kTokensPerUnit;
    u.tokens = kTokensPerUnit;
    u.lossSkip = 2.0 + 1e-3 * static_cast<double>(index);
    u.lossUpdate = 1.5 + 1e-3 * static_cast<double>(index);
    u.advantage = u.lossSkip - u.lossUpdate;
    u.tokenLossSkip.resize(kTokensPerUnit - 1);
    u.tokenLossUpdate.resize(kTokensPerUnit - 1);
    for (std::size_t t = 0; t < u.tokenLossSkip.size(); ++t) {
        u.tokenLossSkip[t] = static_cast<float>(index) + 0.25f * static_cast<float>(t);
        u.tokenLossUpdate[t] = -u.tokenLossSkip[t];
    }
    return u;
}

bool sameUnit(const UnitRecord& a, const UnitRecord& b) {
    return a.unit == b.unit && a.fileIndex == b.fileIndex && a.file == b.file &&
           a.tokenStart == b.tokenStart && a.lossSkip == b.lossSkip &&
           a.lossUpdate == b.lossUpdate && a.tokenLossSkip == b.tokenLossSkip &&
           a.tokenLossUpdate == b.tokenLossUpdate;
}

int write(const std::string& db, std::int64_t batch, const std::string& marker) {
    RunStore store(db);
    RunDescription run;
    run.modelDir = "model";
    run.mode = "file";
    const std::int64_t runId = store.beginRun(run, "{\"writer\": \"store_writer\"}", 7);
    std::ofstream out(marker, std::ios::app);
    out << "run " << runId << std::endl;
    for (std::int64_t next = 0; next < kMaxUnits; next += batch) {
        std::vector<UnitRecord> units;
        for (std::int64_t i = next; i < next + batch; ++i)
            units.push_back(makeUnit(i));
        store.appendUnits(runId, units);
        out << "committed " << next + batch << std::endl;  // endl: flushed before the next batch
    }
    return 0;
}

int check(const std::string& db, std::int64_t runId, std::int64_t batch) {
    RunStore store(db, StoreOptions{false});
    const StoredRun run = store.loadRun(runId);
    bool values = true;
    for (std::size_t i = 0; i < run.units.size(); ++i)
        values = values && sameUnit(run.units[i], makeUnit(static_cast<std::int64_t>(i)));
    const auto units = static_cast<std::int64_t>(run.units.size());
    std::cout << "units " << units << "\n"
              << "whole_batches " << (units % batch == 0 ? "yes" : "no") << "\n"
              << "values " << (values ? "ok" : "wrong") << "\n"
              << "status " << runStatusName(run.summary.status) << "\n"
              << "integrity " << store.integrityCheck() << "\n";
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const std::vector<std::string> args(argv + 1, argv + argc);
    try {
        if (args.size() == 4 && args[0] == "write")
            return write(args[1], std::stoll(args[2]), args[3]);
        if (args.size() == 4 && args[0] == "check")
            return check(args[1], std::stoll(args[2]), std::stoll(args[3]));
    } catch (const PonderError& e) {
        std::cerr << "error: " << e.what() << "\nhint: " << e.hint() << "\n";
        return 1;
    }
    std::cerr << "usage: store_writer write DB BATCH MARKER | check DB RUN BATCH\n";
    return 2;
}
