// Unigram: the segmentation of a word that maximises the sum of piece log-probabilities
// (Viterbi). A character no piece covers becomes <unk> scored min_score - 10, and adjacent
// unknowns fuse into one, as in HF / sentencepiece.
#include <limits>
#include <string>
#include <vector>

#include "axl/core/error.h"
#include "axl/tokenizer/json_util.h"
#include "axl/tokenizer/model.h"
#include "axl/tokenizer/utf8.h"

namespace axl::tokenizer {

namespace {

constexpr double kUnkPenalty = 10.0;

class UnigramModel : public Model {
 public:
  explicit UnigramModel(const nlohmann::json& j) {
    const std::string what = "tokenizer.json: model Unigram";
    const auto& vocab = json_array(j, "vocab", what);
    ids_.reserve(vocab.size());
    scores_.reserve(vocab.size());
    double min_score = std::numeric_limits<double>::max();
    for (size_t i = 0; i < vocab.size(); ++i) {
      const auto& e = vocab[i];
      if (!e.is_array() || e.size() != 2 || !e[0].is_string() || !e[1].is_number())
        throw Error(what + ": vocab entry #" + std::to_string(i) + " is not [piece, score]");
      const std::string& piece = e[0].get_ref<const std::string&>();
      add_token(piece, static_cast<int32_t>(i));
      scores_.push_back(e[1].get<double>());
      if (scores_.back() < min_score) min_score = scores_.back();
      if (piece.size() > max_piece_bytes_) max_piece_bytes_ = piece.size();
    }
    unk_score_ = min_score - kUnkPenalty;
    if (j.contains("unk_id") && j["unk_id"].is_number_integer()) {
      unk_id_ = j["unk_id"].get<int32_t>();
      if (unk_id_ < 0 || static_cast<size_t>(unk_id_) >= vocab.size()) throw Error(what + ": unk_id is out of range");
    }
    byte_fallback_ = json_bool(j, "byte_fallback", false);
    for (int b = 0; b < 256; ++b) {
      char code[8];
      std::snprintf(code, sizeof code, "<0x%02X>", b);
      byte_ids_[b] = ids_.find(code);
    }
  }

  void tokenize(std::string_view word, std::vector<ModelToken>& out) const override {
    if (word.empty()) return;
    struct Node {
      int32_t id = -1;
      double score = 0;
      int64_t from = -1;  // start byte of the best piece ending here; -1 = unreached
    };
    std::vector<Node> best(word.size() + 1);
    best[0].from = 0;
    for (size_t start = 0; start < word.size();) {
      size_t next = start;
      utf8::next(word, next);
      if (best[start].from >= 0) {
        double here = best[start].score;
        bool single_char_piece = false;
        size_t limit = std::min(word.size(), start + max_piece_bytes_);
        for (size_t end = next; end <= limit;) {
          int32_t id = ids_.find(word.substr(start, end - start));
          if (id >= 0) {
            double cand = here + scores_[id];
            Node& n = best[end];
            if (n.from < 0 || cand > n.score) n = {id, cand, static_cast<int64_t>(start)};
            if (end == next) single_char_piece = true;
          }
          if (end == word.size()) break;
          utf8::next(word, end);
        }
        if (!single_char_piece) {
          double cand = here + unk_score_;
          Node& n = best[next];
          if (n.from < 0 || cand > n.score) n = {unk_id_, cand, static_cast<int64_t>(start)};
        }
      }
      start = next;
    }
    // Walk back, then emit left to right, fusing adjacent unknown pieces.
    std::vector<ModelToken> path;
    for (size_t end = word.size(); end > 0;) {
      const Node& n = best[end];
      path.push_back({n.id, static_cast<uint32_t>(n.from), static_cast<uint32_t>(end)});
      end = static_cast<size_t>(n.from);
    }
    std::vector<ModelToken> fused;
    for (auto it = path.rbegin(); it != path.rend(); ++it) {
      bool unk = it->id == unk_id_ || it->id < 0;
      if (unk && !fused.empty() && (fused.back().id == unk_id_ || fused.back().id < 0)) {
        fused.back().end = it->end;
      } else {
        fused.push_back(*it);
        if (unk) fused.back().id = unk_id_;
      }
    }
    for (const ModelToken& t : fused) {
      if (t.id != unk_id_ || unk_id_ < 0) {
        if (t.id >= 0) out.push_back(t);
        else throw Error("tokenizer.json: model Unigram: text needs an unknown token but unk_id is not set");
        continue;
      }
      if (byte_fallback_) {
        bool all = true;
        for (uint32_t k = t.begin; k < t.end; ++k) all = all && byte_ids_[static_cast<unsigned char>(word[k])] >= 0;
        if (all) {
          for (uint32_t k = t.begin; k < t.end; ++k)
            out.push_back({byte_ids_[static_cast<unsigned char>(word[k])], t.begin, t.end});
          continue;
        }
      }
      out.push_back({t.id, t.begin, t.end, true});
    }
  }

 private:
  std::vector<double> scores_;
  size_t max_piece_bytes_ = 1;
  double unk_score_ = 0;
  int32_t unk_id_ = -1;
  bool byte_fallback_ = false;
  int32_t byte_ids_[256];
};

}  // namespace

std::unique_ptr<Model> make_unigram_model(const nlohmann::json& j) { return std::make_unique<UnigramModel>(j); }

}  // namespace axl::tokenizer
