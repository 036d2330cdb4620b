/*
 * input.c - implements kosearch/input.h: reads corpora (JSON Lines, gzip, .txt,
 * directories, stdin) and turns each record into a ks_doc.
 *
 * Reading: every file goes through zlib's gzread, which decompresses gzip
 * data (detected by its magic bytes, whatever the file is called) and passes
 * other files through unchanged. Bytes land in one growable buffer; a JSON
 * line is returned as a pointer into it, so an ordinary line is copied once
 * (gzread -> buffer). The buffer grows for long lines up to max_line
 * (KS_INPUT_MAX_LINE, 256 MiB); a longer line is reported as KS_EINPUT and
 * skipped up to its newline without ever being held whole in memory.
 *
 * Checks per JSON line, in this order (the first failure is reported):
 *   too long -> raw NUL byte -> invalid UTF-8 -> JSON syntax -> not an
 *   object -> "\u0000" escape -> "text" missing / not a string -> "id" not a
 *   string or integer -> "title" not a string.
 * Valid UTF-8 in the line implies valid UTF-8 in every decoded string: cJSON
 * rejects unpaired surrogate escapes, and we reject \u0000, so decoded
 * strings are NUL-free and strlen gives their length.
 *
 * Invariants:
 *   - files[] is sorted bytewise by `name` for directory inputs;
 *   - buf[start, end) holds unread bytes; buf[start, scan) is known to
 *     contain no '\n'; start <= scan <= end <= cap;
 *   - end - start <= max_line whenever more data is read (fill);
 *   - a fatal error (KS_EIO, KS_ENOMEM, KS_ECORRUPT) is sticky.
 *
 * cJSON allocates with malloc: its allocation hooks are process-global, so
 * the library does not redirect them (that would change the caller's cJSON).
 */
#include "kosearch/input.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "file_int.h" /* ks_path */
#include "input_int.h"
#include "ks_alloc.h"
#include "ks_buf.h"
#include "kosearch/tok.h"

#define READ_CHUNK ((size_t)256 << 10) /* least free room asked of gzread */
#define GZ_BUFFER (256u << 10)         /* zlib's own input buffer */
#define TITLE_MAX 1024                 /* .txt titles are cut to this many bytes */
#define NEAR_BYTES 24                  /* context shown after a JSON error */

typedef struct input_file {
  char *path;     /* path to open ("-" for stdin); used in messages */
  char *name;     /* relative path / file name; used for default ids */
  int is_txt;     /* 1: the whole file is one document */
  uint64_t size;  /* bytes on disk when opened (0: unknown) */
} input_file;

struct ks_input {
  input_file *files;   /* inputs in reading order */
  size_t nfiles;       /* entries in files */
  size_t files_cap;    /* allocated entries */
  size_t cur;          /* file being read; nfiles at the end */
  int fatal;           /* sticky fatal rc, 0 if none */
  gzFile gz;           /* handle of files[cur] while it is open */
  char *buf;           /* read buffer */
  size_t cap;          /* bytes allocated in buf */
  size_t start;        /* first unread byte */
  size_t end;          /* end of valid bytes */
  size_t scan;         /* buf[start, scan) has no '\n' */
  int eof;             /* gzread reached the end of files[cur] */
  uint64_t line;       /* lines consumed in files[cur] */
  size_t col0;         /* bytes cut from the start of the line (BOM, spaces) */
  uint64_t raw_read;   /* decompressed bytes read from files[cur] */
  uint64_t done_bytes; /* on-disk bytes of finished files */
  uint64_t total;      /* sum of files[].size */
  size_t max_line;     /* longest accepted line / .txt file */
  cJSON *json;         /* parse tree of the last record (doc points in it) */
  ks_buf idbuf;        /* default id "<name>:<line>", NUL-terminated */
  ks_buf scratch;      /* stored JSON with the default id added */
  char idnum[40];      /* decimal text of an integer id */
  char title[TITLE_MAX + 1]; /* title of the last .txt document */
  char *where;         /* "FILE:LINE" of the last record */
  size_t where_cap;    /* bytes allocated in where */
  char **skipped;      /* "PATH: why" of skipped directory members */
  size_t nskipped;
};

/* ------------------------------------------------------------------ */
/* file list                                                            */

static int add_skipped(ks_input *in, const char *path, const char *why);

static int add_file(ks_input *in, const char *path, const char *name,
                    int is_txt, uint64_t size) {
  if (in->nfiles == in->files_cap) {
    size_t ncap = in->files_cap ? in->files_cap * 2 : 16;
    input_file *f = ks_realloc(in->files, ncap * sizeof *f);
    if (!f) return KS_ENOMEM;
    in->files = f;
    in->files_cap = ncap;
  }
  input_file *f = &in->files[in->nfiles];
  f->path = ks_strndup(path, strlen(path));
  f->name = ks_strndup(name, strlen(name));
  if (!f->path || !f->name) {
    ks_free(f->path);
    ks_free(f->name);
    return KS_ENOMEM;
  }
  f->is_txt = is_txt;
  f->size = size;
  in->nfiles++;
  in->total += size;
  return KS_OK;
}

static int ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  return n > m && strcasecmp(s + n - m, suffix) == 0;
}

/* 1: read as .txt, 0: read as JSON Lines, -1: not an input (directories). */
static int dir_member_kind(const char *name) {
  if (ends_with(name, ".txt")) return 1;
  if (ends_with(name, ".jsonl") || ends_with(name, ".jsonl.gz") ||
      ends_with(name, ".json") || ends_with(name, ".ndjson"))
    return 0;
  return -1;
}

static char *join_path(const char *a, const char *b) {
  size_t na = strlen(a), nb = strlen(b);
  char *p = ks_malloc(na + nb + 2);
  if (!p) return NULL;
  memcpy(p, a, na);
  p[na] = '/';
  memcpy(p + na + 1, b, nb + 1);
  return p;
}

/* Collect input files below root/rel (rel "" = root itself). Hidden entries
 * (".name") are skipped; symbolic links to files are followed, symbolic
 * links to directories are not (no loops). */
static int list_dir(ks_input *in, const char *root, const char *rel,
                    ks_err *err) {
  char *dirpath = rel[0] ? join_path(root, rel) : ks_strndup(root, strlen(root));
  if (!dirpath) return ks_err_set(err, KS_ENOMEM, "[input][open] out of memory");
  DIR *d = opendir(dirpath);
  if (!d) {
    int e = errno;
    ks_err_set(err, KS_EIO, "[input][open] %s: %s", dirpath, strerror(e));
    ks_free(dirpath);
    return KS_EIO;
  }
  int rc = KS_OK;
  struct dirent *de;
  for (;;) {
    errno = 0;
    de = readdir(d);
    if (!de) {
      if (errno) {
        int e = errno;
        rc = ks_err_set(err, KS_EIO, "[input][open] %s: %s", dirpath, strerror(e));
      }
      break;
    }
    if (de->d_name[0] == '.') continue;
    char *child_rel = rel[0] ? join_path(rel, de->d_name)
                             : ks_strndup(de->d_name, strlen(de->d_name));
    char *child = child_rel ? join_path(root, child_rel) : NULL;
    if (!child_rel || !child) {
      ks_free(child_rel);
      ks_free(child);
      rc = ks_err_set(err, KS_ENOMEM, "[input][open] out of memory");
      break;
    }
    struct stat st;
    int ok = lstat(child, &st) == 0;
    int is_link = ok && S_ISLNK(st.st_mode);
    if (is_link) ok = stat(child, &st) == 0; /* dangling link: skipped below */
    int kind = dir_member_kind(de->d_name);
    const char *why = NULL; /* an input by its name that cannot be read */
    if (!ok) {
      if (!is_link) {
        int e = errno;
        rc = ks_err_set(err, KS_EIO, "[input][open] %s: %s", child, strerror(e));
      } else if (kind >= 0) {
        why = "dangling symbolic link";
      }
    } else if (S_ISDIR(st.st_mode)) {
      if (!is_link) rc = list_dir(in, root, child_rel, err);
    } else if (S_ISREG(st.st_mode)) {
      if (kind >= 0 && add_file(in, child, child_rel, kind, (uint64_t)st.st_size))
        rc = ks_err_set(err, KS_ENOMEM, "[input][open] out of memory");
    } else if (kind >= 0) {
      why = S_ISFIFO(st.st_mode) ? "a FIFO, not a regular file"
            : S_ISSOCK(st.st_mode) ? "a socket, not a regular file"
                                   : "a device, not a regular file";
    }
    if (why && !rc && add_skipped(in, child, why))
      rc = ks_err_set(err, KS_ENOMEM, "[input][open] out of memory");
    ks_free(child_rel);
    ks_free(child);
    if (rc) break;
  }
  closedir(d);
  ks_free(dirpath);
  return rc;
}

/* The deepest nesting of arrays and objects in the first n bytes of a
 * JSON text (brackets inside strings do not count). */
static size_t json_depth(const char *s, size_t n) {
  size_t depth = 0, max = 0;
  int in_str = 0;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (in_str) {
      if (c == '\\') i++;
      else if (c == '"') in_str = 0;
    } else if (c == '"') {
      in_str = 1;
    } else if (c == '[' || c == '{') {
      if (++depth > max) max = depth;
    } else if ((c == ']' || c == '}') && depth > 0) {
      depth--;
    }
  }
  return max;
}

/* Record a directory member that was skipped. 0 or -1 (out of memory). */
static int add_skipped(ks_input *in, const char *path, const char *why) {
  char **p = ks_realloc(in->skipped, (in->nskipped + 1) * sizeof *p);
  if (!p) return -1;
  in->skipped = p;
  char *line = ks_path("%s: %s (skipped)", path, why);
  if (!line) return -1;
  in->skipped[in->nskipped++] = line;
  return 0;
}

size_t ks_input_nskipped(const ks_input *in) { return in ? in->nskipped : 0; }

const char *ks_input_skipped(const ks_input *in, size_t i) {
  return in && i < in->nskipped ? in->skipped[i] : NULL;
}

static int cmp_files(const void *a, const void *b) {
  return strcmp(((const input_file *)a)->name, ((const input_file *)b)->name);
}

void ks_input_set_max_line(ks_input *in, size_t max_line) {
  if (in) in->max_line = max_line < 16 ? 16 : max_line;
}

/* ks_input_open: see kosearch/input.h. A regular file is opened once here to
 * check that it is readable; the actual reading starts at the first
 * ks_input_next. */
int ks_input_open(const char *path, ks_input **out, ks_err *err) {
  if (out) *out = NULL;
  if (!path || !path[0] || !out)
    return ks_err_set(err, KS_EINVAL, "[input][open] empty input path");
  ks_input *in = ks_calloc(1, sizeof *in);
  if (!in) return ks_err_set(err, KS_ENOMEM, "[input][open] out of memory");
  in->max_line = KS_INPUT_MAX_LINE;
  int rc = KS_OK;
  struct stat st;
  if (strcmp(path, "-") == 0) {
    uint64_t size = 0;
    if (fstat(STDIN_FILENO, &st) == 0 && S_ISREG(st.st_mode)) {
      off_t pos = lseek(STDIN_FILENO, 0, SEEK_CUR);
      if (pos >= 0 && pos <= st.st_size) size = (uint64_t)(st.st_size - pos);
    }
    if (add_file(in, "<stdin>", "stdin", 0, size))
      rc = ks_err_set(err, KS_ENOMEM, "[input][open] out of memory");
  } else if (stat(path, &st) != 0) {
    int e = errno;
    rc = ks_err_set(err, KS_EIO, "[input][open] %s: %s", path, strerror(e));
  } else if (S_ISDIR(st.st_mode)) {
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/') n--; /* "dir/" -> "dir" */
    char *root = ks_strndup(path, n);
    if (!root) {
      rc = ks_err_set(err, KS_ENOMEM, "[input][open] out of memory");
    } else {
      /* the root "/" would give "//x"; harmless, and nobody indexes / */
      rc = list_dir(in, root, "", err);
      ks_free(root);
    }
    if (rc == KS_OK && in->nfiles == 0)
      rc = ks_err_set(err, KS_EINVAL,
                      "[input][open] %s: no *.txt, *.jsonl, *.jsonl.gz, *.json or "
                      "*.ndjson files in this directory",
                      path);
    if (rc == KS_OK && in->nfiles > 1)
      qsort(in->files, in->nfiles, sizeof *in->files, cmp_files);
  } else {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      int e = errno;
      rc = ks_err_set(err, KS_EIO, "[input][open] %s: %s", path, strerror(e));
    } else {
      close(fd);
      const char *base = strrchr(path, '/');
      base = base ? base + 1 : path;
      uint64_t size = S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0;
      if (add_file(in, path, base, ends_with(path, ".txt"), size))
        rc = ks_err_set(err, KS_ENOMEM, "[input][open] out of memory");
    }
  }
  if (rc) {
    ks_input_close(in);
    return rc;
  }
  *out = in;
  return KS_OK;
}

void ks_input_close(ks_input *in) {
  if (!in) return;
  if (in->gz) gzclose_r(in->gz);
  for (size_t i = 0; i < in->nfiles; i++) {
    ks_free(in->files[i].path);
    ks_free(in->files[i].name);
  }
  ks_free(in->files);
  ks_free(in->buf);
  cJSON_Delete(in->json);
  ks_buf_free(&in->scratch);
  ks_buf_free(&in->idbuf);
  ks_free(in->where);
  for (size_t i = 0; i < in->nskipped; i++) ks_free(in->skipped[i]);
  ks_free(in->skipped);
  ks_free(in);
}

/* ------------------------------------------------------------------ */
/* reading                                                              */

static int open_current(ks_input *in, ks_err *err) {
  input_file *f = &in->files[in->cur];
  int fd = strcmp(f->path, "<stdin>") == 0 ? dup(STDIN_FILENO)
                                            : open(f->path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    return ks_err_set(err, KS_EIO, "[input][read] %s: %s", f->path, strerror(e));
  }
  in->gz = gzdopen(fd, "rb");
  if (!in->gz) {
    close(fd);
    return ks_err_set(err, KS_ENOMEM, "[input][read] %s: cannot start zlib", f->path);
  }
  gzbuffer(in->gz, GZ_BUFFER);
  in->start = in->end = in->scan = 0;
  in->eof = 0;
  in->line = 0;
  in->raw_read = 0;
  return KS_OK;
}

static void close_current(ks_input *in) {
  if (in->gz) gzclose_r(in->gz);
  in->gz = NULL;
  in->done_bytes += in->files[in->cur].size ? in->files[in->cur].size : in->raw_read;
  in->cur++;
}

/* Map a zlib stream error to our codes (called when gzread returned <= 0). */
static int gz_failure(ks_input *in, ks_err *err) {
  int zerr = Z_OK;
  const char *zmsg = gzerror(in->gz, &zerr);
  const char *path = in->files[in->cur].path;
  switch (zerr) {
    case Z_OK:
    case Z_STREAM_END:
      return KS_OK;
    case Z_BUF_ERROR:
      return ks_err_set(err, KS_ECORRUPT,
                        "[input][read] %s: unexpected end of gzip data (truncated file?)",
                        path);
    case Z_ERRNO: {
      int e = errno;
      return ks_err_set(err, KS_EIO, "[input][read] %s: %s", path, strerror(e));
    }
    case Z_MEM_ERROR:
      return ks_err_set(err, KS_ENOMEM, "[input][read] %s: out of memory", path);
    default:
      return ks_err_set(err, KS_ECORRUPT, "[input][read] %s: corrupt gzip data (%s)",
                        path, zmsg ? zmsg : "zlib error");
  }
}

/* Read more bytes into buf[end, ...). Compacts and grows buf as needed.
 * Sets eof at the end of the file. */
static int fill(ks_input *in, ks_err *err) {
  if (in->cap - in->end < READ_CHUNK && in->start > 0) {
    memmove(in->buf, in->buf + in->start, in->end - in->start);
    in->end -= in->start;
    in->scan -= in->start;
    in->start = 0;
  }
  if (in->cap - in->end < READ_CHUNK) {
    size_t limit = in->max_line + 2 * READ_CHUNK;
    size_t ncap = in->cap ? in->cap * 2 : 4 * READ_CHUNK;
    if (ncap > limit) ncap = limit;
    if (ncap < in->end + READ_CHUNK) ncap = in->end + READ_CHUNK;
    char *nb = ks_realloc(in->buf, ncap);
    if (!nb)
      return ks_err_set(err, KS_ENOMEM, "[input][read] %s: out of memory (line of %zu bytes)",
                        in->files[in->cur].path, in->end - in->start);
    in->buf = nb;
    in->cap = ncap;
  }
  size_t room = in->cap - in->end;
  if (room > (1u << 30)) room = 1u << 30;
  int n = gzread(in->gz, in->buf + in->end, (unsigned)room);
  if (n < 0) {
    int rc = gz_failure(in, err);
    return rc ? rc : ks_err_set(err, KS_EIO, "[input][read] %s: read failed",
                                in->files[in->cur].path);
  }
  if (n == 0) {
    int rc = gz_failure(in, err);
    if (rc) return rc;
    in->eof = 1;
    return KS_OK;
  }
  in->end += (size_t)n;
  in->raw_read += (uint64_t)n;
  return KS_OK;
}

/* Discard the over-long line in buf and everything up to its newline. */
static int skip_long_line(ks_input *in, ks_err *err) {
  in->start = in->end = in->scan = 0;
  for (;;) {
    int rc = fill(in, err);
    if (rc) return rc;
    if (in->eof) {
      in->start = in->end = in->scan = 0;
      return KS_OK;
    }
    char *nl = memchr(in->buf, '\n', in->end);
    if (nl) {
      in->start = in->scan = (size_t)(nl + 1 - in->buf);
      return KS_OK;
    }
    in->start = in->end = in->scan = 0;
  }
}

/* Next line of files[cur] without its '\n'. KS_OK, KS_DONE (end of file),
 * KS_ELIMIT (line longer than max_line, consumed), or a fatal rc. */
static int next_line(ks_input *in, const char **line, size_t *len, ks_err *err) {
  for (;;) {
    char *nl = in->scan < in->end
                   ? memchr(in->buf + in->scan, '\n', in->end - in->scan)
                   : NULL;
    if (nl || (in->eof && in->start < in->end)) {
      size_t stop = nl ? (size_t)(nl - in->buf) : in->end;
      *line = in->buf + in->start;
      *len = stop - in->start;
      in->start = in->scan = nl ? stop + 1 : stop;
      in->line++;
      return *len > in->max_line ? KS_ELIMIT : KS_OK;
    }
    if (in->eof) return KS_DONE;
    in->scan = in->end;
    if (in->end - in->start > in->max_line) {
      in->line++;
      int rc = skip_long_line(in, err);
      return rc ? rc : KS_ELIMIT;
    }
    int rc = fill(in, err);
    if (rc) return rc;
  }
}

static int set_where(ks_input *in, uint64_t line) {
  const char *path = in->files[in->cur].path;
  size_t need = strlen(path) + 32;
  if (need > in->where_cap) {
    char *w = ks_realloc(in->where, need);
    if (!w) return KS_ENOMEM;
    in->where = w;
    in->where_cap = need;
  }
  snprintf(in->where, in->where_cap, "%s:%llu", path, (unsigned long long)line);
  return KS_OK;
}

static int is_space(unsigned char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

static void trim(const char **p, size_t *n) {
  const char *s = *p;
  size_t len = *n;
  while (len && is_space((unsigned char)s[0])) s++, len--;
  while (len && is_space((unsigned char)s[len - 1])) len--;
  *p = s;
  *n = len;
}

static int has_bom(const char *p, size_t n) {
  return n >= 3 && (unsigned char)p[0] == 0xEF && (unsigned char)p[1] == 0xBB &&
         (unsigned char)p[2] == 0xBF;
}

static const char *json_type_name(const cJSON *j) {
  if (cJSON_IsString(j)) return "a string";
  if (cJSON_IsNumber(j)) return "a number";
  if (cJSON_IsBool(j)) return "a boolean";
  if (cJSON_IsNull(j)) return "null";
  if (cJSON_IsArray(j)) return "an array";
  if (cJSON_IsObject(j)) return "an object";
  return "not a JSON value";
}

/* Printable excerpt of line[at, ...) for error messages: at most NEAR_BYTES
 * bytes, cut at a UTF-8 boundary (the line is valid UTF-8), control bytes
 * shown as '?'. */
static void near_text(const char *line, size_t len, size_t at, char *out,
                      size_t outsz) {
  while (at < len && ((unsigned char)line[at] & 0xC0) == 0x80) at++;
  size_t n = len - at < NEAR_BYTES ? len - at : NEAR_BYTES;
  while (n > 0 && at + n < len && ((unsigned char)line[at + n] & 0xC0) == 0x80) n--;
  if (n >= outsz) n = outsz - 1;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)line[at + i];
    out[i] = (c < 0x20 || c == 0x7F) ? '?' : (char)c;
  }
  out[n] = '\0';
}

/* Byte offset of the first "\u0000" escape in a syntactically valid JSON
 * text, or (size_t)-1. Escapes only occur inside strings, and a backslash
 * always starts an escape there, so skipping two bytes per backslash keeps
 * us aligned ("\\u0000" is a backslash followed by the text u0000). */
static size_t find_nul_escape(const char *p, size_t n) {
  size_t i = 0;
  while (i < n) {
    const char *bs = memchr(p + i, '\\', n - i);
    if (!bs) break;
    i = (size_t)(bs - p);
    if (i + 5 < n && p[i + 1] == 'u' && memcmp(p + i + 2, "0000", 4) == 0) return i;
    i += 2;
  }
  return (size_t)-1;
}

/* Offset of the first control character (U+0001..U+001F) outside the
 * strings of a line that cJSON accepted, other than JSON's whitespace
 * (tab, LF, CR; a space is not a control character), or (size_t)-1.
 * cJSON skips every byte up to 0x20 between tokens, but JSON does not
 * allow them there, and the stored document is the line itself (or, with
 * the default id, the line after its first byte, which must then be the
 * object's '{'). Control characters inside strings are cJSON's and the
 * stored text's business. */
static size_t find_stray_control(const char *p, size_t n) {
  int in_string = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)p[i];
    if (in_string) {
      if (c == '\\')
        i++; /* the escaped character (cJSON checked the escape) */
      else if (c == '"')
        in_string = 0;
    } else if (c == '"') {
      in_string = 1;
    } else if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
      return i;
    }
  }
  return (size_t)-1;
}

/* Append s as a JSON string literal (s is valid UTF-8 or at least
 * NUL-free; bytes >= 0x80 are copied). */
static int put_json_string(ks_buf *b, const char *s) {
  int rc = ks_buf_put_u8(b, '"');
  for (; *s && rc == KS_OK; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') {
      char esc[2] = {'\\', (char)c};
      rc = ks_buf_append(b, esc, 2);
    } else if (c < 0x20) {
      char esc[8];
      snprintf(esc, sizeof esc, "\\u%04x", c);
      rc = ks_buf_append(b, esc, 6);
    } else {
      rc = ks_buf_put_u8(b, c);
    }
  }
  return rc ? rc : ks_buf_put_u8(b, '"');
}

#define REC_ERR(rc, ...) record_error(in, err, rc, __VA_ARGS__)

static int record_error(ks_input *in, ks_err *err, int rc, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* err = "FILE:LINE: <fmt>" using the current where string. */
static int record_error(ks_input *in, ks_err *err, int rc, const char *fmt, ...) {
  if (err) {
    char detail[900];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    ks_err_set(err, rc, "%s: %s", in->where ? in->where : "?", detail);
  }
  return rc;
}

/* Turn one trimmed, non-empty JSON line into *doc. */
static int parse_record(ks_input *in, const char *line, size_t len,
                        ks_doc *doc, ks_err *err) {
  const char *z = memchr(line, '\0', len);
  if (z)
    return REC_ERR(KS_EINPUT, "NUL byte at byte column %zu",
                   in->col0 + (size_t)(z - line) + 1);
  /* cJSON skips a byte order mark at the start of what it parses; only
   * the first line of a file may have one (stripped before this), and
   * the stored document must be the JSON object itself. */
  if (has_bom(line, len))
    return REC_ERR(KS_EINPUT, "invalid JSON (byte order mark at byte column %zu; only a "
                   "file's first line may start with one)", in->col0 + 1);
  size_t bad = 0;
  if (!ks_utf8_valid(line, len, &bad))
    return REC_ERR(KS_EUTF8, "invalid UTF-8 at byte column %zu (byte 0x%02X)",
                   in->col0 + bad + 1, (unsigned)(unsigned char)line[bad]);
  const char *stop = NULL;
  in->json = cJSON_ParseWithLengthOpts(line, len, &stop, 0);
  if (!in->json) {
    size_t at = stop && stop >= line && stop <= line + len ? (size_t)(stop - line) : 0;
    char near[NEAR_BYTES * 2 + 1];
    near_text(line, len, at, near, sizeof near);
    if (json_depth(line, at < len ? at + 1 : len) > CJSON_NESTING_LIMIT)
      return REC_ERR(KS_EINPUT, "JSON nested deeper than %d levels (the limit) at byte "
                     "column %zu", CJSON_NESTING_LIMIT, in->col0 + at + 1);
    if (at >= len)
      return REC_ERR(KS_EINPUT, "invalid JSON (unexpected end of line at byte column %zu)",
                     in->col0 + len + 1);
    return REC_ERR(KS_EINPUT, "invalid JSON (syntax error at byte column %zu near '%s')",
                   in->col0 + at + 1, near);
  }
  size_t after = (size_t)(stop - line);
  while (after < len && is_space((unsigned char)line[after])) after++;
  if (after < len)
    return REC_ERR(KS_EINPUT,
                   "invalid JSON (unexpected text after the object at byte column %zu)",
                   in->col0 + after + 1);
  size_t ctl = find_stray_control(line, len);
  if (ctl != (size_t)-1)
    return REC_ERR(KS_EINPUT, "invalid JSON (control character 0x%02X at byte column %zu)",
                   (unsigned)(unsigned char)line[ctl], in->col0 + ctl + 1);
  if (!cJSON_IsObject(in->json))
    return REC_ERR(KS_EINPUT, "not a JSON object (the line is %s)",
                   json_type_name(in->json));
  size_t nul = find_nul_escape(line, len);
  if (nul != (size_t)-1)
    return REC_ERR(KS_EINPUT, "NUL character (\\u0000) at byte column %zu",
                   in->col0 + nul + 1);

  const cJSON *text = cJSON_GetObjectItemCaseSensitive(in->json, "text");
  if (!text) return REC_ERR(KS_EINPUT, "\"text\" is missing");
  if (!cJSON_IsString(text))
    return REC_ERR(KS_EINPUT, "\"text\" is not a string (it is %s)",
                   json_type_name(text));

  const cJSON *id = cJSON_GetObjectItemCaseSensitive(in->json, "id");
  const char *id_str;
  size_t id_len;
  if (!id) {
    id_str = NULL;
    id_len = 0;
  } else if (cJSON_IsString(id)) {
    id_str = id->valuestring;
    id_len = strlen(id_str);
  } else if (cJSON_IsNumber(id)) {
    double v = id->valuedouble;
    if (!isfinite(v) || floor(v) != v)
      return REC_ERR(KS_EINPUT, "\"id\" must be a string or an integer (it is a non-integer number)");
    /* A double holds every integer up to 2^53 - 1 exactly; 2^53 itself is
     * also what 2^53 + 1 parses to, so it is refused too: two ids must
     * never collapse into one (which would replace a document). */
    if (fabs(v) >= 9007199254740992.0)
      return REC_ERR(KS_EINPUT,
                     "\"id\" integer is outside -(2^53 - 1) .. 2^53 - 1, where every integer is "
                     "exact; write it as a string");
    snprintf(in->idnum, sizeof in->idnum, "%.0f", v == 0 ? 0.0 : v);
    id_str = in->idnum;
    id_len = strlen(id_str);
  } else {
    return REC_ERR(KS_EINPUT, "\"id\" must be a string or an integer (it is %s)",
                   json_type_name(id));
  }

  const cJSON *title = cJSON_GetObjectItemCaseSensitive(in->json, "title");
  if (title && !cJSON_IsString(title) && !cJSON_IsNull(title))
    return REC_ERR(KS_EINPUT, "\"title\" is not a string (it is %s)",
                   json_type_name(title));

  memset(doc, 0, sizeof *doc);
  doc->text = text->valuestring;
  doc->text_len = strlen(text->valuestring);
  if (title && cJSON_IsString(title)) {
    doc->title = title->valuestring;
    doc->title_len = strlen(title->valuestring);
  }
  if (id_str) {
    doc->id = id_str;
    doc->id_len = id_len;
    doc->json = line;
    doc->json_len = len;
    return KS_OK;
  }
  /* Default id "<name>:<line>". The stored JSON gets it as its first
   * member, so that it holds "id" like every other stored document:
   * {"id":"<default>", + the original line after its '{' (the object has a
   * "text" member, so it is not empty and the comma is right). */
  ks_buf *idb = &in->idbuf, *b = &in->scratch;
  char lineno[32];
  snprintf(lineno, sizeof lineno, ":%llu", (unsigned long long)in->line);
  const char *name = in->files[in->cur].name;
  ks_buf_reset(idb);
  ks_buf_reset(b);
  int rc = ks_buf_append(idb, name, strlen(name));
  if (!rc) rc = ks_buf_append(idb, lineno, strlen(lineno));
  if (!rc) rc = ks_buf_put_u8(idb, '\0');
  if (!rc) rc = ks_buf_append(b, "{\"id\":", 6);
  if (!rc) rc = put_json_string(b, (const char *)idb->data);
  if (!rc) rc = ks_buf_put_u8(b, ',');
  if (!rc) rc = ks_buf_append(b, line + 1, len - 1);
  if (rc) return ks_err_set(err, KS_ENOMEM, "[input][next] out of memory");
  doc->id = (const char *)idb->data;
  doc->id_len = idb->len - 1;
  doc->json = (const char *)b->data;
  doc->json_len = b->len;
  return KS_OK;
}

/* 1-based line and byte column of offset `at` in p[0, n). */
static void line_col(const char *p, size_t at, uint64_t *line, size_t *col) {
  uint64_t l = 1;
  size_t line_start = 0;
  for (size_t i = 0; i < at; i++)
    if (p[i] == '\n') l++, line_start = i + 1;
  *line = l;
  *col = at - line_start + 1;
}

/* Read files[cur] whole as one plain-text document. */
static int read_txt(ks_input *in, ks_doc *doc, ks_err *err) {
  const char *path = in->files[in->cur].path;
  int rc = set_where(in, 1);
  if (rc) return ks_err_set(err, KS_ENOMEM, "[input][next] out of memory");
  while (!in->eof) {
    if (in->end - in->start > in->max_line)
      return ks_err_set(err, KS_EINPUT, "%s:1: file is larger than %zu bytes (%zu MiB)",
                        path, in->max_line, in->max_line >> 20);
    rc = fill(in, err);
    if (rc) return rc;
  }
  const char *p = in->buf ? in->buf + in->start : "";
  size_t n = in->end - in->start;
  if (n > in->max_line)
    return ks_err_set(err, KS_EINPUT, "%s:1: file is larger than %zu bytes (%zu MiB)",
                      path, in->max_line, in->max_line >> 20);
  if (has_bom(p, n)) p += 3, n -= 3;
  uint64_t line;
  size_t col;
  const char *z = memchr(p, '\0', n);
  if (z) {
    line_col(p, (size_t)(z - p), &line, &col);
    return ks_err_set(err, KS_EINPUT, "%s:%llu: NUL byte at byte column %zu",
                      path, (unsigned long long)line, col);
  }
  size_t bad = 0;
  if (!ks_utf8_valid(p, n, &bad)) {
    line_col(p, bad, &line, &col);
    return ks_err_set(err, KS_EUTF8,
                      "%s:%llu: invalid UTF-8 at byte column %zu (byte 0x%02X)",
                      path, (unsigned long long)line, col,
                      (unsigned)(unsigned char)p[bad]);
  }
  /* title = first line that is not blank, trimmed, cut to TITLE_MAX bytes
   * at a character boundary */
  size_t tlen = 0;
  for (size_t i = 0; i < n;) {
    const char *nl = memchr(p + i, '\n', n - i);
    size_t stop = nl ? (size_t)(nl - p) : n;
    const char *t = p + i;
    size_t tl = stop - i;
    trim(&t, &tl);
    if (tl) {
      if (tl > TITLE_MAX) {
        tl = TITLE_MAX;
        while (tl > 0 && ((unsigned char)t[tl] & 0xC0) == 0x80) tl--;
      }
      memcpy(in->title, t, tl);
      tlen = tl;
      break;
    }
    i = stop + 1;
  }
  in->title[tlen] = '\0';
  memset(doc, 0, sizeof *doc);
  doc->id = in->files[in->cur].name;
  doc->id_len = strlen(doc->id);
  doc->title = in->title;
  doc->title_len = tlen;
  doc->text = p;
  doc->text_len = n;
  return KS_OK;
}

static int is_fatal(int rc) {
  return rc != KS_OK && rc != KS_DONE && rc != KS_EINPUT && rc != KS_EUTF8;
}

/* ks_input_next: see kosearch/input.h. */
int ks_input_next(ks_input *in, ks_doc *doc, ks_err *err) {
  if (!in || !doc) return ks_err_set(err, KS_EINVAL, "[input][next] NULL argument");
  if (in->fatal)
    return ks_err_set(err, in->fatal, "[input][next] the input failed earlier (%s)",
                      ks_strerror(in->fatal));
  cJSON_Delete(in->json);
  in->json = NULL;
  int rc;
  for (;;) {
    if (!in->gz) {
      if (in->cur >= in->nfiles) return KS_DONE;
      rc = open_current(in, err);
      if (rc) break;
    }
    if (in->files[in->cur].is_txt) {
      rc = read_txt(in, doc, err);
      if (is_fatal(rc)) break;
      /* the document's bytes stay in buf until the next call */
      if (in->gz) gzclose_r(in->gz);
      in->gz = NULL;
      in->done_bytes += in->files[in->cur].size;
      in->cur++;
      return rc;
    }
    const char *line;
    size_t len;
    rc = next_line(in, &line, &len, err);
    if (rc == KS_DONE) {
      close_current(in);
      continue;
    }
    if (rc == KS_ELIMIT) {
      if (set_where(in, in->line)) {
        rc = ks_err_set(err, KS_ENOMEM, "[input][next] out of memory");
        break;
      }
      return REC_ERR(KS_EINPUT, "line is longer than %zu bytes (%zu MiB)",
                     in->max_line, in->max_line >> 20);
    }
    if (rc) break;
    const char *raw = line;
    if (in->line == 1 && has_bom(line, len)) line += 3, len -= 3;
    trim(&line, &len);
    in->col0 = (size_t)(line - raw);
    if (len == 0) continue; /* blank line */
    if (set_where(in, in->line)) {
      rc = ks_err_set(err, KS_ENOMEM, "[input][next] out of memory");
      break;
    }
    rc = parse_record(in, line, len, doc, err);
    if (is_fatal(rc)) break;
    return rc;
  }
  in->fatal = rc;
  return rc;
}

const char *ks_input_where(const ks_input *in) {
  return in && in->where ? in->where : "";
}

void ks_input_progress(const ks_input *in, uint64_t *done, uint64_t *total) {
  uint64_t d = 0, t = 0;
  if (in) {
    d = in->done_bytes;
    t = in->total;
    if (in->gz) {
      z_off_t off = gzoffset(in->gz);
      d += off >= 0 ? (uint64_t)off : in->raw_read;
    }
    if (t && d > t) d = t;
  }
  if (done) *done = d;
  if (total) *total = t;
}
