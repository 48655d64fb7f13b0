// The fixed, random and oracle policies and their summary metrics, on hand-computed cases.
#include <catch2/catch.hpp>

#include <cmath>

#include "core/gating/decision_rules.h"
#include "core/gating/metrics.h"

using namespace ponder::core;
using Decisions = std::vector<std::uint8_t>;

TEST_CASE("gating: the oracle updates the top floor(N*rate) units by advantage, ties in data order",
          "[policies]") {
    const std::vector<double> advantages{0.1, 0.5, 0.5, -0.2, 0.3, 0.5};
    CHECK(decideOracle(advantages, 0.5) == Decisions{0, 1, 1, 0, 0, 1});
    CHECK(decideOracle(advantages, 0.34) == Decisions{0, 1, 1, 0, 0, 0});  // floor(2.04) = 2
    CHECK(decideOracle(advantages, 0.0) == Decisions{0, 1, 0, 0, 0, 0});   // at least one
    CHECK(decideOracle(advantages, 1.0) == Decisions{1, 1, 1, 1, 1, 1});
    CHECK(decideOracle({}, 0.5).empty());
}

TEST_CASE("gating: top-k takes exactly k units by value, ties in data order, k = 0 none",
          "[policies]") {
    const std::vector<double> values{0.1, 0.5, 0.5, -0.2, 0.3, 0.5};
    CHECK(decideTopK(values, 0) == Decisions{0, 0, 0, 0, 0, 0});
    CHECK(decideTopK(values, 2) == Decisions{0, 1, 1, 0, 0, 0});
    CHECK(decideTopK(values, 4) == Decisions{0, 1, 1, 0, 1, 1});
    CHECK(decideTopK(values, 9) == Decisions{1, 1, 1, 1, 1, 1});
    // Not computed (NaN: a fast-path run's SKIP units) ranks after every known value.
    const double nan = std::nan("");
    CHECK(decideTopK({nan, 0.2, nan, -5.0}, 2) == Decisions{0, 1, 0, 1});
    CHECK(decideTopK({nan, nan, 1.0}, 2) == Decisions{1, 0, 1});
}

TEST_CASE("gating: random decisions are seeded and hit the rate on average", "[policies]") {
    CHECK(decideRandom(100, 0.5, 7) == decideRandom(100, 0.5, 7));
    CHECK(decideRandom(100, 0.5, 7) != decideRandom(100, 0.5, 8));
    const auto many = decideRandom(20000, 0.3, 1);
    double rate = 0;
    for (auto d : many)
        rate += d;
    CHECK(std::abs(rate / many.size() - 0.3) < 0.02);
    CHECK(decideRandom(50, 0.0, 3) == decideSkip(50));
    CHECK(decideRandom(50, 1.0, 3) == decideUpdate(50));
}

TEST_CASE("gating: policy loss, rate, cost and Oracle Recovery match hand-computed values",
          "[policies]") {
    UnitTable table;
    table.lossSkip = {2.0, 3.0, 4.0, 1.0};
    table.lossUpdate = {1.5, 2.0, 4.5, 0.5};
    table.advantage = {0.5, 1.0, -0.5, 0.5};
    const PolicyRun oracle{"oracle", decideOracle(table.advantage, 0.5), {}, {}};
    REQUIRE(oracle.decisions == Decisions{1, 1, 0, 0});
    const auto skip = summarise({"skip", decideSkip(4), {}, {}}, table, oracle);
    const auto best = summarise(oracle, table, oracle);
    const auto ours = summarise({"ours", {0, 1, 1, 0}, {}, {}}, table, oracle);
    CHECK(skip.loss == Approx(2.5));
    CHECK(best.loss == Approx((1.5 + 2.0 + 4.0 + 1.0) / 4));  // 2.125
    CHECK(ours.loss == Approx((2.0 + 2.0 + 4.5 + 1.0) / 4));  // 2.375
    CHECK(ours.rate == Approx(0.5));
    CHECK(ours.cost == Approx(2.0));
    CHECK(ours.recovery == Approx((2.5 - 2.375) / (2.5 - 2.125)));
    CHECK(best.recovery == Approx(1.0));
    CHECK(skip.recovery == Approx(0.0));
    CHECK(ours.agreement == Approx(0.5));
    UnitTable flat;
    flat.lossSkip = flat.lossUpdate = {1.0, 1.0};
    flat.advantage = {0.0, 0.0};
    const PolicyRun flatOracle{"oracle", {1, 0}, {}, {}};
    CHECK(std::isnan(summarise({"x", {1, 0}, {}, {}}, flat, flatOracle).recovery));
}
