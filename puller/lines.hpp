// Reading the output of remote and local commands line by line.
#pragma once

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace puller {

// The non-empty lines of a command's output (`zfs -H` listings, stderr), one at a time;
// number() is the 1-based line number of the last one returned (empty lines count), for
// error messages.
class Lines {
  public:
    explicit Lines(std::string_view text) : text_(text) {}
    bool next(std::string_view& line) {
        while (pos_ < text_.size()) {
            const std::size_t nl = std::min(text_.find('\n', pos_), text_.size());
            line = text_.substr(pos_, nl - pos_);
            pos_ = nl + 1;
            ++number_;
            if (!line.empty()) return true;
        }
        return false;
    }
    std::size_t number() const { return number_; }

  private:
    std::string_view text_;
    std::size_t pos_ = 0;
    std::size_t number_ = 0;
};

// The tab-separated columns of one `zfs -H` output line.
inline std::vector<std::string_view> split_tabs(std::string_view line) {
    std::vector<std::string_view> out;
    std::size_t start = 0;
    while (true) {
        const auto tab = line.find('\t', start);
        out.push_back(line.substr(start, tab == std::string_view::npos ? tab : tab - start));
        if (tab == std::string_view::npos) return out;
        start = tab + 1;
    }
}

// Last line of a child's stderr, trimmed, for one-line error messages.
inline std::string last_line(std::string_view text) {
    const std::size_t end = text.find_last_not_of(" \t\r\n");
    if (end == std::string_view::npos) return "";
    const std::size_t start = text.rfind('\n', end);
    const std::size_t first = start == std::string_view::npos ? 0 : start + 1;
    return std::string(text.substr(first, end - first + 1));
}

} // namespace puller
