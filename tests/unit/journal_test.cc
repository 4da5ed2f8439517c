// The journal of the shared state (origin/core/journal.h, snapshot.h) in the core:
// entries keep what they say through their encoding; instances that apply the same
// entries in the same order hold the same state; a snapshot brings a new instance to
// it. The stores' own journals (sqlite, redis) are tested over real servers in
// tests/integration/storage_test.cc; here an in-memory journal numbers the entries and
// applies each, in order, to every instance, as a store's journal runner does.
#include <gtest/gtest.h>

#include "origin/core/journal.h"
#include "origin/driver/journal.h"
#include "tests/support/core_test_util.h"

namespace liveorigin::testing {
namespace {

const std::string kJournaled = example_config("", "store: {url: \"sqlite:unused.db\"}\n");

// Every instance applies every entry in append order; an appender hears its own answer.
class SharedJournal {
 public:
  explicit SharedJournal(std::vector<CoreHarness*> instances) : instances_(std::move(instances)) {
    for (auto* h : instances_) {
      apply_threads_.push_back(h->origin->make_thread());
      ends_.push_back(std::make_unique<End>(*this, ends_.size()));
      h->use_journal(ends_.back().get());
    }
  }
  size_t size() const { return entries_.size(); }
  const std::vector<std::string>& entries() const { return entries_; }

 private:
  struct End final : Journal {
    End(SharedJournal& j, size_t i) : journal(j), index(i) {}
    void append(JournalEntry entry, std::function<void(std::optional<Response>)> done) override {
      done(journal.append(index, entry));
    }
    SharedJournal& journal;
    size_t index;
  };

  Response append(size_t appender, const JournalEntry& entry) {
    entries_.push_back(encode(entry));
    const int64_t seq = static_cast<int64_t>(entries_.size());
    Response mine;
    for (size_t i = 0; i < instances_.size(); ++i) {
      auto decoded = decode_journal_entry(entries_.back());
      EXPECT_TRUE(decoded) << decoded.error().message;
      Response r = instances_[i]->origin->apply(*apply_threads_[i], seq, *decoded);
      Effects e = apply_threads_[i]->take_effects();
      for (auto& w : e.wake) w->wake();
      for (auto& k : e.erase) instances_[i]->store.erase(k);
      if (i == appender) mine = r;
    }
    return mine;
  }

  std::vector<CoreHarness*> instances_;
  std::vector<std::unique_ptr<OriginThread>> apply_threads_;
  std::vector<std::unique_ptr<End>> ends_;
  std::vector<std::string> entries_;
};

TEST(Journal, EntriesKeepWhatTheySayThroughTheirEncoding) {
  JournalEntry c;
  c.kind = JournalEntry::Kind::candidate;
  c.event = "final";
  c.stream = "video";
  c.number = 42;
  c.candidate.pipeline = "b";
  c.candidate.defects = "missing-frames=2";
  c.candidate.sha256[0] = 0xab;
  c.candidate.sha256[31] = 0x01;
  c.candidate.bytes = 1234;
  c.candidate.arrived_ms = 1'000'000'123;
  c.candidate.key = "final/video/42/b/7";
  InitInfo init;
  init.codecs = "avc1.64001f";
  init.timescale = 90000;
  init.width = 1920;
  init.height = 1080;
  c.candidate.init = init;
  auto back = decode_journal_entry(encode(c));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(encode(*back), encode(c));
  EXPECT_EQ(back->candidate.sha256, c.candidate.sha256);
  EXPECT_EQ(back->candidate.init->codecs, "avc1.64001f");
  EXPECT_EQ(*back->number, 42);

  JournalEntry inv;
  inv.kind = JournalEntry::Kind::invalidate;
  inv.event = "final";
  inv.pipeline = "a";
  inv.from = 10;
  inv.exclude = true;
  auto inv_back = decode_journal_entry(encode(inv));
  ASSERT_TRUE(inv_back);
  EXPECT_EQ(*inv_back->from, 10);
  EXPECT_FALSE(inv_back->to);
  EXPECT_TRUE(*inv_back->exclude);

  JournalEntry m;
  m.kind = JournalEntry::Kind::marker_put;
  m.event = "final";
  m.at_ms = 5;
  m.marker.id = "ad1";
  m.marker.kind = "ad-break";
  m.marker.start_ms = 1000;
  m.marker.duration_ms = 30000;
  m.marker.item = R"("ad1";kind="ad-break";start=1000;dur=30000)";
  auto m_back = decode_journal_entry(encode(m));
  ASSERT_TRUE(m_back);
  EXPECT_EQ(m_back->marker.item, m.marker.item);
  EXPECT_EQ(m_back->at_ms, 5);
  EXPECT_EQ(*m_back->marker.duration_ms, 30000);

  EXPECT_FALSE(decode_journal_entry("{\"kind\": \"teleport\", \"event\": \"x\"}"));
  EXPECT_EQ(decode_journal_entry("[1]").error().message, "journal entry: not an object");
}

TEST(Journal, InstancesApplyingTheSameEntriesHoldTheSameStateAndServeTheSameChoices) {
  CountingStore store;
  H a(kJournaled, H::kT0, &store);
  H b(kJournaled, H::kT0, &store);
  SharedJournal journal({&a, &b});
  const int64_t n = kEdge;
  EXPECT_EQ(a.put(seg(n), "a", "from-a", "missing-frames=2").status, 201);
  EXPECT_EQ(b.put(seg(n), "b", "from-b").status, 201);
  EXPECT_EQ(a.put(seg(n - 1), "a", "older-a", "corrupt").status, 201);
  // Both instances serve segment n; the clean copy, committed once through the journal.
  const Response ra = a.get(seg(n));
  const Response rb = b.get(seg(n));
  EXPECT_EQ(ra.status, 200);
  EXPECT_EQ(H::header(ra, "Live-Pipeline"), "b");
  EXPECT_EQ(H::header(ra, "ETag"), H::header(rb, "ETag"));
  // A defective choice upgraded through the other instance: one new version for both.
  a.clock.advance_ms(600);
  b.clock.advance_ms(600);
  EXPECT_EQ(H::header(b.get(seg(n - 1)), "Live-Pipeline"), "a");
  EXPECT_EQ(b.put(seg(n - 1), "b", "older-b").status, 201);
  EXPECT_EQ(H::header(a.get(seg(n - 1)), "Live-Version"), "1");
  EXPECT_EQ(H::header(b.get(seg(n - 1)), "Live-Pipeline"), "b");
  // Markers and invalidations from either instance.
  Headers admin;
  admin.authorization = "Bearer admin-secret";
  EXPECT_EQ(b.admin(Method::post, "/admin/events/final/markers", marker_body("ad1", ms_of(n), 2000)).status, 201);
  EXPECT_EQ(H::header(a.get(seg(n)), "Live-Markers"), H::header(b.get(seg(n)), "Live-Markers"));
  EXPECT_FALSE(H::header(a.get(seg(n)), "Live-Markers").empty());
  EXPECT_EQ(a.admin(Method::post, "/admin/invalidate", R"({"event": "final", "pipeline": "b", "exclude": true})").status,
            200);
  EXPECT_EQ(H::header(b.get(seg(n)), "Live-Pipeline"), "a");  // b excluded: a's copy, after grace
  EXPECT_EQ(H::header(a.get(seg(n)), "ETag"), H::header(b.get(seg(n)), "ETag"));
  EXPECT_EQ(a.admin(Method::put, "/admin/events/encore",
                    R"({"pipelines": ["a"], "streams": [{"id": "v", "segment_duration_ms": 1000}]})")
                .status,
            201);
  EXPECT_EQ(b.get("/live/encore/_timeline").status, 200);
  EXPECT_EQ(a.origin->snapshot("final"), b.origin->snapshot("final"));
  EXPECT_EQ(a.origin->snapshot("encore"), b.origin->snapshot("encore"));
}

TEST(Journal, TheFirstCommitAppliedWinsOnEveryInstance) {
  CountingStore store;
  H a(kJournaled, H::kT0, &store);
  H b(kJournaled, H::kT0, &store);
  SharedJournal journal({&a, &b});
  // Both copies are clean: whichever an instance would choose alone, one commit decides.
  EXPECT_EQ(a.put(seg(kEdge), "b", "bee").status, 201);
  EXPECT_EQ(H::header(a.get(seg(kEdge)), "Live-Pipeline"), "b");  // only b's copy yet: committed
  EXPECT_EQ(b.put(seg(kEdge), "a", "ay").status, 201);           // a ranks higher, but b is committed
  EXPECT_EQ(H::header(b.get(seg(kEdge)), "Live-Pipeline"), "b");
  const size_t before = journal.size();
  EXPECT_EQ(H::header(b.get(seg(kEdge)), "Live-Pipeline"), "b");
  EXPECT_EQ(journal.size(), before);  // served from the committed choice: no entry
}

TEST(Snapshot, ARestoredInstanceServesTheSameChoicesVersionsAndMarkers) {
  H a(kJournaled);
  SharedJournal journal({&a});
  const int64_t n = kEdge;
  for (int64_t k = n - 4; k <= n; ++k) EXPECT_EQ(a.put(seg(k), "a", "seg-" + std::to_string(k)).status, 201);
  EXPECT_EQ(a.put("/live/final/video/init.mp4", "a", "init-bytes").status, 201);
  for (int64_t k = n - 4; k <= n; ++k) EXPECT_EQ(a.get(seg(k)).status, 200);
  EXPECT_EQ(a.admin(Method::post, "/admin/events/final/markers", marker_body("m", ms_of(n - 1), 4000)).status, 201);
  EXPECT_EQ(a.admin(Method::post, "/admin/invalidate",
                    R"({"event": "final", "from_segment": )" + std::to_string(n - 3) + R"(, "to_segment": )" +
                        std::to_string(n - 3) + "}")
                .status,
            200);
  const std::string snap = a.origin->snapshot("final");
  ASSERT_FALSE(snap.empty());

  // A new instance of the same deployment (its store holds the same bytes; HEAD needs none).
  H c(kJournaled);
  SharedJournal later({&c});
  auto restored = c.origin->restore(snap);
  ASSERT_TRUE(restored) << restored.error().message;
  EXPECT_EQ(*restored, static_cast<int64_t>(journal.size()));
  EXPECT_EQ(c.origin->snapshot("final"), snap);
  for (int64_t k = n - 4; k <= n; ++k) {
    SCOPED_TRACE(k);
    const Response was = a.request(Method::head, seg(k));
    const Response is = c.request(Method::head, seg(k));
    EXPECT_EQ(is.status, 200);
    EXPECT_EQ(H::header(is, "ETag"), H::header(was, "ETag"));
    EXPECT_EQ(H::header(is, "Live-Version"), H::header(was, "Live-Version"));
    EXPECT_EQ(H::header(is, "Live-Markers"), H::header(was, "Live-Markers"));
  }
  const Response audit = c.admin(Method::get, "/admin/events/final/streams/video/segments/" + std::to_string(n - 1));
  EXPECT_NE(H::body(audit).find(R"("choice":{"pipeline":"a")"), std::string::npos) << H::body(audit);
  EXPECT_NE(H::body(audit).find(R"("markers":"\"m\";kind=\"ad-break\")"), std::string::npos) << H::body(audit);
  EXPECT_EQ(c.get("/live/final/_invalidations?since=0").status, 200);
  EXPECT_NE(H::body(c.get("/live/final/_invalidations?since=0")).find("\"version\":"), std::string::npos);
  EXPECT_FALSE(c.origin->restore("{\"event\": \"final\"}"));
}

}  // namespace
}  // namespace liveorigin::testing
