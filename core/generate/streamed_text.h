// The generated text as it grows token by token: where a stop sequence cuts it, and which part
// can be streamed already (nothing that could still begin a stop sequence, nothing that ends
// inside a UTF-8 character). Torch-free.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace ponder::core {

class StreamedText {
public:
    explicit StreamedText(std::vector<std::string> stops);
    // The text so far (the decode of every generated token). True when it holds a stop
    // sequence: the text is then cut before the first one, and it is final.
    bool update(std::string text);
    // What became safe to show since the last call (empty if nothing did).
    std::string takeReady();
    // Everything not shown yet, once the text is final.
    std::string takeRest();
    const std::string& text() const { return m_text; }

private:
    std::vector<std::string> m_stops;
    std::size_t m_hold = 0;  // the longest stop minus one: a stop may begin that far back
    std::string m_text;
    std::size_t m_shown = 0;
};

// The longest prefix of text[0 .. limit) that does not end inside a UTF-8 sequence, so streamed
// output never splits a character (a byte-level tokenizer can end a token mid-character).
std::size_t completeUtf8Prefix(const std::string& text, std::size_t limit);

}  // namespace ponder::core
