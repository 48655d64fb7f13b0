// Whole-file reads and atomic writes used by every loader and exporter.
#include "core/util/file_io.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/util/errors.h"

namespace ponder::core {
namespace fs = std::filesystem;

std::string readFileBytes(const fs::path& path) {
    std::error_code ec;
    const auto status = fs::status(path, ec);
    if (ec || !fs::exists(status))
        throw InputError("cannot open '" + path.string() + "': no such file", "check the path");
    if (fs::is_directory(status))
        throw InputError("'" + path.string() + "' is a directory, not a file", "pass a file path");
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw InputError("cannot read '" + path.string() + "': " + std::strerror(errno),
                         "check the file's permissions");
    std::ostringstream buffer;
    buffer << in.rdbuf();
    if (in.bad()) throw InputError("read error on '" + path.string() + "'", "check the disk");
    return std::move(buffer).str();
}

void writeFileAtomic(const fs::path& path, const std::function<void(std::ostream&)>& writer) {
    const fs::path target = path.has_parent_path() ? path : fs::path(".") / path;
    const fs::path tmp = target.string() + ".tmp." + std::to_string(::getpid());
    const auto fail = [&](const std::string& why) {
        std::error_code ignored;
        fs::remove(tmp, ignored);
        return OutputError("cannot write '" + path.string() + "': " + why,
                           "check that the folder exists, is writable and has free space");
    };
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        if (!out) throw fail(std::strerror(errno));
        try {
            writer(out);
        } catch (...) {
            out.close();
            std::error_code ignored;
            fs::remove(tmp, ignored);  // the target keeps its old content
            throw;
        }
        out.flush();
        if (!out) throw fail("write failed");
    }
    const int fd = ::open(tmp.c_str(), O_RDONLY);
    if (fd >= 0) {
        ::fsync(fd);
        ::close(fd);
    }
    std::error_code ec;
    fs::rename(tmp, target, ec);
    if (ec) throw fail(ec.message());
}

void writeFileAtomic(const fs::path& path, std::string_view bytes) {
    writeFileAtomic(path, [&](std::ostream& out) {
        out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    });
}

void checkWritableFolder(const fs::path& path, const std::string& option) {
    const auto folder = path.parent_path().empty() ? fs::path(".") : path.parent_path();
    std::error_code error;
    if (!fs::is_directory(folder, error))
        throw OutputError(
            "cannot write '" + path.string() + "': folder '" + folder.string() + "' does not exist",
            "create it first, or give " + option + " a path in an existing folder");
    if (::access(folder.c_str(), W_OK) != 0)
        throw OutputError("cannot write '" + path.string() + "': folder '" + folder.string() +
                              "' is not writable (" + std::strerror(errno) + ")",
                          "give " + option + " a path in a folder you can write to");
}

}  // namespace ponder::core
