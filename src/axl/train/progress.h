#pragma once
// The trainer's progress bar: one tqdm-like line on a terminal, redrawn in place ("\r") after
// every step, with the plain log lines printed above it. Off the terminal (pipes, CI, tests)
// it draws nothing and the log lines pass through unchanged, so their format stays parseable.
#include <cstdint>
#include <ostream>
#include <string>

namespace axl::train {

struct ProgressInfo {
  int64_t step = 0, total = 0;
  double loss = 0.0, learning_rate = 0.0;
  double tokens_per_s = 0.0;
  double elapsed_s = 0.0;  // since this run's first step
  double eta_s = 0.0;      // until the last step
};

// " 37%|███████▍            | 37/100 [00:12<00:20, loss 1.2345, lr 2.00e-03, 1234 tok/s]"
std::string progress_line(const ProgressInfo& p);

// tqdm's time format: mm:ss below an hour, else h:mm:ss.
std::string format_clock(double seconds);

// True when stderr is a terminal that understands "\r" and erase-line (TERM is not "dumb").
bool stderr_is_terminal();

class ProgressBar {
 public:
  ProgressBar(std::ostream& out, bool enabled) : out_(out), enabled_(enabled) {}
  ~ProgressBar() { finish(); }
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  bool enabled() const { return enabled_; }
  // Redraws the bar (a no-op when disabled).
  void update(const ProgressInfo& p);
  // Prints a log line: above the bar (which is then redrawn) or, disabled, as a plain line.
  void print(const std::string& line);
  // Ends the bar's line so later output starts on a fresh one.
  void finish();

 private:
  void clear();
  std::ostream& out_;
  bool enabled_;
  std::string bar_;  // the last line drawn; "" when none is on screen
};

}  // namespace axl::train
