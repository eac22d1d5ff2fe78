// Reading dataset rows: JSON arrays, JSON Lines, text, folders, data_files, split slices,
// and one clear error naming file:line for malformed input.
#include <gtest/gtest.h>

#include <fstream>
#include <functional>

#include "../fixtures.h"
#include "axl/core/error.h"
#include "axl/data/dataset_files.h"

using axl::data::read_dataset_rows;
using axl::data::read_rows_from_file;
using axl::data::split_range;
using Range = std::pair<size_t, size_t>;

namespace {

std::string write(const std::string& dir, const std::string& name, const std::string& text) {
  std::string p = dir + "/" + name;
  std::ofstream(p, std::ios::binary) << text;
  return p;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const axl::Error& e) {
    return e.what();
  }
  return "";
}

TEST(DatasetFiles, JsonLinesAndArrays) {
  std::string dir = axl::test::scratch_dir("data-files");
  auto rows = read_rows_from_file(write(dir, "a.jsonl", "{\"x\": 1}\n\n{\"x\": 2}\r\n"));
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1].value["x"], 2);
  EXPECT_EQ(rows[1].where, dir + "/a.jsonl:3");
  rows = read_rows_from_file(write(dir, "b.json", " [ {\"x\": \"é\"}, {\"y\": null} ]"));
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].value["x"], "é");
  // A .json file that is not an array is read as JSON Lines, as HF's json loader does.
  rows = read_rows_from_file(write(dir, "c.json", "{\"x\": 1}\n{\"x\": 2}\n"));
  EXPECT_EQ(rows.size(), 2u);
}

TEST(DatasetFiles, MalformedJsonNamesFileAndLine) {
  std::string dir = axl::test::scratch_dir("data-bad");
  std::string p = write(dir, "bad.jsonl", "{\"x\": 1}\n{\"x\": 2}\n{\"x\": 3,,}\n");
  std::string msg = error_of([&] { read_rows_from_file(p); });
  EXPECT_NE(msg.find(p + ":3: malformed JSON line"), std::string::npos) << msg;
  p = write(dir, "bad.json", "[\n {\"x\": 1},\n {\"x\": 2\n]\n");
  msg = error_of([&] { read_rows_from_file(p); });
  EXPECT_NE(msg.find(p + ":4: malformed JSON"), std::string::npos) << msg;
  p = write(dir, "notobj.jsonl", "[1, 2]\n");
  msg = error_of([&] { read_rows_from_file(p); });
  EXPECT_NE(msg.find(p + ":1: expected a JSON object"), std::string::npos) << msg;
  msg = error_of([&] { read_rows_from_file(write(dir, "x.csv", "a,b\n")); });
  EXPECT_NE(msg.find("unsupported dataset file type"), std::string::npos) << msg;
}

TEST(DatasetFiles, TextFoldersDataFilesAndSplits) {
  std::string dir = axl::test::scratch_dir("data-folder");
  write(dir, "b.jsonl", "{\"text\": \"two\"}\n{\"text\": \"three\"}\n");
  write(dir, "a.txt", "zero\r\none\n");
  write(dir, "notes.md", "ignored");
  axl::config::DatasetConfig ds;
  ds.path = dir;
  auto rows = read_dataset_rows(ds);
  ASSERT_EQ(rows.size(), 4u);  // files in name order; .md skipped
  EXPECT_EQ(rows[0].value["text"], "zero");
  EXPECT_EQ(rows[3].value["text"], "three");
  ds.split = "train[1:3]";
  rows = read_dataset_rows(ds);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].value["text"], "one");
  ds.split.reset();
  ds.data_files = {"b.jsonl"};
  EXPECT_EQ(read_dataset_rows(ds).size(), 2u);
  ds.path = dir + "/missing.json";
  ds.data_files.clear();
  EXPECT_NE(error_of([&] { read_dataset_rows(ds); }).find("not a local file or folder"), std::string::npos);
}

TEST(DatasetFiles, SplitSpecs) {
  EXPECT_EQ(split_range("train", 10), Range(0, 10));
  EXPECT_EQ(split_range("train[:20%]", 10), Range(0, 2));
  EXPECT_EQ(split_range("train[50%:]", 999), Range(500, 999));  // round(499.5) = 500
  EXPECT_EQ(split_range("train[3:7]", 10), Range(3, 7));
  EXPECT_EQ(split_range("train[-2:]", 10), Range(8, 10));
  EXPECT_EQ(split_range("train[:100]", 10), Range(0, 10));
  EXPECT_THROW(split_range("test", 10), axl::Error);
  EXPECT_THROW(split_range("train[a:b]", 10), axl::Error);
  EXPECT_THROW(split_range("train[1:2", 10), axl::Error);
}

}  // namespace
