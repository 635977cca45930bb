# SPDX-License-Identifier: GPL-3.0-or-later
# score.awk TRUTH.tsv MEAN1.tsv [MEAN2 ...]: per mean table (file name gives the subject), the share of
# positive mean relevance inside the planted region and whether the peak lies in it (+-5 %).
FNR == 1 { next }
FILENAME == ARGV[1] { if ($1 == "subject") { tv[$2] = $3; tc[$2] = $5; ts[$2] = $6; te[$2] = $7 }; next }
{
    match(FILENAME, /sub-[0-9]+/); sub_ = substr(FILENAME, RSTART, RLENGTH)
    v = $2; if (v ~ /^[LR][A-Z]/) v = substr(v, 2)
    key = sub_ SUBSEP v SUBSEP $3 SUBSEP $4
    r[key] += $8; subs[sub_] = 1
}
END {
    for (k in r) {
        split(k, a, SUBSEP)
        if (r[k] > 0) { tot[a[1]] += r[k]; if (a[2] == tv[a[1]] && a[3] == tc[a[1]] && a[4] >= ts[a[1]] && a[4] <= te[a[1]]) in_[a[1]] += r[k] }
        if (!(a[1] in best) || r[k] > best[a[1]]) { best[a[1]] = r[k]; bv[a[1]] = a[2]; bc[a[1]] = a[3]; bp[a[1]] = a[4] }
    }
    n = 0; hits = 0; sh = 0
    for (s in subs) {
        n++; share = tot[s] > 0 ? in_[s] / tot[s] : 0; sh += share
        hit = (bv[s] == tv[s] && bc[s] == tc[s] && bp[s] >= ts[s] - 5 && bp[s] <= te[s] + 5)
        hits += hit
        printf "%s share %.3f peak %s %s %d%% %s\n", s, share, bv[s], bc[s], bp[s], hit ? "HIT" : "miss"
    }
    printf "SUMMARY subjects %d hits %d mean_share %.3f\n", n, hits, sh / n
}
