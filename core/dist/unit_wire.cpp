// UnitRecord <-> bytes: a magic, then the fields in declaration order (eachField, the one list
// both directions use; tests/test_dist.cpp fills every field). Fixed-width values in host
// byte order (every rank runs the same binary, which the ranks check at start), strings and
// vectors with their length first.
#include "core/dist/unit_wire.h"

#include <cstdint>
#include <cstring>
#include <type_traits>

#include "core/util/errors.h"

namespace ponder::core {

namespace {

constexpr std::uint32_t kMagic = 0x32554e50;  // "PNU2": loss_static added (schema 8)

class Writer {
public:
    template <typename T>
    void put(const T& value) {
        static_assert(std::is_trivially_copyable_v<T>);
        bytes.append(reinterpret_cast<const char*>(&value), sizeof value);
    }
    void put(const std::string& text) {
        put(std::uint64_t(text.size()));
        bytes += text;
    }
    void put(const std::vector<float>& values) {
        put(std::uint64_t(values.size()));
        if (!values.empty())
            bytes.append(reinterpret_cast<const char*>(values.data()),
                         values.size() * sizeof(float));
    }
    std::string bytes;
};

class Reader {
public:
    explicit Reader(const std::string& bytes) : m_bytes(bytes) {}
    template <typename T>
    void get(T& value) {
        static_assert(std::is_trivially_copyable_v<T>);
        std::memcpy(&value, take(sizeof value), sizeof value);
    }
    void get(std::string& text) {
        std::uint64_t size = 0;
        get(size);
        text.assign(take(size), size);
    }
    void get(std::vector<float>& values) {
        std::uint64_t size = 0;
        get(size);
        if (size > m_bytes.size() / sizeof(float)) fail();
        values.resize(size);
        const char* from = take(size * sizeof(float));
        if (size > 0) std::memcpy(values.data(), from, size * sizeof(float));
    }
    void finish() const {
        if (m_offset != m_bytes.size()) fail();
    }

private:
    const char* take(std::uint64_t size) {
        if (size > m_bytes.size() - m_offset) fail();
        const char* at = m_bytes.data() + m_offset;
        m_offset += size;
        return at;
    }
    [[noreturn]] static void fail() {
        throw DistributedError("a unit sent by another rank is malformed",
                               "every rank must run the same ponder binary");
    }
    const std::string& m_bytes;
    std::size_t m_offset = 0;
};

// Every field of UnitRecord in declaration order, for both directions.
template <typename Unit, typename Visit>
void eachField(Unit& u, const Visit& visit) {
    visit(u.unit), visit(u.fileIndex), visit(u.file), visit(u.batchIndex), visit(u.chunkIndex);
    visit(u.tokenStart), visit(u.tokens), visit(u.sequences), visit(u.lineStart);
    visit(u.lineEnd), visit(u.lossSkip), visit(u.lossUpdate), visit(u.advantage);
    visit(u.lossStatic);
    visit(u.reconStep0), visit(u.reconInit), visit(u.reconStep1), visit(u.improvement);
    visit(u.entropy), visit(u.confidence), visit(u.entropyUpdate), visit(u.confidenceUpdate);
    visit(u.gateFeatures), visit(u.blendSlopeSkip), visit(u.blendSlopeUpdate);
    visit(u.tokenLossSkip), visit(u.tokenLossUpdate), visit(u.seconds);
}

}  // namespace

std::string encodeUnit(const UnitRecord& unit) {
    Writer writer;
    writer.put(kMagic);
    eachField(unit, [&](const auto& field) { writer.put(field); });
    return std::move(writer.bytes);
}

UnitRecord decodeUnit(const std::string& bytes) {
    Reader reader(bytes);
    std::uint32_t magic = 0;
    reader.get(magic);
    if (magic != kMagic)
        throw DistributedError("a unit sent by another rank has an unknown format",
                               "every rank must run the same ponder binary");
    UnitRecord unit;
    eachField(unit, [&](auto& field) { reader.get(field); });
    reader.finish();
    return unit;
}

}  // namespace ponder::core
