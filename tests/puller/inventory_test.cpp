// Listing parsing, resume tokens, name mapping and the common snapshot by guid (incl. bookmarks).
#include <doctest/doctest.h>

#include "puller/inventory.hpp"
#include "tests/puller/listing.hpp"

using namespace puller;
using namespace puller_test;

TEST_CASE("listing: datasets, snapshots and bookmarks, sorted by createtxg") {
    const std::string text = fs("tank/a", 1, 5, 4096) + snap("tank/a@s2", 12, 20, 100) +
                             snap("tank/a@s1", 11, 10, 200) + bm("tank/a#b1", 11, 10) +
                             vol("tank/a/v", 2, 7) + fs("tank/a/c", 3, 30, 0, "tank/a@s1") +
                             row("tank/a/e", "filesystem", 4, 40, "-", "aes-256-gcm", "0");
    const Inventory inv = inventory(text);
    REQUIRE(inv.size() == 4);
    const Dataset& a = inv.at("tank/a");
    CHECK(a.kind == DatasetKind::filesystem);
    CHECK(a.written == 4096);
    REQUIRE(a.snapshots.size() == 2);
    CHECK(a.snapshots[0].name == "s1");
    CHECK(a.snapshots[0].written == 200);
    CHECK(a.snapshots[1].name == "s2");
    REQUIRE(a.bookmarks.size() == 1);
    CHECK(a.bookmarks[0] == Point{"b1", 11, 10, 0});
    CHECK(inv.at("tank/a/v").kind == DatasetKind::volume);
    CHECK(inv.at("tank/a/c").origin == "tank/a@s1");
    CHECK_FALSE(inv.at("tank/a").encrypted());
    CHECK(inv.at("tank/a/e").encrypted());
    CHECK(a.snapshot_named("s2")->guid == 12);
    CHECK(a.snapshot_by_guid(11)->name == "s1");
    CHECK(a.bookmark_by_guid(11)->name == "b1");
    CHECK(a.newest_snapshot()->name == "s2");
}

TEST_CASE("listing: names with spaces and an empty listing") {
    const Inventory inv = inventory(fs("tank/my data", 1, 5) + snap("tank/my data@a b", 2, 6));
    CHECK(inv.at("tank/my data").snapshots.at(0).name == "a b");
    CHECK(inventory("").empty());
}

TEST_CASE("listing: malformed input is rejected whole") {
    std::string deep = "tank"; // 50 levels below the pool: one more than zfs allows
    for (int i = 0; i < 50; ++i)
        deep += "/x";
    struct Row {
        std::string text, fragment;
    };
    const Row rows[] = {
        {"tank/a\tfilesystem\t1\t5\t-\toff\n", "7 tab-separated"},
        {"tank/a\tfilesystem\tx\t5\t-\toff\t0\n", "not a number"},
        {"tank/a\tfilesystem\t1\t5\t-\toff\t-1\n", "not a number"},
        {"tank/a\tpool\t1\t5\t-\toff\t0\n", "unknown type"},
        {fs("tank/a", 1, 5) + fs("tank/a", 1, 5), "listed twice"},
        {fs("tank/a", 1, 5) + row("tank/a", "snapshot", 2, 6), "without '@'"},
        // Names the source should never list: each would otherwise reach a command the
        // gatekeeper's grammar refuses (an internal error that stopped every job).
        {fs("tank/a", 1, 5) + fs("tank/a/..", 2, 6), "not a valid dataset name"},
        {fs("tank/a", 1, 5) + fs("tank/a/.", 2, 6), "not a valid dataset name"},
        {fs("tank/a", 1, 5) + fs("tank/a/" + std::string(250, 'x'), 2, 6), "at most 255 bytes"},
        {fs("tank/a", 1, 5) + fs(deep, 2, 6), "49 levels"},
        {fs("tank/a", 1, 5) + snap("tank/a@a@b", 2, 6), "not a valid snapshot name"},
        {fs("tank/a", 1, 5) + snap("tank/a@", 2, 6), "not a valid snapshot name"},
        {fs("tank/a", 1, 5) + bm("tank/a#x#y", 2, 6), "not a valid bookmark name"},
        {fs("tank/a", 1, 5) + snap("tank/a@x\x1b[2J", 2, 6), "not a valid snapshot name"},
        {fs("tank/a", 1, 5, 0, "tank/b@x@y"), "origin"},
        {row("tank/a", "filesystem", 1, 5, "-", "aes 256"), "encryption"},
        {fs("tank/a", 1, 5) + snap("tank/a@s", 2, 6) + snap("tank/a@s", 3, 7), "share the name"},
        {fs("tank/a", 1, 5) + snap("tank/a@s", 2, 6) + snap("tank/a@t", 2, 7), "share the name"},
    };
    for (const auto& r : rows) {
        const auto res = parse_listing(r.text);
        CHECK_FALSE(res.ok());
        CHECK_MESSAGE(res.error.find(r.fragment) != std::string::npos, res.error);
    }
}

TEST_CASE("target listing: creation times, and the markers set locally on received snapshots") {
    const std::string text = "backup/a\tfilesystem\t1\t5\t-\toff\t0\t1600000000\n"
                             "backup/a@s1\tsnapshot\t11\t10\t-\toff\t100\t1700000000\n"
                             "backup/a@s2\tsnapshot\t12\t20\t-\toff\t100\t1700000100\n";
    auto r = parse_listing(text, Listing::target);
    REQUIRE_MESSAGE(r.ok(), r.error);
    CHECK(r.inventory->at("backup/a").snapshots.at(1).creation == 1700000100);
    CHECK_FALSE(parse_listing(text).ok()); // 8 columns are not a source listing
    CHECK_FALSE(parse_listing(fs("backup/a", 1, 5), Listing::target).ok());
    apply_markers(*r.inventory, "backup/a@s2\t1700000500\nbackup/a@s1\tjunk\n"
                                "backup/other@s1\t5\nbackup/a@gone\t6\nno-at\t7\n");
    CHECK(r.inventory->at("backup/a").snapshots.at(0).received_at == 0);
    CHECK(r.inventory->at("backup/a").snapshots.at(1).received_at == 1700000500);
}

TEST_CASE("resume tokens are attached by name; '-' means none") {
    Inventory inv = inventory(fs("b/a", 1, 5) + fs("b/a/c", 2, 6));
    CHECK(apply_resume_tokens(inv, "b/a\t1-abc-def-0123\nb/a/c\t-\nb/other\t1-2-3-4\n").empty());
    CHECK(inv.at("b/a").resume_token == "1-abc-def-0123");
    CHECK(inv.at("b/a/c").resume_token.empty());
    CHECK_FALSE(apply_resume_tokens(inv, "b/a 1-2-3-4\n").empty());
}

TEST_CASE("dataset_within is component-wise; map_name moves a subtree") {
    CHECK(dataset_within("tank/data", "tank/data"));
    CHECK(dataset_within("tank/data/x", "tank/data"));
    CHECK_FALSE(dataset_within("tank/database", "tank/data"));
    CHECK_FALSE(dataset_within("tank", "tank/data"));
    CHECK(map_name("tank/data/x/y", "tank/data", "backup/host/data") == "backup/host/data/x/y");
    CHECK(map_name("tank/data", "tank/data", "backup/d") == "backup/d");
}

TEST_CASE("common snapshot by guid: newest on the target wins; snapshots beat bookmarks") {
    const Inventory src =
        inventory(fs("tank/a", 1, 5) + snap("tank/a@s1", 11, 10) + snap("tank/a@s2", 12, 20) +
                  snap("tank/a@s3", 13, 30) + bm("tank/a#s2", 12, 20) + bm("tank/a#old", 9, 3));
    const Dataset& a = src.at("tank/a");
    // Target snapshot names do not matter, only guids (a renamed snapshot still counts).
    SUBCASE("newest shared snapshot") {
        const auto c = find_common(a, {{"s1", 11, 100, 0}, {"renamed", 12, 200, 0}});
        REQUIRE(c);
        CHECK(c->target.name == "renamed");
        CHECK(c->source.name == "s2");
        CHECK_FALSE(c->source_is_bookmark);
    }
    SUBCASE("only a bookmark left on the source") {
        const auto c = find_common(a, {{"old", 9, 100, 0}});
        REQUIRE(c);
        CHECK(c->source_is_bookmark);
        CHECK(c->source.name == "old");
    }
    SUBCASE("target snapshots the source never had are passed over") {
        const auto c = find_common(a, {{"s1", 11, 100, 0}, {"local", 77, 200, 0}});
        REQUIRE(c);
        CHECK(c->target.name == "s1");
    }
    SUBCASE("nothing in common") {
        CHECK_FALSE(find_common(a, {{"x", 99, 1, 0}}));
        CHECK_FALSE(find_common(a, {}));
    }
}
