#!/usr/bin/env python3
"""make bench: how fast dfix is, and that time and memory grow linearly.

  a. in memory, one large input (the shared corpus concatenated to ~50 MB):
     parse + print, df_fix --level format, df_fix with every pass (build/bench-mem;
     its allocator keeps freed memory between runs, as `dfix lsp` does); the
     same on a 3 MB concatenation, for how throughput holds up with size
  b. the corpus x20 through the file system in one process, against `cat`
     on the same files in the same run (round trip, and --level format)
  c. one whole process on a typical 2-4 KB Dockerfile, against `cat`
     (hyperfine when installed, else a loop of 200 runs)
  d. peak RSS for 1 MB and 10 MB inputs
  e. pathological inputs at 1x, 2x and 4x size: 5,000 continuation lines,
     a 60 KB line, 100,000 instructions

Prints a table with PASS/FAIL against the issue's targets. It is a report:
the exit status is 0 unless something crashed.

usage: bench.py [--only=abcde]   (sections to run; default all)
environment: DFIX (default ./dfix), BENCH_MEM (default build/bench-mem),
DFIX_SHARED (default ../shared), BENCH_QUICK=1 for shorter measurements.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DFIX = os.path.abspath(os.environ.get('DFIX') or os.path.join(ROOT, 'dfix'))
BENCH_MEM = os.path.abspath(os.environ.get('BENCH_MEM') or os.path.join(ROOT, 'build', 'bench-mem'))
SHARED = os.path.abspath(os.environ.get('DFIX_SHARED') or os.path.join(ROOT, '..', 'shared'))
QUICK = os.environ.get('BENCH_QUICK') == '1'
MINTIME = '0.2' if QUICK else '1.0'
TIMEOUT = 600
A_TIMEOUT = 60 if QUICK else 180   # one in-memory measurement of the 50 MB input
P_TIMEOUT = 30 if QUICK else 120   # one process on a 10 MB or pathological input

rows = []      # (section, check, measured, target, verdict)
crashed = []   # what died of a signal (or an unexpected exit)


def row(section, check, measured, target='', ok=None):
    verdict = '' if ok is None else ('PASS' if ok else 'FAIL')
    rows.append((section, check, measured, target, verdict))
    print('  %-44s %-26s %-14s %s' % (check, measured, target, verdict))
    sys.stdout.flush()


def note_crash(what, rc, err=b''):
    if rc is None:
        return
    if rc < 0 or rc > 2:
        crashed.append('%s: exit %s %s' % (what, rc, err.decode('utf-8', 'replace')[-300:]))


def header(title):
    print('\n== %s' % title)
    sys.stdout.flush()


# ---------------------------------------------------------------- inputs

def corpus_files():
    d = os.path.join(SHARED, 'corpus', 'files')
    if not os.path.isdir(d):
        return []
    out = []
    for root, _, names in os.walk(d):
        out += [os.path.join(root, n) for n in sorted(names)]
    return sorted(out)


def local_files():
    """Fallback inputs when ../shared is absent: our own Dockerfiles."""
    out = []
    for d in ('tests/fuzz/corpus', 'tests/data'):
        p = os.path.join(ROOT, d)
        if os.path.isdir(p):
            out += sorted(os.path.join(p, f) for f in os.listdir(p))
    for root, _, names in os.walk(os.path.join(ROOT, 'golden')):
        out += [os.path.join(root, n) for n in names if n == 'Dockerfile']
    return [f for f in out if os.path.isfile(f)]


ESCAPE_RE = re.compile(rb'^(\xef\xbb\xbf)?[ \t]*#[ \t]*escape[ \t]*=', re.I | re.M)


def valid_pieces(files):
    """The files dfix accepts (one process), each ending in a newline and
    without an escape directive, so that their concatenation stays valid."""
    ok = []
    step = 400
    for i in range(0, len(files), step):
        chunk = files[i:i + step]
        p = subprocess.run([DFIX, '--select', 'none'] + chunk, capture_output=True, timeout=TIMEOUT)
        note_crash('dfix --select none (input selection)', p.returncode, p.stderr)
        bad = set()
        for line in p.stderr.splitlines():
            for f in chunk:
                if line.startswith(b'dfix: ' + f.encode() + b':'):
                    bad.add(f)
        for f in chunk:
            if f in bad:
                continue
            with open(f, 'rb') as fh:
                data = fh.read()
            if ESCAPE_RE.search(data[:2000]) or b'\0' in data or data.startswith(b'\xef\xbb\xbf'):
                continue
            if not data.endswith(b'\n'):
                data += b'\n'
            ok.append((f, data))
    return ok


def ends_in_continuation(data):
    """Does the last line that is not blank or a comment end with the escape?
    Then the next file's first line would join it."""
    for line in reversed(data.splitlines()):
        t = line.strip()
        if not t or t.startswith(b'#'):
            continue
        return t.endswith(b'\\')
    return False


def concat(pieces, target, index=None):
    """The pieces repeated until `target` bytes; `index` gets (first line, piece)."""
    out, n, i, line = [], 0, 0, 1
    while n < target and pieces:
        k = i % len(pieces)
        d = pieces[k][1]
        if index is not None:
            index.append((line, k))
            line += d.count(b'\n')
        out.append(d)
        n += len(d)
        i += 1
    return b''.join(out)


def clean_pieces(pieces, tmp):
    """Drop pieces until their concatenation is a valid Dockerfile (a join of
    two valid files can still be invalid, e.g. after a trailing continuation)."""
    pieces = [p for p in pieces if not ends_in_continuation(p[1])]
    path = os.path.join(tmp, 'check.Dockerfile')
    for _ in range(50):
        index = []
        write(path, concat(pieces, sum(len(d) for _, d in pieces) * 2, index))
        ok, why = check_valid(path)
        if ok:
            return pieces
        m = re.search(r':(\d+):\d+: ', why)
        if not m:
            break
        line = int(m.group(1))
        k = max(j for start, j in index if start <= line) if index[0][0] <= line else 0
        drop = {k, (k - 1) % len(pieces)}
        print('  note: concatenation invalid at line %d (%s): dropping %s' %
              (line, why.split(': ', 2)[-1][:60], ', '.join(os.path.basename(pieces[j][0]) for j in sorted(drop))))
        pieces = [p for j, p in enumerate(pieces) if j not in drop]
    return pieces


def write(path, data):
    with open(path, 'wb') as f:
        f.write(data)
    return path


def alone(tmp, name, data):
    """Write data as tmp/name/Dockerfile: a directory of its own is its build
    context, so passes that read the context see nothing else of the bench."""
    d = os.path.join(tmp, name)
    os.mkdir(d)
    return write(os.path.join(d, 'Dockerfile'), data)


def check_valid(path):
    p = subprocess.run([DFIX, '--select', 'none', path], stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, timeout=TIMEOUT)
    return p.returncode == 0, p.stderr.decode('utf-8', 'replace').strip()


def timed(cmd, cwd=None, repeat=3, stdout=subprocess.DEVNULL, timeout=TIMEOUT):
    """Best wall time of `repeat` runs; (seconds, exit status)."""
    best, rc = None, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        try:
            p = subprocess.run(cmd, cwd=cwd, stdout=stdout, stderr=subprocess.DEVNULL, timeout=timeout)
            rc = p.returncode
        except subprocess.TimeoutExpired:
            return None, 'timeout'
        t = time.perf_counter() - t0
        best = t if best is None or t < best else best
    return best, rc


def fmt_t(t):
    if t is None:
        return 'n/a'
    return '%.2f ms' % (t * 1e3) if t < 1 else '%.2f s' % t


# ---------------------------------------------------------------- a. in memory

def bench_mem(path, modes, mintime=MINTIME, timeout=TIMEOUT):
    """{mode: (seconds, MB/s, status)} from build/bench-mem. The passes get
    the file's directory as build context, as the CLI gives them."""
    try:
        p = subprocess.run([BENCH_MEM, '-t', mintime, '-m', modes, '-c', os.path.dirname(path), path],
                           capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {m: (None, None, 'timeout (> %d s)' % timeout) for m in modes.split(',')}
    note_crash('bench-mem -m %s %s' % (modes, os.path.basename(path)), p.returncode, p.stderr)
    res = {}
    for line in p.stdout.decode().splitlines():
        parts = line.split(' ', 3)
        if len(parts) == 4:
            res[parts[0]] = (float(parts[1]), float(parts[2]), parts[3])
    for m in modes.split(','):
        res.setdefault(m, (None, None, 'exit %d: %s' % (p.returncode, p.stderr.decode('utf-8', 'replace').strip()[-200:])))
    return res


def section_a(big, targets=True):
    mb = len(open(big, 'rb').read()) / 1e6
    header('a. in memory: one %.1f MB input (build/bench-mem, best of 3)%s' %
           (mb, '' if targets else ': for comparison, no target'))
    if not os.access(BENCH_MEM, os.X_OK):
        row('a', 'in-memory throughput', 'bench-mem not built', '', False)
        return
    ok, why = check_valid(big)
    if not ok:
        print('  note: dfix rejects the concatenated input (%s): df_fix numbers are refusals' % why)
    for mode, label, target in (('parse', 'parse + print', 200), ('format', 'df_fix --level format', 200),
                                ('all', 'df_fix, all passes', 50)):
        t, mbps, status = bench_mem(big, mode, timeout=A_TIMEOUT)[mode]
        want = '>= %d MB/s' % target if targets else '(report)'
        if not targets:
            label = '%s, %.0f MB' % (label, mb)
        if mbps is None:
            row('a', label, status[:26], want, False)
        elif status != 'ok':
            row('a', label, 'refused (%s)' % status[:40], want, False)
        else:
            row('a', label, '%.0f MB/s (%s)' % (mbps, fmt_t(t)), want, mbps >= target if targets else None)


# ---------------------------------------------------------------- b. corpus x20

def section_b(files, tmp):
    header('b. corpus x20 through the file system, one process, against cat')
    if not files:
        row('b', 'corpus x20', 'skipped: no corpus', '', None)
        return
    # short names (symlinks) keep 20 copies of the list within ARG_MAX
    d = os.path.join(tmp, 'links')
    os.mkdir(d)
    names = []
    total = 0
    for i, f in enumerate(files):
        os.symlink(f, os.path.join(d, str(i)))
        names.append(str(i))
        total += os.path.getsize(f)
    args = names * 20
    mb = total * 20 / 1e6
    print('  %d files, %.1f MB per pass, %.1f MB in all' % (len(files), total / 1e6, mb))
    tcat, rc = timed(['cat'] + args, cwd=d)
    row('b', 'cat', '%.0f MB/s (%s)' % (mb / tcat, fmt_t(tcat)))
    for label, extra in (('dfix --select none (round trip)', ['--select', 'none']),
                         ('dfix --level format', ['--level', 'format'])):
        t, rc = timed([DFIX] + extra + args, cwd=d)
        note_crash(label + ' x20', rc if rc != 'timeout' else None)
        if t is None:
            row('b', label, 'timeout', '<= 2.0x cat', False)
            continue
        ratio = t / tcat
        target = '<= 2.0x cat' if 'round trip' in label else '(report)'
        row('b', label, '%.0f MB/s, %.2fx cat' % (mb / t, ratio), target,
            ratio <= 2.0 if 'round trip' in label else None)


# ---------------------------------------------------------------- c. latency

def typical_file(pieces, tmp):
    """A 2-4 KB Dockerfile, alone in its directory (its build context), as in
    a real project: the corpus directory would make a huge context."""
    cands = [(f, d) for f, d in pieces if 2048 <= len(d) <= 4096]
    pref = [c for c in cands if 'docker-library__' in c[0] and 'windows' not in c[0]]
    if pref or cands:
        f, data = min(pref or cands, key=lambda c: (abs(len(c[1]) - 3000), c[0]))
        name = os.path.basename(f)
    else:
        data, name = b'', 'local files'
        for f in local_files():
            with open(f, 'rb') as fh:
                data += fh.read()
            if len(data) >= 3000:
                break
        data = data[:4000]
    d = os.path.join(tmp, 'typical')
    os.mkdir(d)
    return write(os.path.join(d, 'Dockerfile'), data), len(data), name


def section_c(pieces, tmp):
    path, size, name = typical_file(pieces, tmp)
    header('c. one whole process on a typical Dockerfile (%s, %d bytes)' % (name[:60], size))
    cmds = [('cat', ['cat', path]), ('dfix --select none', [DFIX, '--select', 'none', path]),
            ('dfix (all passes)', [DFIX, path])]
    means = {}
    if shutil.which('hyperfine'):
        j = os.path.join(tmp, 'hf.json')
        argv = ['hyperfine', '-N', '--warmup', '20', '--runs', '50' if QUICK else '200', '--export-json', j,
                '--style', 'none', '-i']
        argv += [' '.join("'%s'" % a for a in c) for _, c in cmds]
        p = subprocess.run(argv, capture_output=True, timeout=TIMEOUT)
        if p.returncode == 0:
            for (label, _), r in zip(cmds, json.load(open(j))['results']):
                means[label] = (r['mean'], r['stddev'])
                for code in set(r.get('exit_codes') or []):
                    note_crash(label, code)
        else:
            print('  hyperfine failed (%s); timing a loop instead' % p.stderr.decode()[-200:])
    if not means:
        for label, c in cmds:
            n = 50 if QUICK else 200
            t0 = time.perf_counter()
            for _ in range(n):
                r = subprocess.run(c, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                note_crash(label, r.returncode)
            means[label] = ((time.perf_counter() - t0) / n, 0.0)
    base = means['cat'][0]
    row('c', 'cat', '%.2f ms' % (base * 1e3))
    for label in ('dfix --select none', 'dfix (all passes)'):
        m, sd = means[label]
        extra = (m - base) * 1e3
        row('c', label, '%.2f ms (+%.2f ms)' % (m * 1e3, extra), '<= cat + 2 ms', extra <= 2.0)


# ---------------------------------------------------------------- d. memory

def peak_rss_kb(cmd):
    """Peak RSS of one child process, in KiB; (None, 'timeout') when too slow."""
    try:
        return _peak_rss_kb(cmd)
    except subprocess.TimeoutExpired:
        return None, 'timeout'


def _peak_rss_kb(cmd):
    if os.path.exists('/usr/bin/time'):
        p = subprocess.run(['/usr/bin/time', '-f', '%M'] + cmd, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, timeout=P_TIMEOUT)
        last = p.stderr.decode().strip().splitlines()[-1:] or ['']
        # /usr/bin/time prints "Command exited with non-zero status N" first
        try:
            return int(last[0]), p.returncode if p.returncode <= 2 else p.returncode
        except ValueError:
            return None, p.returncode
    helper = ('import resource, subprocess, sys\n'
              'r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n'
              'print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, r.returncode)\n')
    p = subprocess.run([sys.executable, '-c', helper] + cmd, capture_output=True, timeout=P_TIMEOUT)
    kb, rc = p.stdout.decode().split()
    return int(kb), int(rc)


def section_d(pieces, tmp):
    header('d. peak RSS (memory linear in input size)')
    tiny = alone(tmp, 'rss-tiny', b'FROM alpine\nRUN echo hi\n')
    one = alone(tmp, 'rss-1mb', concat(pieces, 1_000_000))
    ten = alone(tmp, 'rss-10mb', concat(pieces, 10_000_000))
    for p in (one, ten):
        ok, why = check_valid(p)
        if not ok:
            print('  note: %s is rejected (%s): the all-passes figure is a refusal' % (p, why))
    for label, extra in (('--select none', ['--select', 'none']), ('all passes', [])):
        res = {}
        for name, path in (('tiny', tiny), ('1 MB', one), ('10 MB', ten)):
            kb, rc = peak_rss_kb([DFIX] + extra + [path])
            if rc == 'timeout':
                print('  note: dfix %s on the %s input: no result within %d s' % (label, name, P_TIMEOUT))
            else:
                note_crash('dfix %s %s' % (label, name), rc)
            res[name] = kb
        if None in res.values():
            row('d', 'RSS %s' % label, 'timeout' if rc == 'timeout' else 'n/a', '<= 12x', False)
            continue
        d1 = max(res['1 MB'] - res['tiny'], 1)
        d10 = max(res['10 MB'] - res['tiny'], 1)
        row('d', 'RSS %s: base / 1 MB / 10 MB' % label,
            '%.1f / %.1f / %.1f MB' % (res['tiny'] / 1024, res['1 MB'] / 1024, res['10 MB'] / 1024))
        row('d', 'RSS %s: growth 1 MB -> 10 MB' % label, '%.1fx (%.1f B/B)' % (d10 / d1, d10 * 1024 / 10e6),
            '<= 12x', d10 / d1 <= 12)


# ---------------------------------------------------------------- e. pathological

def gen_continuations(n):
    lines = [b'FROM alpine\n', b'RUN echo start \\\n']
    lines += [b'    && echo line %d \\\n' % i for i in range(n)]
    lines.append(b'    && echo end\n')
    return b''.join(lines)


def gen_long_line(n):
    head = b'FROM alpine\nRUN echo'
    words = []
    size = len(head)
    i = 0
    while size < n + len(b'FROM alpine\n') - 20:
        w = b' && echo w%d' % i
        words.append(w)
        size += len(w)
        i += 1
    return head + b''.join(words) + b'\nCMD ["sh"]\n'


def gen_instructions(n):
    kinds = [b'RUN echo %d\n', b'ENV K%d=v\n', b'LABEL l%d=x\n', b'COPY f%d /d/\n', b'WORKDIR /w%d\n',
             b'EXPOSE %d\n', b'ARG A%d\n', b'USER u%d\n']
    out = [b'FROM alpine\n']
    out += [kinds[i % len(kinds)] % i for i in range(n - 1)]
    return b''.join(out)


def gen_stages(n):
    """A chain of n stages, each built FROM the one before."""
    out = [b'FROM alpine AS s0\nRUN echo 0\n']
    out += [b'FROM s%d AS s%d\nRUN echo %d\n' % (i - 1, i, i) for i in range(1, n)]
    return b''.join(out)


def section_e(tmp):
    header('e. pathological inputs at 1x/2x/4x: 5,000/10,000/20,000 continuation lines, '
           '15/30/60 KB line, 100,000/200,000/400,000 instructions, 250/500/1,000 chained stages '
           '(linear: x2, x4)')
    cases = [
        ('continuation lines', gen_continuations, [5000, 10000, 20000]),
        ('long line (bytes)', gen_long_line, [15000, 30000, 60000]),
        ('instructions', gen_instructions, [100000, 200000, 400000]),
        ('stages (FROM chain)', gen_stages, [250, 500, 1000]),
    ]
    for name, gen, sizes in cases:
        paths = []
        for n in sizes:
            paths.append(alone(tmp, 'patho-%s-%d' % (name.split()[0], n), gen(n)))
        ok, why = check_valid(paths[0])
        if not ok:
            print('  note: %s input rejected: %s' % (name, why))
        # in process: parse + print, and every pass
        for mode, label in (('parse', 'parse+print'), ('format', '--level format'), ('all', 'all passes')):
            ts = []
            for p in paths:
                if ts and ts[-1] is None:
                    ts.append(None)
                    continue
                r = bench_mem(p, mode, '0.1' if QUICK else '0.3', timeout=P_TIMEOUT)[mode]
                ts.append(r[0])
                if r[2] != 'ok':
                    print('  note: %s: df_fix refused %s: %s' % (label, p, r[2]))
            report_ratios('%s, %s (in memory)' % (name, label), ts)
        # whole process, default passes
        ts = []
        for p in paths:
            if ts and ts[-1] is None:
                ts.append(None)
                continue
            t, rc = timed([DFIX, p], repeat=3, timeout=P_TIMEOUT)
            note_crash('dfix %s' % os.path.basename(p), rc if rc != 'timeout' else None)
            ts.append(t)
        report_ratios('%s, dfix process' % name, ts)


def report_ratios(label, ts):
    if None in ts or 0 in ts:
        row('e', label, 'n/a (%s)' % ', '.join(fmt_t(t) for t in ts), 'linear', False)
        return
    r2, r4 = ts[1] / ts[0], ts[2] / ts[0]
    if ts[2] < 0.005:  # a few milliseconds: too short to tell linear from noise
        row('e', label, '%s; x%.1f x%.1f' % (fmt_t(ts[0]), r2, r4), '(too fast)')
        return
    row('e', label, '%s; x%.1f x%.1f' % (fmt_t(ts[0]), r2, r4), 'x2 x4 (<= x6)', r4 <= 6.0)


# ---------------------------------------------------------------- main

def main():
    only = 'abcde'
    for a in sys.argv[1:]:
        if a.startswith('--only='):
            only = a[len('--only='):].replace(',', '')
        else:
            sys.exit(__doc__)
    if not os.access(DFIX, os.X_OK):
        sys.exit('bench.py: no dfix at %s (run make)' % DFIX)
    tmp = tempfile.mkdtemp(prefix='dfix-bench.')
    try:
        files = corpus_files()
        if files:
            print('inputs: the shared corpus (%d files)' % len(files))
        else:
            files = local_files()
            print('inputs: ../shared/corpus absent; using %d local Dockerfiles (numbers are rougher)' % len(files))
        pieces = clean_pieces(valid_pieces(files), tmp)
        print('  %d files (%.1f MB) make the large inputs' % (len(pieces), sum(len(d) for _, d in pieces) / 1e6))
        if 'a' in only:
            big = alone(tmp, 'big', concat(pieces, 50_000_000))
            section_a(big)
            os.unlink(big)
            small = alone(tmp, 'small', concat(pieces, 3_000_000))
            section_a(small, targets=False)
            os.unlink(small)
        if 'b' in only:
            section_b(corpus_files(), tmp)
        if 'c' in only:
            section_c(pieces, tmp)
        if 'd' in only:
            section_d(pieces, tmp)
        if 'e' in only:
            section_e(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print('\n%-3s %-44s %-26s %-14s %s' % ('', 'check', 'measured', 'target', 'result'))
    print('-' * 100)
    for section, check, measured, target, verdict in rows:
        print('%-3s %-44s %-26s %-14s %s' % (section, check, measured, target, verdict))
    npass = sum(1 for r in rows if r[4] == 'PASS')
    nfail = sum(1 for r in rows if r[4] == 'FAIL')
    print('\nbench: %d PASS, %d FAIL against the targets' % (npass, nfail))
    load = os.getloadavg()[0]
    ncpu = os.cpu_count() or 1
    if load > ncpu:
        print('warning: load average %.1f on %d CPUs during the run: timings are pessimistic and noisy'
              % (load, ncpu))
    if crashed:
        print('\nCRASHED:')
        for c in crashed:
            print('  ' + c)
        sys.exit(1)


if __name__ == '__main__':
    main()
