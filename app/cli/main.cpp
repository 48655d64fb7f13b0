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
        infoCommand(),          tokenizeCommand(),       evalCommand(),      runsCommand(),
        exportCommand(),        sweepCommand(),          calibrateCommand(), corpusCommand(),
        generateCommand(),      trainBaseCommand(),      trainTttCommand(),  trainGateCommand(),
        makeTestModelCommand(), trainTokenizerCommand(), benchCommand(),     benchCodeCommand()};
    return all;
}

namespace {

void printOverview() {
    std::cout << "ponder: PonderTTT Studio command line\n\nusage: ponder COMMAND [options]\n\n";
    for (const auto& command : commands())
        std::cout << "  " << command.name << std::string(18 - command.name.size(), ' ')
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
                std::cout << usageText(command);
                const auto options = allOptions(command);
                if (std::any_of(options.begin(), options.end(),
                                [](const OptionSpec& option) { return option.name == "--policy"; }))
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
            std::cerr << "error: " << core::inCommandLineWords(error.rawWhat())
                      << "\nhint: " << core::inCommandLineWords(error.rawHint()) << "\n";
            return 1;
        } catch (const UsageError& error) {
            std::cerr << "error: " << who(error.what()) << error.what() << "\nhint: run `ponder "
                      << name << " --help` for the options\n";
            return 2;
        } catch (...) {
            const auto report = core::describeError(std::current_exception());
            const auto what = core::inCommandLineWords(report.what);
            std::cerr << "error: " << who(what) << what
                      << "\nhint: " << core::inCommandLineWords(report.hint) << "\n";
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
