#!/usr/bin/env python3
"""Replays --target-quality's search over score curves (examples/score_curves.rs output) to
tune its rules without scoring again: for each rule set, the candidates made per photo (mean,
max), the qualities chosen, and the bytes against the fixed quality with the same worst case.

    cargo run --release --example score_curves -- --from 20 --to 80 bench/corpus/photos/*.jpg > curves.tsv
    bench/search_replay.py curves.tsv [TARGET]

`current` is a line-for-line port of src/photo/search.rs (lowest_quality_scoring and
boundary); the others change one rule each. A quality outside the curves' range counts as a
miss (reported), never as a pass.
"""
import sys
from collections import defaultdict

AGREEMENT = 0.001
MAX_STEPS = 8


def one_sided_slope(measured, slope, level):
    base = slope(level) if callable(slope) else slope
    if len(measured) >= 2 and measured[-1][0] != measured[-2][0]:
        (q1, v1), (q2, v2) = measured[-2], measured[-1]
        s = (v2 - v1) / (q2 - q1)
    else:
        s = base
    return s if s > base / 4 else base


def boundary(ceiling, goal, first, slope, settle, value, past=0.0, one_sided=True):
    lo, hi = (0, None), (ceiling + 1, None)
    measured = []
    checkpoint = None
    while hi[0] - lo[0] > 1 and len(measured) < MAX_STEPS:
        width = hi[0] - lo[0]
        if settle is not None and lo[1] is not None and hi[1] is not None:
            step = (hi[1] - lo[1]) / width
            if step > 0 and hi[1] - step < goal - settle * step:
                break
        if one_sided and settle is not None and lo[1] is None and hi[1] is not None:
            step = one_sided_slope(measured, slope, hi[1])
            if hi[1] - step < goal - settle * step:
                break
        if not measured:
            guess = first
        elif lo[1] is not None and hi[1] is not None:
            vl, vh = lo[1], hi[1]
            since, runs = checkpoint if checkpoint else (width, 0)
            middle = lo[0] + width / 2
            if runs >= 2 and 2 * width > since:
                since, runs = width, 0
                guess = middle
            elif vh > vl:
                guess = lo[0] + (goal - vl) / (vh - vl) * width
            else:
                guess = middle
            runs += 1
            if runs == 2 and 2 * width <= since:
                since, runs = width, 0
            checkpoint = (since, runs)
        else:
            s = one_sided_slope(measured, slope, measured[-1][1])
            if lo[1] is not None:
                guess = lo[0] + (goal - lo[1]) / s + past
            else:
                guess = hi[0] - (hi[1] - goal) / s - past
        q = int(min(max(rnd(guess), lo[0] + 1), hi[0] - 1))
        v = value(q)
        measured.append((q, v))
        if v >= goal:
            hi = (q, v)
        else:
            lo = (q, v)
    return (hi[0] if hi[1] is not None else None), len(measured)


def rnd(x):
    # Rust's f64::round: half away from zero.
    return int(x + 0.5) if x >= 0 else -int(-x + 0.5)


def main():
    path = sys.argv[1]
    target = float(sys.argv[2]) if len(sys.argv) > 2 else 70.0
    curves = defaultdict(dict)
    size = defaultdict(dict)
    for line in open(path):
        name, q, s, b = line.split("\t")
        curves[name][int(q)] = float(s)
        size[name][int(q)] = int(b)
    goal = target + AGREEMENT
    ceiling = 71

    def first_fixed(_name):
        return rnd(min(max(50.0 + (target - 65.0) / 0.5, 1), ceiling))

    variants = {
        "current": dict(slope=0.5, settle=-1.0, past=0.0, one_sided=True),
        "settle 0 (12-05 22:00)": dict(slope=0.5, settle=0.0, past=0.0, one_sided=True),
        "settle 0.25 (12-05 21:00)": dict(slope=0.5, settle=0.25, past=0.0, one_sided=True),
        "before (12-05 12:20)": dict(slope=0.5, settle=0.25, past=0.5, one_sided=False),
        "no one-sided stop": dict(slope=0.5, settle=0.25, past=0.0, one_sided=False),
        "past 0.5": dict(slope=0.5, settle=0.25, past=0.5, one_sided=True),
        "slope 0.45": dict(slope=0.45, settle=0.25, past=0.0, one_sided=True),
        "slope 0.55": dict(slope=0.55, settle=0.25, past=0.0, one_sided=True),
        "settle 0.4": dict(slope=0.5, settle=0.4, past=0.0, one_sided=True),
        "settle 0.1": dict(slope=0.5, settle=0.1, past=0.0, one_sided=True),
        "settle -0.25": dict(slope=0.5, settle=-0.25, past=0.0, one_sided=True),
        "settle -0.5": dict(slope=0.5, settle=-0.5, past=0.0, one_sided=True),
        "settle -1.25": dict(slope=0.5, settle=-1.25, past=0.0, one_sided=True),
    }
    for label, rules in variants.items():
        steps, chosen, missing = [], {}, 0
        for name, curve in curves.items():
            def value(q, curve=curve):
                nonlocal missing
                if q not in curve:
                    missing += 1
                    return float("-inf") if q < min(curve) else float("inf")
                return curve[q]
            q, n = boundary(ceiling, goal, first_fixed(name), rules["slope"], rules["settle"], value,
                            rules["past"], rules["one_sided"])
            steps.append(n)
            chosen[name] = q
        ok = [n for n in chosen if chosen[n] is not None]
        worst = max(chosen[n] for n in ok)
        total = sum(size[n][chosen[n]] for n in ok)
        fixed = sum(size[n][worst] for n in ok if worst in size[n])
        below = sum(1 for n in ok if curves[n][chosen[n]] < target)
        print(f"{label:28} candidates mean {sum(steps)/len(steps):.2f} max {max(steps)}  "
              f"bytes/fixed(q{worst}) {total/fixed:.4f}  below target {below}  off-range {missing}")


if __name__ == "__main__":
    main()
