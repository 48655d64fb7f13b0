// Evaluates code files with PonderTTT's gate and prints the summary table, as `ponder eval`
// does: a client of the engine API (include/ponder/ponder.h) and nothing else.
//
//   example_evaluate_file MODEL_DIR FILE... [--rate R] [--db runs.sqlite]
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>

#include <ponder/ponder.h>

int main(int argc, char** argv) {
    if (argc < 3) {
        std::cerr << "usage: example_evaluate_file MODEL_DIR FILE... [--rate R] [--db F]\n";
        return 2;
    }
    ponder::core::EvalRequest request;
    request.modelDir = argv[1];
    for (int i = 2; i < argc; ++i) {
        if (std::strcmp(argv[i], "--rate") == 0 && i + 1 < argc)
            request.gating.rate = std::stod(argv[++i]);
        else if (std::strcmp(argv[i], "--db") == 0 && i + 1 < argc)
            request.database = argv[++i];
        else
            request.inputs.push_back(argv[i]);
    }
    try {
        // Settings resolve here (profile calibration when the model has a calibration.json).
        ponder::core::EvalSession session(request);
        ponder::core::EvalCallbacks callbacks;
        callbacks.onLog = [](int, const std::string& text, const std::string&) {
            std::cerr << text << "\n";
        };
        const auto outcome = session.run(callbacks);
        if (outcome.runId) std::cout << "stored as run " << *outcome.runId << "\n";
        std::printf("%-24s %8s %6s %9s %9s\n", "method", "loss", "rate", "recovery", "agreement");
        for (const auto& row : ponder::core::summaryRows(outcome.analysis))
            std::printf("%-24s %8.4f %6.2f %8.1f%% %8.1f%%\n", row.label.c_str(), row.summary.loss,
                        row.summary.rate, 100 * row.summary.recovery, 100 * row.summary.agreement);
        return outcome.cancelled ? 1 : 0;
    } catch (const ponder::core::PonderError& error) {
        std::cerr << "error: " << error.what() << "\nhint: " << error.hint() << "\n";
        return 1;
    }
}
