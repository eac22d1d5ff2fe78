// BPE: words start as characters (or bytes, for byte-level vocabularies) and the adjacent pair
// with the lowest merge rank is merged until none is left (leftmost first on ties), which is
// what HF's priority-queue BPE does without dropout.
#include <algorithm>
#include <atomic>
#include <string>
#include <unordered_map>
#include <vector>

#include "axl/core/error.h"
#include "axl/tokenizer/bpe_word_cache.h"
#include "axl/tokenizer/byte_level.h"
#include "axl/tokenizer/json_util.h"
#include "axl/tokenizer/model.h"
#include "axl/tokenizer/utf8.h"

namespace axl::tokenizer {

namespace {

constexpr size_t kMaxCachedWord = 256;    // bytes; longer words are not cached

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
using WordCache = BpeWordCache;
WordCache& cache_for(uint64_t instance) {
  thread_local std::unordered_map<uint64_t, WordCache> caches;
  thread_local uint64_t last_instance = 0;  // serials start at 1
  thread_local WordCache* last = nullptr;
  if (instance == last_instance) return *last;  // one lookup per word otherwise
  auto it = caches.find(instance);
  if (it == caches.end()) {
    if (caches.size() >= 8) caches.clear();
    it = caches.emplace(instance, WordCache()).first;
  }
  last_instance = instance;
  last = &it->second;
  return *last;
}

class BpeModel : public Model {
 public:
  BpeModel(const nlohmann::json& j, bool byte_level, const BpeTables* tables)
      : byte_level_(byte_level), instance_(next_instance++) {
    const std::string what = "tokenizer.json: model BPE";
    BpeTables from_json;
    if (!tables) {
      from_json = tables_from_json(j, what);
      tables = &from_json;
    }
    ids_.reserve(tables->vocab.size());
    constexpr size_t kAhead = 8;  // prefetch distance: inserts miss the cache, overlap the misses
    for (size_t i = 0; i < tables->vocab.size(); ++i) {
      if (i + kAhead < tables->vocab.size()) ids_.prefetch(tables->vocab[i + kAhead].first);
      add_token(tables->vocab[i].first, tables->vocab[i].second);
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

    // Each id's first and last unit (raw byte in byte mode, else character; -1 when none),
    // which is what the merge edges are made of.
    std::vector<int32_t> first_unit(tokens_.size(), -1), last_unit(tokens_.size(), -1);
    if (byte_level_) {
      // Vocabulary keyed by the raw bytes each entry spells; entries that are not pure
      // stand-in characters can never come out of byte-level BPE and are skipped.
      raw_ids_.reserve(ids_.size());
      constexpr size_t kBatch = 16;  // decoded and prefetched a batch ahead of the inserts
      std::string raw[kBatch];
      bool ok[kBatch];
      for (size_t base = 0; base < tokens_.size(); base += kBatch) {
        const size_t n = std::min(kBatch, tokens_.size() - base);
        for (size_t k = 0; k < n; ++k) {
          raw[k].clear();
          ok[k] = has_[base + k] && byte_level::decode(tokens_[base + k], raw[k]);
          if (ok[k]) raw_ids_.prefetch(raw[k]);
        }
        for (size_t k = 0; k < n; ++k) {
          if (!ok[k]) continue;
          raw_ids_.set(raw[k], static_cast<int32_t>(base + k));
          if (raw[k].empty()) continue;
          first_unit[base + k] = static_cast<unsigned char>(raw[k][0]);
          last_unit[base + k] = static_cast<unsigned char>(raw[k].back());
        }
      }
      std::string p, s;
      if (byte_level::decode(prefix_, p)) prefix_ = p;
      if (byte_level::decode(suffix_, s)) suffix_ = s;
    } else {
      for (size_t id = 0; id < tokens_.size(); ++id) {
        const std::string& t = tokens_[id];
        if (!has_[id] || t.empty()) continue;
        size_t j = t.size() - 1;
        while (j > 0 && (static_cast<unsigned char>(t[j]) & 0xC0) == 0x80) --j;
        last_unit[id] = static_cast<int32_t>(utf8::next(t, j));
        size_t k = 0;
        first_unit[id] = static_cast<int32_t>(utf8::next(t, k));
      }
    }
    for (int b = 0; b < 256; ++b) {
      char c = static_cast<char>(b);
      byte_ids_[b] = lookup(std::string_view(&c, 1));
      char code[8];
      std::snprintf(code, sizeof code, "<0x%02X>", b);
      byte_fallback_ids_[b] = ids_.find(code);
    }
    load_merges(tables->merges, first_unit, last_unit, what);
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
    size_t count = 0;
    if (const ModelToken* hit = cache.find(word, count)) {
      out.insert(out.end(), hit, hit + count);
      return;
    }
    size_t first = out.size();
    merge_word(word, out);
    if (out.size() > first) cache.insert(word, out.data() + first, out.size() - first);
  }

 private:
  int32_t lookup(std::string_view s) const { return byte_level_ ? raw_ids_.find(s) : ids_.find(s); }

  static BpeTables tables_from_json(const nlohmann::json& j, const std::string& what) {
    BpeTables t;
    auto vit = j.find("vocab");
    if (vit == j.end() || !vit->is_object()) throw Error(what + ": \"vocab\" must be an object");
    t.vocab.reserve(vit->size());
    for (auto it = vit->begin(); it != vit->end(); ++it) {
      if (!it.value().is_number_integer()) throw Error(what + ": vocab entry '" + it.key() + "' has no integer id");
      t.vocab.emplace_back(it.key(), it.value().get<int32_t>());
    }
    auto mit = j.find("merges");
    if (mit == j.end() || !mit->is_array()) throw Error(what + ": \"merges\" must be an array");
    t.merges.reserve(mit->size());
    for (const auto& m : *mit) {
      if (m.is_string()) {
        std::string_view s = m.get_ref<const std::string&>();
        size_t sp = s.find(' ');
        if (sp == std::string::npos) throw Error(what + ": merge '" + std::string(s) + "' is not \"a b\"");
        t.merges.emplace_back(s.substr(0, sp), s.substr(sp + 1));
      } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
        t.merges.emplace_back(m[0].get_ref<const std::string&>(), m[1].get_ref<const std::string&>());
      } else {
        throw Error(what + ": merge #" + std::to_string(t.merges.size()) + " is neither \"a b\" nor [a, b]");
      }
    }
    return t;
  }

  void load_merges(const std::vector<std::pair<std::string_view, std::string_view>>& merges,
                   const std::vector<int32_t>& first_unit, const std::vector<int32_t>& last_unit,
                   const std::string& what) {
    merges_.reserve(merges.size());
    mergeable_.assign(tokens_.size(), false);
    use_edges_ = prefix_.empty() && suffix_.empty();
    // In batches: every lookup of a batch is prefetched before the first is made, so the
    // cache misses (one per lookup in tables of several MB) overlap instead of queueing.
    constexpr size_t kBatch = 16;
    std::string joined[kBatch];
    int32_t ia[kBatch], ib[kBatch];
    for (size_t base = 0; base < merges.size(); base += kBatch) {
      const size_t n = std::min(kBatch, merges.size() - base);
      for (size_t k = 0; k < n; ++k) {
        const auto& [a, b] = merges[base + k];
        std::string_view rest = b;
        if (!prefix_.empty() && rest.substr(0, prefix_.size()) == prefix_) rest.remove_prefix(prefix_.size());
        joined[k].assign(a);
        joined[k].append(rest);
        ids_.prefetch(a);
        ids_.prefetch(b);
        ids_.prefetch(joined[k]);
      }
      for (size_t k = 0; k < n; ++k) {
        const auto& [a, b] = merges[base + k];
        ia[k] = ids_.find(a);
        ib[k] = ids_.find(b);
        if (ia[k] >= 0 && ib[k] >= 0) merges_.prefetch(ia[k], ib[k]);
      }
      for (size_t k = 0; k < n; ++k) {  // errors in merge order, as one merge at a time would give
        const auto& [a, b] = merges[base + k];
        if (ia[k] < 0 || ib[k] < 0)
          throw Error(what + ": merge '" + std::string(a) + " " + std::string(b) + "' uses a token missing from the vocab");
        const int32_t inew = ids_.find(joined[k]);
        if (inew < 0)
          throw Error(what + ": merge '" + std::string(a) + " " + std::string(b) + "' makes '" + joined[k] +
                      "', missing from the vocab");
        merges_.set(ia[k], ib[k], Merge{static_cast<int32_t>(base + k), inew});
        mergeable_[ia[k]] = mergeable_[ib[k]] = true;
        // Which unit pairs some merge can join across (unreachable merges add none).
        if (use_edges_ && last_unit[ia[k]] >= 0 && first_unit[ib[k]] >= 0)
          edges_.set(last_unit[ia[k]], first_unit[ib[k]], Merge{0, 0});
      }
    }
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
    const std::string_view key = word.substr(base, sym[hi - 1].end - base);
    if (cache && hi - lo > 1) {
      size_t count = 0;
      if (const ModelToken* hit = cache->find(key, count)) {
        for (size_t k = 0; k < count; ++k) out.push_back({hit[k].id, hit[k].begin + base, hit[k].end + base});
        return;
      }
    }
    size_t first = out.size();
    if (hi - lo > 1) merge_run(lo, hi, heap);
    else sym[lo].next = -1;
    for (int32_t k = static_cast<int32_t>(lo); k >= 0; k = sym[k].next)
      out.push_back({sym[k].id, sym[k].begin, sym[k].end});
    if (cache && hi - lo > 1) {
      thread_local std::vector<ModelToken> rel;
      rel.assign(out.begin() + first, out.end());
      for (auto& t : rel) {
        t.begin -= base;
        t.end -= base;
      }
      cache->insert(key, rel.data(), rel.size());
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

std::unique_ptr<Model> make_bpe_model(const nlohmann::json& j, bool byte_level, const BpeTables* bpe) {
  return std::make_unique<BpeModel>(j, byte_level, bpe);
}

}  // namespace axl::tokenizer
