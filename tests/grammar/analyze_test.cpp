// PEGTL's static analysis of the grammar: no rule may loop without consuming input. This test
// is the one place besides grammar/parse.cpp that includes PEGTL: analyze.hpp includes
// <iostream>, whose static initialiser (std::ios_base::Init and the locale behind it) would
// otherwise run, and fault in its pages, in every gatekeeper session.
#include <doctest/doctest.h>
#include <tao/pegtl/contrib/analyze.hpp>

#include "grammar/zfs_grammar.hpp"

TEST_CASE("the grammar has no rule that can loop without consuming input") {
    CHECK(tao::pegtl::analyze<grammar::rules::grammar>(-1) == 0);
}
