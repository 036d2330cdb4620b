/*
 * fuzz_record.c - libFuzzer target: one JSON Lines input record (or a few:
 * the input may hold newlines, or be gzip-compressed) through the public
 * corpus reader (kosearch/input.h). The bytes are written to a .jsonl file
 * on tmpfs and read with ks_input_open / ks_input_next until the end.
 * Checks the contract: only KS_OK, KS_DONE, KS_EINPUT, KS_EUTF8 or a
 * fatal KS_ECORRUPT/KS_EIO (a broken gzip stream); a delivered document
 * has an id, title and text that are valid UTF-8 without NUL bytes (their
 * lengths are the writer's business), and its stored form is a JSON object
 * holding an "id" and the same "text".
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "fuzz_util.h"
#include "kosearch/input.h"

static char *path;

static void check_text(const char *what, const char *p, size_t n) {
  if (n && !p) fz_fail("%s: NULL with length %zu", what, n);
  if (n && memchr(p, 0, n)) fz_fail("%s holds a NUL byte", what);
  if (n && !ks_utf8_valid(p, n, NULL)) fz_fail("%s is not valid UTF-8", what);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  path = fz_join(fz_tmpdir("record"), "input.jsonl");
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fz_write(path, data, size);
  ks_input *in = NULL;
  ks_err e;
  int rc = ks_input_open(path, &in, &e);
  if (rc) fz_fail("ks_input_open: %s", e.msg);
  for (int i = 0; i < 10000; i++) {
    ks_doc d;
    memset(&d, 0, sizeof d);
    rc = ks_input_next(in, &d, &e);
    if (rc == KS_DONE) break;
    if (rc == KS_EINPUT || rc == KS_EUTF8) {
      if (!ks_input_where(in)) fz_fail("no location for a bad record");
      continue;
    }
    if (rc == KS_ECORRUPT || rc == KS_EIO) break;
    if (rc != KS_OK) fz_fail("ks_input_next returned %d (%s)", rc, e.msg);
    if (!d.id) fz_fail("no id");
    check_text("id", d.id, d.id_len);
    check_text("title", d.title, d.title_len);
    check_text("text", d.text, d.text_len);
    if (!d.json || d.json_len == 0) fz_fail("no stored JSON");
    cJSON *j = cJSON_ParseWithLength(d.json, d.json_len);
    const cJSON *text = cJSON_GetObjectItemCaseSensitive(j, "text");
    if (!cJSON_IsObject(j) || !cJSON_GetObjectItemCaseSensitive(j, "id") ||
        !cJSON_IsString(text) || strlen(text->valuestring) != d.text_len ||
        memcmp(text->valuestring, d.text, d.text_len) != 0)
      fz_fail("stored JSON does not hold the record's id and text");
    cJSON_Delete(j);
  }
  ks_input_close(in);
  return 0;
}
