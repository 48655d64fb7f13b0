// `ponder calibrate`: measures every gating signal's quantiles on held-out unlabeled code and
// writes calibration.json (design.md §6) next to the model, for `--calibration profile`.
#include <iostream>

#include "app/cli/commands.h"
#include "app/cli/eval_runner.h"
#include "core/gating/calibration.h"
#include "core/util/errors.h"

namespace ponder::app {

Command calibrateCommand() {
    // Calibration measures the model as it is used: no sanity ablations.
    auto options = without(evaluationOptionSpecs(), {"--shuffle", "--causal-k"});
    options.push_back(
        option("--out", "FILE", "where calibration.json goes", "MODEL/calibration.json"));
    return {"calibrate",
            "measure signal quantiles on held-out code (calibration.json)",
            {{"--model DIR CODE|DIR...", options,
              "Evaluates the held-out code and stores 101 quantiles of every signal, so\n"
              "`--calibration profile` can start recon-ema at the (1 - rate) quantile instead of\n"
              "forcing 16 calibration UPDATEs. Calibrate with the units (mode, chunk) you gate."}},
            runCalibrate};
}

int runCalibrate(const Arguments& rawArgs) {
    const ParsedArgs args(rawArgs, calibrateCommand().forms.front().options);
    auto request = evalRequestFrom(args);
    // Measuring needs no gate: a damaged calibration.json must not stop its own replacement.
    request.gating.calibration = "paper";
    const auto result = runEvaluation(args, std::move(request));
    if (result.cancelled)
        throw core::CancelledError("calibration cancelled; nothing written",
                                   "run it again and let it finish");

    auto calibration = core::calibrationFromRecords(result.units);
    calibration.backboneSha256 = result.run.backboneSha256;
    calibration.mode = result.run.mode;
    calibration.chunk = result.run.chunk;
    calibration.inputs = result.run.inputs;
    calibration.createdAt = result.run.startedAt;
    const std::filesystem::path out = args.valueOr(
        "--out", (std::filesystem::path(*args.value("--model")) / "calibration.json").string());
    core::saveCalibration(calibration, out);

    std::cout << "calibrated on " << calibration.units << " units (" << calibration.mode
              << " mode, chunk " << calibration.chunk << ")\n";
    std::cout << "recon_step0 thresholds: ";
    for (double rate : {0.3, 0.5, 0.7})
        std::cout << "rate " << rate << " -> " << calibration.thresholdForRate("recon_step0", rate)
                  << (rate < 0.7 ? ", " : "\n");
    std::cout << "wrote " << out.string() << "\n";
    return 0;
}

}  // namespace ponder::app
