#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# test-bids-validator.sh - BIDS derivatives of xai-fmri and xai-eeg checked by the npm
# bids-validator. Generates a small fMRI and EEG study (gen_fmri, gen_eeg), runs the
# participant and group levels into derivative folders and checks:
#   - dataset_description.json: DatasetType "derivative" and GeneratedBy with Name and Version
#     of the program;
#   - a JSON sidecar next to every output (the HTML reports are views, not data: none);
#   - bids-validator (1.x, the version on the npm registry) reports only the messages the
#     README explains (section "BIDS derivatives"): NOT_INCLUDED for derivative-only names
#     (desc- entity, figures, group maps without a subject, reports), NO_VALID_DATA_FOUND_FOR_SUBJECT
#     (the validator counts raw data only), README_FILE_MISSING and NO_AUTHORS. Any other
#     message, or a flagged file outside those kinds (a naming mistake), fails the test.
# Every message is printed. Arguments: XAI_FMRI XAI_EEG GEN_FMRI GEN_EEG.
# Exit: 0 pass, 1 failure, 77 skip (bids-validator not installed: `npm install -g bids-validator`,
# as .ci/install-deps does when the registry answers).
[ $# -ge 4 ] || { echo "usage: $0 XAI_FMRI XAI_EEG GEN_FMRI GEN_EEG" >&2; exit 2; }
command -v bids-validator >/dev/null 2>&1 ||
  { echo "SKIP: bids-validator is not installed (npm install -g bids-validator)"; exit 77; }
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3) || { echo "SKIP: no python3"; exit 77; }
exec "$PY" - "$@" <<'PYEOF'
import json, os, re, shutil, subprocess, sys, tempfile, time

FMRI, EEG, GFMRI, GEEG = sys.argv[1:5]
SRC = os.environ.get("XAI_SOURCE_ROOT", os.path.join(os.path.dirname(os.path.abspath(sys.argv[0])), ".."))
EXPLAINED = {"NOT_INCLUDED", "NO_VALID_DATA_FOUND_FOR_SUBJECT", "README_FILE_MISSING", "NO_AUTHORS"}
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def run(*cmd):
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True)
    check(r.returncode == 0, "%s exits 0%s" % (" ".join(map(str, cmd[:4])), "" if r.returncode == 0
                                                  else " (%d: %s)" % (r.returncode, r.stderr[-500:])))


def derivative_only(path):
    """A name BIDS 1.x raw validation cannot know: desc- entity, figures, group level, reports."""
    base = os.path.basename(path)
    return ("_desc-" in base or "/figures/" in path or path.startswith("group") or base.endswith(".html"))


def sidecar_of(path):
    for ext in (".nii.gz", ".tsv", ".npy", ".png", ".onnx", ".nii"):
        if path.endswith(ext):
            return path[:-len(ext)] + ".json"
    return None


def validate(kind, out, program):
    dd = json.load(open(os.path.join(out, "dataset_description.json")))
    gen = dd.get("GeneratedBy") or [{}]
    check(dd.get("DatasetType") == "derivative" and gen[0].get("Name") == program and gen[0].get("Version"),
          "%s: dataset_description.json names the derivative and GeneratedBy %s %s" % (kind, program,
                                                                                     gen[0].get("Version")))
    outputs, lacking = 0, []
    # hidden files (the batch status files under .xai-status) are bookkeeping, not derivatives;
    # BIDS tools skip dot files too
    for root, dirs, files in os.walk(out):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for f in files:
            if f.startswith("."):
                continue
            p = os.path.join(root, f)
            if f.endswith((".json", ".html")):
                continue
            outputs += 1
            sc = sidecar_of(p)
            if not sc or not os.path.isfile(sc):
                lacking.append(os.path.relpath(p, out))
    check(outputs > 0 and not lacking, "%s: all %d outputs have a JSON sidecar %s" % (kind, outputs, lacking[:3]))
    t = time.time()
    r = subprocess.run(["bids-validator", out, "--json"], capture_output=True, text=True, timeout=300)
    v = subprocess.run(["bids-validator", out, "--verbose", "--no-color"], capture_output=True, text=True,
                       timeout=300)
    print("%s: bids-validator %.1f s" % (kind, time.time() - t))
    try:
        issues = json.loads(r.stdout)["issues"]
    except (ValueError, KeyError):
        check(False, "%s: bids-validator gave JSON (%s)" % (kind, (r.stdout + r.stderr)[-300:]))
        return
    for sev in ("errors", "warnings"):
        for i in issues[sev]:
            n = len(i.get("files") or []) + int(i.get("additionalFileCount") or 0)
            print("  %s: %s %s (code %s, %d files)" % (kind, sev[:-1], i["key"], i["code"], n))
            check(i["key"] in EXPLAINED, "%s: %s is among the messages the README explains" % (kind, i["key"]))
    # the verbose listing names every flagged file: none may look like a raw BIDS name gone wrong
    flagged, block = [], None
    for line in v.stdout.splitlines():
        m = re.search(r"\(code: \d+ - ([A-Z_]+)\)", line)
        if m:
            block = m.group(1)
        m = re.match(r"^\t\t\./(\S+)$", line)
        if m and block == "NOT_INCLUDED":
            flagged.append(m.group(1))
    odd = [f for f in flagged if not derivative_only(f)]
    check(not odd, "%s: the %d files NOT_INCLUDED flags are derivative-only names %s" % (kind, len(flagged), odd[:5]))


tmp = tempfile.mkdtemp(prefix="xai-bids-validator-")
try:
    f = os.path.join(tmp, "fmri")
    run(GFMRI, "--subjects", 2, "--runs", 2, "--dims", "16x18x12", "--volumes", 60, f + "/bids")
    run(FMRI, f + "/bids", f + "/bids/derivatives/xai-fmri", "participant", "--epochs", 5, "-q")
    run(FMRI, f + "/bids", f + "/bids/derivatives/xai-fmri", "group", "-q")
    validate("fmri", f + "/bids/derivatives/xai-fmri", "xai-fmri")
    e = os.path.join(tmp, "eeg")
    run(GEEG, "--subject", "01", "--runs", 2, "--trials", 8, e + "/bids/sub-01/eeg")
    run(GEEG, "--subject", "02", "--seed", 5, "--runs", 2, "--trials", 8, e + "/bids/sub-02/eeg")
    model = os.path.join(SRC, "datasets", "eeg", "mi-shallow.onnx")
    run(EEG, e + "/bids", e + "/bids/derivatives/xai-eeg", "participant", "--model", model, "-q")
    run(EEG, e + "/bids", e + "/bids/derivatives/xai-eeg", "group", "-q")
    validate("eeg", e + "/bids/derivatives/xai-eeg", "xai-eeg")
finally:
    shutil.rmtree(tmp, ignore_errors=True)
if failures:
    print("%d check(s) failed" % len(failures))
    sys.exit(1)
print("all checks passed")
PYEOF
