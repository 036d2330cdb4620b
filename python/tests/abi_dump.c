/*
 * abi_dump.c - prints the size of every struct the Python package declares
 * in its cffi cdef (python/kosearch/_lib.py), and the offset of each of
 * their fields, as the C compiler lays them out from the installed
 * headers: "STRUCT FIELD OFFSET" lines and "STRUCT sizeof SIZE".
 * test_api.py compares them with cffi's ffi.sizeof / ffi.offsetof, so a
 * header change that the cdef does not follow fails a test instead of
 * corrupting memory. Built by tests/CMakeLists.txt; public headers only.
 */
#include <stddef.h>
#include <stdio.h>

#include "kosearch.h"

#define SIZE(s) printf(#s " sizeof %zu\n", sizeof(s))
#define OFF(s, f) printf(#s " " #f " %zu\n", offsetof(s, f))

int main(void) {
  SIZE(ks_err); OFF(ks_err, rc); OFF(ks_err, msg);
  SIZE(ks_token); OFF(ks_token, term); OFF(ks_token, len); OFF(ks_token, field);
  OFF(ks_token, kind); OFF(ks_token, pos); OFF(ks_token, word); OFF(ks_token, start);
  OFF(ks_token, end);
  SIZE(ks_tok_config); OFF(ks_tok_config, stems); OFF(ks_tok_config, bigrams);
  OFF(ks_tok_config, min_stem);
  SIZE(ks_search_opts); OFF(ks_search_opts, k); OFF(ks_search_opts, offset);
  OFF(ks_search_opts, k1); OFF(ks_search_opts, b); OFF(ks_search_opts, bigram_weight);
  OFF(ks_search_opts, algorithm); OFF(ks_search_opts, ranking);
  OFF(ks_search_opts, min_normlen); OFF(ks_search_opts, xapian_pruning);
  SIZE(ks_hit); OFF(ks_hit, id); OFF(ks_hit, id_len); OFF(ks_hit, score); OFF(ks_hit, rank);
  SIZE(ks_db_stats); OFF(ks_db_stats, backend); OFF(ks_db_stats, docs);
  OFF(ks_db_stats, deleted); OFF(ks_db_stats, terms); OFF(ks_db_stats, terms_word);
  OFF(ks_db_stats, terms_bigram); OFF(ks_db_stats, postings); OFF(ks_db_stats, field_total);
  OFF(ks_db_stats, total_length); OFF(ks_db_stats, avg_length); OFF(ks_db_stats, segments);
  OFF(ks_db_stats, shards); OFF(ks_db_stats, generation); OFF(ks_db_stats, bytes_tid);
  OFF(ks_db_stats, bytes_doc); OFF(ks_db_stats, bytes_pos); OFF(ks_db_stats, bytes_len);
  OFF(ks_db_stats, bytes_sto); OFF(ks_db_stats, bytes_del); OFF(ks_db_stats, bytes_manifest);
  OFF(ks_db_stats, bytes_total);
  SIZE(ks_doc); OFF(ks_doc, id); OFF(ks_doc, id_len); OFF(ks_doc, title);
  OFF(ks_doc, title_len); OFF(ks_doc, text); OFF(ks_doc, text_len); OFF(ks_doc, json);
  OFF(ks_doc, json_len);
  SIZE(ks_writer_opts); OFF(ks_writer_opts, backend); OFF(ks_writer_opts, shards);
  OFF(ks_writer_opts, mem_budget); OFF(ks_writer_opts, mode); OFF(ks_writer_opts, merge);
  OFF(ks_writer_opts, max_doc_bytes); OFF(ks_writer_opts, tok); OFF(ks_writer_opts, fsync);
  OFF(ks_writer_opts, threads);
  SIZE(ks_writer_stats); OFF(ks_writer_stats, docs_added); OFF(ks_writer_stats, docs_replaced);
  OFF(ks_writer_stats, docs_deleted); OFF(ks_writer_stats, docs_live);
  OFF(ks_writer_stats, bytes_in); OFF(ks_writer_stats, terms); OFF(ks_writer_stats, postings);
  OFF(ks_writer_stats, index_bytes); OFF(ks_writer_stats, segments_flushed);
  OFF(ks_writer_stats, segments); OFF(ks_writer_stats, merges);
  OFF(ks_writer_stats, merged_bytes); OFF(ks_writer_stats, generation);
  OFF(ks_writer_stats, mem_used);
  /* constants the cdef repeats */
  printf("const KS_MAX_HITS %u\n", (unsigned)KS_MAX_HITS);
  printf("const KS_MAX_ID_BYTES %u\n", (unsigned)KS_MAX_ID_BYTES);
  printf("const KS_WRITER_UPDATE %d\n", KS_WRITER_UPDATE);
  printf("const KS_WRITER_REPLACE %d\n", KS_WRITER_REPLACE);
  printf("const KS_ALGO_MAXSCORE %d\n", KS_ALGO_MAXSCORE);
  printf("const KS_ALGO_BMW %d\n", KS_ALGO_BMW);
  printf("const KS_ALGO_EXHAUSTIVE %d\n", KS_ALGO_EXHAUSTIVE);
  printf("const KS_RANK_DEFAULT %d\n", KS_RANK_DEFAULT);
  printf("const KS_RANK_BM25 %d\n", KS_RANK_BM25);
  printf("const KS_RANK_BM25_XAPIAN %d\n", KS_RANK_BM25_XAPIAN);
  printf("const KS_KIND_COUNTER %d\n", KS_KIND_COUNTER);
  printf("const KS_TOK_QUERY %d\n", KS_TOK_QUERY);
  printf("const KS_EUNSUPPORTED %d\n", KS_EUNSUPPORTED);
  printf("const KS_ELOCKED %d\n", KS_ELOCKED);
  return 0;
}
