# SPDX-License-Identifier: GPL-3.0-or-later
# score-signature.awk TRUTH.tsv CYCLES1.tsv [CYCLES2 ...]: the planted-truth check of explanations
# of subject identification on data where each subject's signature lies on one side
# (gen_gait --nuisance realistic). Per subject (the subject column of the long cycle tables),
# |R| is summed per channel = (side, variable, component) over all its cycles and points. A
# subject passes when its signature channel ranks first and holds >= 60 % of its own |R| inside
# the signature phase [pct_start, pct_end]. Prints one line per subject and
#   SUMMARY subjects N first F inphase_mean S pass P
# where F counts signature channels ranked first and P the subjects meeting both conditions.
BEGIN { FS = "\t" }
FILENAME == ARGV[1] {
    if ($1 == "subject") { tv[$2] = $3; tc[$2] = $5; ts[$2] = $6; te[$2] = $7; tside[$2] = $9 }
    next
}
FNR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
{
    s = $col["subject"]; v = $col["variable"]; if (v ~ /^[LR][A-Z]/) v = substr(v, 2)
    a = $col["relevance"]; if (a < 0) a = -a
    key = s SUBSEP $col["side"] SUBSEP v SUBSEP $col["component"]
    tot[key] += a; subs[s] = 1
    if ((s in tv) && $col["side"] == tside[s] && v == tv[s] && $col["component"] == tc[s] &&
        $col["pct"] >= ts[s] && $col["pct"] <= te[s]) inph[s] += a
}
END {
    n = 0; first = 0; pass = 0; shs = 0
    for (k in tot) {
        split(k, p, SUBSEP)
        if (!(p[1] in best) || tot[k] > best[p[1]]) { best[p[1]] = tot[k]; bk[p[1]] = p[2] " " p[3] " " p[4] }
    }
    for (s in subs) {
        if (!(s in tv)) continue
        n++
        sk = s SUBSEP tside[s] SUBSEP tv[s] SUBSEP tc[s]
        sig = tside[s] " " tv[s] " " tc[s]
        isfirst = bk[s] == sig
        share = tot[sk] > 0 ? inph[s] / tot[sk] : 0
        first += isfirst; shs += share; pass += isfirst && share >= 0.6
        printf "%s signature %s: %s, %.3f of its |R| in phase; top %s\n", s, sig, isfirst ? "first" : "not first",
            share, bk[s]
    }
    printf "SUMMARY subjects %d first %d inphase_mean %.3f pass %d\n", n, first, n ? shs / n : 0, pass
}
