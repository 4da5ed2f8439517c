// Callbacks of the virtual-time engine and the CDN model: move-only callables that keep
// captures up to a fixed size in place. The engine holds a million timers at once and
// moves each one twice (into its coarse bucket, then its millisecond bucket), so a
// timer's size is its memory traffic: a Task is 48 bytes, where std::function keeps in
// place only trivially copyable captures of up to 16 bytes and allocates for the rest
// (a lambda capturing a request, a shared_ptr, another callback). Move-only, so a
// capture may own what it carries without a shared_ptr.
#pragma once

#include <cstddef>
#include <cstring>
#include <new>
#include <type_traits>
#include <utility>

namespace liveorigin::sim {

template <class Signature, size_t Inline>
class InlineFunction;

template <class R, class... Args, size_t Inline>
class InlineFunction<R(Args...), Inline> {
 public:
  static constexpr size_t kInline = Inline;

  InlineFunction() = default;

  template <class F>
    requires(!std::is_same_v<std::decay_t<F>, InlineFunction> && std::is_invocable_r_v<R, std::decay_t<F>&, Args...>)
  InlineFunction(F&& f) {  // NOLINT: implicit, so any lambda converts
    using Fn = std::decay_t<F>;
    if constexpr (sizeof(Fn) <= kInline && alignof(Fn) <= alignof(void*) && std::is_nothrow_move_constructible_v<Fn>) {
      new (buf_) Fn(std::forward<F>(f));
      ops_ = &kInlineOps<Fn>;
    } else {
      *reinterpret_cast<Fn**>(buf_) = new Fn(std::forward<F>(f));
      ops_ = &kHeapOps<Fn>;
    }
  }

  InlineFunction(InlineFunction&& o) noexcept : ops_(o.ops_) {
    if (ops_ != nullptr) relocate_from(o);
  }
  InlineFunction& operator=(InlineFunction&& o) noexcept {
    if (this != &o) {
      reset();
      ops_ = o.ops_;
      if (ops_ != nullptr) relocate_from(o);
    }
    return *this;
  }
  InlineFunction(const InlineFunction&) = delete;
  InlineFunction& operator=(const InlineFunction&) = delete;
  ~InlineFunction() { reset(); }

  explicit operator bool() const { return ops_ != nullptr; }
  R operator()(Args... args) { return ops_->invoke(buf_, std::forward<Args>(args)...); }

 private:
  struct Ops {
    R (*invoke)(void*, Args&&...);
    // Null when the bytes may simply be copied (trivially copyable captures, and the
    // pointer of a heap-held one): the common case moves without an indirect call.
    void (*move)(void* to, void* from);
    void (*destroy)(void*);  // null: nothing to do
  };

  template <class Fn>
  static constexpr Ops kInlineOps{
      [](void* p, Args&&... args) -> R { return (*static_cast<Fn*>(p))(std::forward<Args>(args)...); },
      std::is_trivially_copyable_v<Fn> ? nullptr
                                       : +[](void* to, void* from) {
                                           new (to) Fn(std::move(*static_cast<Fn*>(from)));
                                           static_cast<Fn*>(from)->~Fn();
                                         },
      std::is_trivially_destructible_v<Fn> ? nullptr : +[](void* p) { static_cast<Fn*>(p)->~Fn(); },
  };
  template <class Fn>
  static constexpr Ops kHeapOps{
      [](void* p, Args&&... args) -> R { return (**static_cast<Fn**>(p))(std::forward<Args>(args)...); },
      nullptr,
      [](void* p) { delete *static_cast<Fn**>(p); },
  };

  void relocate_from(InlineFunction& o) noexcept {
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

// A timer's callback.
using Task = InlineFunction<void(), 40>;

}  // namespace liveorigin::sim
