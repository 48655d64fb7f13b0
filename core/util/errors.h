// Typed errors thrown at the core boundary; each front end catches them once and prints
// "error: <what>" and "hint: <hint>". Every error carries its kind, so a front end that turns
// errors into UI state (the studio's log) decides by kind, never by matching message text.
#pragma once

#include <exception>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace ponder::core {

// Internal: anything that is not one of ponder's typed errors (a LibTorch or standard library
// exception, i.e. a bug or an environment problem). Cancelled: the user stopped the work.
enum class ErrorKind {
    Weights,
    Model,
    Tokenizer,
    Input,
    Output,
    Store,
    Training,
    Cancelled,
    Distributed,
    Sandbox,
    Internal
};

// "weights", "model", "tokenizer", "input", "output", "store", "training", "cancelled",
// "distributed", "sandbox", "internal".
const char* errorKindName(ErrorKind kind);

// Error texts name a setting the user can change as {--name} or {--name value}, its
// command-line spelling in braces ("use a smaller {--chunk}", "e.g. {--chunk 512}"). Each
// front end says it in its own words with inWords: the CLI as the flag (--chunk 512), the
// studio as its control; plain text (what(), hint()) as the name ("chunk 512"). The braces
// keep core free of any one front end's vocabulary.
using SettingWords = std::function<std::string(const std::string& flag, const std::string& value)>;
std::string inWords(const std::string& text, const SettingWords& words);
std::string inPlainWords(const std::string& text);             // {--max-tokens} -> "max tokens"
std::string inCommandLineWords(const std::string& text);       // {--max-tokens} -> "--max-tokens"
std::vector<std::string> settingsIn(const std::string& text);  // "--chunk", ...: in order

class PonderError : public std::runtime_error {
public:
    PonderError(ErrorKind kind, const std::string& what, std::string hint)
        : std::runtime_error(inPlainWords(what)),
          m_kind(kind),
          m_rawWhat(what),
          m_rawHint(std::move(hint)) {}
    ErrorKind kind() const { return m_kind; }
    std::string hint() const { return inPlainWords(m_rawHint); }
    // The texts with their {--setting}s, for a front end's inWords.
    const std::string& rawWhat() const { return m_rawWhat; }
    const std::string& rawHint() const { return m_rawHint; }

private:
    ErrorKind m_kind;
    std::string m_rawWhat, m_rawHint;
};

namespace detail {
template <ErrorKind Kind>
class KindedError : public PonderError {
public:
    KindedError(const std::string& what, std::string hint)
        : PonderError(Kind, what, std::move(hint)) {}
};
}  // namespace detail

// A weights file (safetensors) that is unreadable, truncated or inconsistent.
class WeightsFormatError : public detail::KindedError<ErrorKind::Weights> {
public:
    using KindedError::KindedError;
};

// A model directory whose config, tensors or checkpoint do not fit together.
class ModelLoadError : public detail::KindedError<ErrorKind::Model> {
public:
    using KindedError::KindedError;
};

// Missing or malformed tokenizer files, or ids outside the vocabulary.
class TokenizerError : public detail::KindedError<ErrorKind::Tokenizer> {
public:
    using KindedError::KindedError;
};

// An input file or corpus that cannot be used (missing, binary, empty, too short).
class InputError : public detail::KindedError<ErrorKind::Input> {
public:
    using KindedError::KindedError;
};

// An output that cannot be written (unwritable folder, full disk).
class OutputError : public detail::KindedError<ErrorKind::Output> {
public:
    using KindedError::KindedError;
};

// A run database that cannot be used: not SQLite, corrupted, written by a newer ponder,
// locked by another writer for too long, or an unknown run id.
class StoreError : public detail::KindedError<ErrorKind::Store> {
public:
    using KindedError::KindedError;
};

// Training that cannot go on (the loss diverged); the last checkpoint is kept.
class TrainingError : public detail::KindedError<ErrorKind::Training> {
public:
    using KindedError::KindedError;
};

// Work stopped by the user (Ctrl-C, a Cancel button) before it could produce its result.
class CancelledError : public detail::KindedError<ErrorKind::Cancelled> {
public:
    using KindedError::KindedError;
};

// A multi-process run that cannot go on: a rank that died, hung or could not join, a master
// that cannot listen or be reached, or ranks that disagree on the binary, model or inputs.
class DistributedError : public detail::KindedError<ErrorKind::Distributed> {
public:
    using KindedError::KindedError;
};

// On a rank other than 0: the run stopped for a reason rank 0 reports (another rank's failure,
// a disagreement every rank found). Such a rank exits with status 1 without a line of its own.
class RunStoppedError : public DistributedError {
public:
    using DistributedError::DistributedError;
};

// A code sandbox that cannot be set up (bubblewrap, setpriv or python3 missing, namespaces
// refused): untrusted code is then not run at all, never run unprotected.
class SandboxError : public detail::KindedError<ErrorKind::Sandbox> {
public:
    using KindedError::KindedError;
};

// What a front end shows for an error: its kind, the message (first line only for foreign
// exceptions, whose texts can hold a whole LibTorch backtrace) and a hint, both with their
// {--setting}s for the front end's inWords, and the settings they name.
struct ErrorReport {
    ErrorKind kind = ErrorKind::Internal;
    std::string what, hint;
    std::vector<std::string> settings;  // "--chunk", ...: what the user might change
};

// The report of `error`: a PonderError as it is; std::bad_alloc as "out of memory"; any other
// std::exception as Internal with a hint to report it; anything else as an unknown error.
ErrorReport describeError(std::exception_ptr error);

}  // namespace ponder::core
