#!/usr/bin/env python3
"""corpus_tools.py - input preparation for benchmarks/run.sh (stdlib only).

  corpus_tools.py count IN
      Print the number of lines of IN (gzip or plain).
  corpus_tools.py prefix --percent P [--total N] IN OUT
      Write the first ceil(P% of the lines) of the JSON Lines file IN (gzip
      or plain) to OUT (plain); --total gives IN's line count (else it is
      counted). Prints "<lines written> <lines in IN>".
  corpus_tools.py derive-queries --count N IN OUT
      Write about N queries (qid<TAB>query<TAB>source id) taken from the
      texts of IN: records at a fixed stride, the first three words of each
      text, with the query syntax characters removed (double quotes
      anywhere, a leading + or - on a word), so that every query is a plain
      ranked OR of up to three words. Deterministic for a given IN and N.

Invariants: OUT is written to OUT.tmp and renamed, so an interrupted run
never leaves a truncated file behind under the final name; IN is read
line by line (the whole corpus never sits in memory).
"""
import argparse
import gzip
import json
import math
import os
import sys


def open_text(path):
    """IN as a text stream, decompressing gzip (detected by its magic)."""
    with open(path, "rb") as f:
        magic = f.read(2)
    if magic == b"\x1f\x8b":
        return gzip.open(path, "rt", encoding="utf-8", newline="\n")
    return open(path, "rt", encoding="utf-8", newline="\n")


def count_lines(path):
    n = 0
    with open_text(path) as f:
        for _ in f:
            n += 1
    return n


def cmd_count(args):
    print(count_lines(args.input))


def cmd_prefix(args):
    total = args.total if args.total is not None else count_lines(args.input)
    want = min(total, math.ceil(total * args.percent / 100.0))
    tmp = args.output + ".tmp"
    written = 0
    with open_text(args.input) as f, open(tmp, "w", encoding="utf-8", newline="\n") as o:
        for line in f:
            if written == want:
                break
            o.write(line)
            written += 1
    os.replace(tmp, args.output)
    print(written, total)


def query_words(text):
    """Up to three words of text, without query operators."""
    words = []
    for w in text.replace('"', " ").split():
        w = w.lstrip("+-")
        if w:
            words.append(w)
        if len(words) == 3:
            break
    return words


def cmd_derive(args):
    total = count_lines(args.input)
    stride = max(1, total // args.count)
    tmp = args.output + ".tmp"
    made = 0
    with open_text(args.input) as f, open(tmp, "w", encoding="utf-8", newline="\n") as o:
        for lineno, line in enumerate(f, 1):
            if (lineno - 1) % stride != stride // 2 or made == args.count:
                continue
            try:
                rec = json.loads(line)
            except ValueError as e:
                sys.exit("%s:%d: not JSON (%s)" % (args.input, lineno, e))
            words = query_words(str(rec.get("text", "")))
            if not words:
                continue
            made += 1
            o.write("%s-q%d\t%s\t%s\n" % (args.prefix, made, " ".join(words), rec.get("id", "")))
    if made == 0:
        os.unlink(tmp)
        sys.exit("%s: no query could be derived" % args.input)
    os.replace(tmp, args.output)
    print(made, total)


def main():
    p = argparse.ArgumentParser(description="input preparation for benchmarks/run.sh")
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("count", help="number of lines of a file")
    c.add_argument("input")
    c.set_defaults(func=cmd_count)
    a = sub.add_parser("prefix", help="first P%% of the lines of a JSON Lines file")
    a.add_argument("--percent", type=float, required=True)
    a.add_argument("--total", type=int, help="number of lines of IN, if known")
    a.add_argument("input")
    a.add_argument("output")
    a.set_defaults(func=cmd_prefix)
    d = sub.add_parser("derive-queries", help="queries from the texts of a corpus")
    d.add_argument("--count", type=int, default=1000)
    d.add_argument("--prefix", default="derived", help="query id prefix")
    d.add_argument("input")
    d.add_argument("output")
    d.set_defaults(func=cmd_derive)
    args = p.parse_args()
    if getattr(args, "percent", 50) <= 0 or getattr(args, "percent", 50) > 100:
        p.error("--percent must be in (0, 100]")
    if getattr(args, "count", 1) < 1:
        p.error("--count must be at least 1")
    args.func(args)


if __name__ == "__main__":
    main()
