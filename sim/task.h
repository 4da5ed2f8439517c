// A timer's callback: a move-only `void()` callable that keeps captures of up to
// kInline bytes in place. The virtual-time engine holds a million of these at once and
// moves each one twice (into its coarse bucket, then its millisecond bucket), so their
// size is its memory traffic: 48 bytes where std::function plus its heap copy of a
// capture that is not trivially copyable costs 32 + an allocation. Move-only, so a
// capture may own what it carries (a request, a unique_ptr) without a shared_ptr.
#pragma once

#include <cstddef>
#include <cstring>
#include <new>
#include <type_traits>
#include <utility>

namespace liveorigin::sim {

class Task {
 public:
  static constexpr size_t kInline = 40;

  Task() = default;

  template <class F>
    requires(!std::is_same_v<std::decay_t<F>, Task> && std::is_invocable_r_v<void, std::decay_t<F>&>)
  Task(F&& f) {  // NOLINT: implicit, so any lambda is a Task
    using Fn = std::decay_t<F>;
    if constexpr (sizeof(Fn) <= kInline && alignof(Fn) <= alignof(void*) && std::is_nothrow_move_constructible_v<Fn>) {
      new (buf_) Fn(std::forward<F>(f));
      ops_ = &kInlineOps<Fn>;
    } else {
      *reinterpret_cast<Fn**>(buf_) = new Fn(std::forward<F>(f));
      ops_ = &kHeapOps<Fn>;
    }
  }

  Task(Task&& o) noexcept : ops_(o.ops_) {
    if (ops_ != nullptr) relocate_from(o);
  }
  Task& operator=(Task&& o) noexcept {
    if (this != &o) {
      reset();
      ops_ = o.ops_;
      if (ops_ != nullptr) relocate_from(o);
    }
    return *this;
  }
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;
  ~Task() { reset(); }

  explicit operator bool() const { return ops_ != nullptr; }
  void operator()() { ops_->invoke(buf_); }

 private:
  struct Ops {
    void (*invoke)(void*);
    // Null when the bytes may simply be copied (trivially copyable captures, and the
    // pointer of a heap-held one): the common case moves without an indirect call.
    void (*move)(void* to, void* from);
    void (*destroy)(void*);  // null: nothing to do
  };

  template <class Fn>
  static constexpr Ops kInlineOps{
      [](void* p) { (*static_cast<Fn*>(p))(); },
      std::is_trivially_copyable_v<Fn> ? nullptr
                                       : +[](void* to, void* from) {
                                           new (to) Fn(std::move(*static_cast<Fn*>(from)));
                                           static_cast<Fn*>(from)->~Fn();
                                         },
      std::is_trivially_destructible_v<Fn> ? nullptr : +[](void* p) { static_cast<Fn*>(p)->~Fn(); },
  };
  template <class Fn>
  static constexpr Ops kHeapOps{
      [](void* p) { (**static_cast<Fn**>(p))(); },
      nullptr,
      [](void* p) { delete *static_cast<Fn**>(p); },
  };

  void relocate_from(Task& o) noexcept {
    if (ops_->move == nullptr) {
      std::memcpy(buf_, o.buf_, kInline);
    } else {
      ops_->move(buf_, o.buf_);
    }
    o.ops_ = nullptr;
  }
  void reset() noexcept {
    if (ops_ != nullptr && ops_->destroy != nullptr) ops_->destroy(buf_);
    ops_ = nullptr;
  }

  const Ops* ops_ = nullptr;
  alignas(void*) unsigned char buf_[kInline];
};

}  // namespace liveorigin::sim
