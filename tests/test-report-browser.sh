#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# test-report-browser.sh - the HTML study reports in a real browser. Generates small sample
# studies (gen_fmri, gen_eeg, gen_gait, gen_speech), runs xai-fmri (participant, group),
# xai-eeg (participant, group), xai-gait study and xai-speech explain over a folder, and
# loads each kind of report (subject and study of every program: 8 pages) in headless
# Chromium, which dumps the DOM after load and takes a screenshot. Checks, per page:
#   - the page's own script ran (data-rendered="1" on #xai-report-check) and every figure
#     (as many as <img> in the file, at least one) decoded with a non-zero size;
#   - clicking a column header of each table sorts it (numerically where the column is
#     numeric; a script appended to a copy of the page clicks and records the order);
#   - the screenshot is a PNG of the window's size with real content (many colours,
#     not mostly blank);
#   - nothing is fetched from the network (no http(s) URL in src/href), every link
#     resolves to a file, and the outputs listed are the folder's files.
# Arguments: XAI_FMRI XAI_EEG XAI_GAIT XAI_SPEECH GEN_FMRI GEN_EEG GEN_GAIT GEN_SPEECH.
# XAI_SOURCE_ROOT gives the bundled models. XAI_REPORT_SHOTS=DIR keeps the screenshots.
# Exit: 0 pass, 1 failure, 77 skip (no Chromium, no python3, no espeak-ng for speech is not
# a skip: the speech page is then left out and said so).
[ $# -ge 8 ] || { echo "usage: $0 XAI_FMRI XAI_EEG XAI_GAIT XAI_SPEECH GEN_FMRI GEN_EEG GEN_GAIT GEN_SPEECH" >&2; exit 2; }
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3) || { echo "SKIP: no python3"; exit 77; }
CHROME=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
[ -n "$CHROME" ] || { echo "SKIP: Chromium is not installed (Debian package chromium; .ci/install-deps installs it)"; exit 77; }
export CHROME
exec "$PY" - "$@" <<'PYEOF'
import html.parser, os, re, shutil, struct, subprocess, sys, tempfile, time, urllib.parse, zlib
from concurrent.futures import ThreadPoolExecutor

FMRI, EEG, GAIT, SPEECH, GFMRI, GEEG, GGAIT, GSPEECH = sys.argv[1:9]
SRC = os.environ.get("XAI_SOURCE_ROOT", os.path.join(os.path.dirname(os.path.abspath(sys.argv[0])), ".."))
CHROME = os.environ["CHROME"]
SHOTS = os.environ.get("XAI_REPORT_SHOTS")
W, H = 1200, 1600
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def run(*cmd, ok=(0,)):
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True)
    if r.returncode not in ok:
        print("command failed (%d): %s\n%s" % (r.returncode, " ".join(map(str, cmd)), r.stderr[-2000:]))
    return r.returncode


def make_studies(tmp):
    """Run every program on generated data; return {kind: report path}."""
    pages = {}
    f = os.path.join(tmp, "fmri")
    run(GFMRI, "--subjects", 2, "--runs", 2, "--dims", "16x18x12", "--volumes", 60, f + "/bids")
    run(FMRI, f + "/bids", f + "/out", "participant", "--epochs", 5, "-q")
    run(FMRI, f + "/bids", f + "/out", "group", "-q")
    pages["fmri-participant"], pages["fmri-study"] = f + "/out/sub-01/report.html", f + "/out/report.html"
    e = os.path.join(tmp, "eeg")
    run(GEEG, "--subject", "01", "--runs", 1, "--trials", 8, e + "/bids/sub-01/eeg")
    run(GEEG, "--subject", "02", "--seed", 5, "--runs", 1, "--trials", 8, e + "/bids/sub-02/ses-a/eeg")
    run(EEG, e + "/bids", e + "/out", "participant", "--model", SRC + "/datasets/eeg/mi-shallow.onnx", "-q")
    run(EEG, e + "/bids", e + "/out", "group", "-q")
    pages["eeg-participant"], pages["eeg-study"] = e + "/out/sub-02/report.html", e + "/out/report.html"
    g = os.path.join(tmp, "gait")
    run(GGAIT, "--subjects", 3, "--trials", 2, "--cycles", 4, g + "/study")
    run(GAIT, "study", g + "/study", g + "/out", "--model", SRC + "/datasets/gait/model-subject.onnx", "-q")
    pages["gait-subject"], pages["gait-study"] = g + "/out/sub-01/report.html", g + "/out/report.html"
    s = os.path.join(tmp, "speech")
    os.makedirs(s + "/data")
    if shutil.which("espeak-ng") and run(GSPEECH, "--voices", "m1,f1", "--digits", 4, "--speeds", 160,
                                         "--pitches", 50, s + "/data") == 0:
        run(SPEECH, "explain", "--model", SRC + "/datasets/speech/model-digits.onnx", s + "/data", "-o", s + "/out",
            "-q")
        pages["speech-speaker"], pages["speech-study"] = s + "/out/speaker-m1s160p50.html", s + "/out/report.html"
    else:
        print("SKIP: the speech pages: espeak-ng missing")
    return pages


# Appended to a copy of each page: click every table's second header (or first) twice and
# record whether the rows came out ascending, then descending.
SORT_PROBE = r"""<script>window.addEventListener('load',function(){var res=[];
document.querySelectorAll('table.sortable').forEach(function(t){var ths=t.tHead.rows[0].cells,
c=ths.length>1?1:0,th=ths[c];function col(){return Array.prototype.map.call(t.tBodies[0].rows,
function(r){return r.cells[c].textContent.trim();}).filter(function(s){return s!=='n/a';});}
function num(a){return a.every(function(s){return s!==''&&!isNaN(Number(s));});}
function sorted(a,d){for(var i=1;i<a.length;i++){var x=a[i-1],y=a[i],k=num(a)?Number(x)-Number(y):
x.localeCompare(y);if(d*k>0)return false;}return true;}th.click();var up=sorted(col(),1);th.click();
var down=sorted(col(),-1);res.push((up&&down?'ok':'bad')+(num(col())?'-num':'-text'));});
document.body.setAttribute('data-sort-probe',res.join(','));});</script>"""


def browse(page, shot):
    probe = page + ".probe.html"
    with open(page, encoding="utf-8") as f, open(probe, "w", encoding="utf-8") as g:
        g.write(f.read().replace("</body>", SORT_PROBE + "</body>"))
    prof = tempfile.mkdtemp(prefix="xai-chromium-")
    try:
        r = subprocess.run([CHROME, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                            "--disable-extensions", "--disable-background-networking", "--disable-component-update",
                            "--hide-scrollbars", "--user-data-dir=" + prof,
                            "--window-size=%d,%d" % (W, H), "--force-device-scale-factor=0.5",
                            "--virtual-time-budget=5000", "--screenshot=" + shot, "--dump-dom",
                            "file://" + os.path.abspath(probe)], capture_output=True, text=True, timeout=90)
        return r.stdout
    except subprocess.TimeoutExpired:
        print("Chromium did not finish %s within 90 s" % page)
        return ""
    finally:
        shutil.rmtree(prof, ignore_errors=True)
        os.unlink(probe)


def png_pixels(path):
    """(width, height, bytes per pixel, rows) of an 8-bit RGB/RGBA PNG: Pillow when it is
    there, else a decoder of the standard library's zlib (slower, same pixels)."""
    try:
        from PIL import Image
        im = Image.open(path).convert("RGB")
        w, h = im.size
        raw = im.tobytes()
        return w, h, 3, [raw[y * w * 3:(y + 1) * w * 3] for y in range(h)]
    except ImportError:
        pass
    d = open(path, "rb").read()
    assert d[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, hdr = 8, b"", None
    while pos < len(d):
        n, typ = struct.unpack(">I4s", d[pos:pos + 8])
        body = d[pos + 8:pos + 8 + n]
        if typ == b"IHDR":
            hdr = struct.unpack(">IIBBBBB", body)
        elif typ == b"IDAT":
            idat += body
        pos += 12 + n
    w, h, depth, ctype = hdr[:4]
    assert depth == 8 and ctype in (2, 6), "unexpected PNG type"
    bpp = 3 if ctype == 2 else 4
    raw, stride, prev, rows, i = zlib.decompress(idat), w * bpp, bytearray(w * bpp), [], 0
    for _ in range(h):
        ft, line = raw[i], bytearray(raw[i + 1:i + 1 + stride])
        i += 1 + stride
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b, c = prev[x], prev[x - bpp] if x >= bpp else 0
            if ft == 1: line[x] = (line[x] + a) & 255
            elif ft == 2: line[x] = (line[x] + b) & 255
            elif ft == 3: line[x] = (line[x] + (a + b) // 2) & 255
            elif ft == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return w, h, bpp, rows


class Links(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs, self.srcs, self.imgs = [], [], 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "a" and "href" in a:
            self.hrefs.append(a["href"])
        if "src" in a:
            self.srcs.append(a["src"])
        self.imgs += tag == "img"


def check_page(kind, page, dom, shot):
    text = open(page, encoding="utf-8").read()
    lk = Links()
    lk.feed(text)
    m = re.search(r'<footer id="xai-report-check"([^>]*)>', dom)
    attrs = dict(re.findall(r'(data-[a-z]+)="([^"]*)"', m.group(1))) if m else {}
    check(attrs.get("data-rendered") == "1", "%s: the page's script ran after load" % kind)
    nfig = int(attrs.get("data-figures", -1))
    check(nfig == lk.imgs and nfig >= 1, "%s: %d figures in the DOM, %d in the file" % (kind, nfig, lk.imgs))
    check(attrs.get("data-decoded") == str(nfig), "%s: every figure decoded with a non-zero size (%s of %d)"
          % (kind, attrs.get("data-decoded"), nfig))
    probe = (re.search(r'data-sort-probe="([^"]*)"', dom) or [None, None])[1]
    ntab = text.count('<table class="sortable">')
    res = probe.split(",") if probe else []
    check(probe is not None and len(res) == ntab and all(r.startswith("ok") for r in res),
          "%s: %d tables sort by a header click both ways (%s)" % (kind, ntab, probe))
    check(all(s.startswith("data:image/") for s in lk.srcs), "%s: every src is an inline data URI" % kind)
    check(not re.search(r'(src|href)="(https?:)?//', text), "%s: no network URL" % kind)
    base = os.path.dirname(page)
    files = [urllib.parse.unquote(h) for h in lk.hrefs if not h.startswith("#")]
    missing = [h for h in files if not os.path.isfile(os.path.join(base, h))]
    check(files and not missing, "%s: %d links, all resolve (%s)" % (kind, len(files), missing[:3]))
    w, h, bpp, rows = png_pixels(shot)
    colours = set()
    blank = 0
    for r in rows[::4]:
        for x in range(0, len(r), bpp * 4):
            px = r[x:x + 3]
            colours.add(px)
            blank += px == b"\xff\xff\xff"
    total = len(rows[::4]) * len(range(0, len(rows[0]), bpp * 4))
    check((w, h) == (W // 2, H // 2), "%s: screenshot %dx%d" % (kind, w, h))
    check(len(colours) >= 64 and blank < 0.95 * total, "%s: screenshot has content (%d colours, %.0f%% white)"
          % (kind, len(colours), 100.0 * blank / total))


t0 = time.time()
tmp = tempfile.mkdtemp(prefix="xai-report-browser-")
try:
    pages = make_studies(tmp)
    t1 = time.time()
    for kind, page in pages.items():
        check(os.path.isfile(page), "%s: %s written" % (kind, os.path.relpath(page, tmp)))
    pages = {k: p for k, p in pages.items() if os.path.isfile(p)}
    shots = {k: os.path.join(tmp, k + ".png") for k in pages}
    with ThreadPoolExecutor(max_workers=2) as ex:
        doms = dict(zip(pages, ex.map(lambda k: browse(pages[k], shots[k]), pages)))
    for kind in pages:
        if not os.path.isfile(shots[kind]):
            check(False, "%s: Chromium wrote no screenshot" % kind)
            continue
        check_page(kind, pages[kind], doms[kind], shots[kind])
        if SHOTS:
            os.makedirs(SHOTS, exist_ok=True)
            shutil.copy(shots[kind], os.path.join(SHOTS, "report-%s.png" % kind))
    print("programs %.1f s, browser %.1f s, %d pages" % (t1 - t0, time.time() - t1, len(pages)))
finally:
    shutil.rmtree(tmp, ignore_errors=True)
if failures:
    print("%d check(s) failed" % len(failures))
    sys.exit(1)
print("all checks passed")
PYEOF
