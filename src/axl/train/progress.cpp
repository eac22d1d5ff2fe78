#include "axl/train/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace axl::train {

std::string format_clock(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const auto total = static_cast<long long>(seconds + 0.5);
  char buf[32];
  if (total >= 3600)
    std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", total / 3600, total / 60 % 60, total % 60);
  else
    std::snprintf(buf, sizeof buf, "%02lld:%02lld", total / 60, total % 60);
  return buf;
}

std::string progress_line(const ProgressInfo& p) {
  constexpr int kWidth = 20;  // bar cells
  const double frac = p.total > 0 ? std::clamp(static_cast<double>(p.step) / static_cast<double>(p.total), 0.0, 1.0) : 0.0;
  // Eighths of a cell, as tqdm draws them: full blocks, then one partial block.
  static const char* const kPartial[] = {"", "▏", "▎", "▍", "▌", "▋", "▊", "▉"};
  const int eighths = static_cast<int>(frac * kWidth * 8);
  std::string bar;
  int cells = 0;
  for (; cells < eighths / 8; ++cells) bar += "█";
  if (cells < kWidth && eighths % 8) {
    bar += kPartial[eighths % 8];
    ++cells;
  }
  bar.append(static_cast<size_t>(kWidth - cells), ' ');
  char buf[256];
  std::snprintf(buf, sizeof buf, "%3d%%|%s| %lld/%lld [%s<%s, loss %.4f, lr %.2e, %.0f tok/s]",
                static_cast<int>(frac * 100), bar.c_str(), static_cast<long long>(p.step),
                static_cast<long long>(p.total), format_clock(p.elapsed_s).c_str(), format_clock(p.eta_s).c_str(),
                p.loss, p.learning_rate, p.tokens_per_s);
  return buf;
}

bool stderr_is_terminal() {
  if (!::isatty(STDERR_FILENO)) return false;
  const char* term = std::getenv("TERM");
  return !(term && std::strcmp(term, "dumb") == 0);
}

void ProgressBar::clear() {
  if (!bar_.empty()) out_ << "\r\033[K";  // back to the line start, erase to its end
}

void ProgressBar::update(const ProgressInfo& p) {
  if (!enabled_) return;
  bar_ = progress_line(p);
  out_ << '\r' << bar_ << "\033[K" << std::flush;
}

void ProgressBar::print(const std::string& line) {
  if (!enabled_) {
    out_ << line << '\n';
    return;
  }
  clear();
  out_ << line << '\n';
  if (!bar_.empty()) out_ << bar_;
  out_ << std::flush;
}

void ProgressBar::finish() {
  if (!enabled_ || bar_.empty()) return;
  out_ << '\n' << std::flush;
  bar_.clear();
}

}  // namespace axl::train
