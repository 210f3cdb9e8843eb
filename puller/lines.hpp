// Line reader for the output of remote and local commands.
#pragma once

#include <algorithm>
#include <cstddef>
#include <string_view>

namespace puller {

// The non-empty lines of a command's output (`zfs -H` listings, stderr), one at a time; number() is the 1-based line number
// of the last one returned (empty lines count), for error messages.
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

}  // namespace puller
