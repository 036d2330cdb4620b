#!/usr/bin/env python3
"""report.py - summary.md and the SVG pictures of a benchmarks/run.sh run.

  report.py OUT_DIR

Reads OUT_DIR/results.jsonl (records written by run.sh: "index", "bench",
"meta") and the per-query latency files the bench records name, and writes
  OUT_DIR/summary.md           tables: indexing, latency vs Xapian, algorithms,
                               collection size, the issue's targets
  OUT_DIR/latency-cdf.svg      per-query latency CDF, ours vs Xapian (top-10,
                               1 thread, largest kowiki)
  OUT_DIR/latency-vs-size.svg  mean and p99 latency vs number of documents
                               (kowiki prefixes, top-10, 1 thread)
Standard library only; the SVG is written by hand (no plotting package).
Invariants: every figure shown comes from a record (nothing is re-measured);
the CDF is drawn from the same latencies that kosearch summarised.
"""
import json
import math
import os
import sys
from xml.sax.saxutils import escape

OURS_COLOR = "#1f5fa8"
THEIRS_COLOR = "#c8372d"

# Issue 4 targets: Lucene 8.7 + Nori reference figures (ms) and our goal (half).
LUCENE = {"mean_ms": 3.0, "p50_ms": 2.4, "p99_ms": 11.2}


# ---- loading -------------------------------------------------------------------

def load(out):
    recs = []
    path = os.path.join(out, "results.jsonl")
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if line.strip():
                try:
                    recs.append(json.loads(line))
                except ValueError as e:
                    sys.exit("%s:%d: not JSON (%s)" % (path, n, e))
    return recs


def latencies(out, rec):
    """(ours, theirs) per-query latencies in ms (rejected queries left out)."""
    ours, theirs = [], []
    with open(os.path.join(out, rec["latencies"]), encoding="utf-8") as f:
        header = f.readline().rstrip("\n").split("\t")
        io = header.index("ours_ms")
        it = header.index("theirs_ms") if "theirs_ms" in header else None
        for line in f:
            c = line.rstrip("\n").split("\t")
            if c[io] != "-":
                ours.append(float(c[io]))
            if it is not None and c[it] != "-":
                theirs.append(float(c[it]))
    return ours, theirs


# ---- formatting ------------------------------------------------------------------

def ms(v):
    if v is None:
        return "–"
    return "%.3f" % v if v < 10 else "%.1f" % v


def num(v, fmt="%.1f"):
    return "–" if v is None else fmt % v


def ratio(a, b):
    return a / b if a is not None and b else None


def engine_label(e):
    if e.get("backend") == "xapian":
        return "Xapian"
    return "native (%s)" % e.get("algorithm", "?")


def pick_cdf_run(benches):
    """The top-10, 1-thread vs-Xapian run on the largest kowiki with kowiki-tune."""
    best = None
    for b in benches:
        r = b["result"]
        if (b["kind"] == "vs-xapian" and b.get("scale_percent") and b["query_set"] == "kowiki-tune"
                and r["k"] == 10 and r["threads"] == 1):
            if best is None or b["scale_percent"] > best["scale_percent"]:
                best = b
    return best


def size_runs(benches):
    runs = [b for b in benches
            if b["kind"] == "vs-xapian" and b.get("scale_percent") and b["query_set"] == "kowiki-tune"
            and b["result"]["k"] == 10 and b["result"]["threads"] == 1]
    return sorted(runs, key=lambda b: b["result"]["ours"]["docs"])


# ---- summary.md --------------------------------------------------------------------

def summary(out, recs):
    meta = next((r for r in recs if r["record"] == "meta"), {})
    idx = [r for r in recs if r["record"] == "index"]
    benches = [r for r in recs if r["record"] == "bench"]
    first = benches[0]["result"] if benches else {}
    quick = meta.get("mode") == "quick"
    L = []
    L.append("# kosearch benchmark%s" % (" (quick mode: small inputs)" if quick else ""))
    L.append("")
    L.append("Written by `benchmarks/run.sh%s` (see `benchmarks/README.md`); every figure below "
             "is in `results.jsonl`." % (" --quick" if quick else ""))
    L.append("")
    L.append("- run: %s to %s (%.0f s in all), load average at start %s, at end %s"
             % (meta.get("started", "?"), meta.get("finished", "?"), meta.get("total_s", 0),
                meta.get("loadavg_start", "?"), meta.get("loadavg_end", "?")))
    if first:
        L.append("- machine: %s, %d cores" % (first["machine"]["cpu"], first["machine"]["cores"]))
        L.append("- build: commit `%s`, %s, gcc %s, flags `%s`"
                 % (first["commit"], first["build_type"], first["compiler"], first["flags"]))
        head = meta.get("source_head", "unknown")
        if head not in ("unknown", first["commit"]):
            L.append("- **warning**: the binary records commit `%s` but the source tree is at `%s` "
                     "(cmake reads the commit at configure time: re-run `scripts/build.sh`)"
                     % (first["commit"], head))
    L.append("- every bench run: %s untimed pass(es), then %s timed pass(es) over the queries; "
             "latency = analysis + parsing + search + fetching the top-k ids, per query; "
             "ours and Xapian interleaved query by query in one process"
             % (meta.get("warmup", "?"), meta.get("repeat", "?")))
    if quick:
        L.append("- **quick mode**: the corpora are small, so these figures say nothing about "
                 "the issue's targets (which are for the full kowiki-sample)")
    L.append("")

    L.append("## Indexing")
    L.append("")
    L.append("MB = 10^6 bytes of title+text (what the analyzer reads). *wall* is the whole "
             "`kosearch index` process; *MB/s* is kosearch's own figure (reading, analysis, "
             "writing, merge; not process start). Peak RSS is the process's maximum resident "
             "set size; size is `du -sb` of the index directory.")
    L.append("")
    L.append("| corpus | backend | documents | title+text MB | wall s | MB/s | peak RSS MB | index MB | index / text |")
    L.append("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in idx:
        s = r["summary"]
        text_mb = s["text_bytes"] / 1e6
        name = r["corpus"] + (" (reused)" if r.get("reused") else "")
        L.append("| %s | %s | %d | %.1f | %.1f | %.1f | %.0f | %.1f | %.2f |"
                 % (name, r["backend"], s["documents_live"], text_mb, r["wall_s"],
                    s["text_mb_per_s"], s["peak_rss_bytes"] / 1e6, r["du_bytes"] / 1e6,
                    r["du_bytes"] / 1e6 / text_mb if text_mb else 0))
    L.append("")

    L.append("## Query latency: native vs Xapian")
    L.append("")
    L.append("Times in ms; QPS = threads × 1000 / mean. *ratio* = native / Xapian "
             "(below 1: native is faster).")
    L.append("")
    L.append("| run | documents | queries | k | threads | engine | mean | p50 | p95 | p99 | max | QPS |")
    L.append("|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|")
    for b in (b for b in benches if b["kind"] == "vs-xapian"):
        r = b["result"]
        for who in ("ours", "theirs"):
            e = r[who]
            L.append("| %s | %d | %s × %d | %d | %d | %s | %s | %s | %s | %s | %s | %s |"
                     % (b["run"] if who == "ours" else "", e["docs"], b["query_set"], r["queries"],
                        r["k"], r["threads"], engine_label(e), ms(e["mean_ms"]), ms(e["p50_ms"]),
                        ms(e["p95_ms"]), ms(e["p99_ms"]), ms(e["max_ms"]), num(e["qps"], "%.0f")))
        q = r.get("ratio", {})
        L.append("| | | | | | *ratio* | %s | %s | %s | %s | %s | %s |"
                 % tuple(num(q.get(f), "%.3f") for f in
                         ("mean_ms", "p50_ms", "p95_ms", "p99_ms", "max_ms", "qps")))
    L.append("")

    algo = [b for b in benches if b["kind"] == "algorithm"]
    if algo:
        L.append("## Top-k algorithms (native, same index)")
        L.append("")
        L.append("| run | documents | k | A | B | A mean | B mean | B/A mean | A p99 | B p99 | B/A p99 |")
        L.append("|---|---:|---:|---|---|---:|---:|---:|---:|---:|---:|")
        for b in algo:
            r = b["result"]
            o, t = r["ours"], r["theirs"]
            L.append("| %s | %d | %d | %s | %s | %s | %s | %s | %s | %s | %s |"
                     % (b["run"], o["docs"], r["k"], o["algorithm"], t["algorithm"], ms(o["mean_ms"]),
                        ms(t["mean_ms"]), num(ratio(t["mean_ms"], o["mean_ms"]), "%.2f×"),
                        ms(o["p99_ms"]), ms(t["p99_ms"]), num(ratio(t["p99_ms"], o["p99_ms"]), "%.2f×")))
        L.append("")

    sr = size_runs(benches)
    if sr:
        L.append("## Latency vs collection size (kowiki prefixes, top-10, 1 thread)")
        L.append("")
        L.append("| kowiki | documents | native mean | native p99 | Xapian mean | Xapian p99 | native mean / Xapian mean |")
        L.append("|---:|---:|---:|---:|---:|---:|---:|")
        for b in sr:
            r = b["result"]
            o, t = r["ours"], r["theirs"]
            L.append("| %s%% | %d | %s | %s | %s | %s | %s |"
                     % (b["scale_percent"], o["docs"], ms(o["mean_ms"]), ms(o["p99_ms"]),
                        ms(t["mean_ms"]), ms(t["p99_ms"]), num(ratio(o["mean_ms"], t["mean_ms"]), "%.3f")))
        if len(sr) >= 2:
            a, z = sr[0]["result"], sr[-1]["result"]
            g = ratio(z["ours"]["docs"], a["ours"]["docs"])
            L.append("")
            L.append("From %d to %d documents (×%.1f) the native mean grows ×%s and Xapian's ×%s."
                     % (a["ours"]["docs"], z["ours"]["docs"], g,
                        num(ratio(z["ours"]["mean_ms"], a["ours"]["mean_ms"]), "%.2f"),
                        num(ratio(z["theirs"]["mean_ms"], a["theirs"]["mean_ms"]), "%.2f")))
        L.append("")
        L.append("![latency vs collection size](latency-vs-size.svg)")
        L.append("")

    cdf = pick_cdf_run(benches)
    if cdf:
        L.append("## Latency distribution (%s)" % cdf["run"])
        L.append("")
        L.append("![per-query latency CDF, native vs Xapian](latency-cdf.svg)")
        L.append("")

    L.extend(targets(cdf, idx, algo, quick))
    with open(os.path.join(out, "summary.md"), "w", encoding="utf-8") as f:
        f.write("\n".join(L).rstrip("\n") + "\n")


def targets(cdf, idx, algo, quick):
    """The issue's targets, each with the measured value and met / missed."""
    L = ["## Issue 4 targets%s" % (" (not meaningful in quick mode)" if quick else ""), ""]
    L.append("| target | measured | |")
    L.append("|---|---|---|")

    def row(what, value, ok):
        L.append("| %s | %s | %s |" % (what, value, "–" if ok is None else ("met" if ok else "**missed**")))

    if cdf:
        r = cdf["result"]
        o = r["ours"]
        for f, name in (("mean_ms", "mean"), ("p99_ms", "p99")):
            q = r["ratio"].get(f)
            row("native %s ≤ 0.1 × Xapian (%s)" % (name, cdf["run"]),
                "%s ms vs %s ms: %s×" % (ms(o[f]), ms(r["theirs"][f]), num(q, "%.3f")),
                None if q is None else q <= 0.1)
        for f, name in (("mean_ms", "mean"), ("p50_ms", "p50"), ("p99_ms", "p99")):
            goal = LUCENE[f] / 2
            row("native %s ≤ %.1f ms (half of Lucene+Nori's %.1f ms)" % (name, goal, LUCENE[f]),
                "%s ms" % ms(o[f]), o[f] <= goal)
    d = next((b for b in algo if b["result"]["theirs"].get("algorithm") == "exhaustive"), None)
    if d:
        r = d["result"]
        sp = ratio(r["theirs"]["mean_ms"], r["ours"]["mean_ms"])
        row("default algorithm (%s) ≥ 5× faster than exhaustive (mean)" % r["ours"]["algorithm"],
            "%s×" % num(sp, "%.2f"), None if sp is None else sp >= 5)
    main = cdf["corpus"] if cdf else None
    for r in idx:
        if r["corpus"] == main and r["backend"] == "native":
            s = r["summary"]
            row("indexing ≥ 25 MB/s of title+text (%s, native)" % main,
                "%.1f MB/s (wall: %.1f MB/s)" % (s["text_mb_per_s"], s["text_bytes"] / 1e6 / r["wall_s"]),
                s["text_mb_per_s"] >= 25)
            row("indexing peak memory < 1.5 GB (%s, native)" % main,
                "%.0f MB" % (s["peak_rss_bytes"] / 1e6), s["peak_rss_bytes"] < 1.5e9)
    L.append("")
    return L


# ---- SVG -----------------------------------------------------------------------------

W, H = 760, 500
ML, MR, MT, MB = 80, 24, 88, 64  # margins: left, right, top (title, legend), bottom


def nice_step(span, n=6):
    raw = span / n
    mag = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        if raw <= m * mag:
            return m * mag
    return 10 * mag


def log_ticks(lo, hi):
    """Tick values for a log axis over [lo, hi] (1-2-5 steps when few decades)."""
    a, b = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
    mult = (1,) if b - a > 4 else (1, 2, 5)
    return [m * 10 ** e for e in range(a, b + 1) for m in mult if lo <= m * 10 ** e <= hi]


def log_floor(v):
    """The largest 1, 2 or 5 x 10^k <= v."""
    e = math.floor(math.log10(v))
    return max(m * 10 ** e for m in (1, 2, 5) if m * 10 ** e <= v * (1 + 1e-12))


def log_ceil(v):
    """The smallest 1, 2 or 5 x 10^k >= v."""
    e = math.floor(math.log10(v))
    return min(m * 10 ** k for k in (e, e + 1) for m in (1, 2, 5) if m * 10 ** k >= v * (1 - 1e-12))


def fmt_tick(v):
    if v >= 1e6:
        return "%gM" % (v / 1e6)
    if v >= 1000:
        return "%gk" % (v / 1000)
    return "%g" % v


class Chart:
    """A plot area with one x and one y axis (linear or log) drawn as SVG."""

    def __init__(self, title, xlabel, ylabel, xr, yr, xlog, ylog):
        self.xlog, self.ylog = xlog, ylog
        self.xr, self.yr = xr, yr
        self.parts = []
        self.parts.append('<text x="%d" y="28" font-size="17" font-weight="bold">%s</text>'
                          % (ML, escape(title)))
        self.parts.append('<text x="%d" y="%d" font-size="13" text-anchor="middle">%s</text>'
                          % (ML + (W - ML - MR) / 2, H - 16, escape(xlabel)))
        self.parts.append('<text x="18" y="%d" font-size="13" text-anchor="middle" '
                          'transform="rotate(-90 18 %d)">%s</text>'
                          % (MT + (H - MT - MB) / 2, MT + (H - MT - MB) / 2, escape(ylabel)))

    def _t(self, v, r, log, a, b):
        lo, hi = r
        if log:
            f = (math.log10(v) - math.log10(lo)) / (math.log10(hi) - math.log10(lo))
        else:
            f = (v - lo) / (hi - lo)
        return a + f * (b - a)

    def x(self, v):
        return self._t(v, self.xr, self.xlog, ML, W - MR)

    def y(self, v):
        return self._t(v, self.yr, self.ylog, H - MB, MT)

    def axes(self, xticks, yticks, xfmt=fmt_tick, yfmt=fmt_tick):
        p = self.parts
        for v in yticks:
            y = self.y(v)
            p.append('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#ddd"/>' % (ML, y, W - MR, y))
            p.append('<text x="%d" y="%.1f" font-size="12" text-anchor="end">%s</text>'
                     % (ML - 6, y + 4, escape(yfmt(v))))
        for v in xticks:
            x = self.x(v)
            p.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#ddd"/>' % (x, MT, x, H - MB))
            p.append('<text x="%.1f" y="%d" font-size="12" text-anchor="middle">%s</text>'
                     % (x, H - MB + 18, escape(xfmt(v))))
        p.append('<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#444"/>'
                 % (ML, MT, W - ML - MR, H - MT - MB))

    def line(self, pts, color, dash=None, width=2, markers=False):
        d = " ".join("%.1f,%.1f" % (self.x(a), self.y(b)) for a, b in pts)
        self.parts.append('<polyline fill="none" stroke="%s" stroke-width="%g"%s points="%s"/>'
                          % (color, width, ' stroke-dasharray="%s"' % dash if dash else "", d))
        if markers:
            for a, b in pts:
                self.parts.append('<circle cx="%.1f" cy="%.1f" r="3.5" fill="%s"/>'
                                  % (self.x(a), self.y(b), color))

    def text(self, x, y, s, size=12, anchor="start", color="#000"):
        self.parts.append('<text x="%.1f" y="%.1f" font-size="%d" text-anchor="%s" fill="%s">%s</text>'
                          % (x, y, size, anchor, color, escape(s)))

    def legend(self, items, columns=1):
        """items: (label, color, dash), laid out in `columns` columns in the
        top margin, between the title and the plot (never over a curve)."""
        colw = (W - ML - MR) / columns
        for i, (s, color, dash) in enumerate(items):
            x0 = ML + (i % columns) * colw
            y = 50 + 20 * (i // columns)
            self.parts.append('<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="2"%s/>'
                              % (x0, y - 4, x0 + 24, y - 4, color,
                                 ' stroke-dasharray="%s"' % dash if dash else ""))
            self.text(x0 + 30, y, s)

    def write(self, path):
        svg = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" '
               'font-family="DejaVu Sans, Helvetica, Arial, sans-serif">' % (W, H, W, H),
               '<rect width="100%" height="100%" fill="white"/>']
        svg.extend(self.parts)
        svg.append("</svg>")
        with open(path, "w", encoding="utf-8") as f:
            f.write("\n".join(svg) + "\n")


def cdf_points(v, maxpts=600):
    """(latency, fraction of queries <= latency) at up to maxpts quantiles."""
    v = sorted(v)
    n = len(v)
    step = max(1, n // maxpts)
    idx = list(range(step - 1, n, step))
    if idx[-1] != n - 1:
        idx.append(n - 1)
    return [(v[0], 0.0)] + [(v[i], (i + 1) / n) for i in idx]


def draw_cdf(out, b):
    ours, theirs = latencies(out, b)
    r = b["result"]
    allv = [x for x in ours + theirs if x > 0]
    lo, hi = log_floor(min(allv)), log_ceil(max(allv))
    hi = hi if hi > lo else lo * 10
    c = Chart("Per-query latency, top-%d, %d thread%s: %s (%d documents)"
              % (r["k"], r["threads"], "" if r["threads"] == 1 else "s", b["corpus"], r["ours"]["docs"]),
              "latency (ms, log scale)", "fraction of queries answered within", (lo, hi), (0, 1),
              True, False)
    c.axes(log_ticks(lo, hi), [i / 10 for i in range(11)], yfmt=lambda v: "%g" % v)
    for yv in (0.5, 0.99):
        c.parts.append('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#888" stroke-dasharray="2,3"/>'
                       % (ML, c.y(yv), W - MR, c.y(yv)))
        c.text(ML + 4, c.y(yv) - 4, "p%g" % (yv * 100), 11, "start", "#666")
    c.line(cdf_points([max(x, lo) for x in ours]), OURS_COLOR)
    c.line(cdf_points([max(x, lo) for x in theirs]), THEIRS_COLOR)
    o, t = r["ours"], r["theirs"]
    c.legend([("kosearch native (%s): mean %s, p50 %s, p99 %s ms"
               % (o["algorithm"], ms(o["mean_ms"]), ms(o["p50_ms"]), ms(o["p99_ms"])), OURS_COLOR, None),
              ("Xapian: mean %s, p50 %s, p99 %s ms"
               % (ms(t["mean_ms"]), ms(t["p50_ms"]), ms(t["p99_ms"])), THEIRS_COLOR, None)])
    c.text(W - MR, H - 16, "%d queries (%s) × %d pass(es)" % (r["queries"], b["query_set"], r["repeat"]),
           11, "end", "#444")
    c.write(os.path.join(out, "latency-cdf.svg"))


def draw_size(out, runs):
    pts = [(b["result"]["ours"]["docs"], b) for b in runs]
    ys = [b["result"][w][f] for _, b in pts for w in ("ours", "theirs") for f in ("mean_ms", "p99_ms")]
    ys = [y for y in ys if y > 0]
    lo, hi = log_floor(min(ys)), log_ceil(max(ys))
    hi = hi if hi > lo else lo * 10
    xmax = max(d for d, _ in pts)
    step = nice_step(xmax, 5)
    xhi = math.ceil(xmax * 1.05 / step) * step
    c = Chart("Latency vs collection size (kowiki prefixes, top-10, 1 thread)",
              "documents", "latency (ms, log scale)", (0, xhi), (lo, hi), False, True)
    c.axes([i * step for i in range(int(round(xhi / step)) + 1)], log_ticks(lo, hi))
    series = [("native mean", "ours", "mean_ms", OURS_COLOR, None),
              ("native p99", "ours", "p99_ms", OURS_COLOR, "6,4"),
              ("Xapian mean", "theirs", "mean_ms", THEIRS_COLOR, None),
              ("Xapian p99", "theirs", "p99_ms", THEIRS_COLOR, "6,4")]
    for _, who, f, color, dash in series:
        c.line([(d, max(b["result"][who][f], lo)) for d, b in pts], color, dash, markers=True)
    for d, b in pts:
        c.text(c.x(d), H - MB - 6, "%s%%" % b["scale_percent"], 11, "middle", "#444")
    c.legend([(s, color, dash) for s, _, _, color, dash in series], columns=2)
    c.write(os.path.join(out, "latency-vs-size.svg"))


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: report.py OUT_DIR")
    out = sys.argv[1]
    recs = load(out)
    benches = [r for r in recs if r["record"] == "bench"]
    summary(out, recs)
    cdf = pick_cdf_run(benches)
    if cdf:
        draw_cdf(out, cdf)
    runs = size_runs(benches)
    if runs:
        draw_size(out, runs)


if __name__ == "__main__":
    main()
