// Error kinds and the one place that turns any exception into what a front end shows.
#include "core/util/errors.h"

#include <iterator>
#include <new>

namespace ponder::core {

const char* errorKindName(ErrorKind kind) {
    // In ErrorKind's order.
    static const char* const names[] = {"weights",     "model",   "tokenizer", "input",
                                        "output",      "store",   "training",  "cancelled",
                                        "distributed", "sandbox", "internal"};
    const auto index = static_cast<std::size_t>(kind);
    return index < std::size(names) ? names[index] : "internal";
}

ErrorReport describeError(std::exception_ptr error) {
    try {
        if (error) std::rethrow_exception(error);
    } catch (const PonderError& e) {
        return {e.kind(), e.what(), e.hint()};
    } catch (const std::bad_alloc&) {
        return {ErrorKind::Internal, "out of memory",
                "evaluate shorter chunks (--chunk), or free memory or use a larger machine"};
    } catch (const std::exception& e) {
        // LibTorch's c10::Error carries a multi-line backtrace after its first line.
        const std::string what = e.what();
        return {ErrorKind::Internal, what.substr(0, what.find('\n')),
                "this looks like a bug or an unusual input; please report it with what you ran"};
    } catch (...) {
    }
    return {ErrorKind::Internal, "unknown error",
            "this looks like a bug; please report it with what you ran"};
}

}  // namespace ponder::core
