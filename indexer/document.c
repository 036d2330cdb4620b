/*
 * document.c - implements document.h: the checks a document must pass
 * (ks_doc_validate), its analysis into positioned terms (ks_doc_analyze)
 * and the stored JSON of a document given without one
 * (ks_doc_default_json).
 *
 * Invariants: title positions come first, and text positions continue
 * after a gap of one past the title's last position (per field), so no
 * phrase spans title and text; positions never wrap (KS_ELIMIT instead).
 * The default JSON escapes '"', '\\' and control characters only, so
 * valid UTF-8 in stays valid UTF-8 out.
 */
#include "document.h"

#include <string.h>

#include "ks_buf.h"

static int oom(ks_err *err) { return ks_err_set(err, KS_ENOMEM, "[idx][add] out of memory"); }

/* ks_doc_analyze: title, then text, with positions continuing after a gap
 * of one so that no phrase spans the two. */
typedef struct doc_pass {
  ks_tok_cb cb;                   /* the caller's callback */
  void *ctx;
  ks_err *err;
  uint32_t pos_base[KS_NFIELDS];  /* added to the analyzer's positions */
  uint32_t pos_max[KS_NFIELDS];
  int any[KS_NFIELDS];
} doc_pass;

static int doc_pass_cb(void *ctx, const ks_token *t) {
  doc_pass *a = ctx;
  ks_token u = *t;
  u.pos = a->pos_base[t->field] + t->pos;
  if (u.pos < a->pos_base[t->field])
    return ks_err_set(a->err, KS_ELIMIT, "[idx][analyze] more than 2^32 positions");
  if (!a->any[t->field] || u.pos > a->pos_max[t->field]) a->pos_max[t->field] = u.pos;
  a->any[t->field] = 1;
  return a->cb(a->ctx, &u);
}

/* Contract: document.h. */
int ks_doc_analyze(ks_tok *tok, const ks_doc *d, ks_tok_cb cb, void *ctx, ks_err *err) {
  doc_pass a;
  memset(&a, 0, sizeof a);
  a.cb = cb;
  a.ctx = ctx;
  a.err = err;
  int rc = KS_OK;
  if (d->title && d->title_len) {
    rc = ks_tok_run(tok, KS_TOK_DOCUMENT, d->title, d->title_len, doc_pass_cb, &a, err);
    for (int f = 0; f < KS_NFIELDS && !rc; f++)
      if (a.any[f]) a.pos_base[f] = a.pos_max[f] + 2;
  }
  if (!rc) rc = ks_tok_run(tok, KS_TOK_DOCUMENT, d->text, d->text_len, doc_pass_cb, &a, err);
  return rc;
}

static int contains_nul(const char *s, size_t n) { return n && memchr(s, 0, n) != NULL; }

/* Build {"id":...,"title":...,"text":...} for documents given without JSON. */
static int json_escape(ks_buf *b, const char *s, size_t n) {
  static const char hex[] = "0123456789abcdef";
  int rc = ks_buf_put_u8(b, '"');
  for (size_t i = 0; i < n && !rc; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\') {
      rc = ks_buf_put_u8(b, '\\');
      if (!rc) rc = ks_buf_put_u8(b, c);
    } else if (c < 0x20) {
      char e[7] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15], 0};
      rc = ks_buf_append(b, e, 6);
    } else {
      rc = ks_buf_put_u8(b, c);
    }
  }
  if (!rc) rc = ks_buf_put_u8(b, '"');
  return rc;
}

/* {"id":...,"title":...,"text":...} appended to b. KS_OK or KS_ENOMEM. */
static int default_json(ks_buf *b, const ks_doc *d) {
  int rc = ks_buf_append(b, "{\"id\":", 6);
  if (!rc) rc = json_escape(b, d->id, d->id_len);
  if (!rc) rc = ks_buf_append(b, ",\"title\":", 9);
  if (!rc) rc = json_escape(b, d->title ? d->title : "", d->title ? d->title_len : 0);
  if (!rc) rc = ks_buf_append(b, ",\"text\":", 8);
  if (!rc) rc = json_escape(b, d->text, d->text_len);
  if (!rc) rc = ks_buf_put_u8(b, '}');
  return rc;
}

/* Contract: document.h. */
int ks_doc_default_json(const ks_doc *d, char **json, size_t *len, ks_err *err) {
  ks_buf b = KS_BUF_INIT;
  *json = NULL;
  if (default_json(&b, d) || ks_buf_put_u8(&b, 0)) {
    ks_buf_free(&b);
    return oom(err);
  }
  *json = (char *)b.data;
  if (len) *len = b.len - 1;
  return KS_OK;
}

/* Contract: document.h. */
int ks_doc_validate_id(const char *id, size_t len, ks_err *err) {
  size_t bad;
  if (!id || len == 0) return ks_err_set(err, KS_EINPUT, "empty id");
  if (len > KS_MAX_ID_BYTES)
    return ks_err_set(err, KS_EINPUT, "id is longer than %d bytes", KS_MAX_ID_BYTES);
  if (contains_nul(id, len)) return ks_err_set(err, KS_EINPUT, "id contains a NUL byte");
  if (!ks_utf8_valid(id, len, &bad))
    return ks_err_set(err, KS_EUTF8, "invalid UTF-8 in id at byte %zu", bad);
  return KS_OK;
}

/* Contract: document.h. */
int ks_doc_validate(const ks_doc *d, size_t max_doc_bytes, ks_err *err) {
  size_t bad;
  if (!d->id || d->id_len == 0)
    return ks_err_set(err, KS_EINPUT, "document has no id");
  if (d->id_len > KS_MAX_ID_BYTES)
    return ks_err_set(err, KS_EINPUT, "id is longer than %d bytes", KS_MAX_ID_BYTES);
  if (!d->text)
    return ks_err_set(err, KS_EINPUT, "document has no text");
  if (d->text_len == 0)
    return ks_err_set(err, KS_EINPUT, "empty document (text is empty)");
  if (d->text_len + d->title_len > max_doc_bytes)
    return ks_err_set(err, KS_ELIMIT, "document too large (%zu bytes; limit %zu)",
                      d->text_len + d->title_len, max_doc_bytes);
  if (contains_nul(d->id, d->id_len) || contains_nul(d->title, d->title_len) ||
      contains_nul(d->text, d->text_len))
    return ks_err_set(err, KS_EINPUT, "document contains a NUL byte");
  if (!ks_utf8_valid(d->id, d->id_len, &bad))
    return ks_err_set(err, KS_EUTF8, "invalid UTF-8 in id at byte %zu", bad);
  if (d->title && !ks_utf8_valid(d->title, d->title_len, &bad))
    return ks_err_set(err, KS_EUTF8, "invalid UTF-8 in title at byte %zu", bad);
  if (!ks_utf8_valid(d->text, d->text_len, &bad))
    return ks_err_set(err, KS_EUTF8, "invalid UTF-8 in text at byte %zu", bad);
  return KS_OK;
}
