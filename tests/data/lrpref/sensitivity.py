#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Show that the generated cases tell known convention mistakes apart.

    /usr/bin/python3 sensitivity.py [CASES_DIR]

Each variant patches one line of lrpref.py (in memory) to a plausible mistake, recomputes every
stored map and lists the maps that move by rel L2 > 1e-4 (the pass threshold of compare_cnn.py).
Exit status 1 if some variant is caught by no map at all.
"""
import json
import os
import sys
import types

HERE = os.path.dirname(os.path.abspath(__file__))

VARIANTS = {
    'MaxPool: last maximum wins ties': (
        'if bi is None or v > best:', 'if bi is None or v >= best:'),
    'stabilizer z + eps (no sign)': (
        'return z + eps * np.where(z >= 0, 1.0, -1.0)', 'return z + eps'),
    'stabilizer sgn(0) = -1': (
        'return z + eps * np.where(z >= 0, 1.0, -1.0)', 'return z + eps * np.where(z > 0, 1.0, -1.0)'),
    'Flat counts padded taps': (
        'z = op.f(np.ones_like(x), ones_w, None)  # number of in-bounds taps per output',
        'z = op.f(np.ones_like(x), ones_w, None)\n'
        '    z = np.full_like(z, ones_w[0].size) if op.kind == "conv" else z'),
    'AvgPool divisor: valid cells even with count_include_pad=1': (
        'div = npad if include_pad else len(valid)', 'div = len(valid)'),
    'AvgPool divisor: always the full kernel': (
        'div = npad if include_pad else len(valid)', 'div = int(np.prod(self.p.kernel))'),
    'fan-out: last edge overwrites instead of summing': (
        'Rs[name] = Rs[name] + r if name in Rs else r', 'Rs[name] = r'),
    'Gamma gated by the sign of zp / zn instead of z': (
        'sp = (z > 0) * R / stab(zp, STAB)\n    sn = (z < 0) * R / stab(zn, STAB)',
        'sp = (zp > 0) * R / stab(zp, STAB)\n    sn = (zn < 0) * R / stab(zn, STAB)'),
    'Gamma: z == 0 counted as positive': (
        'sp = (z > 0) * R / stab(zp, STAB)', 'sp = (z >= 0) * R / stab(zp, STAB)'),
    'Epsilon: bias dropped from the denominator': (
        'z = op.f(x, op.w, op.b)\n    s = R / stab(z, eps)', 'z = op.f(x, op.w, None)\n    s = R / stab(z, eps)'),
    'ZBox bounds swapped': (
        "return rule_zbox(op, x, R, rule[1], rule[2])", "return rule_zbox(op, x, R, rule[2], rule[1])"),
    'residual Add split 50/50 instead of Norm': (
        'add(ins[0], xa * s)\n                    add(ins[1], xb * s)',
        'add(ins[0], 0.5 * R)\n                    add(ins[1], 0.5 * R)'),
    'Norm (AvgPool) uses the Epsilon rule epsilon': (
        'add(ins[0], x * p.vjp(R / stab(p.y, norm_eps)))',
        'add(ins[0], x * p.vjp(R / stab(p.y, norm_eps if rules is None else '
        'max([r[1] for r in rules.values() if r[0] == "epsilon"] + [norm_eps]))))'),
    'BN pass used where folding is the default': (
        "fold = (bn == 'fold') or kind.startswith('gradient')", "fold = kind.startswith('gradient')"),
    'first layer = first Conv also for the Flat composites': (
        "if composite.endswith('-flat') and i == first_any:",
        "if composite.endswith('-flat') and i == (first_conv if first_conv is not None else first_any):"),
    'ReLU gradient masked in LRP too': (
        'add(ins[0], R * (self._get(ins[0]) > 0) if gradient else R)', 'add(ins[0], R * (self._get(ins[0]) > 0))'),
}


def patched_module(old, new):
    src = open(os.path.join(HERE, 'lrpref.py')).read()
    s = src.replace(old, new)
    if s == src:
        raise RuntimeError(f'patch does not apply: {old!r}')
    mod = types.ModuleType('lrpref_variant')
    exec(compile(s, 'lrpref_variant', 'exec'), mod.__dict__)
    mod.METHODS.setdefault('epsilon_alpha2_beta1_flat', ('epsilon-alpha2-beta1-flat', 1e-6))
    return mod


def run(L, root):
    hits = []
    for name in sorted(os.listdir(root)):
        d = os.path.join(root, name)
        if not os.path.exists(os.path.join(d, 'meta.json')):
            continue
        meta = json.load(open(os.path.join(d, 'meta.json')))
        M = L.Model(os.path.join(d, 'model.onnx'))
        x = L.load_f32(os.path.join(d, 'input.f32'), meta['input']['shape'])
        for key, info in meta['relevances'].items():
            m, _, v = key.partition('__')
            r, _, _, _ = L.explain(M, x, m, cls=meta['explained_class'], bn='pass' if v else 'fold',
                                   low=meta['conventions']['zbox_low'], high=meta['conventions']['zbox_high'])
            e = L.rel_l2(r.reshape(-1), L.load_f32(os.path.join(d, info['file'])))
            if not e < 1e-4:
                hits.append((name, key, e))
    return hits


def main(argv):
    root = argv[1] if len(argv) > 1 else os.path.join(HERE, 'cases')
    missed = 0
    for tag, (old, new) in VARIANTS.items():
        hits = run(patched_module(old, new), root)
        cases = sorted({h[0] for h in hits})
        worst = max(hits, key=lambda h: h[2]) if hits else None
        print(f'{tag}: {len(hits)} maps in {len(cases)} cases' +
              (f' (e.g. {worst[0]}/{worst[1]} rel L2 {worst[2]:.2g}): {", ".join(cases)}' if hits else ' -- NOT CAUGHT'))
        missed += not hits
    return 1 if missed else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
