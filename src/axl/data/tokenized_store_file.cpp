#include "axl/data/tokenized_store_file.h"

#include <cstring>
#include <memory>
#include <vector>

#include "axl/core/atomic_file.h"
#include "axl/core/error.h"
#include "axl/core/mapped_file.h"
#include "axl/data/content_hash.h"

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the cache format is little-endian");

namespace axl::data {

namespace {

constexpr char kMagic[8] = {'A', 'X', 'L', 'T', 'O', 'K', 'S', '\0'};
constexpr size_t kHeaderSize = 64, kEntrySize = 64, kNameSize = 40;

struct Header {
  char magic[8];
  uint32_t version;
  uint32_t sequences;
  uint64_t records;
  uint64_t file_size;
  uint8_t body_sha256[32];
};
static_assert(sizeof(Header) == kHeaderSize);

struct DirEntry {
  char name[kNameSize];
  uint64_t offsets_pos;
  uint64_t tokens_pos;
  uint64_t token_count;
};
static_assert(sizeof(DirEntry) == kEntrySize);

uint64_t align8(uint64_t n) { return (n + 7) & ~uint64_t{7}; }

// The file body as a list of byte ranges (directory, arrays, zero padding), so the checksum
// and the write walk the same bytes without building the file in memory.
struct Piece {
  const void* data;
  size_t size;
};

}  // namespace

void write_tokenized_store(const std::string& path, const TokenizedStore& store) {
  const size_t nseq = store.sequence_names().size();
  std::vector<DirEntry> dir(nseq);
  static const uint8_t zeros[8] = {};
  std::vector<Piece> body;
  body.push_back({dir.data(), dir.size() * sizeof(DirEntry)});
  uint64_t pos = kHeaderSize + dir.size() * sizeof(DirEntry);
  for (size_t s = 0; s < nseq; ++s) {
    const std::string& name = store.sequence_names()[s];
    if (name.size() >= kNameSize) throw Error(path + ": sequence name '" + name + "' is too long for the cache format");
    std::memset(&dir[s], 0, sizeof(DirEntry));
    std::memcpy(dir[s].name, name.data(), name.size());
    const auto off = store.offsets(s);
    const auto tok = store.tokens(s);
    dir[s].offsets_pos = pos;
    body.push_back({off.data(), off.size() * sizeof(uint64_t)});
    pos += off.size() * sizeof(uint64_t);
    dir[s].tokens_pos = pos;
    dir[s].token_count = tok.size();
    body.push_back({tok.data(), tok.size() * sizeof(TokenId)});
    pos += tok.size() * sizeof(TokenId);
    if (align8(pos) != pos) {
      body.push_back({zeros, static_cast<size_t>(align8(pos) - pos)});
      pos = align8(pos);
    }
  }
  Header h{};
  std::memcpy(h.magic, kMagic, sizeof kMagic);
  h.version = kTokenizedStoreFormatVersion;
  h.sequences = static_cast<uint32_t>(nseq);
  h.records = store.size();
  h.file_size = pos;
  Sha256 sha;
  for (const Piece& p : body) sha.update(p.data, p.size);
  const auto d = sha.digest();
  std::memcpy(h.body_sha256, d.data(), d.size());
  write_file_atomic(path, [&](std::ostream& out) {
    out.write(reinterpret_cast<const char*>(&h), sizeof h);
    for (const Piece& p : body) out.write(static_cast<const char*>(p.data), static_cast<std::streamsize>(p.size));
  });
}

TokenizedStore read_tokenized_store(const std::string& path) {
  std::shared_ptr<MappedFile> file = MappedFile::open(path);
  const unsigned char* base = file->data();
  const uint64_t size = file->size();
  auto bad = [&](const std::string& why) { return Error(path + ": not a valid tokenized dataset file: " + why); };
  if (size < kHeaderSize) throw bad("shorter than its header (truncated?)");
  Header h;
  std::memcpy(&h, base, sizeof h);
  if (std::memcmp(h.magic, kMagic, sizeof kMagic) != 0) throw bad("wrong magic");
  if (h.version != kTokenizedStoreFormatVersion)
    throw bad("format version " + std::to_string(h.version) + ", this build reads " +
              std::to_string(kTokenizedStoreFormatVersion));
  if (h.file_size != size)
    throw bad("header says " + std::to_string(h.file_size) + " bytes, the file has " + std::to_string(size) +
              " (truncated?)");
  if (h.sequences == 0 || h.sequences > 64) throw bad("bad sequence count " + std::to_string(h.sequences));
  Sha256 sha;
  sha.update(base + kHeaderSize, static_cast<size_t>(size - kHeaderSize));
  const auto d = sha.digest();
  if (std::memcmp(d.data(), h.body_sha256, d.size()) != 0) throw bad("checksum mismatch (corrupted)");
  if (kHeaderSize + uint64_t{h.sequences} * kEntrySize > size) throw bad("directory past the end");

  std::vector<std::string> names;
  std::vector<TokenizedStore::MappedSequence> seqs;
  for (uint32_t s = 0; s < h.sequences; ++s) {
    DirEntry e;
    std::memcpy(&e, base + kHeaderSize + s * kEntrySize, sizeof e);
    if (e.name[kNameSize - 1] != '\0') throw bad("unterminated sequence name");
    names.emplace_back(e.name);
    const uint64_t off_bytes = (h.records + 1) * sizeof(uint64_t);
    if (h.records >= size || e.offsets_pos % 8 || e.tokens_pos % 4 || e.offsets_pos > size ||
        off_bytes > size - e.offsets_pos || e.tokens_pos > size || e.token_count > (size - e.tokens_pos) / sizeof(TokenId))
      throw bad("sequence '" + names.back() + "' lies outside the file");
    const auto* off = reinterpret_cast<const uint64_t*>(base + e.offsets_pos);
    if (off[0] != 0 || off[h.records] != e.token_count) throw bad("offsets of '" + names.back() + "' do not span its tokens");
    for (uint64_t r = 0; r < h.records; ++r)
      if (off[r + 1] < off[r]) throw bad("offsets of '" + names.back() + "' go backwards");
    seqs.push_back({{reinterpret_cast<const TokenId*>(base + e.tokens_pos), static_cast<size_t>(e.token_count)},
                    {off, static_cast<size_t>(h.records + 1)}});
  }
  return TokenizedStore::mapped(std::move(names), std::move(seqs), std::move(file));
}

}  // namespace axl::data
