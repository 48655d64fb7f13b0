// tokenizer_dump TOKENIZER_DIR LISTFILE: prints "path<TAB>id id ..." per listed file, encoded
// with BpeTokenizer::encode; the conformance script diffs this against npm gpt-3-encoder.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>

#include "core/text/bpe_tokenizer.h"
#include "core/util/errors.h"
#include "core/util/file_io.h"

int main(int argc, char** argv) {
    if (argc != 3) {
        std::cerr << "usage: tokenizer_dump TOKENIZER_DIR LISTFILE\n"
                  << "  LISTFILE holds one file path per line\n";
        return 1;
    }
    try {
        const auto tokenizer = ponder::core::BpeTokenizer::load(argv[1]);
        std::ifstream list(argv[2]);
        if (!list) {
            std::cerr << "error: cannot open list file '" << argv[2] << "'\n";
            return 1;
        }
        std::string path;
        std::string line;
        while (std::getline(list, path)) {
            if (path.empty()) continue;
            const auto ids = tokenizer.encode(ponder::core::readFileBytes(path));
            line = path;
            line += '\t';
            for (std::size_t i = 0; i < ids.size(); ++i) {
                if (i) line += ' ';
                line += std::to_string(ids[i]);
            }
            line += '\n';
            std::fwrite(line.data(), 1, line.size(), stdout);
        }
    } catch (const ponder::core::PonderError& e) {
        std::cerr << "error: " << e.what() << "\nhint: " << e.hint() << "\n";
        return 1;
    } catch (const std::exception& e) {
        std::cerr << "error: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
