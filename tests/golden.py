#!/usr/bin/env python3
"""Golden tests: run dfix on every golden/<area>/<case>/ and compare.

A case directory holds:
  Dockerfile      the input
  expected        what `dfix [args] --context CTX Dockerfile` prints, byte for byte
                  (may be absent when args hold -d and expected-diff is given)
  args            optional: extra command-line arguments (shell words; '#' comments)
  context/        optional: the build context (default: the case directory itself)
  expected-diff   optional: what the same command with -d prints (-d must exit 1
                  when it prints something, 0 when it prints nothing)
  expected-exit   optional: the exit status of the plain run (default 0)

dfix runs with the case directory as its working directory. Every expected
output of a plain run (exit 0, no -d/-l/--check in args) is fed back to dfix
(as standard input, same args and context) and must come out unchanged: the
passes are idempotent (gofmt's and shfmt's rule).

usage: golden.py [--update] [-v] [CASE_DIR...]
  --update   rewrite `expected` (and an existing `expected-diff`) from dfix's
             output; idempotence is still checked
  DFIX=path  the binary to test (default ./dfix at the repository root)
"""
import difflib
import os
import shlex
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GOLDEN = os.path.join(ROOT, 'golden')


def dfix_path():
    return os.path.abspath(os.environ.get('DFIX') or os.path.join(ROOT, 'dfix'))


def find_cases(root=GOLDEN):
    """Every golden/<area>/<case>/ that holds a Dockerfile, sorted."""
    cases = []
    if not os.path.isdir(root):
        return cases
    for area in sorted(os.listdir(root)):
        adir = os.path.join(root, area)
        if not os.path.isdir(adir):
            continue
        for case in sorted(os.listdir(adir)):
            cdir = os.path.join(adir, case)
            if os.path.isfile(os.path.join(cdir, 'Dockerfile')):
                cases.append(cdir)
    return cases


def read(path, default=None):
    try:
        with open(path, 'rb') as f:
            return f.read()
    except FileNotFoundError:
        return default


class Case:
    """One golden case, with what the runner needs to know about it."""

    def __init__(self, cdir):
        self.dir = cdir
        self.name = os.path.relpath(cdir, GOLDEN)
        text = read(os.path.join(cdir, 'args'), b'').decode()
        self.args = shlex.split(text, comments=True)
        self.ctx = 'context' if os.path.isdir(os.path.join(cdir, 'context')) else '.'
        ex = read(os.path.join(cdir, 'expected-exit'))
        self.exit = int(ex.decode().strip() or 0) if ex is not None else 0
        self.input = read(os.path.join(cdir, 'Dockerfile'))
        self.expected = read(os.path.join(cdir, 'expected'))
        self.expected_diff = read(os.path.join(cdir, 'expected-diff'))

    def changes(self):
        """Does dfix (by the expected file) change this input?"""
        return self.exit == 0 and self.expected is not None and self.expected != self.input

    def run(self, extra=(), stdin=None, path='Dockerfile'):
        cmd = [dfix_path()] + self.args + list(extra) + ['--context', self.ctx]
        if stdin is not None:
            cmd += ['--stdin-filename', 'Dockerfile', '-']
        else:
            cmd += [path]
        env = dict(os.environ, NO_COLOR='1')
        p = subprocess.run(cmd, cwd=self.dir, input=stdin if stdin is not None else b'',
                           capture_output=True, env=env, timeout=60)
        return p.returncode, p.stdout, p.stderr


def show_diff(want, got, a='expected', b='actual', limit=80):
    lines = list(difflib.diff_bytes(difflib.unified_diff, want.splitlines(True),
                                    got.splitlines(True), a.encode(), b.encode()))
    text = b''.join(l if l.endswith(b'\n') else l + b'\n' for l in lines)
    out = text.decode('utf-8', 'replace').splitlines()
    if len(out) > limit:
        out = out[:limit] + ['... (%d more diff lines)' % (len(out) - limit)]
    return '\n'.join('    ' + l for l in out)


REPORT_FLAGS = ('-d', '--diff', '-l', '--list', '--check')


def check_case(c, update=False):
    """Returns a list of problems (empty: the case passes)."""
    problems = []
    reports = any(a in REPORT_FLAGS for a in c.args)  # args already ask for -d/-l/--check
    rc, out, err = c.run()
    if rc != c.exit:
        problems.append('exit %s, want %d; stderr: %s' % (rc, c.exit, err.decode('utf-8', 'replace').strip()))
        return problems
    if c.exit == 2 and out:
        problems.append('exit 2 but stdout is not empty')

    # the plain run's output: `expected`, or `expected-diff` when args say -d
    is_diff = reports and any(a in ('-d', '--diff') for a in c.args)
    if update and (c.expected is not None or (c.exit == 0 and not is_diff)):
        if out != c.expected:
            with open(os.path.join(c.dir, 'expected'), 'wb') as f:
                f.write(out)
            print('  updated %s/expected' % c.name)
        c.expected = out
    if c.expected is not None:
        if out != c.expected:
            problems.append('output differs from expected:\n' + show_diff(c.expected, out))
    elif c.exit == 0:
        problems.append('no expected file (run: make golden-update)')
    elif not (is_diff and c.expected_diff is not None) and c.exit != 2:
        problems.append('no expected file (run: make golden-update)')

    if c.expected_diff is not None:
        if is_diff:
            drc, dout, derr = rc, out, err
        else:
            drc, dout, derr = c.run(extra=['-d'])
        if update and dout != c.expected_diff:
            with open(os.path.join(c.dir, 'expected-diff'), 'wb') as f:
                f.write(dout)
            print('  updated %s/expected-diff' % c.name)
            c.expected_diff = dout
        # -d exits 1 exactly when it has something to show
        want_rc = 2 if c.exit == 2 else (1 if c.expected_diff else 0)
        if drc != want_rc:
            problems.append('-d: exit %s, want %d; stderr: %s' % (drc, want_rc, derr.decode('utf-8', 'replace').strip()))
        if dout != c.expected_diff:
            problems.append('-d output differs from expected-diff:\n' + show_diff(c.expected_diff, dout))

    # idempotence: dfix on its own output changes nothing
    if c.exit == 0 and not reports and c.expected is not None:
        irc, iout, ierr = c.run(stdin=c.expected)
        if irc != 0:
            problems.append('idempotence: dfix on expected exits %s: %s' % (irc, ierr.decode('utf-8', 'replace').strip()))
        elif iout != c.expected:
            problems.append('idempotence: dfix changes its own output:\n' + show_diff(c.expected, iout, 'expected', 'dfix(expected)'))
    return problems


def run(update=False, dirs=None, verbose=False, log=print):
    """Run the cases; returns (passed, failed)."""
    cases = [os.path.abspath(d) for d in dirs] if dirs else find_cases()
    passed = failed = 0
    if not cases:
        log('  no golden cases under golden/')
    for cdir in cases:
        c = Case(cdir)
        try:
            problems = check_case(c, update)
        except (OSError, subprocess.SubprocessError, ValueError) as e:
            problems = ['cannot run: %s' % e]
        if problems:
            failed += 1
            log('  FAIL golden/%s' % c.name)
            for p in problems:
                log('    ' + p)
        else:
            passed += 1
            if verbose:
                log('  ok   golden/%s' % c.name)
    return passed, failed


def main():
    args = sys.argv[1:]
    update = '--update' in args
    verbose = '-v' in args
    dirs = [a for a in args if not a.startswith('-')]
    if not os.access(dfix_path(), os.X_OK):
        sys.exit('golden.py: no dfix binary at %s (run make)' % dfix_path())
    passed, failed = run(update, dirs, verbose)
    print('golden: %d passed, %d failed' % (passed, failed))
    sys.exit(1 if failed else 0)


if __name__ == '__main__':
    main()
