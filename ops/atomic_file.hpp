// Replacing a file so that a reader (node-exporter, `zfs-puller status`, the next run) sees
// either the old content or the new, never a torn one, even if we crash or lose power halfway:
// write a temporary file beside it, fsync it, rename it over the old one, fsync the directory.
#pragma once

#include <string>
#include <string_view>

namespace ops {

// "" on success, else a one-line error (nothing was replaced). `mode` applies to the new file.
std::string replace_file(const std::string& path, std::string_view content, unsigned mode = 0644);

// Reads the whole file (at most max_bytes) into `content`; false with `error` set otherwise.
bool read_small_file(const std::string& path, std::string& content, std::string& error,
                     std::size_t max_bytes = 16 << 20);

} // namespace ops
