/*
 * kosearch.h - the public C API of kosearch in one include (stable).
 *
 *   kosearch/version.h  KS_VERSION_*, ks_version, the KS_API export macro
 *   kosearch/error.h    return codes, ks_err, ks_strerror, ks_mem_free
 *   kosearch/tok.h      the Korean analyzer (ks_tok_*)
 *   kosearch/writer.h   building an index of any backend (ks_writer_*)
 *   kosearch/input.h    reading corpora: JSON Lines, .gz, .txt, directories
 *                       (ks_input_*)
 *   kosearch/search.h   search options, algorithms, rankings, clause
 *                       operators (ks_search_opts)
 *   kosearch/db.h       opening an index of any backend, searching, stored
 *                       documents, statistics, checking (ks_db_*)
 *   kosearch/results.h  the hits of a search (ks_results_*)
 *
 * Not included here: kosearch/xapian.h (the optional Xapian backend, in
 * libkosearch-xapian) and kosearch/backend.h (unstable backend interface).
 * The whole API is described in docs/api.md.
 */
#ifndef KOSEARCH_H
#define KOSEARCH_H
#include "kosearch/version.h"
#include "kosearch/error.h"
#include "kosearch/tok.h"
#include "kosearch/writer.h"
#include "kosearch/input.h"
#include "kosearch/search.h"
#include "kosearch/results.h"
#include "kosearch/db.h"
#endif
