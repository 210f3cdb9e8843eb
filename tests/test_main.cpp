// doctest main for every suite in tests/ (one binary per suite, see meson.build).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
