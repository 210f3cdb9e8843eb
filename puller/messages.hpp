// Every line zfs-puller writes to stderr goes through here (errors, warnings, --verbose traces),
// so the format and the sink are in one place. Text that came from outside (the source's stderr
// and names, a child's messages) is escaped: bytes other than printable ASCII are shown as \xNN,
// so nothing the source sends can move the cursor, set the window title or hide a line.
#pragma once

#include <string>
#include <string_view>

namespace puller {

// Printable ASCII as is (a backslash doubled), every other byte as \xNN.
std::string escaped(std::string_view text);

// "zfs-puller: <message>" / "zfs-puller: <job>: <message>", escaped, one line.
void say(std::string_view message);
void say(std::string_view job, std::string_view message);
// A usage or configuration error, and a second line pointing at --help.
void say_usage_error(std::string_view message);

} // namespace puller
