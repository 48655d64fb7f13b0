// Typed errors thrown at the core boundary; each front end catches them once and prints
// "error: <what>" and "hint: <hint>" (style.md habit 6).
#pragma once

#include <stdexcept>
#include <string>

namespace ponder::core {

class PonderError : public std::runtime_error {
public:
    PonderError(const std::string& what, std::string hint)
        : std::runtime_error(what), m_hint(std::move(hint)) {}
    const std::string& hint() const { return m_hint; }

private:
    std::string m_hint;
};

// A weights file (safetensors) that is unreadable, truncated or inconsistent.
class WeightsFormatError : public PonderError {
public:
    using PonderError::PonderError;
};

// A model directory whose config, tensors or checkpoint do not fit together.
class ModelLoadError : public PonderError {
public:
    using PonderError::PonderError;
};

// Missing or malformed tokenizer files, or ids outside the vocabulary.
class TokenizerError : public PonderError {
public:
    using PonderError::PonderError;
};

// An input file or corpus that cannot be used (missing, binary, empty, too short).
class InputError : public PonderError {
public:
    using PonderError::PonderError;
};

// An output that cannot be written (unwritable folder, full disk).
class OutputError : public PonderError {
public:
    using PonderError::PonderError;
};

// A run database that cannot be used: not SQLite, corrupted, written by a newer ponder,
// locked by another writer for too long, or an unknown run id.
class StoreError : public PonderError {
public:
    using PonderError::PonderError;
};

}  // namespace ponder::core
