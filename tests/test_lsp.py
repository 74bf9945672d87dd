#!/usr/bin/env python3
"""Scripted LSP sessions against `dfix lsp`: messages in, responses out, compared.

Each test sends framed JSON-RPC messages (Content-Length headers) on the
server's standard input and checks what comes back: initialize, diagnostics
on open/change/close, formatting and range formatting, code actions (quick
fixes, fix all safe, ignore pragma), UTF-16 positions, malformed input, and
the shutdown/exit lifecycle with its exit codes. Edits the server returns
are applied to the document and compared with what the CLI prints for the
same level, so the two front ends cannot drift apart.

usage: python3 tests/test_lsp.py [-v] [TEST...]
  DFIX=path  the binary to test (default ./dfix at the repository root)
Prints "N passed, M failed"; exits 1 when a test fails.
"""
import json
import os
import random
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DFIX = os.path.abspath(os.environ.get('DFIX') or os.path.join(ROOT, 'dfix'))
TIMEOUT = 60


# ---------------------------------------------------------------- protocol

def frame(msg):
    body = msg if isinstance(msg, bytes) else json.dumps(msg).encode()
    return b'Content-Length: %d\r\n\r\n' % len(body) + body


def parse_frames(data):
    """The messages in the server's output (raises on bad framing)."""
    out = []
    while data:
        head, sep, rest = data.partition(b'\r\n\r\n')
        assert sep, 'unterminated header: %r' % data[:80]
        length = None
        for line in head.split(b'\r\n'):
            name, _, value = line.partition(b':')
            if name.strip().lower() == b'content-length':
                length = int(value.strip())
        assert length is not None, 'no Content-Length in %r' % head
        assert len(rest) >= length, 'truncated body'
        out.append(json.loads(rest[:length].decode('utf-8')))
        data = rest[length:]
    return out


def session(messages, raw=None, args=('lsp',)):
    """Run one session; returns (exit code, messages out, stderr)."""
    data = raw if raw is not None else b''.join(frame(m) for m in messages)
    p = subprocess.run([DFIX] + list(args), input=data, capture_output=True,
                       timeout=TIMEOUT, cwd=ROOT)
    return p.returncode, parse_frames(p.stdout), p.stderr


def req(id_, method, params=None):
    m = {'jsonrpc': '2.0', 'id': id_, 'method': method}
    if params is not None:
        m['params'] = params
    return m


def note(method, params=None):
    m = {'jsonrpc': '2.0', 'method': method}
    if params is not None:
        m['params'] = params
    return m


INIT = req(1, 'initialize', {'processId': None, 'rootUri': None, 'capabilities': {}})
INITIALIZED = note('initialized', {})
SHUTDOWN = req(99, 'shutdown')
EXIT = note('exit')


def open_doc(uri, text, version=1):
    return note('textDocument/didOpen', {'textDocument': {
        'uri': uri, 'languageId': 'dockerfile', 'version': version, 'text': text}})


def full_session(uri, text, middle, init=INIT):
    """initialize, open, the middle messages, shutdown, exit."""
    rc, out, err = session([init, INITIALIZED, open_doc(uri, text)] + middle + [SHUTDOWN, EXIT])
    assert rc == 0, 'exit code %s, stderr %r' % (rc, err)
    return out


def response(out, id_):
    found = [m for m in out if m.get('id') == id_ and 'method' not in m]
    assert len(found) == 1, 'want one response to id %r, got %r' % (id_, found)
    return found[0]


def result(out, id_):
    m = response(out, id_)
    assert 'error' not in m, 'id %r: error %r' % (id_, m.get('error'))
    return m['result']


def error_code(out, id_):
    m = response(out, id_)
    assert 'error' in m, 'id %r: want an error, got %r' % (id_, m)
    return m['error']['code']


def diagnostics(out, uri=None):
    return [m['params'] for m in out if m.get('method') == 'textDocument/publishDiagnostics'
            and (uri is None or m['params']['uri'] == uri)]


# ---------------------------------------------------------------- positions

def lsp_lines(text):
    """Lines as LSP counts them ("\\n", "\\r\\n", "\\r"), with their endings."""
    lines, start, i = [], 0, 0
    while i < len(text):
        if text[i] == '\r' and i + 1 < len(text) and text[i + 1] == '\n':
            lines.append(text[start:i + 2])
            i += 2
            start = i
        elif text[i] in '\r\n':
            lines.append(text[start:i + 1])
            i += 1
            start = i
        else:
            i += 1
    lines.append(text[start:])
    return lines


def offset(text, pos):
    """str index of an LSP position (UTF-16 code units)."""
    lines = lsp_lines(text)
    line, ch = pos['line'], pos['character']
    assert 0 <= line < len(lines), 'line %d out of range' % line
    at = sum(len(l) for l in lines[:line])
    content = lines[line].rstrip('\r\n')
    units = 0
    for i, c in enumerate(content):
        if units == ch:
            return at + i
        units += 2 if ord(c) > 0xffff else 1
        assert units <= ch or units - ch != 1 or ord(c) <= 0xffff, 'position inside a surrogate pair'
    assert units == ch, 'character %d past the end of line %d (%d units)' % (ch, line, units)
    return at + len(content)


def apply_edits(text, edits):
    spans = sorted(((offset(text, e['range']['start']), offset(text, e['range']['end']),
                     e['newText']) for e in edits), key=lambda s: s[0])
    out, at = [], 0
    for s, e, t in spans:
        assert s >= at, 'overlapping edits'
        out.append(text[at:s])
        out.append(t)
        at = e
    out.append(text[at:])
    return ''.join(out)


def cli(text, *args):
    """What `dfix ARGS -` prints for this text (the CLI's view)."""
    p = subprocess.run([DFIX] + list(args) + ['-'], input=text.encode(),
                       capture_output=True, timeout=TIMEOUT, cwd=ROOT)
    assert p.returncode == 0, 'dfix %s: %s' % (' '.join(args), p.stderr.decode())
    return p.stdout.decode()


# ---------------------------------------------------------------- tests

URI = 'untitled:Dockerfile'
DOC = ('from alpine:3.19\n'
       'MAINTAINER me@example.com\n'
       'ENV APP_HOME /app\n'
       'RUN apk add --no-cache curl\n'
       'RUN mkdir -p /app\n'
       'CMD ["/bin/sh"]\n')


def test_initialize():
    rc, out, _ = session([INIT, INITIALIZED, SHUTDOWN, EXIT])
    assert rc == 0
    caps = result(out, 1)['capabilities']
    assert caps == {
        'positionEncoding': 'utf-16',
        'textDocumentSync': {'openClose': True, 'change': 1},
        'documentFormattingProvider': True,
        'documentRangeFormattingProvider': True,
        'codeActionProvider': {'codeActionKinds': ['quickfix', 'source.fixAll.dfix']},
    }, caps
    info = result(out, 1)['serverInfo']
    assert info['name'] == 'dfix' and info['version'], info
    assert result(out, 99) is None
    assert all(m.get('jsonrpc') == '2.0' for m in out)


def test_lifecycle_exit_codes():
    rc, out, _ = session([INIT, EXIT])
    assert rc == 1, 'exit without shutdown: %s' % rc
    rc, out, _ = session([INIT, SHUTDOWN])
    assert rc == 0, 'end of input after shutdown: %s' % rc
    rc, out, _ = session([INIT])
    assert rc == 1, 'end of input without shutdown: %s' % rc
    rc, out, _ = session([], raw=b'')
    assert rc == 1 and out == []


def test_lifecycle_errors():
    rc, out, _ = session([req(50, 'textDocument/formatting', {}), note('textDocument/didOpen', {}),
                          INIT, req(2, 'initialize', {'capabilities': {}}), SHUTDOWN,
                          req(3, 'textDocument/formatting', {'textDocument': {'uri': URI}}),
                          EXIT])
    assert rc == 0
    assert error_code(out, 50) == -32002           # before initialize
    assert 'capabilities' in result(out, 1)
    assert error_code(out, 2) == -32600            # initialize twice
    assert error_code(out, 3) == -32600            # after shutdown
    assert not diagnostics(out)                    # didOpen before initialize is dropped


def test_diagnostics_open_change_close():
    out = full_session(URI, DOC, [
        note('textDocument/didChange', {'textDocument': {'uri': URI, 'version': 2},
                                        'contentChanges': [{'text': 'FROM alpine:3.19\nENV A b\n'}]}),
        note('textDocument/didClose', {'textDocument': {'uri': URI}}),
    ])
    pubs = diagnostics(out, URI)
    assert len(pubs) == 3, pubs
    first = pubs[0]
    assert first['version'] == 1
    got = [(d['range']['start']['line'], d['code'], d['severity'], d['source']) for d in first['diagnostics']]
    want_codes = {'ConsistentInstructionCasing', 'DL4000', 'LegacyKeyValueFormat', 'DL3059'}
    assert want_codes <= {c for _, c, _, _ in got}, got
    assert all(s == 'dfix' for _, _, _, s in got)
    assert all(sev in (2, 3) for _, _, sev, _ in got)
    by_code = {d['code']: d for d in first['diagnostics']}
    env = by_code['LegacyKeyValueFormat']
    assert env['range'] == {'start': {'line': 2, 'character': 0}, 'end': {'line': 2, 'character': 17}}, env
    assert env['severity'] == 2
    assert env['message'].startswith('modernize: ENV APP_HOME')
    assert env['codeDescription']['href'] == 'https://docs.docker.com/reference/build-checks/legacy-key-value-format/'
    run = by_code['DL3059']
    assert run['range']['start'] == {'line': 3, 'character': 0}, run
    assert run['codeDescription']['href'] == 'https://github.com/hadolint/hadolint/wiki/DL3059'
    second = pubs[1]
    assert second['version'] == 2
    assert [d['code'] for d in second['diagnostics'] if d['severity'] == 2] == ['LegacyKeyValueFormat'], second
    assert pubs[2]['diagnostics'] == []


def test_diagnostics_parse_error():
    bad = 'FROM alpine\nCOPY onlyone\n'
    out = full_session(URI, bad, [])
    [pub] = diagnostics(out, URI)
    [d] = pub['diagnostics']
    assert d['severity'] == 1 and d['source'] == 'dfix', d
    assert d['range']['start']['line'] == 1, d


def test_formatting():
    out = full_session(URI, DOC, [req(2, 'textDocument/formatting', {
        'textDocument': {'uri': URI}, 'options': {'tabSize': 4, 'insertSpaces': True}})])
    edits = result(out, 2)
    assert edits == [{'range': {'start': {'line': 0, 'character': 0}, 'end': {'line': 1, 'character': 0}},
                      'newText': 'FROM alpine:3.19\n'}], edits
    assert apply_edits(DOC, edits) == cli(DOC, '--level', 'format')


def test_formatting_matches_cli():
    text = ('# syntax=docker/dockerfile:1\r\n'
            'from   debian:12 as build\r\n'
            'run   apt-get update && \\\r\n'
            '        apt-get install -y curl\r\n'
            '\r\n\r\n\r\n'
            'copy  . /src\r\n'
            'cmd ["bash"]')
    out = full_session(URI, text, [req(2, 'textDocument/formatting', {'textDocument': {'uri': URI}})])
    edits = result(out, 2)
    assert edits, 'expected format edits'
    assert apply_edits(text, edits) == cli(text, '--level', 'format')


def test_formatting_parse_error_gives_no_edits():
    bad = 'FROM alpine\nCOPY onlyone\nrun   echo\n'
    out = full_session(URI, bad, [req(2, 'textDocument/formatting', {'textDocument': {'uri': URI}})])
    assert result(out, 2) == []


def test_range_formatting():
    text = 'from alpine:3.19\nRUN echo a\nrun echo b\n'
    rng = {'start': {'line': 2, 'character': 0}, 'end': {'line': 2, 'character': 3}}
    out = full_session(URI, text, [
        req(2, 'textDocument/rangeFormatting', {'textDocument': {'uri': URI}, 'range': rng}),
        req(3, 'textDocument/formatting', {'textDocument': {'uri': URI}}),
    ])
    part, whole = result(out, 2), result(out, 3)
    assert len(whole) == 2, whole
    assert part == [whole[1]], part
    assert apply_edits(text, part) == 'from alpine:3.19\nRUN echo a\nRUN echo b\n'


def code_actions(text, line, only=None, init=INIT):
    ctx = {'diagnostics': []}
    if only is not None:
        ctx['only'] = only
    out = full_session(URI, text, [req(2, 'textDocument/codeAction', {
        'textDocument': {'uri': URI},
        'range': {'start': {'line': line, 'character': 0}, 'end': {'line': line, 'character': 0}},
        'context': ctx})], init=init)
    return result(out, 2)


def test_code_action_quickfix():
    acts = code_actions(DOC, 2)
    titles = [a['title'] for a in acts]
    fix = [a for a in acts if a['kind'] == 'quickfix' and 'ENV APP_HOME' in a['title']]
    assert len(fix) == 1, titles
    fix = fix[0]
    assert fix['isPreferred'] is True
    assert fix['diagnostics'][0]['code'] == 'LegacyKeyValueFormat'
    edits = fix['edit']['changes'][URI]
    assert apply_edits(DOC, edits) == DOC.replace('ENV APP_HOME /app', 'ENV APP_HOME=/app'), edits
    # nothing about other lines
    assert not any('RUN' in t and 'merged' in t for t in titles), titles
    assert 'dfix: ignore modernize here' in titles, titles
    assert 'dfix: fix all safe' in titles, titles


def test_code_action_fix_all_safe():
    acts = code_actions(DOC, 0)
    [fa] = [a for a in acts if a['title'] == 'dfix: fix all safe']
    assert fa['kind'] == 'source.fixAll.dfix'
    assert apply_edits(DOC, fa['edit']['changes'][URI]) == cli(DOC, '--level', 'safe')


def test_code_action_only_filter():
    acts = code_actions(DOC, 2, only=['source.fixAll'])
    assert [a['title'] for a in acts] == ['dfix: fix all safe'], acts
    acts = code_actions(DOC, 2, only=['quickfix'])
    assert acts and all(a['kind'] == 'quickfix' for a in acts), acts


def test_code_action_ignore_pragma():
    acts = code_actions(DOC, 2)
    [ign] = [a for a in acts if a['title'] == 'dfix: ignore modernize here']
    new = apply_edits(DOC, ign['edit']['changes'][URI])
    assert '# dfix ignore=modernize\nENV APP_HOME /app\n' in new, new
    assert 'ENV APP_HOME /app' in cli(new, '--level', 'safe')  # honoured
    # a second pass id joins the existing pragma
    text = 'FROM alpine:3.19\n  # dfix ignore=format\n  RUN echo a\nRUN echo b\n'
    acts = code_actions(text, 2)
    [ign] = [a for a in acts if a['title'] == 'dfix: ignore merge-runs here']
    new = apply_edits(text, ign['edit']['changes'][URI])
    assert '  # dfix ignore=format,merge-runs\n  RUN echo a\n' in new, new
    # indentation and CRLF of the instruction are kept
    text = 'FROM alpine:3.19\r\n    ENV A b\r\n'
    acts = code_actions(text, 1)
    [ign] = [a for a in acts if a['title'] == 'dfix: ignore modernize here']
    assert apply_edits(text, ign['edit']['changes'][URI]) == \
        'FROM alpine:3.19\r\n    # dfix ignore=modernize\r\n    ENV A b\r\n'


def test_utf16_positions():
    # U+1D11E is two UTF-16 code units and four UTF-8 bytes
    text = 'FROM alpine:3.19\nENV GREETING h\u00e9llo-\U0001d11e\nLABEL a="\U0001d11e"\nrun echo \U0001d11e\n'
    out = full_session(URI, text, [req(2, 'textDocument/formatting', {'textDocument': {'uri': URI}})])
    [pub] = diagnostics(out, URI)
    env = [d for d in pub['diagnostics'] if d['code'] == 'LegacyKeyValueFormat'][0]
    assert env['range']['end'] == {'line': 1, 'character': 21}, env['range']
    edits = result(out, 2)
    assert apply_edits(text, edits) == cli(text, '--level', 'format')
    # a quick fix computed on a line after non-BMP characters
    acts = code_actions(text, 1)
    [fix] = [a for a in acts if 'ENV GREETING' in a['title']]
    assert apply_edits(text, fix['edit']['changes'][URI]) == \
        text.replace('ENV GREETING h\u00e9llo-\U0001d11e', 'ENV GREETING="h\u00e9llo-\U0001d11e"')


def test_settings():
    init = req(1, 'initialize', {'capabilities': {}, 'initializationOptions': {'level': 'format'}})
    out = full_session(URI, DOC, [], init=init)
    [pub] = diagnostics(out, URI)
    assert {d['code'] for d in pub['diagnostics']} == {'ConsistentInstructionCasing'}, pub
    init = req(1, 'initialize', {'capabilities': {}, 'initializationOptions': {'ignore': ['modernize', 'format']}})
    out = full_session(URI, DOC, [note('workspace/didChangeConfiguration',
                                       {'settings': {'dfix': {'level': 'safe'}}})], init=init)
    pubs = diagnostics(out, URI)
    assert len(pubs) == 2
    assert {d['code'] for d in pubs[1]['diagnostics']} == {'DL3059'}, pubs[1]
    for bad in ({'level': 'bogus'}, {'ignore': ['no-such-pass']}, {'select': 'merge-runs'}, 'x'):
        rc, out, _ = session([req(1, 'initialize', {'capabilities': {}, 'initializationOptions': bad}),
                              SHUTDOWN, EXIT])
        assert error_code(out, 1) == -32602, bad


def test_context_from_file_uri():
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, 'package.json'), 'w') as f:
            f.write('{"name": "x", "scripts": {"start": "node index.js"}}')
        path = os.path.join(d, 'my dir')
        os.mkdir(path)
        text = 'FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm install\nCMD ["npm", "start"]\n'
        uri = 'file://' + d.replace(' ', '%20') + '/Dockerfile'
        out = full_session(uri, text, [])
        [pub] = diagnostics(out, uri)
        msgs = ' '.join(x['message'] for x in pub['diagnostics'])
        assert 'no build context' not in msgs, msgs


def test_malformed():
    raw = b''.join([
        frame(INIT),
        frame(b'{not json'),                                   # -32700
        frame(b'[1, 2]'),                                      # -32600: not an object
        frame(b'{"jsonrpc": "2.0", "id": 5}'),                 # -32600: no method
        frame(b'{"jsonrpc": "2.0", "id": 6, "method": 7}'),    # -32600: method not a string
        frame(b'{"jsonrpc": "2.0", "id": {"x": 1}, "method": "shutdown"}'),  # -32600: bad id
        frame(req(7, 'no/suchMethod', {})),                    # -32601
        frame(req(8, 'textDocument/formatting', {'textDocument': {'uri': 'file:///not/open'}})),  # -32602
        frame(req(9, 'textDocument/formatting', {'textDocument': 'x'})),                           # -32602
        frame(req(10, 'textDocument/codeAction', {'textDocument': {'uri': URI}})),              # -32602
        frame(req(11, 'textDocument/formatting', 'a string')),                                    # -32602
        frame(note('textDocument/didOpen', {'textDocument': {'uri': URI}})),  # no text: logged
        frame(note('$/cancelRequest', {'id': 7})),             # ignored
        frame(note('$/setTrace', {'value': 'off'})),           # ignored
        frame(note('no/suchNotification')),                    # ignored
        frame(b'\xff\xfe binary \x00'),                        # -32700
        b'Content-Type: application/json\r\n\r\n',             # no Content-Length: -32700
        b'Content-Length: abc\r\n\r\n',                        # bad Content-Length: -32700
        frame(SHUTDOWN),
        frame(EXIT),
    ])
    rc, out, _ = session(None, raw=raw)
    assert rc == 0, rc
    errs = [m['error']['code'] for m in out if 'error' in m]
    assert errs.count(-32700) == 4, errs
    assert errs.count(-32600) == 4, errs
    assert error_code(out, 7) == -32601
    for i in (8, 9, 10, 11):
        assert error_code(out, i) == -32602, i
    nulls = [m for m in out if 'error' in m and m['id'] is None]
    assert len(nulls) == 6, nulls  # the ones without a usable id
    logs = [m for m in out if m.get('method') == 'window/logMessage']
    assert len(logs) == 1 and 'didOpen' in logs[0]['params']['message'], logs
    assert result(out, 99) is None
    # a response to a request the server never sent is ignored
    rc, out, _ = session([INIT, {'jsonrpc': '2.0', 'id': 42, 'result': None}, SHUTDOWN, EXIT])
    assert rc == 0 and len(out) == 2, out


def test_truncated_and_garbage_never_crash():
    rng = random.Random(8)
    base = b''.join(frame(m) for m in [INIT, open_doc(URI, DOC),
                                       req(2, 'textDocument/formatting', {'textDocument': {'uri': URI}})])
    cases = [base[:n] for n in (1, 10, 25, 40, len(base) - 5)]
    cases.append(b'Content-Length: 99999999999999999999\r\n\r\n{}')
    cases.append(b'Content-Length: 100000000\r\n\r\n{}')
    for _ in range(40):
        b = bytearray(base)
        for _ in range(rng.randint(1, 8)):
            b[rng.randrange(len(b))] = rng.randrange(256)
        cases.append(bytes(b))
    for data in cases:
        p = subprocess.run([DFIX, 'lsp'], input=data, capture_output=True, timeout=TIMEOUT)
        assert p.returncode in (0, 1), 'exit %s on %r' % (p.returncode, data[:60])
        parse_frames(p.stdout)  # whatever came out is well framed


def test_incremental_change():
    text = 'FROM alpine:3.19\nENV A=b\n'
    out = full_session(URI, text, [note('textDocument/didChange', {
        'textDocument': {'uri': URI, 'version': 2},
        'contentChanges': [{'range': {'start': {'line': 1, 'character': 5},
                                      'end': {'line': 1, 'character': 6}}, 'text': ' '}]}),
        req(2, 'textDocument/codeAction', {'textDocument': {'uri': URI},
                                           'range': {'start': {'line': 1, 'character': 0},
                                                     'end': {'line': 1, 'character': 0}},
                                           'context': {'diagnostics': []}})])
    pubs = diagnostics(out, URI)
    assert not [d for d in pubs[0]['diagnostics'] if d['code'] == 'LegacyKeyValueFormat']
    assert [d for d in pubs[1]['diagnostics'] if d['code'] == 'LegacyKeyValueFormat'], pubs[1]


def test_lsp_takes_no_arguments():
    p = subprocess.run([DFIX, 'lsp', '--bogus'], input=b'', capture_output=True, timeout=TIMEOUT)
    assert p.returncode == 2 and b'lsp' in p.stderr


def test_wrong_params_never_crash():
    """Every method with params of every wrong shape: errors, never a crash."""
    td = {'uri': URI}
    shapes = [None, [], {}, 1, 'x', {'textDocument': 1}, {'textDocument': {'uri': 5}},
              {'textDocument': {'uri': URI, 'text': 5, 'version': 'x'}},
              {'textDocument': td, 'range': 'x'},
              {'textDocument': td, 'range': {'start': {'line': -1, 'character': 0},
                                             'end': {'line': 0, 'character': 0}}},
              {'textDocument': td, 'range': {'start': {'line': 10 ** 12, 'character': 10 ** 12},
                                             'end': {'line': 2 ** 62, 'character': 3}}},
              {'textDocument': td, 'range': {'start': {'line': 0, 'character': 1},
                                             'end': {'line': 0, 'character': 0}},
               'context': {'only': [1, None, 'quickfix'], 'diagnostics': 'x'}},
              {'textDocument': td, 'contentChanges': [{'text': 1}]},
              {'textDocument': td, 'contentChanges': [{'range': {'start': {'line': 0, 'character': 3},
                                                                 'end': {'line': 0, 'character': 1}},
                                                       'text': 'X'}]},
              {'textDocument': td, 'contentChanges': 'x'},
              {'settings': {'dfix': {'level': 3, 'select': 'x', 'ignore': [1, 'nope']}}},
              {'settings': 'x'}]
    methods = ['textDocument/formatting', 'textDocument/rangeFormatting', 'textDocument/codeAction',
               'textDocument/didOpen', 'textDocument/didChange', 'textDocument/didClose',
               'workspace/didChangeConfiguration', 'initialize', 'shutdown']
    msgs, i = [INIT, open_doc(URI, 'FROM alpine:3.19\nENV A b\n')], 100
    for m in methods:
        for p in shapes:
            i += 1
            msg = {'jsonrpc': '2.0', 'id': i, 'method': m}
            if p is not None:
                msg['params'] = p
            msgs.append(msg)
            msgs.append(note(m, p))
            if m != 'shutdown':
                continue
            msgs.append(EXIT)  # after the first shutdown: the session ends here
            break
    rc, out, _ = session(msgs)
    assert rc == 0, rc
    answered = {m.get('id') for m in out if 'id' in m}
    assert all(k in answered for k in range(101, i + 1)), 'some requests got no answer'


def test_dfix_yaml():
    """The nearest .dfix.yaml applies to file: URIs; the editor's settings win."""
    text = 'FROM node:20\nENV A b\nRUN echo a\nRUN echo b\nCMD ["node", "x.js"]\n'
    with tempfile.TemporaryDirectory() as d:
        os.mkdir(os.path.join(d, '.git'))
        with open(os.path.join(d, '.dfix.yaml'), 'w') as f:
            f.write('level: safe\nignore: [modernize]\n')
        uri = 'file://' + d + '/Dockerfile'
        [pub] = diagnostics(full_session(uri, text, []), uri)
        codes = {x['code'] for x in pub['diagnostics']}
        assert codes == {'DL3059'}, codes
        init = req(1, 'initialize', {'capabilities': {}, 'initializationOptions': {'ignore': []}})
        [pub] = diagnostics(full_session(uri, text, [], init=init), uri)
        codes = {x['code'] for x in pub['diagnostics']}
        assert codes == {'DL3059', 'LegacyKeyValueFormat'}, codes  # level safe still from the file
        with open(os.path.join(d, '.dfix.yaml'), 'w') as f:
            f.write('level: [oops\n')
        [pub] = diagnostics(full_session(uri, text, []), uri)
        [e] = pub['diagnostics']
        assert e['severity'] == 1 and '.dfix.yaml' in e['message'], e


TESTS = [(name[5:], fn) for name, fn in sorted(globals().items())
         if name.startswith('test_') and callable(fn)]


def main():
    verbose = '-v' in sys.argv[1:]
    only = [a for a in sys.argv[1:] if not a.startswith('-')]
    if not os.access(DFIX, os.X_OK):
        sys.exit('test_lsp.py: no dfix binary at %s (run make)' % DFIX)
    passed = failed = 0
    for name, fn in TESTS:
        if only and name not in only:
            continue
        try:
            fn()
        except Exception as e:  # noqa: BLE001 - report every failure the same way
            failed += 1
            print('  FAIL lsp/%s: %s: %s' % (name, type(e).__name__, e))
        else:
            passed += 1
            if verbose:
                print('  ok   lsp/%s' % name)
    print('%d passed, %d failed' % (passed, failed))
    sys.exit(1 if failed else 0)


if __name__ == '__main__':
    main()
