// Shared by the libFuzzer targets: invalid input may only ever throw our typed errors
// (core/util/errors.h). Anything else (std::out_of_range, nlohmann::json::type_error, ...) is a
// finding, so it aborts with its type and message for libFuzzer to save the input.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <typeinfo>

#include "core/util/errors.h"

namespace ponder::fuzz {

[[noreturn]] inline void finding(const std::string& what) {
    std::fprintf(stderr, "FUZZ FINDING: %s\n", what.c_str());
    std::fflush(stderr);
    std::abort();
}

// Runs `parse`; returns true when it succeeded, false when it threw a PonderError.
template <class F>
bool typedErrorsOnly(const char* what, F&& parse) {
    try {
        parse();
        return true;
    } catch (const core::PonderError&) {
        return false;
    } catch (const std::exception& error) {
        finding(std::string(what) + " threw " + typeid(error).name() + ": " + error.what());
    } catch (...) {
        finding(std::string(what) + " threw a non-std exception");
    }
}

inline void check(bool condition, const std::string& what) {
    if (!condition) finding(what);
}

}  // namespace ponder::fuzz
