"""_analyze.py - kosearch.analyze: the terms the Korean analyzer makes of a
text (ks_tok_*, kosearch/tok.h), as `kosearch analyze --json` prints them.

A ks_tok is for one thread at a time, and creating one costs a few
microseconds, so every call creates its own: analyze() is safe from any
thread. Offsets: the C analyzer reports byte offsets into the UTF-8 text
(the CLI prints those); Term.start and Term.end are converted to indexes
into the Python str, so text[t.start:t.end] == t.source.
"""
from typing import NamedTuple

from ._errors import check, error_for, invalid
from ._lib import ffi, lib

KINDS = {lib.KS_KIND_SURFACE: "surface", lib.KS_KIND_STEM: "stem",
         lib.KS_KIND_BIGRAM: "bigram", lib.KS_KIND_COUNTER: "counter"}
FIELDS = {lib.KS_FIELD_WORD: "word", lib.KS_FIELD_BIGRAM: "bigram"}


class Term(NamedTuple):
    """One analyzed term: position in its field (`pos`), word-field
    position of the word it came from (`word`), kind ("surface", "stem",
    "bigram", "counter"), field ("word" or "bigram"), the term, the word
    of the text it came from (`source`) and that word's span in the text
    (str indexes)."""
    pos: int
    word: int
    kind: str
    field: str
    term: str
    source: str
    start: int
    end: int


@ffi.callback("int(void *, const ks_token *)")
def _on_token(ctx, tok):
    # An exception here would be printed and swallowed by cffi (returning
    # 0): keep the callback to plain copies, nothing can raise.
    ffi.from_handle(ctx).append((tok.pos, tok.word, tok.kind, tok.field,
                                 ffi.unpack(tok.term, tok.len), tok.start, tok.end))
    return 0


def analyze(text, query=False, *, stems=True, bigrams=True, min_stem=1):
    """The analyzer's terms for `text` (str) in order (surface before its
    stem before its bigrams), as a list of Term. query=True analyzes the
    text as the free words of a query (question words such as 무엇 give no
    term; `kosearch analyze --query`). stems, bigrams, min_stem: analyzer
    options (ks_tok_config). Raises InvalidUTF8, ICUError, NoMemory."""
    if not isinstance(text, str):
        raise TypeError("text must be str, not %s" % type(text).__name__)
    if isinstance(min_stem, bool) or not isinstance(min_stem, int) or not 0 <= min_stem < 2**31:
        raise invalid("analyze", "min_stem must be a non-negative integer (got %r)" % (min_stem,))
    data = text.encode("utf-8")
    cfg = ffi.new("ks_tok_config *")
    lib.ks_tok_config_default(cfg)
    cfg.stems, cfg.bigrams, cfg.min_stem = int(bool(stems)), int(bool(bigrams)), min_stem
    out = ffi.new("ks_tok **")
    err = ffi.new("ks_err *")
    check(lib.ks_tok_new(cfg, out, err), err)
    tok = ffi.gc(out[0], lib.ks_tok_free)
    raw = []
    try:
        rc = lib.ks_tok_run(tok, lib.KS_TOK_QUERY if query else lib.KS_TOK_DOCUMENT, data,
                            len(data), _on_token, ffi.new_handle(raw), err)
    finally:
        ffi.release(tok)
    if rc != lib.KS_OK:
        raise error_for(rc, err)
    # byte offset -> str index: count the UTF-8 lead bytes before it
    char_at = [0] * (len(data) + 1)
    n = 0
    for i, byte in enumerate(data):
        char_at[i] = n
        if byte & 0xC0 != 0x80:
            n += 1
    char_at[len(data)] = n
    terms = []
    for pos, word, kind, field, term, start, end in raw:
        s, e = char_at[start], char_at[end]
        terms.append(Term(pos, word, KINDS.get(kind, str(kind)), FIELDS.get(field, str(field)),
                          term.decode("utf-8"), text[s:e], s, e))
    return terms
