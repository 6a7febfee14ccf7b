#!/usr/bin/env python3
"""The nemesis checker (issue 9, section 1): judges one scenario on a real cluster from two
independent records, the ledger the jobs' own commands wrote (one line per run: RUN SCHEDULED
WALL_TIME NODE, the wall time read outside any faked clock) and the cluster's run history
(`paxcron runs ls --json`), with the faults the harness injected (faults.txt: KIND TARGET LEADER
START END). Violations (exit 1, each printed):
  - duplicate: a run name twice in the ledger;
  - history: a run in the ledger that the history does not hold as started, or one the history
    holds as started that is not in the ledger (runs begun in the last seconds may be in flight);
  - must-run: a scheduled time of the must-run job (missed=all, on_unknown=relaunch) from its
    first to the end (after healing) not in the ledger exactly once;
  - missing: a second of the every-second job outside every fault window without its run;
  - late: a run outside every fault window started more than --late-bound after its time;
  - early: a run started more than --tolerance + 1 s before its time (in true time).
Measured and reported (not judged): runs, skips, the worst lateness inside fault windows, and per
fault the failover time (the fault's start to the first launch by a node other than the leader it
hit) and the longest stall of the every-second job. One JSON line per scenario is appended to
--results. `--self-test` shows that the checker fails on doctored records.
"""
import argparse
import datetime
import json
import os
import sys
import tempfile


def parse_time(stamp):
    return int(datetime.datetime.strptime(stamp, '%Y-%m-%dT%H:%M:%SZ').replace(
        tzinfo=datetime.timezone.utc).timestamp())


def read_ledger(path):
    entries = []  # (run, job, scheduled_s, wall, node)
    for n, line in enumerate(open(path), 1):
        parts = line.split()
        if len(parts) != 4:
            raise SystemExit(f'{path}:{n}: malformed ledger line: {line!r}')
        run, sched, wall, node = parts
        entries.append((run, run.split('@', 1)[0], parse_time(sched), float(wall), int(node)))
    return entries


def read_history(path):
    runs = {}  # run -> record
    for row in json.load(open(path)).get('runs', []):
        rec = row['record']
        runs[rec['run_name']] = {
            'job': row.get('job', ''),
            'state': rec.get('state', 'RUN_BEGUN'),
            'scheduled_s': int(rec.get('scheduled_s', 0)),
            'manual': rec.get('manual', False),
            'reason': rec.get('reason', ''),
            'begun_us': int(rec.get('begun_us', 0)),
        }
    return runs


def read_faults(path):
    faults = []
    for line in open(path):
        kind, target, leader, start, end = line.split()
        faults.append({'kind': kind, 'target': target, 'leader': int(leader),
                       'start': float(start), 'end': float(end)})
    return faults


def check(ledger, history, faults, a):
    """Returns (violations, summary)."""
    v = []
    windows = [(f['start'] - 1.0, f['end'] + a.recover) for f in faults]
    in_window = lambda s: any(lo <= s <= hi for lo, hi in windows)
    jobs = {a.tick, a.must}
    mine = [e for e in ledger if e[1] in jobs]

    # 1. No run name twice.
    seen, dups = {}, []
    for e in mine:
        if e[0] in seen:
            dups.append(e[0])
        seen.setdefault(e[0], []).append(e)
    for d in sorted(set(dups)):
        v.append(f'duplicate: {d} is in the ledger {len(seen[d])} times '
                 f'(nodes {[e[4] for e in seen[d]]})')

    # 2. The history agrees with the ledger.
    ran_states = {'RUN_STARTED', 'RUN_ALREADY_EXISTED'}
    for run in sorted(seen):
        h = history.get(run)
        if h is None:
            v.append(f'history: {run} ran (ledger) but is not in the history')
        elif h['state'] not in ran_states and not (h['state'] == 'RUN_BEGUN'):
            v.append(f'history: {run} ran (ledger) but the history says {h["state"]} '
                     f'({h["reason"]})')
    in_flight_after = a.end - a.in_flight
    open_runs = 0
    for run, h in sorted(history.items()):
        if h['job'] not in jobs:
            continue
        if h['state'] == 'RUN_BEGUN':
            open_runs += 1
            if h['scheduled_s'] < in_flight_after:
                ran = 'ran (ledger) but ' if run in seen else 'never ran, and '
                v.append(f'history: {run} {ran}is still open (begun, not concluded) at the end')
        elif h['state'] in ran_states and run not in seen and h['scheduled_s'] < in_flight_after:
            v.append(f'history: {run} is {h["state"]} in the history but not in the ledger')
    skips = sorted((h['scheduled_s'], run, h['reason']) for run, h in history.items()
                   if h['job'] in jobs and h['state'] == 'RUN_SKIPPED')
    failed = [run for run, h in history.items() if h['job'] in jobs and h['state'] == 'RUN_FAILED']

    # 3. Every scheduled time of the must-run job up to the end ran exactly once.
    must_times = sorted(e[2] for e in mine if e[1] == a.must)
    must_checked = 0
    if must_times:
        s = must_times[0]
        while s <= a.end - a.in_flight:
            n = sum(1 for e in mine if e[1] == a.must and e[2] == s)
            if n != 1:
                v.append(f'must-run: {a.must} at {s} ran {n} times (want exactly 1)')
            must_checked += 1
            s += a.must_every
    elif a.must:
        v.append(f'must-run: {a.must} never ran')

    # 4. Every second outside the fault windows ran, on time; nothing ran early.
    tick_at = {e[2]: e for e in mine if e[1] == a.tick}
    missing = [s for s in range(int(a.start) + 2, int(a.end - a.in_flight))
               if s not in tick_at and not in_window(s)]
    if missing:
        v.append(f'missing: {len(missing)} seconds outside fault windows without a run of '
                 f'{a.tick}, first {missing[:5]}')
    worst_steady, worst_fault, earliest = 0.0, 0.0, None
    for run, job, s, wall, node in mine:
        late = wall - s
        earliest = late if earliest is None else min(earliest, late)
        if late < -(a.tolerance + 1.0):
            v.append(f'early: {run} started {-late:.3f} s before its time (node {node})')
        if in_window(s):
            worst_fault = max(worst_fault, late)
        else:
            worst_steady = max(worst_steady, late)
            if late > a.late_bound:
                v.append(f'late: {run} started {late:.3f} s late outside fault windows '
                         f'(bound {a.late_bound} s)')

    # Measured: failovers and stalls per fault.
    walls = sorted(e[3] for e in mine if e[1] == a.tick)
    failovers, stalls = [], []
    for f in faults:
        later = [e[3] for e in mine if e[3] > f['start'] and e[4] != f['leader']]
        if f['leader'] and later and min(later) <= f['end'] + a.recover + 10:
            failovers.append(round(min(later) - f['start'], 3))
        lo, hi = f['start'], f['end'] + a.recover
        inside = [lo] + [w for w in walls if lo < w < hi] + [hi]
        stalls.append(round(max(b - a_ for a_, b in zip(inside, inside[1:])), 3))
    summary = {
        'scenario': a.scenario, 'faults': len(faults),
        'fault_kinds': sorted({f['kind'] for f in faults}),
        'runs': len(mine), 'duplicates': len(set(dups)), 'skips': len(skips),
        'failed': len(failed), 'open': open_runs, 'must_checked': must_checked,
        'missing': len(missing),
        'worst_lateness_steady_s': round(worst_steady, 3),
        'worst_lateness_fault_s': round(worst_fault, 3),
        'earliest_s': round(earliest, 3) if earliest is not None else None,
        'failovers_s': failovers, 'stalls_s': stalls,
        'violations': len(v),
    }
    return v, summary


def options(argv):
    p = argparse.ArgumentParser()
    p.add_argument('--ledger')
    p.add_argument('--history')
    p.add_argument('--faults')
    p.add_argument('--start', type=float)
    p.add_argument('--end', type=float)
    p.add_argument('--tick', default='tick')
    p.add_argument('--must', default='must')
    p.add_argument('--must-every', type=int, default=3)
    p.add_argument('--late-bound', type=float, default=1.5)
    p.add_argument('--recover', type=float, default=5.0)
    p.add_argument('--in-flight', type=float, default=3.0)
    p.add_argument('--tolerance', type=float, default=1.0)
    p.add_argument('--scenario', default='?')
    p.add_argument('--results')
    p.add_argument('--extra', default='{}', help='JSON merged into the summary')
    p.add_argument('--self-test', action='store_true')
    return p.parse_args(argv)


def self_test():
    """A clean record passes; each doctored one fails for the right reason."""
    t0 = 1_800_000_000
    iso = lambda s: datetime.datetime.fromtimestamp(s, datetime.timezone.utc).strftime(
        '%Y-%m-%dT%H:%M:%SZ')
    def records(doctor=None):
        ledger, hist = [], []
        for s in range(t0, t0 + 30):
            runs = [('tick', s)] + ([('must', s)] if s % 3 == 0 else [])
            for job, sched in runs:
                name = f'{job}@{iso(sched)}'
                ledger.append(f'{name} {iso(sched)} {sched + 0.05:.3f} 1')
                hist.append({'job': job, 'record': {'run_name': name, 'scheduled_s': str(sched),
                                                    'state': 'RUN_STARTED'}})
        if doctor:
            doctor(ledger, hist)
        d = tempfile.mkdtemp(prefix='nemesis-selftest.')
        open(f'{d}/ledger', 'w').write('\n'.join(ledger) + '\n')
        json.dump({'runs': hist}, open(f'{d}/history', 'w'))
        open(f'{d}/faults', 'w').write('')
        a = options(['--ledger', f'{d}/ledger', '--history', f'{d}/history', '--faults',
                     f'{d}/faults', '--start', str(t0), '--end', str(t0 + 30),
                     '--scenario', 'self-test'])
        v, _ = check(read_ledger(a.ledger), read_history(a.history), read_faults(a.faults), a)
        for f in os.listdir(d):
            os.unlink(f'{d}/{f}')
        os.rmdir(d)
        return v
    def dup(ledger, hist):
        # The same run name written again by another node: what a second leader would do.
        ledger.append(ledger[10].rsplit(' ', 1)[0] + ' 2')
    def unrecorded(ledger, hist):
        del hist[5]
    def lost(ledger, hist):
        del ledger[7]
    def early(ledger, hist):
        name, sched, wall, node = ledger[12].split()
        ledger[12] = f'{name} {sched} {parse_time(sched) - 5:.3f} {node}'
    def must_lost(ledger, hist):
        # Gone from both records (never begun), so that only the must-run check can see it.
        i = next(i for i, l in enumerate(ledger) if l.startswith('must@') and i > 4)
        name = ledger.pop(i).split()[0]
        hist[:] = [h for h in hist if h['record']['run_name'] != name]
    cases = [('clean', None, None), ('duplicate', dup, 'duplicate:'),
             ('history lacks a run', unrecorded, 'history:'),
             ('ledger lacks a run', lost, 'history:'), ('early run', early, 'early:'),
             ('must-run lost', must_lost, 'must-run:')]
    ok = True
    for name, doctor, want in cases:
        v = records(doctor)
        good = (not v) if want is None else any(x.startswith(want) for x in v)
        print(f'self-test {name}: {"ok" if good else "WRONG"} '
              f'({len(v)} violations{": " + v[0] if v else ""})')
        ok = ok and good
    return 0 if ok else 1


def main():
    a = options(sys.argv[1:])
    if a.self_test:
        return self_test()
    v, summary = check(read_ledger(a.ledger), read_history(a.history), read_faults(a.faults), a)
    summary.update(json.loads(a.extra))
    for x in v[:40]:
        print(f'{a.scenario}: VIOLATION {x}')
    if len(v) > 40:
        print(f'{a.scenario}: ... {len(v) - 40} more violations')
    print(f'{a.scenario}: {json.dumps(summary)}')
    if a.results:
        with open(a.results, 'a') as out:
            out.write(json.dumps(summary) + '\n')
    return 1 if v else 0


if __name__ == '__main__':
    sys.exit(main())
