// The simulated world around the origin: packagers that PUT segments with defects and
// faults, CDN nodes in tiers with millisecond caches, and viewer cohorts behind the
// edges. Written against Scheduler and OriginLink only, so the same actors run in real
// time over sockets and in virtual time against the in-process core.
// Single-threaded: everything runs on the scheduler's thread.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "origin/core/config.h"
#include "sim/key_hash.h"
#include "sim/origin_link.h"
#include "sim/results.h"
#include "sim/rng.h"
#include "sim/scenario.h"
#include "sim/scheduler.h"

namespace liveorigin::sim {

// The first line of every simulated segment body: whose copy it is. The CDN tier that
// faces the origin reads it, so "which pipeline was served" is known for any origin.
// `size`: what the body stands for when it is a compact stand-in (-1: its own size).
std::string segment_tag(std::string_view stream, int64_t number, std::string_view pipeline, int64_t size = -1);
struct SegmentTag {
  std::string stream;
  int64_t number = 0;
  std::string pipeline;
  int64_t size = -1;
};
std::optional<SegmentTag> parse_segment_tag(std::string_view body);

// What each pipeline sent for each segment (its Segment-Defects), for the records.
class SentRegistry {
 public:
  void sent(const std::string& stream, int64_t n, const std::string& pipeline, const std::string& defects);
  // "" (clean) if unknown.
  std::string defects(const std::string& stream, int64_t n, const std::string& pipeline) const;

 private:
  std::unordered_map<std::tuple<std::string, int64_t, std::string>, std::string, KeyHash> defects_;  // read per origin answer
};

// The epoch-locked timeline of a scenario stream (the origin's defaults).
StreamConfig stream_timing(const StreamSpec& s);

// Shared by the actors of one run.
// A CDN request's target, interned: equal targets are one string, so caches and
// collapsing key on a pointer, and copying a request (it is copied at every tier, for
// every waiter) allocates nothing.
class Target {
 public:
  Target() = default;
  const std::string& str() const { return s_ != nullptr ? *s_ : empty(); }
  bool empty_string() const { return s_ == nullptr || s_->empty(); }
  bool operator==(const Target& o) const { return s_ == o.s_; }
  struct Hash {
    size_t operator()(const Target& t) const { return std::hash<const void*>{}(t.s_); }
  };

 private:
  friend class Targets;
  explicit Target(const std::string* s) : s_(s) {}
  static const std::string& empty() {
    static const std::string e;
    return e;
  }
  const std::string* s_ = nullptr;
};

// The run's interned targets. Segment targets are also kept by stream and number, so a
// viewer's request finds its target without building the string.
class Targets {
 public:
  Target intern(std::string s) { return Target(&*strings_.insert(std::move(s)).first); }
  // The interned string, if it is; none otherwise (and nothing is added).
  Target find(const std::string& s) const {
    auto it = strings_.find(s);
    return it == strings_.end() ? Target() : Target(&*it);
  }
  Target segment(const Scenario& scenario, size_t stream_index, int64_t n);

 private:
  std::unordered_set<std::string> strings_;  // nodes: their addresses stay
  std::vector<std::unordered_map<int64_t, Target>> segments_;  // by stream index
};

struct World {
  Scheduler& scheduler;
  Recorder& recorder;
  SentRegistry& sent;
  const Scenario& scenario;
  OriginLink& origin;  // for control requests (timeline, invalidation feed) from any node
  int64_t run_start_ms;
  int64_t run_end_ms;
  // stream_timing() of each scenario stream, computed once (actors ask for it per segment).
  std::vector<StreamConfig> timings;

  // Virtual time: segment bodies are short stand-ins whose tag carries their size.
  bool compact_bodies = false;
  Targets targets;

  const StreamConfig& timing(size_t stream_index) const { return timings[stream_index]; }
  static std::vector<StreamConfig> timings_of(const Scenario& s) {
    std::vector<StreamConfig> out;
    for (const auto& st : s.event.streams) out.push_back(stream_timing(st));
    return out;
  }
};

class Packager {
 public:
  Packager(World& world, OriginLink& origin, const PipelineSpec& spec);
  void start();
  void stop() { stopped_ = true; }
  int64_t puts() const { return puts_; }

 private:
  struct Plan;
  void schedule(size_t stream_index, int64_t n);
  void publish(size_t stream_index, int64_t n);
  void backfill(size_t stream_index, int64_t n);
  void send_put(size_t stream_index, int64_t n, std::shared_ptr<Plan> plan, int attempt);
  const PipelineFault* active_fault(PipelineFault::Kind kind, int64_t at_ms) const;
  // The draws for one segment, keyed on its place in the run (segments after the live
  // edge at the start), not on the order publications happen in: the k-th segment of
  // a run then has the same latency and defects in virtual and in real time, whatever
  // order the streams' timers fire in, so the two time models are compared on equal
  // terms (docs/simulation.md "Fidelity").
  Rng segment_rng(size_t stream_index, int64_t n, std::string_view what) const;

  World& w_;
  OriginLink& origin_;
  const PipelineSpec& spec_;
  bool stopped_ = false;
  int64_t puts_ = 0;
};

struct CdnRequest {
  Target target;                    // "/live/final/video/123.m4s"
  Target stream;                    // none for non-segment objects
  std::optional<int64_t> number;
  Target request_class;             // live | dvr | background | other (Targets::intern)
  int64_t weight = 1;                   // viewers (or alike nodes) this request stands for
};

// Copied for every waiter at every tier and kept in every cache: its strings are
// interned (Targets), so it is a few words.
struct CdnResult {
  int status = 0;
  Target pipeline;       // whose copy (from the body tag), "" if none
  Target defects;
  int64_t version = -1;
  int64_t ttl_ms = 0;    // what a cache may keep it for, from now
  Target reject;         // Live-Reject
  int64_t bytes = 0;
  bool cache_hit = false;
  bool collapsed = false;
  bool filtered = false;
  bool held = false;
};

class CdnNode {
 public:
  // Big enough in place for a viewer's callback (its request and where it stands).
  using Done = InlineFunction<void(const CdnResult&), 104>;
  // Exactly one of `parent` and `origins` is set. A node of `multiplicity` k stands for k
  // alike nodes: toward a parent tier its request counts k times; toward the origin it
  // sends k requests, one each through `origins` in turn, so the origin core sees every
  // one of them.
  CdnNode(World& world, std::string name, std::string tier, CdnNode* parent, std::vector<OriginLink*> origins,
          int64_t multiplicity = 1);
  void start();  // timeline and invalidation feed polling, per the features
  void stop() { stopped_ = true; }
  void get(const CdnRequest& request, Done done);

  const std::string& name() const { return name_; }
  const std::string& tier() const { return tier_; }
  int64_t live_edge(const std::string& stream) const;  // from the timeline; -1 if unknown

 private:
  struct Entry {
    CdnResult result;
    int64_t expires_ms = 0;
    Target stream;
    int64_t number = -1;
    int64_t filled = 1;  // of the multiplicity_ caches this node stands for, how many hold it
  };
  struct Timeline {
    StreamConfig stream;
    int64_t dvr_segments = 0;
    bool known = false;
  };

  void lookup(const CdnRequest& request, Done done, bool held);
  void fetch(const CdnRequest& request);
  // What in_flight_ waits on: a target, and with collapsing off a number of its own.
  using FlightKey = std::pair<Target, uint64_t>;
  struct FlightKeyHash {
    size_t operator()(const FlightKey& k) const { return Target::Hash{}(k.first) ^ std::hash<uint64_t>{}(k.second); }
  };
  void complete(const FlightKey& key, const CdnResult& result, int64_t ttl_ms);
  static LinkRequest origin_request(const CdnRequest& request);
  CdnResult origin_result(const CdnRequest& request, const LinkResponse& resp, int64_t sent);  // and records it
  void record(const CdnRequest& request, const CdnResult& result) { record(request, result, request.weight); }
  void record(const CdnRequest& request, const CdnResult& result, int64_t weight);
  std::optional<CdnResult> filter(const CdnRequest& request);
  void poll_timeline();
  void poll_feed();
  void purge(const std::string& stream, int64_t from, int64_t to);
  void store(Target target, const CdnResult& result, int64_t ttl_ms, const CdnRequest& request,
             int64_t filled);
  int64_t fills_for(Entry& e, int64_t weight) const;  // the caches a hit of `weight` finds empty
  void fill_upstream(const CdnRequest& request, int64_t caches);

  World& w_;
  std::string name_;
  std::string tier_;
  CdnNode* parent_;
  std::vector<OriginLink*> origins_;
  int64_t multiplicity_;
  const CdnFeatures& features_;
  bool stopped_ = false;

  std::unordered_map<Target, Entry, Target::Hash> cache_;
  std::deque<Target> cache_order_;  // insertion order, for the size bound
  struct Waiter {
    CdnRequest request;
    Done done;
    bool held;  // waited at this node for the segment to be due
  };
  std::unordered_map<FlightKey, std::vector<Waiter>, FlightKeyHash> in_flight_;
  std::unordered_map<Target, Timeline, Target::Hash> timeline_;  // by stream
  int64_t feed_since_ = 0;
  uint64_t request_seq_ = 0;  // keys of uncollapsed upstream requests
  uint64_t fill_seq_ = 0;     // spreads fills over origins_
};

class ViewerCohortActor {
 public:
  // Viewers are spread evenly over `edges`, in groups: a group is one request stream
  // standing for `weight` viewers with the same skew/offset, so event counts stay
  // bounded however many viewers a cohort has.
  ViewerCohortActor(World& world, const ViewerCohort& spec, std::vector<CdnNode*> edges, int groups_per_edge);
  void start();
  void stop() { stopped_ = true; }

 private:
  struct Group {
    CdnNode* edge = nullptr;
    int64_t weight = 1;
    int64_t skew_ms = 0;     // live/early: ask this much before (+) or after (-) due
    int64_t offset_segments = 0;  // dvr
    int64_t join_ms = 0;
    int64_t leave_ms = 0;
  };
  void schedule(size_t group, size_t stream_index, int64_t n);
  void request(size_t group, size_t stream_index, int64_t n, int attempt, int64_t first_sent_ms);

  World& w_;
  const ViewerCohort& spec_;
  std::vector<CdnNode*> edges_;
  std::vector<Group> groups_;
  std::vector<size_t> streams_;  // indexes into the scenario's streams
  std::vector<Target> stream_names_;  // by the scenario's stream index
  Target class_;                      // the cohort's request class
  Target background_;
  Rng rng_;
  bool stopped_ = false;
};

}  // namespace liveorigin::sim
