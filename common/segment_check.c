/*
 * segment_check.c - implements section segment_check.c of segment_int.h
 * (ks_segment_check): a full integrity walk of one segment (used by
 * `kosearch check`).
 *
 * Beyond the CRCs (ks_segment_open with verify_all, then every page
 * checksum), it re-derives from the data everything the readers trust:
 * dictionary order and block index keys, every postings list decoded end
 * to end (doc order and range, df, cf, the term-level and skip-entry
 * max_tf and min_len), positions (increasing, decodable), per-field
 * lengths equal to the sum of term frequencies in that field, field
 * totals, the id table, the id hash table and every stored document.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "deletions_int.h"
#include "dict_int.h"
#include "docstore_int.h"
#include "ks_alloc.h"
#include "lengths_int.h"
#include "postings_int.h"
#include "segment_priv.h"

static void say(void (*report)(void *, const char *), void *ctx, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void say(void (*report)(void *, const char *), void *ctx, const char *fmt, ...) {
  if (!report) return;
  char line[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  report(ctx, line);
}

static int check_term(const ks_segment *seg, const ks_dict_iter *it, uint64_t *sums,
                      ks_err *err) {
  ks_postings cur;
  int rc = ks_postings_open(&cur, seg, &it->info, err);
  if (rc) return rc;
  int field = (unsigned char)it->key[0];
  uint64_t df = 0, cf = 0;
  uint32_t block_max_tf = 0, block_min_len = UINT32_MAX, block = 0;
  uint32_t term_max_tf = 0, term_min_len = UINT32_MAX;
  while (!rc) {
    const uint32_t *pos;
    uint32_t n;
    uint32_t len = ks_segment_doclen(seg, cur.doc, field);
    rc = ks_postings_positions(&cur, &pos, &n, err);
    if (rc) break;
    for (uint32_t j = 0; j < n; j++)
      if ((j > 0 && pos[j] <= pos[j - 1])) {
        rc = ks_err_set(err, KS_ECORRUPT, "[check] %s: positions not increasing",
                        seg->pos.path);
        break;
      }
    if (rc) break;
    df++;
    cf += cur.tf;
    sums[(size_t)cur.doc * KS_NFIELDS + (size_t)field] += cur.tf;
    if (cur.tf > block_max_tf) block_max_tf = cur.tf;
    if (len < block_min_len) block_min_len = len;
    if (cur.tf > term_max_tf) term_max_tf = cur.tf;
    if (len < term_min_len) term_min_len = len;
    uint32_t b = cur.block;
    int r = ks_postings_next(&cur, err);
    if (r == KS_DONE || cur.block != b) {
      ks_skip_entry e;
      ks_postings_skip(&cur, block, &e);
      if (e.max_tf != block_max_tf || e.min_len != block_min_len) {
        rc = ks_err_set(err, KS_ECORRUPT, "[check] %s: skip entry %u has wrong "
                        "score bounds", seg->doc.path, block);
        break;
      }
      block++;
      block_max_tf = 0;
      block_min_len = UINT32_MAX;
    }
    if (r == KS_DONE) break;
    rc = r;
  }
  ks_postings_close(&cur);
  if (!rc && (term_max_tf != it->info.max_tf || term_min_len != it->info.min_len))
    rc = ks_err_set(err, KS_ECORRUPT, "[check] %s: term %llu: score bounds do not match "
                    "its postings", seg->tid.path, (unsigned long long)it->index);
  if (!rc && (df != it->info.df || cf != it->info.cf))
    rc = ks_err_set(err, KS_ECORRUPT, "[check] %s: term %llu: df/cf do not match its "
                    "postings", seg->tid.path, (unsigned long long)it->index);
  return rc;
}

/* The id table fills the id area exactly, and the id hash table holds
 * every document exactly once, sorted by (hash, document), each with the
 * hash of its id. */
static int check_id_tables(const ks_segment *seg, ks_err *err) {
  if (ks_load_u32(seg->sto_idoffs + 4 * (size_t)seg->ndocs) != seg->sto_ids_len)
    return ks_err_set(err, KS_ECORRUPT, "[check] %s: the id offsets do not fill the "
                      "id area", seg->sto.path);
  uint8_t *seen = ks_calloc((size_t)seg->ndocs / 8 + 1, 1);
  if (!seen) return ks_err_set(err, KS_ENOMEM, "[check] out of memory");
  int rc = KS_OK;
  uint64_t prev_hash = 0;
  uint32_t prev_doc = 0;
  for (uint32_t i = 0; i < seg->ndocs && !rc; i++) {
    const uint8_t *e = seg->sto_hash + (size_t)i * KS_STO_HASH_ENTRY;
    uint64_t h = ks_load_u64(e);
    uint32_t d = ks_load_u32(e + 8);
    const char *id;
    size_t il;
    if (d >= seg->ndocs || (seen[d >> 3] >> (d & 7) & 1)) {
      rc = ks_err_set(err, KS_ECORRUPT, "[check] %s: id hash entry %u: document %u "
                      "out of range or listed twice", seg->sto.path, i, d);
    } else if (i > 0 && (h < prev_hash || (h == prev_hash && d <= prev_doc))) {
      rc = ks_err_set(err, KS_ECORRUPT, "[check] %s: id hash table out of order at "
                      "entry %u", seg->sto.path, i);
    } else if ((rc = ks_segment_doc_id(seg, d, &id, &il, err)) == KS_OK &&
               ks_id_hash(id, il) != h) {
      rc = ks_err_set(err, KS_ECORRUPT, "[check] %s: id hash entry %u does not match "
                      "the id of document %u", seg->sto.path, i, d);
    }
    if (!rc) seen[d >> 3] |= (uint8_t)(1u << (d & 7));
    prev_hash = h;
    prev_doc = d;
  }
  ks_free(seen);
  return rc;
}

/* Contract: segment_int.h. */
int ks_segment_check(const ks_segment *seg,
                     void (*report)(void *ctx, const char *line), void *ctx,
                     ks_err *err) {
  const ks_map *maps[] = {&seg->tid, &seg->doc, &seg->pos, &seg->len, &seg->sto, &seg->del};
  for (size_t i = 0; i < sizeof maps / sizeof *maps; i++) {
    if (maps[i]->data && !ks_map_crc_ok(maps[i]))
      return ks_err_set(err, KS_ECORRUPT, "[check] %s: checksum mismatch", maps[i]->path);
    /* The page checksums too: what the readers go by. */
    int r = ks_map_verify_all(maps[i], err);
    if (r) return r;
  }
  say(report, ctx, "segment %06u: checksums ok", seg->segno);

  uint64_t *sums = ks_calloc((size_t)seg->ndocs * KS_NFIELDS + 1, sizeof *sums);
  if (!sums) return ks_err_set(err, KS_ENOMEM, "[check] out of memory");
  ks_dict_iter it;
  ks_dict_iter_init(&it, seg);
  int rc = KS_OK;
  uint64_t nterms = 0, npost = 0;
  uint64_t expect_doc = 0, expect_pos = 0;
  while (!rc) {
    int r = ks_dict_iter_next(&it, err);
    if (r == KS_DONE) break;
    if (r) { rc = r; break; }
    if ((unsigned char)it.key[0] >= KS_NFIELDS || it.keylen < 2) {
      rc = ks_err_set(err, KS_ECORRUPT, "[check] %s: term %llu has an unknown field",
                      seg->tid.path, (unsigned long long)it.index);
      break;
    }
    if (nterms == 0 && (it.info.doc_offset != KS_FILE_HEADER ||
                        it.info.pos_offset != KS_FILE_HEADER)) {
      rc = ks_err_set(err, KS_ECORRUPT, "[check] %s: first term does not start the data",
                      seg->doc.path);
      break;
    }
    if ((it.index - 1) % KS_TID_TERMS_PER_BLOCK == 0) {
      const uint8_t *e = seg->tid_index + (it.index - 1) / KS_TID_TERMS_PER_BLOCK * KS_TID_INDEX_ENTRY;
      uint32_t ko = ks_load_u32(e + 24), kl = ks_load_u32(e + 28);
      if (kl != it.keylen || memcmp(seg->tid_keys + ko, it.key, kl)) {
        rc = ks_err_set(err, KS_ECORRUPT, "[check] %s: block index key mismatch",
                        seg->tid.path);
        break;
      }
    }
    expect_doc = it.info.doc_offset + it.info.doc_length;
    expect_pos = it.info.pos_offset + it.info.pos_length;
    rc = check_term(seg, &it, sums, err);
    nterms++;
    npost += it.info.df;
  }
  if (!rc && nterms != seg->nterms)
    rc = ks_err_set(err, KS_ECORRUPT, "[check] %s: %llu terms found, %llu declared",
                    seg->tid.path, (unsigned long long)nterms, (unsigned long long)seg->nterms);
  if (!rc && nterms > 0 && (expect_doc != seg->doc_end || expect_pos != seg->pos_end))
    rc = ks_err_set(err, KS_ECORRUPT, "[check] %s: postings do not fill the data area",
                    seg->doc.path);
  for (uint32_t d = 0; !rc && d < seg->ndocs; d++)
    for (int f = 0; f < KS_NFIELDS; f++)
      if (sums[(size_t)d * KS_NFIELDS + f] != ks_segment_doclen(seg, d, f)) {
        rc = ks_err_set(err, KS_ECORRUPT, "[check] %s: document %u field %d length %u "
                        "differs from its postings (%llu)", seg->len.path, d, f,
                        ks_segment_doclen(seg, d, f),
                        (unsigned long long)sums[(size_t)d * KS_NFIELDS + f]);
        break;
      }
  uint64_t totals[KS_NFIELDS] = {0};
  for (uint32_t d = 0; !rc && d < seg->ndocs; d++)
    for (int f = 0; f < KS_NFIELDS; f++)
      if (!ks_segment_is_deleted(seg, d)) totals[f] += ks_segment_doclen(seg, d, f);
  for (int f = 0; !rc && f < KS_NFIELDS; f++)
    if (totals[f] != seg->total[f])
      rc = ks_err_set(err, KS_ECORRUPT, "[check] %s: field %d total %llu differs from "
                      "the sum of document lengths %llu", seg->len.path, f,
                      (unsigned long long)seg->total[f], (unsigned long long)totals[f]);
  ks_free(sums);
  if (!rc) say(report, ctx, "segment %06u: %llu terms, %llu postings ok", seg->segno,
               (unsigned long long)nterms, (unsigned long long)npost);
  /* Stored documents: each decompresses, is a JSON object, has an id. */
  ks_sto_iter si;
  ks_sto_iter_init(&si, seg);
  uint32_t nstored = 0;
  while (!rc) {
    const char *json;
    size_t jl;
    int r = ks_sto_iter_next(&si, &json, &jl, err);
    if (r == KS_DONE) break;
    if (r) { rc = r; break; }
    const char *id;
    size_t il;
    if (jl < 2 || json[0] != '{' || json[jl - 1] != '}')
      rc = ks_err_set(err, KS_ECORRUPT, "[check] %s: document %u is not a JSON object",
                      seg->sto.path, nstored);
    else if ((rc = ks_segment_doc_id(seg, nstored, &id, &il, err)) == KS_OK && il == 0)
      rc = ks_err_set(err, KS_ECORRUPT, "[check] %s: document %u has an empty id",
                      seg->sto.path, nstored);
    nstored++;
  }
  ks_sto_iter_free(&si);
  if (!rc && nstored != seg->ndocs)
    rc = ks_err_set(err, KS_ECORRUPT, "[check] %s: %u stored documents, %u expected",
                    seg->sto.path, nstored, seg->ndocs);
  if (!rc) rc = check_id_tables(seg, err);
  if (!rc) say(report, ctx, "segment %06u: %u stored documents ok", seg->segno, nstored);
  return rc;
}
