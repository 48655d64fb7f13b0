// The `ponder` commands; each takes its arguments after the command name and returns the
// exit status (design.md §9: 0 success, 2 bad usage, 1 any other error).
#pragma once

#include <string>
#include <vector>

namespace ponder::app {

using Arguments = std::vector<std::string>;

struct Command {
    const char* name;
    const char* summary;
    const char* usage;  // printed by --help
    int (*run)(const Arguments& args);
};

const std::vector<Command>& commands();

int runInfo(const Arguments& args);
int runTokenize(const Arguments& args);
int runMakeTestModel(const Arguments& args);
int runTrainTokenizer(const Arguments& args);
int runBench(const Arguments& args);
int runBenchFastPath(const Arguments& args);     // bench --gated
int runBenchTrain(const Arguments& args);        // bench --train
int runBenchGenerate(const Arguments& args);     // bench --generate
int runBenchDistributed(const Arguments& args);  // bench --nproc
int runGenerate(const Arguments& args);
int runBenchCode(const Arguments& args);  // bench-code
int runEval(const Arguments& args);
int runRuns(const Arguments& args);
int runExport(const Arguments& args);
int runSweep(const Arguments& args);
int runCalibrate(const Arguments& args);
int runTrainBase(const Arguments& args);
int runTrainTtt(const Arguments& args);
int runTrainGate(const Arguments& args);
int runCorpus(const Arguments& args);

}  // namespace ponder::app
