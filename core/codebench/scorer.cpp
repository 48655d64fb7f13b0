// Scoring samples in parallel sandboxes (core/codebench/scorer.h).
#include "core/codebench/scorer.h"

#include <exception>
#include <mutex>
#include <thread>

#include "core/util/errors.h"

namespace ponder::core {

std::vector<SampleResult> scoreSamples(const ProblemSet& problems,
                                       const std::vector<Sample>& samples, const Sandbox& sandbox,
                                       int workers, const ScoreProgress& progress,
                                       const std::atomic<bool>* cancel) {
    std::vector<std::string> programs;
    programs.reserve(samples.size());
    for (const auto& sample : samples) {
        const Problem* problem = problems.find(sample.taskId);
        if (!problem)
            throw InputError("unknown task_id \"" + sample.taskId + "\"" +
                                 (sample.line ? " on line " + std::to_string(sample.line) : ""),
                             "score samples against the problem set they were made for");
        programs.push_back(programFor(*problem, sample.completion));
    }
    std::vector<SampleResult> results(samples.size());
    std::mutex mutex;  // guards next, done, failure and the progress calls
    std::size_t next = 0, done = 0;
    std::exception_ptr failure;
    const auto work = [&] {
        for (;;) {
            std::size_t index;
            {
                std::lock_guard<std::mutex> lock(mutex);
                if (failure || next >= samples.size()) return;
                index = next++;
            }
            try {
                const auto run = sandbox.run(programs[index], cancel);
                SampleResult& result = results[index];
                result.taskId = samples[index].taskId;
                result.result = run.result;
                result.passed = run.passed;
                result.seconds = run.seconds;
                result.outputHead = run.outputHead;
                result.outputBytes = run.outputBytes;
                std::lock_guard<std::mutex> lock(mutex);
                ++done;
                if (progress && !failure) progress(done, samples.size(), index, result);
            } catch (...) {
                std::lock_guard<std::mutex> lock(mutex);
                if (!failure) failure = std::current_exception();
                return;
            }
        }
    };
    const std::size_t threads =
        std::min<std::size_t>(static_cast<std::size_t>(std::max(workers, 1)), samples.size());
    std::vector<std::thread> pool;
    for (std::size_t i = 1; i < threads; ++i)
        pool.emplace_back(work);
    work();
    for (auto& thread : pool)
        thread.join();
    if (failure) std::rethrow_exception(failure);
    return results;
}

std::vector<SampleResult> scoreSamples(const ProblemSet& problems,
                                       const std::vector<Sample>& samples,
                                       const SandboxLimits& limits, int workers,
                                       const ScoreProgress& progress,
                                       const std::atomic<bool>* cancel) {
    const Sandbox sandbox(limits);
    return scoreSamples(problems, samples, sandbox, workers, progress, cancel);
}

}  // namespace ponder::core
