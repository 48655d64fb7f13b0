// Stop sequences and the hold-back of streamed text.
#include "core/generate/streamed_text.h"

#include <algorithm>

namespace ponder::core {

StreamedText::StreamedText(std::vector<std::string> stops) : m_stops(std::move(stops)) {
    for (const auto& stop : m_stops)
        m_hold = std::max(m_hold, stop.empty() ? 0 : stop.size() - 1);
}

bool StreamedText::update(std::string text) {
    m_text = std::move(text);
    std::size_t cut = std::string::npos;
    for (const auto& stop : m_stops) {
        if (stop.empty()) continue;
        // What was shown cannot hold the start of a stop (it was held back), so search after
        // the point where a stop ending in the new text could begin.
        const auto from = m_shown > stop.size() ? m_shown - stop.size() : 0;
        cut = std::min(cut, m_text.find(stop, from));
    }
    if (cut == std::string::npos) return false;
    m_text.resize(cut);
    return true;
}

std::string StreamedText::takeReady() {
    const auto limit = m_text.size() > m_hold ? m_text.size() - m_hold : 0;
    const auto upTo = completeUtf8Prefix(m_text, limit);
    if (upTo <= m_shown) return {};
    auto ready = m_text.substr(m_shown, upTo - m_shown);
    m_shown = upTo;
    return ready;
}

std::string StreamedText::takeRest() {
    if (m_text.size() <= m_shown) return {};
    auto rest = m_text.substr(m_shown);
    m_shown = m_text.size();
    return rest;
}

std::size_t completeUtf8Prefix(const std::string& text, std::size_t limit) {
    limit = std::min(limit, text.size());
    // Walk back over at most three continuation bytes to the sequence's lead byte.
    std::size_t lead = limit;
    while (lead > 0 && limit - lead < 4 &&
           (static_cast<unsigned char>(text[lead - 1]) & 0xC0) == 0x80)
        --lead;
    if (lead == 0) return limit;
    const auto byte = static_cast<unsigned char>(text[lead - 1]);
    const std::size_t length = byte < 0x80           ? 1
                               : (byte >> 5) == 0x6  ? 2
                               : (byte >> 4) == 0xE  ? 3
                               : (byte >> 3) == 0x1E ? 4
                                                     : 1;
    return (lead - 1) + length <= limit ? limit : lead - 1;
}

}  // namespace ponder::core
