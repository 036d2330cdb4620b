/*
 * kosearch/input.h - reading corpora for indexing (public, stable API).
 *
 * Accepted inputs (docs/input.md):
 *   - JSON Lines, plain or gzip-compressed (detected by the gzip magic, not
 *     the name): one object per line with "text" (string, required),
 *     "id" (string or integer; default "<file name>:<line>"), "title"
 *     (string, default ""), and any other fields (stored verbatim).
 *     Blank lines are ignored.
 *   - A plain text file (*.txt): one document; id = the path relative to the
 *     directory given on the command line (or the file name), title = its
 *     first non-empty line, text = the whole file.
 *   - A directory: every *.txt, *.jsonl, *.jsonl.gz, *.json, *.ndjson file
 *     below it, in byte order of relative path.
 *   - "-": standard input, read as JSON Lines (gzip detected).
 *
 * Bad records never stop the reader: ks_input_next returns KS_EINPUT or
 * KS_EUTF8 with a message naming the file and line, and the next call
 * continues with the following record.
 */
#ifndef KOSEARCH_INPUT_H
#define KOSEARCH_INPUT_H

#include <stddef.h>
#include <stdint.h>

#include "kosearch/error.h"
#include "kosearch/writer.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ks_input ks_input;

/* Open `path` (file, directory or "-"). Returns KS_OK, KS_EIO (cannot
 * open/read; err names the path), KS_EINVAL (no usable files in a
 * directory), KS_ENOMEM. On failure *out = NULL. */
KS_API int ks_input_open(const char *path, ks_input **out, ks_err *err);

/* Next document. Returns
 *   KS_OK      doc filled; its pointers are valid until the next call;
 *   KS_DONE    end of input;
 *   KS_EINPUT  a malformed record (invalid JSON, "text" missing or not a
 *              string, NUL byte, bad id...), err.msg = "FILE:LINE: why";
 *              the record is skipped, calling again continues;
 *   KS_EUTF8   invalid UTF-8 in the record (same recovery);
 *   KS_EIO / KS_ENOMEM / KS_ECORRUPT (truncated or corrupt gzip): fatal.
 * Size and emptiness limits are the writer's job (ks_writer_add). */
KS_API int ks_input_next(ks_input *in, ks_doc *doc, ks_err *err);

/* "FILE:LINE" of the record last returned (borrowed, valid until the next
 * call). */
KS_API const char *ks_input_where(const ks_input *in);

/* Progress: bytes consumed so far and total bytes, both counted on disk
 * (compressed bytes for .gz). total is 0 when unknown (stdin). */
KS_API void ks_input_progress(const ks_input *in, uint64_t *done, uint64_t *total);

/* Directory members that look like inputs (by their name: *.txt,
 * *.jsonl, ...) but were skipped because they are not regular files: a
 * dangling symbolic link, a FIFO, a socket, a device. Returns how many;
 * ks_input_skipped(in, i) is the i-th as "PATH: why" (borrowed, valid
 * until ks_input_close; NULL when i is out of range). */
KS_API size_t ks_input_nskipped(const ks_input *in);
KS_API const char *ks_input_skipped(const ks_input *in, size_t i);

KS_API void ks_input_close(ks_input *in);  /* NULL allowed */

#ifdef __cplusplus
}
#endif
#endif /* KOSEARCH_INPUT_H */
