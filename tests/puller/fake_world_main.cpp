// main() and the doctest implementation for every suite built on the fake world
// (fake_zfs_world.hpp): the puller under test starts this same binary as its `ssh` and `zfs`,
// so main first lets it act as those, and runs the tests only when it was started as itself.
// (This object defines main and doctest's implementation, so the linker never pulls
// test_main.o out of its static library.)
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include "tests/puller/fake_zfs_world.hpp"

int main(int argc, char** argv) {
    if (const auto code = fake_world::dispatch(argc, argv)) return *code;
    doctest::Context context(argc, argv);
    return context.run();
}
