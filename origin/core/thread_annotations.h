// Clang's thread-safety annotations (-Wthread-safety), as LevelDB's
// port/thread_annotations.h has them: on clang they let the compiler check that
// guarded state is touched only under its lock; on other compilers they vanish.
// `scripts/test` runs the clang check over the core (tests/CMakeLists.txt,
// Core.ThreadSafetyAnnotations).
#pragma once

#if defined(__clang__)
#define LO_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define LO_THREAD_ANNOTATION(x)
#endif

#define CAPABILITY(x) LO_THREAD_ANNOTATION(capability(x))
#define SCOPED_CAPABILITY LO_THREAD_ANNOTATION(scoped_lockable)
#define GUARDED_BY(x) LO_THREAD_ANNOTATION(guarded_by(x))
#define PT_GUARDED_BY(x) LO_THREAD_ANNOTATION(pt_guarded_by(x))
#define REQUIRES(...) LO_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define EXCLUDES(...) LO_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
#define ACQUIRE(...) LO_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define RELEASE(...) LO_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define ASSERT_CAPABILITY(x) LO_THREAD_ANNOTATION(assert_capability(x))
#define RETURN_CAPABILITY(x) LO_THREAD_ANNOTATION(lock_returned(x))
#define NO_THREAD_SAFETY_ANALYSIS LO_THREAD_ANNOTATION(no_thread_safety_analysis)
