// Atomic save and checked resume of training checkpoints.
#include "core/train/train_checkpoint_impl.h"

#include <unistd.h>

#include "core/util/errors.h"
#include "core/util/file_io.h"
#include "core/util/json_integer.h"

namespace ponder::core {
namespace fs = std::filesystem;

namespace {

void checked(std::error_code error, const std::string& what, const fs::path& path) {
    if (error)
        throw OutputError("cannot " + what + " '" + path.string() + "': " + error.message(),
                          "check that the {--out} folder is writable and has space");
}

}  // namespace

void saveTrainCheckpoint(const fs::path& outDir, const CheckpointState& state,
                         torch::nn::Module& module, torch::optim::Optimizer& optimizer) {
    const auto current = outDir / ("checkpoint-" + state.kind);
    const auto previous = outDir / ("checkpoint-" + state.kind + ".previous");
    const auto staging =
        outDir / ("checkpoint-" + state.kind + ".tmp." + std::to_string(::getpid()));
    std::error_code error;
    fs::remove_all(staging, error);
    fs::create_directories(staging, error);
    checked(error, "create", staging);
    try {
        torch::serialize::OutputArchive moduleArchive;
        module.save(moduleArchive);
        moduleArchive.save_to((staging / "module.pt").string());
        torch::serialize::OutputArchive optimizerArchive;
        optimizer.save(optimizerArchive);
        optimizerArchive.save_to((staging / "optimizer.pt").string());
    } catch (const c10::Error& failure) {
        fs::remove_all(staging, error);
        throw OutputError("cannot write the training checkpoint in '" + staging.string() + "'",
                          "check free space in the {--out} folder");
    }
    const nlohmann::json stateJson = {
        {"kind", state.kind}, {"step", state.step}, {"options", state.options}};
    writeFileAtomic(staging / "state.json", stateJson.dump(2) + "\n");
    // Swap: current -> previous, staging -> current, then drop previous. A crash between the
    // renames leaves `previous`, which loadTrainCheckpoint falls back to.
    fs::remove_all(previous, error);
    if (fs::exists(current)) {
        fs::rename(current, previous, error);
        checked(error, "rename", current);
    }
    fs::rename(staging, current, error);
    checked(error, "rename", staging);
    fs::remove_all(previous, error);
}

std::optional<CheckpointState> loadTrainCheckpoint(const fs::path& outDir, const std::string& kind,
                                                   const nlohmann::json& options,
                                                   torch::nn::Module& module,
                                                   torch::optim::Optimizer& optimizer) {
    fs::path dir = outDir / ("checkpoint-" + kind);
    if (!fs::exists(dir / "state.json")) dir = outDir / ("checkpoint-" + kind + ".previous");
    if (!fs::exists(dir / "state.json")) return std::nullopt;
    const auto hint = "resume with the same options, or use another {--out} folder (or delete '" +
                      dir.string() + "' to start over)";
    CheckpointState state;
    try {
        const auto json = nlohmann::json::parse(readFileBytes(dir / "state.json"));
        state.kind = json.at("kind").get<std::string>();
        state.step = jsonInteger(json.at("step"));
        state.options = json.at("options");
    } catch (const nlohmann::json::exception& error) {
        throw InputError("training checkpoint '" + dir.string() + "' has a bad state.json (" +
                             error.what() + ")",
                         hint);
    }
    if (state.kind != kind)
        throw InputError(
            "'" + dir.string() + "' is a " + state.kind + " training checkpoint, not " + kind,
            hint);
    for (const auto& [key, value] : options.items())
        if (!state.options.contains(key) || state.options[key] != value)
            throw InputError("the checkpoint in '" + dir.string() + "' was started with " + key +
                                 " = " + state.options.value(key, nlohmann::json()).dump() +
                                 ", not " + value.dump(),
                             hint);
    // And the other way: an option the checkpoint was started with that this run leaves unset
    // (e.g. --update-steps 2, or an inner-step override, then resumed without it).
    for (const auto& [key, value] : state.options.items())
        if (!options.contains(key))
            throw InputError("the checkpoint in '" + dir.string() + "' was started with " + key +
                                 " = " + value.dump() + ", which this run leaves unset",
                             hint);
    try {
        torch::serialize::InputArchive moduleArchive;
        moduleArchive.load_from((dir / "module.pt").string());
        module.load(moduleArchive);
        torch::serialize::InputArchive optimizerArchive;
        optimizerArchive.load_from((dir / "optimizer.pt").string());
        optimizer.load(optimizerArchive);
    } catch (const c10::Error& failure) {
        throw InputError("cannot read the training checkpoint in '" + dir.string() + "'", hint);
    }
    return state;
}

}  // namespace ponder::core
