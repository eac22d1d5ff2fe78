// Our ids against the live `tokenizers` on every doc of a few MB of fixture text (Tiny
// Shakespeare, alpaca, ShareGPT incl. the multilingual sample, chat messages), for the four
// fixture tokenizers. References: tests/peers/refs-tokenizer.sh -> $AXL_PEER_FIXTURES/tokenizer.
// Also checks that encode_batch (threads) equals encode, doc by doc, and decode round-trips.
#include <gtest/gtest.h>

#include <cstring>

#include <nlohmann/json.hpp>

#include "tests/tokenizer/tok_test_util.h"

namespace {

class PeerCorpus : public ::testing::TestWithParam<std::string> {};

TEST_P(PeerCorpus, EveryDocMatchesLiveTokenizers) {
  const char* peer = std::getenv("AXL_PEER_FIXTURES");
  std::string dir = peer ? std::string(peer) + "/tokenizer" : std::string();
  if (dir.empty() || !std::filesystem::exists(dir + "/" + GetParam() + ".ids.bin")) {
    if (axl::test::fixtures_required()) FAIL() << "missing peer reference " << dir;
    GTEST_SKIP() << "peer reference tokenizer/ not generated (set AXL_PEER_FIXTURES)";
  }
  AXL_REQUIRE_FIXTURE(tokdir, "tokenizers/" + GetParam());
  std::vector<std::string> docs;
  {
    std::istringstream in(axl::test::read_file(dir + "/docs.jsonl"));
    for (std::string line; std::getline(in, line);) docs.push_back(nlohmann::json::parse(line).get<std::string>());
  }
  std::string ids_raw = axl::test::read_file(dir + "/" + GetParam() + ".ids.bin");
  std::string index_raw = axl::test::read_file(dir + "/" + GetParam() + ".index.bin");
  ASSERT_EQ(index_raw.size(), docs.size() * 8);
  const auto& tok = axl::test::fixture_tokenizer(GetParam());
  auto batch = tok.encode_batch(docs, false, 2);
  ASSERT_EQ(batch.size(), docs.size());
  size_t pos = 0, mismatches = 0;
  for (size_t d = 0; d < docs.size(); ++d) {
    uint64_t n;
    std::memcpy(&n, index_raw.data() + 8 * d, 8);
    std::vector<int32_t> want(n);
    ASSERT_LE((pos + n) * 4, ids_raw.size());
    std::memcpy(want.data(), ids_raw.data() + 4 * pos, 4 * n);  // little-endian host
    pos += n;
    if (batch[d] != want && mismatches++ < 3)
      ADD_FAILURE() << "doc " << d << " differs: " << docs[d].substr(0, 200);
    if (d % 97 == 0) {
      EXPECT_EQ(tok.encode(docs[d], false), batch[d]) << "doc " << d;
      EXPECT_EQ(tok.decode(batch[d]), docs[d]) << "doc " << d;
    }
  }
  EXPECT_EQ(mismatches, 0u) << "of " << docs.size() << " docs";
  EXPECT_EQ(pos * 4, ids_raw.size());
}

INSTANTIATE_TEST_SUITE_P(Fixtures, PeerCorpus,
                         ::testing::Values("llama3", "qwen3", "gemma3", "lenml-llama2-mistral32k"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (auto& c : n)
                             if (!isalnum(static_cast<unsigned char>(c))) c = '_';
                           return n;
                         });

}  // namespace
