// A mutex the thread-safety analysis knows about (std::mutex carries no annotations
// in libstdc++), and its scoped lock. Same cost as std::mutex and std::unique_lock.
#pragma once

#include <mutex>

#include "origin/core/thread_annotations.h"

namespace liveorigin {

class CAPABILITY("mutex") Mutex {
 public:
  void lock() ACQUIRE() { mu_.lock(); }
  void unlock() RELEASE() { mu_.unlock(); }
  // Tells the analysis a caller holds it (a proof object was passed in, see
  // Ledger::Writer); no check at run time.
  void assert_held() const ASSERT_CAPABILITY(this) {}

 private:
  std::mutex mu_;
};

// Holds `mu` for its scope; unlock() ends the critical section early.
class SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex& mu) ACQUIRE(mu) : mu_(mu) { mu_.lock(); }
  ~MutexLock() RELEASE() {
    if (held_) mu_.unlock();
  }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

  void unlock() RELEASE() {
    held_ = false;
    mu_.unlock();
  }

 private:
  Mutex& mu_;
  bool held_ = true;
};

}  // namespace liveorigin
