/*
 * kosearch.h - the whole public C API of kosearch in one include.
 *
 *   ks_error.h  return codes, ks_err, ks_strerror
 *   ks_tok.h    the Korean analyzer
 *   ks_idx.h    building an index (ks_writer_*)
 *   ks_input.h  reading corpora (JSON Lines, .gz, .txt, directories)
 *   ks_srch.h   opening an index and searching (ks_index_*, ks_search)
 */
#ifndef KOSEARCH_H
#define KOSEARCH_H
#include "ks_error.h"
#include "ks_tok.h"
#include "ks_idx.h"
#include "ks_input.h"
#include "ks_srch.h"
#endif
