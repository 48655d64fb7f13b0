// The library's own encode, for tests/cli/sentencepiece_conformance.sh: links libsentencepiece
// alone (no LibTorch, no ponder code) and prints each file's ids on one line, space-separated.
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

#include <sentencepiece_processor.h>

int main(int argc, char** argv) {
    if (argc < 3) {
        std::cerr << "usage: sentencepiece_dump tokenizer.model FILE...\n";
        return 2;
    }
    sentencepiece::SentencePieceProcessor processor;
    if (const auto status = processor.Load(argv[1]); !status.ok()) {
        std::cerr << status.ToString() << "\n";
        return 1;
    }
    for (int i = 2; i < argc; ++i) {
        std::ifstream in(argv[i], std::ios::binary);
        const std::string text((std::istreambuf_iterator<char>(in)),
                               std::istreambuf_iterator<char>());
        std::vector<int> ids;
        if (!processor.Encode(text, &ids).ok()) return 1;
        for (std::size_t j = 0; j < ids.size(); ++j)
            std::cout << (j ? " " : "") << ids[j];
        std::cout << "\n";
    }
    return 0;
}
