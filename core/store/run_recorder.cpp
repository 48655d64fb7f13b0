// The run lifecycle over RunStore: begin, batched appends, policies, and one ending per run.
#include "core/store/run_recorder.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "core/model/ttt_config.h"
#include "core/store/run_store.h"
#include "core/util/errors.h"

namespace ponder::core {

RunRecorder::RunRecorder(AnalysisSettings settings, RecorderOptions options)
    : m_settings(std::move(settings)), m_options(std::move(options)) {
    if (m_options.database.empty()) return;
    storeCall([&] { m_store = std::make_unique<RunStore>(m_options.database); });
}

RunRecorder::~RunRecorder() {
    if (m_runId && !m_ended) fail();
}

void RunRecorder::storeCall(const std::function<void()>& call) {
    try {
        call();
    } catch (const PonderError& error) {
        if (!m_options.onStoreError) throw;
        m_store.reset();
        m_options.onStoreError(error);
    }
}

void RunRecorder::begin(const RunDescription& run, const EvalPlan& plan,
                        const std::string& generationJson) {
    m_units.clear();
    m_tttSha256 = run.tttSha256;
    m_updateSteps = updateStepsOf(run.tttConfigJson);
    m_committed = 0;
    m_lastFlush = std::chrono::steady_clock::now();
    if (!m_store) return;
    storeCall([&] {
        auto settings = analysisSettingsJson(m_settings);
        if (!generationJson.empty()) {
            auto object = nlohmann::json::parse(settings);
            object["generation"] = nlohmann::json::parse(generationJson);
            settings = object.dump();
        }
        const auto id =
            m_store->beginRun(run, settings, m_settings.ours.seed, storedInputFiles(plan));
        m_runId = id;
        if (!m_options.label.empty()) m_store->setLabel(id, m_options.label);
    });
}

void RunRecorder::add(const UnitRecord& unit) {
    m_units.push_back(unit);
    if (m_units.size() - m_committed >= m_options.batchUnits ||
        std::chrono::steady_clock::now() - m_lastFlush >= m_options.batchAge)
        flush();
}

void RunRecorder::flush() {
    m_lastFlush = std::chrono::steady_clock::now();
    if (m_committed == m_units.size()) return;
    if (m_store && m_runId) {
        const std::vector<UnitRecord> batch(m_units.begin() + std::ptrdiff_t(m_committed),
                                            m_units.end());
        storeCall([&] { m_store->appendUnits(*m_runId, batch); });
    }
    m_committed = m_units.size();
}

RunAnalysis RunRecorder::finish(bool cancelled, double seconds, double tokensPerSecond,
                                const std::vector<StoredPolicy>& taken) {
    flush();
    // Units gathered from several ranks arrive out of order; the policies replay in plan order.
    std::stable_sort(m_units.begin(), m_units.end(),
                     [](const UnitRecord& a, const UnitRecord& b) { return a.unit < b.unit; });
    auto analysis = analyseUnits(unitTableFrom(m_units, m_tttSha256, m_updateSteps), m_settings);
    if (m_store && m_runId) {
        storeCall([&] {
            auto policies = storedPolicies(analysis, m_settings);
            policies.insert(policies.end(), taken.begin(), taken.end());
            m_store->savePolicies(*m_runId, policies);
            m_store->finishRun(*m_runId, cancelled ? RunStatus::Cancelled : RunStatus::Complete,
                               seconds, tokensPerSecond);
        });
    }
    m_ended = true;
    return analysis;
}

void RunRecorder::fail(double seconds) noexcept {
    if (m_ended) return;
    m_ended = true;
    if (!m_store || !m_runId) return;
    try {
        if (m_committed < m_units.size()) {
            const std::vector<UnitRecord> batch(m_units.begin() + std::ptrdiff_t(m_committed),
                                                m_units.end());
            m_store->appendUnits(*m_runId, batch);
            m_committed = m_units.size();
        }
    } catch (...) {
        // The failure being reported matters more than the last batch.
    }
    try {
        m_store->finishRun(*m_runId, RunStatus::Failed, seconds, 0);
    } catch (...) {
    }
}

}  // namespace ponder::core
