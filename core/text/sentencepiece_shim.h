/* The C interface of libponder_sentencepiece, the one module that links Debian's
 * libsentencepiece. That library carries its own copy of protobuf 3.14, which clashes with the
 * protobuf 3.21 LibTorch loads (a crash at start-up, or protobuf's version check aborting), so
 * the engine never links it: sentencepiece_tokenizer.cpp dlopens this module with
 * RTLD_LOCAL | RTLD_DEEPBIND, where the bundled copy binds to itself. Buffers the module
 * returns are freed with pspm_free_buffer; errors are written into `error` (NUL-terminated). */
#pragma once

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif
/* A C ABI, so its names are C's, not the project's camelCase. */
/* NOLINTBEGIN(readability-identifier-naming) */

void* pspm_load(const char* model, size_t size, char* error, size_t errorSize);
void pspm_free(void* processor);
void pspm_free_buffer(void* buffer);
/* ids and the byte offset where each piece starts in `text`. Returns 0 on success. */
int pspm_encode(void* processor, const char* text, size_t size, int32_t** ids, uint64_t** starts,
                size_t* count, char* error, size_t errorSize);
int pspm_decode(void* processor, const int32_t* ids, size_t count, char** text, size_t* size,
                char* error, size_t errorSize);
int pspm_piece_size(void* processor);
int pspm_eos_id(void* processor);
int pspm_bos_id(void* processor);
/* Trains on the lines of `files` (NUL-terminated paths) with `options` ("key=value" strings);
 * writes the serialized model to `out`. Returns 0 on success. */
int pspm_train(const char* const* files, size_t fileCount, const char* const* options,
               size_t optionCount, const char* out, char* error, size_t errorSize);
/* NOLINTEND(readability-identifier-naming) */

#ifdef __cplusplus
}
#endif
