// The progress bar: its tqdm-like line, and that log lines print above it on a terminal and
// pass through unchanged elsewhere.
#include <gtest/gtest.h>

#include <sstream>

#include "axl/train/progress.h"

namespace {

using axl::train::ProgressBar;
using axl::train::ProgressInfo;

ProgressInfo info(int64_t step, int64_t total) {
  ProgressInfo p;
  p.step = step;
  p.total = total;
  p.loss = 1.23456;
  p.learning_rate = 0.002;
  p.tokens_per_s = 1234.4;
  p.elapsed_s = 12.4;
  p.eta_s = 3725;
  return p;
}

TEST(Progress, LineShowsStepLossLrSpeedAndEta) {
  EXPECT_EQ(axl::train::progress_line(info(37, 100)),
            " 37%|███████▍            | 37/100 [00:12<1:02:05, loss 1.2346, lr 2.00e-03, 1234 tok/s]");
  EXPECT_EQ(axl::train::progress_line(info(0, 10)).substr(0, 27), "  0%|                    | ");
  const std::string full = axl::train::progress_line(info(10, 10));
  EXPECT_EQ(full.substr(0, 5), "100%|");
  EXPECT_NE(full.find("████████████████████| 10/10"), std::string::npos);
}

TEST(Progress, ClockFormatsLikeTqdm) {
  EXPECT_EQ(axl::train::format_clock(0), "00:00");
  EXPECT_EQ(axl::train::format_clock(59.6), "01:00");
  EXPECT_EQ(axl::train::format_clock(3599), "59:59");
  EXPECT_EQ(axl::train::format_clock(3600 * 2 + 61), "2:01:01");
  EXPECT_EQ(axl::train::format_clock(-1), "?");
}

TEST(Progress, DisabledBarPrintsPlainLinesOnly) {
  std::ostringstream out;
  {
    ProgressBar bar(out, false);
    bar.update(info(1, 2));
    bar.print("step  1/2 | loss 1.0000");
    bar.update(info(2, 2));
  }
  EXPECT_EQ(out.str(), "step  1/2 | loss 1.0000\n");
}

TEST(Progress, EnabledBarRedrawsInPlaceAndKeepsLogLinesAbove) {
  std::ostringstream out;
  {
    ProgressBar bar(out, true);
    bar.print("train: starting");  // no bar yet: nothing to erase
    bar.update(info(1, 2));
    bar.print("step  1/2 | loss 1.0000");
  }  // the destructor ends the bar's line
  const std::string line = axl::train::progress_line(info(1, 2));
  EXPECT_EQ(out.str(), "train: starting\n\r" + line + "\033[K" + "\r\033[Kstep  1/2 | loss 1.0000\n" + line + "\n");
}

}  // namespace
