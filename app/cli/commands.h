// The `ponder` commands; each takes its arguments after the command name and returns the
// exit status (design.md §9: 0 success, 2 bad usage, 1 any other error).
#pragma once

#include <string>
#include <vector>

#include "app/cli/cli_args.h"

namespace ponder::app {

using Arguments = std::vector<std::string>;

// One way of calling a command (`ponder bench` has five, most commands one).
struct CommandForm {
    std::string synopsis;  // what this form requires: "--model DIR FILE|DIR..."
    Options options;       // everything it accepts, the parser's list too
    std::string details;   // paragraphs printed after the options
};

// A command, declared once in its cmd_*.cpp: the overview, `--help` and the parser read it.
struct Command {
    std::string name;
    std::string summary;  // one line in `ponder --help`
    std::vector<CommandForm> forms;
    int (*run)(const Arguments& args);
};

// Every option of any of its forms, each once (for a command that tells its forms apart only
// after parsing).
Options allOptions(const Command& command);

// `ponder NAME --help`: each form's usage line, its options with help and defaults, details.
std::string usageText(const Command& command);

const std::vector<Command>& commands();  // in `ponder --help` order

// Each command's declaration (its cmd_*.cpp).
Command infoCommand();
Command tokenizeCommand();
Command evalCommand();
Command runsCommand();
Command exportCommand();
Command sweepCommand();
Command calibrateCommand();
Command corpusCommand();
Command generateCommand();
Command trainBaseCommand();
Command trainTttCommand();
Command trainGateCommand();
Command makeTestModelCommand();
Command trainTokenizerCommand();
Command benchCommand();
Command benchCodeCommand();

int runInfo(const Arguments& args);
int runTokenize(const Arguments& args);
int runMakeTestModel(const Arguments& args);
int runTrainTokenizer(const Arguments& args);
int runBench(const Arguments& args);
int runBenchFastPath(const Arguments& args);     // bench --gated
int runBenchTrain(const Arguments& args);        // bench --train
int runBenchGenerate(const Arguments& args);     // bench --generate
int runBenchDistributed(const Arguments& args);  // bench --nproc
CommandForm benchGatedForm();
CommandForm benchTrainForm();
CommandForm benchGenerateForm();
CommandForm benchNprocForm();
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
