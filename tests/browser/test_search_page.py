#!/usr/bin/env python3
"""Real-browser test of the search page (server/page.html) of `kosearch serve`.

Builds a real index with the built `kosearch index` from corpus/ plus a
generated JSON Lines file, starts `kosearch serve` on a free port, and
drives headless Chromium through Selenium (chromedriver) against it. What
the page shows is compared with what GET /search returns for the same
request, fetched directly from the same server.

    /usr/bin/python3 tests/browser/test_search_page.py --kosearch build/kosearch

Run from the source tree (CTest does: label `browser`). Exit status: 0 every
check passed, 1 a check failed (each failure is printed), 77 skipped
because chromium, chromedriver or the Selenium module is missing (Debian 12:
apt-get install chromium chromium-driver python3-selenium).

The checks run in one browser session, one after the other; each starts
from a fresh page load, and a failed check does not stop the others. The
browser's console log is read after every check: any SEVERE entry (a
JavaScript error, a failed request) fails that check, except the failed
/search requests that the error and network checks provoke on purpose.
At the end the server's access log must show only GET / and GET /search
answered 200 (but for the provoked 400), its stderr no sanitizer report,
and its exit status after SIGTERM must be 0 (docs/http.md).
"""

import argparse
import ctypes
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request

SKIP = 77

# The fixture's paged word, made up so that no corpus word shares a syllable
# bigram with it: exactly PAGED_COUNT documents ("문서 01".."문서 25") match
# it, three pages of 10 (the test checks this against the server).
PAGED_QUERY = "큐뮬렌토"
PAGED_COUNT = 25
# Matches nothing in the fixture (checked against the server), and is HTML.
NO_RESULT_QUERY = "<em>퓌퀭뷁</em>"
# The document with HTML in its title and text, found by its own word.
ESCAPE_WORD = "특수문자검사"
ESCAPE_TITLE = '<img src=x onerror="window.__ks_injected=1"> 특수문자 & "따옴표" &amp;'
ESCAPE_TEXT = ("<script>window.__ks_injected=2</script> " + ESCAPE_WORD +
               " <b>굵게</b> &lt;i&gt; 기호")
EMPTY_TITLE_WORD = "제목없는문서"
EMPTY_TITLE_ID = "untitled-doc"
# A document of long unbroken tokens, for the phone layout.
LONG_WORD = "휴대전화배치"
LONG_ID = "long-id-" + "x" * 120
PAGE_SIZE = 10
# Past the server's k + offset limit: the page asks for offset 1999990.
ERROR_PAGE = 200000


def skip(msg):
    print("SKIP: " + msg)
    sys.exit(SKIP)


try:
    from selenium import webdriver
    from selenium.common.exceptions import TimeoutException, WebDriverException
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError as e:
    if __name__ == "__main__":
        skip("the Selenium module is missing (%s); install python3-selenium "
             "and run with /usr/bin/python3" % e)
    raise


class CheckFailed(Exception):
    pass


def expect(cond, msg):
    if not cond:
        raise CheckFailed(msg)


# ---------------------------------------------------------------------------
# Fixture: index and server


def write_fixture_docs(path):
    docs = []
    for i in range(1, PAGED_COUNT + 1):
        # Longer documents rank lower under BM25: distinct scores, so the
        # order is stable. The test still takes the order from the server.
        filler = " ".join(["반복되는 낱말"] * i)
        docs.append({"id": "page-%02d" % i, "title": "문서 %02d" % i,
                     "text": "이 문서는 %s 시험 문서입니다. %s" % (PAGED_QUERY, filler)})
    docs.append({"id": "escape-doc", "title": ESCAPE_TITLE, "text": ESCAPE_TEXT})
    docs.append({"id": EMPTY_TITLE_ID, "title": "", "text": EMPTY_TITLE_WORD + " 본문만 있는 문서"})
    docs.append({"id": LONG_ID, "title": "가나다라마바사아자차카타파하" * 12,
                 "text": LONG_WORD + " https://example.invalid/" + "abcdefghij" * 30 +
                         " " + "가나다라마바사" * 40})
    with open(path, "w", encoding="utf-8") as f:
        for d in docs:
            f.write(json.dumps(d, ensure_ascii=False) + "\n")


def set_parent_death_signal():
    """Runs in a child process (the server, chromedriver) before exec: the
    child gets SIGTERM if this test dies without cleaning up (e.g. killed
    on a timeout), so it does not outlive the test."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)        # PR_SET_PDEATHSIG
    except Exception:
        pass


class Server:
    LISTENING = re.compile(r"listening on (http://[^\s/]+)")

    def __init__(self, kosearch, index, workdir):
        self.log_path = os.path.join(workdir, "serve.stderr")
        self.log = open(self.log_path, "wb")
        # With its access log (docs/http.md): one "METHOD PATH STATUS MS"
        # line per request on stderr, read by unexpected_requests.
        self.cmd = [kosearch, "serve", index, "--listen", "127.0.0.1:0"]
        self.proc = subprocess.Popen(self.cmd, stdin=subprocess.DEVNULL,
                                     stdout=self.log, stderr=self.log,
                                     preexec_fn=set_parent_death_signal)
        self.base = None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            m = self.LISTENING.search(self.stderr())
            if m:
                self.base = m.group(1)
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        out = self.stderr()
        self.stop()
        raise RuntimeError("%s did not print 'listening on http://HOST:PORT' (exit %s); "
                           "stderr:\n%s" % (" ".join(self.cmd), self.proc.returncode, out))

    def stderr(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stop(self):
        """SIGTERM, then SIGKILL after 10 s. Returns the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode


# Direct requests to the server bypass any proxy from the environment.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def api(base, q, page=1):
    """GET /search as the page sends it: (HTTP status, parsed JSON body)."""
    url = "%s/search?q=%s&k=%d&offset=%d" % (base, urllib.parse.quote(q, safe=""),
                                            PAGE_SIZE, (page - 1) * PAGE_SIZE)
    try:
        with _opener.open(url, timeout=30) as r:
            return r.status, json.loads(r.read().decode("utf-8"))
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read().decode("utf-8"))


# ---------------------------------------------------------------------------
# Browser


def find_browser():
    chrome = shutil.which("chromium") or shutil.which("chromium-browser") or \
        shutil.which("google-chrome")
    driver = shutil.which("chromedriver") or \
        (os.path.exists("/usr/bin/chromedriver") and "/usr/bin/chromedriver") or None
    if not chrome:
        skip("chromium is not installed (Debian: apt-get install chromium)")
    if not driver:
        skip("chromedriver is not installed (Debian: apt-get install chromium-driver)")
    return chrome, driver


def start_browser(chrome, driver_path, work):
    opts = webdriver.ChromeOptions()
    opts.binary_location = chrome
    for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
              "--disable-gpu", "--no-proxy-server", "--no-first-run",
              "--disable-extensions", "--disable-background-networking",
              "--lang=ko-KR", "--window-size=1200,900",
              "--user-data-dir=" + os.path.join(work, "chrome-profile")):
        opts.add_argument(a)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # Chromium keeps crash reports and caches below HOME and XDG_*: in the
    # scratch directory, so the test leaves nothing behind.
    home = os.path.join(work, "home")
    env = dict(os.environ, HOME=home, XDG_CONFIG_HOME=os.path.join(home, ".config"),
               XDG_CACHE_HOME=os.path.join(home, ".cache"))
    # chromedriver too gets SIGTERM if this test dies (popen_kw: Selenium 4.6+).
    try:
        service = Service(executable_path=driver_path, env=env,
                          popen_kw={"preexec_fn": set_parent_death_signal})
    except TypeError:
        service = Service(executable_path=driver_path, env=env)
    return webdriver.Chrome(service=service, options=opts)


# One look at everything the checks read, taken in the page in one go.
SNAPSHOT_JS = r"""
const q = s => document.querySelector(s);
const txt = e => e ? e.textContent : null;
const main = q('#main'), msg = q('#message'), pager = q('#pager');
return {
  busy: main.getAttribute('aria-busy'),
  path: location.pathname + location.search,
  title: document.title,
  input: q('#q').value,
  status: txt(q('#status')),
  count: txt(q('#match-count')),
  message: msg.hidden ? null : msg.textContent,
  messageClass: msg.className,
  messageRole: msg.getAttribute('role'),
  hits: Array.from(document.querySelectorAll('#results > li')).map(li => ({
    rank: txt(li.querySelector('.hit-rank')),
    title: txt(li.querySelector('.hit-title')),
    snippet: txt(li.querySelector('.hit-snippet')),
    marks: Array.from(li.querySelectorAll('.hit-snippet mark')).map(m => m.textContent),
    score: txt(li.querySelector('.hit-score')),
    id: txt(li.querySelector('.hit-id')),
    elements: Array.from(li.querySelectorAll('*')).map(e => e.tagName.toLowerCase())
  })),
  pagerHidden: pager.hidden,
  pages: Array.from(pager.querySelectorAll('a.num')).map(a => a.textContent),
  currentPage: txt(pager.querySelector('a[aria-current="page"]')),
  hasNext: !!pager.querySelector('a.next'),
  hasPrev: !!pager.querySelector('a.prev')
};
"""


def snapshot(driver):
    return driver.execute_script(SNAPSHOT_JS)


def wait_for(driver, pred, what, timeout=10):
    """Polls snapshots until pred(snapshot) holds and no request is in
    flight; returns that snapshot or fails with the last one seen."""
    last = [None]

    def ok(d):
        s = snapshot(d)
        last[0] = s
        return s if s["busy"] == "false" and pred(s) else False
    try:
        return WebDriverWait(driver, timeout, poll_frequency=0.05).until(ok)
    except TimeoutException:
        raise CheckFailed("timed out waiting for %s; the page showed:\n%s" %
                          (what, json.dumps(last[0], ensure_ascii=False, indent=1)))


def url_state(path):
    u = urllib.parse.urlsplit(path)
    p = urllib.parse.parse_qs(u.query)
    return u.path, p.get("q", [None])[0], int(p.get("page", ["1"])[0])


def digits(s):
    return int(re.sub(r"[^0-9]", "", s or "") or -1)


def expected_rows(data):
    return [(h["rank"], h["title"] or h["id"], h["id"]) for h in data["hits"]]


def shown_rows(s):
    return [(digits(h["rank"]), h["title"], h["id"]) for h in s["hits"]]


def same_hits(data):
    want = expected_rows(data)
    return lambda s: shown_rows(s) == want


def check_results_page(s, data, q, page):
    """The shown page equals the server's answer `data` for (q, page)."""
    expect(shown_rows(s) == expected_rows(data),
           "hits: shown %r, server %r" % (shown_rows(s), expected_rows(data)))
    path, uq, upage = url_state(s["path"])
    expect(path == "/" and uq == q and upage == page,
           "URL %r: expected q=%r page=%d" % (s["path"], q, page))
    expect(s["input"] == q, "the query box holds %r, expected %r" % (s["input"], q))
    expect(q in s["title"], "document title %r does not name the query %r" % (s["title"], q))
    expect(digits(s["count"]) == data["matches"],
           "count shown %r (%r), server matches=%d" % (s["count"], s["status"], data["matches"]))
    approx = "약" in s["status"]
    expect(approx == (not data["matches_exact"]),
           "status %r: 'about' shown=%s but matches_exact=%s" %
           (s["status"], approx, data["matches_exact"]))
    expect(re.search(r"\([0-9.]+ ms\)", s["status"] or ""),
           "status %r shows no time '(N ms)'" % s["status"])
    for h, sh in zip(data["hits"], s["hits"]):
        raw = h["snippet"]
        expect(sh["snippet"] == raw.replace("\u00ab", "").replace("\u00bb", ""),
               "rank %d snippet shown %r, server %r" % (h["rank"], sh["snippet"], raw))
        want_marks = re.findall("\u00ab([^\u00ab\u00bb]*)\u00bb", raw)
        expect(sh["marks"] == want_marks,
               "rank %d marks %r, server's «» spans %r" % (h["rank"], sh["marks"], want_marks))
        expect(sh["score"] == "%.3f" % h["score"],
               "rank %d score shown %r, server %r" % (h["rank"], sh["score"], h["score"]))
    if data["hits"]:
        expect(not s["pagerHidden"] or (page == 1 and len(data["hits"]) < PAGE_SIZE
                                        and data["matches"] <= PAGE_SIZE),
               "no pagination shown")


class Run:
    def __init__(self, driver, base):
        self.driver = driver
        self.base = base
        self.failures = []

    def load(self, path):
        self.driver.get(self.base + path)

    def severe_logs(self, allowed):
        bad = []
        for e in self.driver.get_log("browser"):
            if e.get("level") != "SEVERE":
                continue
            if any(re.search(p, e.get("message", "")) for p in allowed):
                continue
            bad.append(e.get("message"))
        return bad

    def run(self, name, fn, allowed_console=()):
        t0 = time.monotonic()
        try:
            self.driver.get_log("browser")          # drop what came before
            fn(self)
            bad = self.severe_logs(allowed_console)
            expect(not bad, "console errors:\n  " + "\n  ".join(bad))
            print("ok   %-34s %5.2f s" % (name, time.monotonic() - t0))
        except (CheckFailed, WebDriverException, AssertionError, KeyError,
                ValueError, TypeError) as e:
            detail = str(e) if isinstance(e, CheckFailed) else traceback.format_exc()
            print("FAIL %-34s %5.2f s\n     %s" % (name, time.monotonic() - t0,
                                                    detail.replace("\n", "\n     ")))
            self.failures.append(name)
            try:
                self.driver.get_log("browser")
            except WebDriverException:
                pass


# ---------------------------------------------------------------------------
# Checks


def check_console_probe(r):
    # The console check below must be able to fail: an error logged by the
    # page's JavaScript reaches the log as SEVERE.
    r.load("/")
    r.driver.execute_script("console.error('ks-console-probe')")
    logs = []
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        logs += r.driver.get_log("browser")
        if any(e["level"] == "SEVERE" and "ks-console-probe" in e["message"] for e in logs):
            return
        time.sleep(0.05)
    raise CheckFailed("console.error did not reach the browser log: %r" % logs)


def check_start_page(r):
    r.load("/")
    s = wait_for(r.driver, lambda s: True, "the start page")
    expect(s["title"] == "kosearch", "title %r" % s["title"])
    expect(not s["hits"] and s["pagerHidden"] and s["message"] is None,
           "the start page shows results or a message: %r" % s)
    d = r.driver
    expect(d.execute_script("return document.documentElement.lang") == "ko", "html lang is not ko")
    expect(d.execute_script("return document.activeElement.id") == "q",
           "the query box does not have the focus on the start page")
    label = d.execute_script(
        "const l = document.getElementById('q').labels; return l.length ? l[0].textContent : ''")
    expect(label.strip(), "the query box has no label")
    expect(d.execute_script("return document.getElementById('status').getAttribute('aria-live')")
           == "polite", "the result count is not an aria-live region")
    expect(d.execute_script(
        "return Array.from(document.querySelectorAll('script[src], link[rel=stylesheet], img'))"
        ".length") == 0, "the page loads external assets")
    # Its own icon, so the browser does not request /favicon.ico (headless
    # Chromium does not ask for one, so a missing icon would go unseen).
    expect(d.execute_script("const l = document.querySelector('link[rel~=icon]');"
                            "return !!l && l.href.startsWith('data:')"),
           "the page declares no inline icon")


def check_type_and_submit(r):
    _, data = api(r.base, PAGED_QUERY, 1)
    r.load("/")
    wait_for(r.driver, lambda s: True, "the start page")
    # Record the loading state as it happens: the busy flag and the status
    # text are set before the request and cleared after the answer.
    r.driver.execute_script(r"""
      window.__ks_seen = {busy: [], status: []};
      new MutationObserver(() => {
        window.__ks_seen.busy.push(document.getElementById('main').getAttribute('aria-busy'));
        window.__ks_seen.status.push(document.getElementById('status').textContent);
      }).observe(document.getElementById('main'),
                 {attributes: true, childList: true, subtree: true, characterData: true});
    """)
    box = r.driver.find_element(By.ID, "q")
    box.send_keys(PAGED_QUERY)
    r.driver.find_element(By.ID, "submit").click()
    s = wait_for(r.driver, same_hits(data), "page 1 of %r" % PAGED_QUERY)
    check_results_page(s, data, PAGED_QUERY, 1)
    expect([h[0] for h in shown_rows(s)] == list(range(1, 11)), "ranks on page 1: %r" % s["hits"])
    expect(any(PAGED_QUERY in m for h in s["hits"] for m in h["marks"]),
           "no <mark> holds the query word: %r" % [h["marks"] for h in s["hits"]])
    expect(all(h["marks"] for h in s["hits"]), "a snippet has no <mark>")
    expect(s["currentPage"] == "1" and s["hasNext"] and not s["hasPrev"],
           "pager on page 1: current %r next %r prev %r" %
           (s["currentPage"], s["hasNext"], s["hasPrev"]))
    seen = r.driver.execute_script("return window.__ks_seen")
    expect("true" in seen["busy"] and seen["busy"][-1] == "false",
           "aria-busy never went true then false: %r" % seen["busy"])
    expect(any("검색 중" in t for t in seen["status"]),
           "no loading message was shown: %r" % seen["status"][:5])


def click_page_link(r, selector):
    links = r.driver.find_elements(By.CSS_SELECTOR, "#pager " + selector)
    expect(links, "no pagination link %r" % selector)
    links[0].click()


def check_pagination_and_history(r):
    pages = {p: api(r.base, PAGED_QUERY, p)[1] for p in (1, 2, 3)}
    r.load("/?" + urllib.parse.urlencode({"q": PAGED_QUERY}))
    wait_for(r.driver, same_hits(pages[1]), "page 1")

    click_page_link(r, "a.next")
    s = wait_for(r.driver, same_hits(pages[2]), "page 2 after 'next'")
    check_results_page(s, pages[2], PAGED_QUERY, 2)
    expect([h[0] for h in shown_rows(s)] == list(range(11, 21)), "ranks on page 2: %r" % s["hits"])
    expect(s["currentPage"] == "2" and s["hasPrev"] and s["hasNext"],
           "pager on page 2: %r" % s)

    click_page_link(r, 'a.num[data-page="3"]')
    s = wait_for(r.driver, same_hits(pages[3]), "page 3 after its page number")
    check_results_page(s, pages[3], PAGED_QUERY, 3)
    expect([h[0] for h in shown_rows(s)] == list(range(21, PAGED_COUNT + 1)),
           "ranks on page 3: %r" % s["hits"])
    expect(s["currentPage"] == "3" and not s["hasNext"], "pager on page 3: %r" % s)

    r.driver.back()
    s = wait_for(r.driver, same_hits(pages[2]), "page 2 after 'back'")
    check_results_page(s, pages[2], PAGED_QUERY, 2)
    r.driver.back()
    s = wait_for(r.driver, same_hits(pages[1]), "page 1 after 'back' twice")
    check_results_page(s, pages[1], PAGED_QUERY, 1)
    r.driver.forward()
    s = wait_for(r.driver, same_hits(pages[2]), "page 2 after 'forward'")
    check_results_page(s, pages[2], PAGED_QUERY, 2)

    titles = sorted(h["title"] for p in pages.values() for h in p["hits"])
    expect(titles == ["문서 %02d" % i for i in range(1, PAGED_COUNT + 1)],
           "fixture: the three pages of %r hold %r" % (PAGED_QUERY, titles))


def check_direct_load(r):
    _, data = api(r.base, PAGED_QUERY, 2)
    r.load("/?" + urllib.parse.urlencode({"q": PAGED_QUERY, "page": 2}))
    s = wait_for(r.driver, same_hits(data), "page 2 loaded directly")
    check_results_page(s, data, PAGED_QUERY, 2)
    expect([h[0] for h in shown_rows(s)] == list(range(11, 21)), "ranks: %r" % s["hits"])


def check_keyboard(r):
    # Type and press Enter, then reach 'next' with Tab alone and press Enter.
    _, p1 = api(r.base, PAGED_QUERY, 1)
    _, p2 = api(r.base, PAGED_QUERY, 2)
    r.load("/")
    wait_for(r.driver, lambda s: True, "the start page")
    r.driver.switch_to.active_element.send_keys(PAGED_QUERY + Keys.ENTER)
    wait_for(r.driver, same_hits(p1), "results after Enter in the query box")
    for _ in range(60):
        r.driver.switch_to.active_element.send_keys(Keys.TAB)
        cls = r.driver.execute_script("return document.activeElement.className")
        if "next" in cls.split():
            break
    else:
        raise CheckFailed("Tab never reached the 'next' link")
    r.driver.switch_to.active_element.send_keys(Keys.ENTER)
    s = wait_for(r.driver, same_hits(p2), "page 2 after Enter on 'next'")
    check_results_page(s, p2, PAGED_QUERY, 2)


def check_no_results(r):
    status, data = api(r.base, NO_RESULT_QUERY)
    expect(status == 200 and data["matches"] == 0 and not data["hits"],
           "fixture: %r should match nothing, server said %r" % (NO_RESULT_QUERY, data))
    r.load("/")
    wait_for(r.driver, lambda s: True, "the start page")
    r.driver.find_element(By.ID, "q").send_keys(NO_RESULT_QUERY + Keys.ENTER)
    s = wait_for(r.driver, lambda s: s["message"] is not None, "the no-result message")
    expect("결과가 없습니다" in s["message"] and s["messageClass"] != "error",
           "no-result message: %r (class %r)" % (s["message"], s["messageClass"]))
    # The query is shown as text: literally, and without an <i> element.
    expect(NO_RESULT_QUERY in s["message"], "the message does not quote the query: %r" % s["message"])
    expect(r.driver.execute_script("return document.querySelectorAll('#message i').length") == 0,
           "the query's <i> became an element")
    expect(not s["hits"] and s["pagerHidden"], "results or pager shown: %r" % s)
    expect(digits(s["count"]) == 0, "count shown %r" % s["count"])
    path, uq, _ = url_state(s["path"])
    expect(uq == NO_RESULT_QUERY, "URL %r does not hold the query" % s["path"])


def check_escaping(r):
    q = ESCAPE_WORD + " a&b=c#d"
    _, data = api(r.base, q)
    expect(data["hits"] and data["hits"][0]["id"] == "escape-doc",
           "fixture: %r should find escape-doc first: %r" % (q, data))
    r.load("/?" + urllib.parse.urlencode({"q": q}))
    s = wait_for(r.driver, same_hits(data), "the results of %r" % q)
    check_results_page(s, data, q, 1)
    h = s["hits"][0]
    expect(h["title"] == ESCAPE_TITLE, "title shown %r, stored %r" % (h["title"], ESCAPE_TITLE))
    expect("<script>" in h["snippet"] and "<b>굵게</b>" in h["snippet"] and "&lt;i&gt;" in h["snippet"],
           "snippet not shown literally: %r" % h["snippet"])
    expect(set(h["elements"]) <= {"h2", "p", "mark", "span", "code"},
           "elements inside the hit: %r" % h["elements"])
    expect(r.driver.execute_script(
        "return document.querySelectorAll('#results img, #results script, #results b').length")
        == 0, "document HTML became elements")
    expect(r.driver.execute_script("return window.__ks_injected === undefined"),
           "injected script ran")


def check_empty_title(r):
    _, data = api(r.base, EMPTY_TITLE_WORD)
    expect(data["hits"] and data["hits"][0]["id"] == EMPTY_TITLE_ID and data["hits"][0]["title"] == "",
           "fixture: %r should find %s (empty title) first: %r" %
           (EMPTY_TITLE_WORD, EMPTY_TITLE_ID, data["hits"][:1]))
    r.load("/?" + urllib.parse.urlencode({"q": EMPTY_TITLE_WORD}))
    s = wait_for(r.driver, same_hits(data), "the results of %r" % EMPTY_TITLE_WORD)
    expect(s["hits"][0]["title"] == EMPTY_TITLE_ID,
           "an empty title is not replaced by the id: %r" % s["hits"][0])


def check_server_error(r):
    status, data = api(r.base, PAGED_QUERY, ERROR_PAGE)
    expect(400 <= status < 500 and isinstance(data.get("error", {}).get("message"), str)
           and data["error"]["message"],
           "server: page %d should be a 4xx error with a message, got %d %r" %
           (ERROR_PAGE, status, data))
    r.load("/?" + urllib.parse.urlencode({"q": PAGED_QUERY, "page": ERROR_PAGE}))
    s = wait_for(r.driver, lambda s: s["message"] is not None, "the error message")
    expect(s["messageClass"] == "error" and s["messageRole"] == "alert",
           "not shown as an error: class %r role %r" % (s["messageClass"], s["messageRole"]))
    expect(data["error"]["message"] in s["message"],
           "the server's message %r is not shown: %r" % (data["error"]["message"], s["message"]))
    expect(not s["hits"] and s["pagerHidden"], "results shown with the error: %r" % s)


def layout_overflow(d):
    return d.execute_script(r"""
      const w = document.documentElement.clientWidth;
      const wide = Array.from(document.querySelectorAll('body *'))
        .filter(e => e.getClientRects().length && e.getBoundingClientRect().right > w + 0.5)
        .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
                  (e.className ? '.' + e.className : ''));
      return {inner: window.innerWidth, client: w,
              scroll: document.documentElement.scrollWidth, wide: wide.slice(0, 8)};
    """)


def check_phone_layout(r):
    d = r.driver
    d.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                      {"width": 375, "height": 812, "deviceScaleFactor": 2, "mobile": True})
    try:
        for q, page in ((LONG_WORD, 1), (PAGED_QUERY, 2), (ESCAPE_WORD, 1)):
            _, data = api(r.base, q, page)
            expect(data["hits"], "fixture: %r finds nothing" % q)
            r.load("/?" + urllib.parse.urlencode({"q": q, "page": page}))
            wait_for(d, same_hits(data), "the results of %r at 375 px" % q)
            o = layout_overflow(d)
            # innerWidth 375 also shows the viewport meta works: without it
            # a mobile browser lays the page out 980 px wide.
            expect(o["inner"] == 375, "layout viewport %r px wide, expected 375" % o["inner"])
            expect(o["scroll"] <= o["client"] and not o["wide"],
                   "horizontal overflow at 375 px for %r: %r" % (q, o))
    finally:
        d.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def check_dark_mode(r):
    d = r.driver
    lum = ("const c = getComputedStyle(document.body).backgroundColor.match(/[0-9.]+/g).map(Number);"
           "return (0.2126*c[0] + 0.7152*c[1] + 0.0722*c[2]) / 255;")
    try:
        for scheme, dark in (("light", False), ("dark", True)):
            d.execute_cdp_cmd("Emulation.setEmulatedMedia",
                              {"features": [{"name": "prefers-color-scheme", "value": scheme}]})
            r.load("/")
            v = d.execute_script(lum)
            expect((v < 0.3) if dark else (v > 0.7),
                   "%s scheme: background luminance %.2f" % (scheme, v))
    finally:
        d.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": []})


def make_network_check(server):
    def check_network_failure(r):
        _, data = api(r.base, PAGED_QUERY)
        r.load("/?" + urllib.parse.urlencode({"q": PAGED_QUERY}))
        wait_for(r.driver, same_hits(data), "page 1 before the server stops")
        server.stop()
        box = r.driver.find_element(By.ID, "q")
        box.clear()
        box.send_keys("대통령" + Keys.ENTER)
        s = wait_for(r.driver, lambda s: s["message"] is not None, "the network-failure message")
        expect(s["messageClass"] == "error" and "연결할 수 없습니다" in s["message"],
               "network failure shown as %r (class %r)" % (s["message"], s["messageClass"]))
        expect(not s["hits"], "stale results shown after the failure")
    return check_network_failure


ACCESS_LINE = re.compile(r"^([A-Z]+) (\S+) ([0-9]{3}) [0-9.]+$")


def unexpected_requests(stderr):
    """Every request the browser and the test made, from the server's
    access log: each must be GET / or GET /search and answer 200, except
    the one 400 the error check asks for (the offset past --max-hits).
    A request for /favicon.ico, say, is caught here."""
    bad, seen = [], 0
    error_offset = "&offset=%d" % ((ERROR_PAGE - 1) * PAGE_SIZE)
    for line in stderr.splitlines():
        m = ACCESS_LINE.match(line)
        if not m:
            continue
        seen += 1
        method, path, status = m.group(1), m.group(2), int(m.group(3))
        route = path.split("?", 1)[0]
        expected = 400 if route == "/search" and path.endswith(error_offset) else 200
        if method != "GET" or route not in ("/", "/search") or status != expected:
            bad.append(line)
    if seen == 0:
        bad.append("(no access log line in the server's stderr)")
    return bad


# ---------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--kosearch", required=True, help="the kosearch binary")
    ap.add_argument("--source-dir", default=os.environ.get("KS_SOURCE_DIR", "."),
                    help="the source tree (its corpus/ is indexed; default: KS_SOURCE_DIR or .)")
    args = ap.parse_args()
    sys.stdout.reconfigure(line_buffering=True)     # progress shows up under CTest at once
    chrome, driver_path = find_browser()
    kosearch = os.path.abspath(args.kosearch)
    corpus = os.path.join(args.source_dir, "corpus")

    tmp_parent = os.environ.get("KS_TMP")
    if tmp_parent:
        os.makedirs(tmp_parent, exist_ok=True)
    work = tempfile.mkdtemp(prefix="browser-", dir=tmp_parent or None)
    server = driver = None
    t0 = time.monotonic()

    def on_term(signum, frame):
        raise SystemExit("terminated by signal %d" % signum)
    signal.signal(signal.SIGTERM, on_term)
    try:
        docs = os.path.join(work, "page-fixture.jsonl")
        write_fixture_docs(docs)
        index = os.path.join(work, "page.idx")
        rc = subprocess.run([kosearch, "index", "-o", index, "--quiet", corpus, docs]).returncode
        if rc != 0:
            print("FAIL fixture: kosearch index exited %d (run from the source tree, "
                  "or give --source-dir)" % rc)
            return 1
        server = Server(kosearch, index, work)
        print("server: %s (%s)" % (server.base, " ".join(server.cmd)))
        try:
            driver = start_browser(chrome, driver_path, work)
        except WebDriverException as e:
            print("FAIL could not start %s through %s: %s" % (chrome, driver_path, e.msg))
            return 1
        driver.set_page_load_timeout(30)
        r = Run(driver, server.base)
        failed_search = r"/search\?"
        r.run("console errors are seen", check_console_probe, allowed_console=("ks-console-probe",))
        r.run("start page", check_start_page)
        r.run("type a query and submit", check_type_and_submit)
        r.run("pagination, back and forward", check_pagination_and_history)
        r.run("open /?q=...&page=2 directly", check_direct_load)
        r.run("keyboard only", check_keyboard)
        r.run("no results (HTML in the query)", check_no_results)
        r.run("HTML in documents stays text", check_escaping)
        r.run("empty title shows the id", check_empty_title)
        r.run("server error message", check_server_error,
              allowed_console=(failed_search + r".* 4[0-9][0-9] ",))
        r.run("phone layout (375 px)", check_phone_layout)
        r.run("light and dark color schemes", check_dark_mode)
        r.run("network failure", make_network_check(server),
              allowed_console=(failed_search + r".*ERR_CONNECTION_REFUSED",))
        status = server.stop()
        err = server.stderr()
        if re.search(r"ERROR: (Address|Leak)Sanitizer|runtime error:", err):
            print("FAIL kosearch serve reported a sanitizer error:\n" + err[-4000:])
            r.failures.append("server sanitizer report")
        if status != 0:
            print("FAIL kosearch serve exited with status %s after SIGTERM (docs/http.md: 0)" % status)
            r.failures.append("server exit status")
        bad = unexpected_requests(err)
        if bad:
            print("FAIL requests that failed or were not expected (access log):\n  " + "\n  ".join(bad))
            r.failures.append("access log")
        print("%d checks failed; server exit status %s; %.1f s" %
              (len(r.failures), status, time.monotonic() - t0))
        if r.failures:
            print("kosearch serve stderr (last 2000 characters):\n" + err[-2000:])
        return 1 if r.failures else 0
    finally:
        if driver is not None:
            try:
                driver.quit()
            except Exception:
                pass
        if server is not None:
            server.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
