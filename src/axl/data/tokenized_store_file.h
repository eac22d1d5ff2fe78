#pragma once
// One TokenizedStore on disk, read back through a read-only memory mapping without copying.
// Little-endian, versioned, every array 8-byte aligned:
//   header (64 bytes): magic "AXLTOKS\0", u32 format version, u32 sequence count,
//                      u64 record count, u64 file size, SHA-256 of everything after the header
//   directory: per sequence 64 bytes: name (NUL-padded, < 40 bytes), u64 offsets position,
//              u64 tokens position, u64 token count
//   arrays: per sequence the record offsets (u64, records+1) then the tokens (i32)
// Packing reads the same store (lengths are offset differences), so it needs nothing more.
#include <cstdint>
#include <string>

#include "axl/data/tokenized_store.h"

namespace axl::data {

constexpr uint32_t kTokenizedStoreFormatVersion = 1;

// Writes `store` to `path` atomically (temporary file, fsync, rename).
void write_tokenized_store(const std::string& path, const TokenizedStore& store);

// Maps `path` and checks it whole (magic, version, size, checksum, directory bounds, offsets)
// before any read; a truncated, corrupted or foreign file throws axl::Error saying what is wrong.
TokenizedStore read_tokenized_store(const std::string& path);

}  // namespace axl::data
