/*
 * kosearch/version.h - the library version and the export macro used by
 * every public header (public, stable API).
 *
 * KS_API marks the functions libkosearch exports. The library is built with
 * -fvisibility=hidden, so `nm -D libkosearch.so` lists exactly the functions
 * declared with KS_API in include/kosearch/ (tests/integration/
 * test_install.sh checks it). Users never define anything to use it.
 */
#ifndef KOSEARCH_VERSION_H
#define KOSEARCH_VERSION_H

#if defined(__GNUC__) || defined(__clang__)
#define KS_API __attribute__((visibility("default")))
#else
#define KS_API
#endif

#define KS_VERSION_MAJOR 0
#define KS_VERSION_MINOR 2
#define KS_VERSION_PATCH 0
#define KS_VERSION_STRING "0.2.0"
/* One number for compile-time comparisons: 10000 * major + 100 * minor +
 * patch (0.2.0 -> 200). */
#define KS_VERSION_NUMBER \
  (KS_VERSION_MAJOR * 10000 + KS_VERSION_MINOR * 100 + KS_VERSION_PATCH)

#ifdef __cplusplus
extern "C" {
#endif

/* The version of the library actually linked, as "MAJOR.MINOR.PATCH"
 * (static string, never NULL). Compare with KS_VERSION_STRING to detect a
 * header/library mismatch. */
KS_API const char *ks_version(void);

#ifdef __cplusplus
}
#endif
#endif /* KOSEARCH_VERSION_H */
