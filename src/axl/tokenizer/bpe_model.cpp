// BPE: words start as characters (or bytes, for byte-level vocabularies) and the adjacent pair
// with the lowest merge rank is merged until none is left (leftmost first on ties), which is
// what HF's priority-queue BPE does without dropout.
#include <algorithm>
#include <atomic>
#include <string>
#include <unordered_map>
#include <vector>

#include "axl/core/error.h"
#include "axl/tokenizer/byte_level.h"
#include "axl/tokenizer/json_util.h"
#include "axl/tokenizer/model.h"
#include "axl/tokenizer/utf8.h"

namespace axl::tokenizer {

namespace {

constexpr size_t kMaxCachedWord = 256;    // bytes; longer words are not cached
constexpr size_t kMaxCacheEntries = 1 << 17;

std::atomic<uint64_t> next_instance{1};

struct Symbol {
  int32_t id;
  uint32_t begin, end;
  int32_t prev, next;
  int32_t unit;  // the character (byte, in byte mode) it started as; -1 for byte/unk stand-ins
};

struct Candidate {
  int32_t rank;
  uint32_t pos;
  int32_t new_id;
};
struct CandidateAfter {  // min-heap on (rank, pos)
  bool operator()(const Candidate& a, const Candidate& b) const {
    return a.rank != b.rank ? a.rank > b.rank : a.pos > b.pos;
  }
};

// Per-thread word cache, one per model instance (keyed by a serial, never by address).
using WordCache = std::unordered_map<std::string, std::vector<ModelToken>>;
WordCache& cache_for(uint64_t instance) {
  thread_local std::unordered_map<uint64_t, WordCache> caches;
  auto it = caches.find(instance);
  if (it != caches.end()) return it->second;
  if (caches.size() >= 8) caches.clear();
  return caches[instance];
}

class BpeModel : public Model {
 public:
  BpeModel(const nlohmann::json& j, bool byte_level) : byte_level_(byte_level), instance_(next_instance++) {
    const std::string what = "tokenizer.json: model BPE";
    auto vit = j.find("vocab");
    if (vit == j.end() || !vit->is_object()) throw Error(what + ": \"vocab\" must be an object");
    ids_.reserve(vit->size());
    for (auto it = vit->begin(); it != vit->end(); ++it) {
      if (!it.value().is_number_integer()) throw Error(what + ": vocab entry '" + it.key() + "' has no integer id");
      add_token(it.key(), it.value().get<int32_t>());
    }
    byte_fallback_ = json_bool(j, "byte_fallback", false);
    ignore_merges_ = json_bool(j, "ignore_merges", false);
    fuse_unk_ = json_bool(j, "fuse_unk", false);
    if (j.contains("dropout") && j["dropout"].is_number() && j["dropout"].get<double>() > 0.0)
      throw Error(what + ": dropout is not supported (it makes encoding random)");
    prefix_ = json_string_or(j, "continuing_subword_prefix", "");
    suffix_ = json_string_or(j, "end_of_word_suffix", "");
    std::string unk = json_string_or(j, "unk_token", "");
    if (!unk.empty()) unk_id_ = ids_.find(unk);

    if (byte_level_) {
      // Vocabulary keyed by the raw bytes each entry spells; entries that are not pure
      // stand-in characters can never come out of byte-level BPE and are skipped.
      raw_ids_.reserve(ids_.size());
      std::string raw;
      for (size_t id = 0; id < tokens_.size(); ++id) {
        raw.clear();
        if (has_[id] && byte_level::decode(tokens_[id], raw)) raw_ids_.set(raw, static_cast<int32_t>(id));
      }
      std::string p, s;
      if (byte_level::decode(prefix_, p)) prefix_ = p;
      if (byte_level::decode(suffix_, s)) suffix_ = s;
    }
    for (int b = 0; b < 256; ++b) {
      char c = static_cast<char>(b);
      byte_ids_[b] = lookup(std::string_view(&c, 1));
      char code[8];
      std::snprintf(code, sizeof code, "<0x%02X>", b);
      byte_fallback_ids_[b] = ids_.find(code);
    }
    load_merges(j, what);
  }

  void tokenize(std::string_view word, std::vector<ModelToken>& out) const override {
    if (word.empty()) return;
    if (ignore_merges_) {
      int32_t id = lookup(word);
      if (id >= 0) {
        out.push_back({id, 0, static_cast<uint32_t>(word.size())});
        return;
      }
    }
    if (word.size() > kMaxCachedWord) {
      merge_word(word, out);
      return;
    }
    WordCache& cache = cache_for(instance_);
    thread_local std::string key;
    key.assign(word.data(), word.size());
    auto it = cache.find(key);
    if (it != cache.end()) {
      out.insert(out.end(), it->second.begin(), it->second.end());
      return;
    }
    size_t first = out.size();
    merge_word(word, out);
    if (cache.size() >= kMaxCacheEntries) cache.clear();
    cache.emplace(key, std::vector<ModelToken>(out.begin() + first, out.end()));
  }

 private:
  int32_t lookup(std::string_view s) const { return byte_level_ ? raw_ids_.find(s) : ids_.find(s); }

  void load_merges(const nlohmann::json& j, const std::string& what) {
    auto mit = j.find("merges");
    if (mit == j.end() || !mit->is_array()) throw Error(what + ": \"merges\" must be an array");
    merges_.reserve(mit->size());
    mergeable_.assign(tokens_.size(), false);
    use_edges_ = prefix_.empty() && suffix_.empty();
    int32_t rank = 0;
    for (const auto& m : *mit) {
      std::string a, b;
      if (m.is_string()) {
        const std::string& s = m.get_ref<const std::string&>();
        size_t sp = s.find(' ');
        if (sp == std::string::npos) throw Error(what + ": merge '" + s + "' is not \"a b\"");
        a = s.substr(0, sp);
        b = s.substr(sp + 1);
      } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
        a = m[0].get<std::string>();
        b = m[1].get<std::string>();
      } else {
        throw Error(what + ": merge #" + std::to_string(rank) + " is neither \"a b\" nor [a, b]");
      }
      int32_t ia = ids_.find(a), ib = ids_.find(b);
      if (ia < 0 || ib < 0) throw Error(what + ": merge '" + a + " " + b + "' uses a token missing from the vocab");
      std::string joined = a;
      std::string_view rest = b;
      if (!prefix_.empty() && rest.substr(0, prefix_.size()) == prefix_) rest.remove_prefix(prefix_.size());
      joined.append(rest);
      int32_t inew = ids_.find(joined);
      if (inew < 0) throw Error(what + ": merge '" + a + " " + b + "' makes '" + joined + "', missing from the vocab");
      merges_.set(ia, ib, Merge{rank, inew});
      mergeable_[ia] = mergeable_[ib] = true;
      add_edge(a, b);
      ++rank;
    }
  }

  // Records which character pairs a merge can join across.
  void add_edge(const std::string& a, const std::string& b) {
    if (!use_edges_) return;
    std::string ra, rb;
    if (byte_level_) {
      if (!byte_level::decode(a, ra) || !byte_level::decode(b, rb)) return;  // unreachable merge
    } else {
      ra = a;
      rb = b;
    }
    if (ra.empty() || rb.empty()) return;
    int32_t left, right;
    if (byte_level_) {
      left = static_cast<unsigned char>(ra.back());
      right = static_cast<unsigned char>(rb[0]);
    } else {
      size_t j = ra.size() - 1;
      while (j > 0 && (static_cast<unsigned char>(ra[j]) & 0xC0) == 0x80) --j;
      left = static_cast<int32_t>(utf8::next(ra, j));
      size_t k = 0;
      right = static_cast<int32_t>(utf8::next(rb, k));
    }
    edges_.set(left, right, Merge{0, 0});
  }

  void merge_word(std::string_view word, std::vector<ModelToken>& out) const {
    std::vector<Symbol>& sym = symbols();
    thread_local std::vector<Candidate> heap;
    thread_local std::string scratch;
    sym.clear();
    heap.clear();
    bool pending_unk = false;
    uint32_t unk_begin = 0, unk_end = 0;
    auto push = [&](int32_t id, uint32_t b, uint32_t e, int32_t unit = -1) {
      sym.push_back({id, b, e, static_cast<int32_t>(sym.size()) - 1, static_cast<int32_t>(sym.size()) + 1, unit});
    };
    auto flush_unk = [&]() {
      if (pending_unk) push(unk_id_, unk_begin, unk_end);
      pending_unk = false;
    };
    const bool affixes = !prefix_.empty() || !suffix_.empty();
    for (size_t i = 0; i < word.size();) {
      size_t b = i;
      if (byte_level_) ++i;
      else utf8::next(word, i);
      bool last = i == word.size();
      int32_t id;
      if (affixes && ((b > 0 && !prefix_.empty()) || (last && !suffix_.empty()))) {
        scratch.clear();
        if (b > 0) scratch += prefix_;
        scratch.append(word.substr(b, i - b));
        if (last) scratch += suffix_;
        id = lookup(scratch);
      } else if (i - b == 1) {
        id = byte_ids_[static_cast<unsigned char>(word[b])];
      } else {
        id = lookup(word.substr(b, i - b));
      }
      if (id >= 0) {
        flush_unk();
        size_t k = b;
        int32_t unit = byte_level_ ? static_cast<unsigned char>(word[b]) : static_cast<int32_t>(utf8::next(word, k));
        push(id, static_cast<uint32_t>(b), static_cast<uint32_t>(i), unit);
        continue;
      }
      if (byte_fallback_) {
        bool all = true;
        for (size_t k = b; k < i; ++k) all = all && byte_fallback_ids_[static_cast<unsigned char>(word[k])] >= 0;
        if (all) {
          for (size_t k = b; k < i; ++k)
            push(byte_fallback_ids_[static_cast<unsigned char>(word[k])], static_cast<uint32_t>(k),
                 static_cast<uint32_t>(k + 1));
          continue;
        }
      }
      if (unk_id_ < 0) continue;  // no unk token: the character is dropped
      if (pending_unk && fuse_unk_) {
        unk_end = static_cast<uint32_t>(i);
      } else {
        flush_unk();
        pending_unk = true;
        unk_begin = static_cast<uint32_t>(b);
        unk_end = static_cast<uint32_t>(i);
      }
    }
    flush_unk();
    if (sym.empty()) return;
    // Walls: a symbol that takes part in no merge, or a boundary no merge can ever cross (no
    // merge (A, B) has A ending with the left character and B starting with the right one).
    // The runs between walls are merged on their own, which gives the same result with small
    // heaps, and long words (a whole file, for sentencepiece-style tokenizers) reuse the word
    // cache run by run.
    const bool cache_runs = word.size() > kMaxCachedWord;
    WordCache* cache = cache_runs ? &cache_for(instance_) : nullptr;
    size_t lo = 0;
    for (size_t k = 0; k <= sym.size(); ++k) {
      bool wall = k == sym.size() || !mergeable_[sym[k].id] || (k > lo && !may_join(sym[k - 1], sym[k]));
      if (!wall) continue;
      if (k > lo) emit_run(word, lo, k, heap, cache, out);
      if (k < sym.size() && !mergeable_[sym[k].id]) {
        out.push_back({sym[k].id, sym[k].begin, sym[k].end});
        lo = k + 1;
      } else {
        lo = k;
      }
    }
  }

  bool may_join(const Symbol& a, const Symbol& b) const {
    if (!use_edges_ || a.unit < 0 || b.unit < 0) return true;
    return edges_.find(a.unit, b.unit).rank >= 0;
  }

  // Merges symbols [lo, hi) and appends their tokens, through the cache when one is given.
  void emit_run(std::string_view word, size_t lo, size_t hi, std::vector<Candidate>& heap, WordCache* cache,
                std::vector<ModelToken>& out) const {
    std::vector<Symbol>& sym = symbols();
    uint32_t base = sym[lo].begin;
    thread_local std::string key;
    if (cache && hi - lo > 1) {
      key.assign(word.substr(base, sym[hi - 1].end - base));
      auto it = cache->find(key);
      if (it != cache->end()) {
        for (ModelToken t : it->second) out.push_back({t.id, t.begin + base, t.end + base});
        return;
      }
    }
    size_t first = out.size();
    if (hi - lo > 1) merge_run(lo, hi, heap);
    else sym[lo].next = -1;
    for (int32_t k = static_cast<int32_t>(lo); k >= 0; k = sym[k].next)
      out.push_back({sym[k].id, sym[k].begin, sym[k].end});
    if (cache && hi - lo > 1) {
      if (cache->size() >= kMaxCacheEntries) cache->clear();
      std::vector<ModelToken> rel(out.begin() + first, out.end());
      for (auto& t : rel) {
        t.begin -= base;
        t.end -= base;
      }
      cache->emplace(key, std::move(rel));
    }
  }

  // Merges symbols [lo, hi) of the thread's symbol list as one word.
  void merge_run(size_t lo, size_t hi, std::vector<Candidate>& heap) const {
    std::vector<Symbol>& sym = symbols();
    sym[lo].prev = -1;
    sym[hi - 1].next = -1;
    heap.clear();
    for (size_t k = lo; k + 1 < hi; ++k) {
      Merge m = merges_.find(sym[k].id, sym[k + 1].id);
      if (m.rank >= 0) heap.push_back({m.rank, static_cast<uint32_t>(k), m.new_id});
    }
    std::make_heap(heap.begin(), heap.end(), CandidateAfter());
    while (!heap.empty()) {
      std::pop_heap(heap.begin(), heap.end(), CandidateAfter());
      Candidate c = heap.back();
      heap.pop_back();
      Symbol& left = sym[c.pos];
      if (left.id < 0 || left.next < 0) continue;  // merged away meanwhile
      Symbol& right = sym[left.next];
      Merge now = merges_.find(left.id, right.id);
      if (now.rank != c.rank || now.new_id != c.new_id) continue;  // stale candidate
      left.id = c.new_id;
      left.end = right.end;
      left.next = right.next;
      right.id = -1;
      if (left.next >= 0) sym[left.next].prev = static_cast<int32_t>(c.pos);
      if (left.prev >= 0) {
        Merge m = merges_.find(sym[left.prev].id, left.id);
        if (m.rank >= 0) {
          heap.push_back({m.rank, static_cast<uint32_t>(left.prev), m.new_id});
          std::push_heap(heap.begin(), heap.end(), CandidateAfter());
        }
      }
      if (left.next >= 0) {
        Merge m = merges_.find(left.id, sym[left.next].id);
        if (m.rank >= 0) {
          heap.push_back({m.rank, c.pos, m.new_id});
          std::push_heap(heap.begin(), heap.end(), CandidateAfter());
        }
      }
    }
  }

  static std::vector<Symbol>& symbols() {
    thread_local std::vector<Symbol> sym;
    return sym;
  }

  bool byte_level_;
  uint64_t instance_;
  bool byte_fallback_ = false, ignore_merges_ = false, fuse_unk_ = false;
  int32_t unk_id_ = -1;
  std::string prefix_, suffix_;
  StringIdMap raw_ids_;
  int32_t byte_ids_[256];
  int32_t byte_fallback_ids_[256];
  PairMergeMap merges_;
  PairMergeMap edges_;     // (last unit of A, first unit of B) over all merges (A, B)
  bool use_edges_ = true;  // off with subword prefixes/suffixes
  std::vector<bool> mergeable_;  // id is the left or right side of some merge
};

}  // namespace

std::unique_ptr<Model> make_bpe_model(const nlohmann::json& j, bool byte_level) {
  return std::make_unique<BpeModel>(j, byte_level);
}

}  // namespace axl::tokenizer
