#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Write a man page (roff, man(7) macros) from a program's own --help text.

The page is made at build time from the built program, so it says what --help says.
The help layout the suite's programs share is read loosely, so that new sections and
options need no change here:
  - a line at column 0 is a section title ("SYNOPSIS", "OUTPUT (in OUTDIR)", "train:",
    "Common options:"); the title becomes .SH (upper case, trailing colon dropped);
  - the SYNOPSIS lines are kept as they are, the program name in bold;
  - an indented line that starts with an option (-x, --long) or a short word, followed by
    two or more blanks and a description, is a tagged paragraph (.TP), options in bold;
    lines indented to its description column continue it, deeper ones are kept verbatim;
  - other indented blocks (EXAMPLES, formulas, tables, references) are kept verbatim;
  - text at column 0 is running text.
Subcommands named in SYNOPSIS ("PROG WORD ...") whose "PROG WORD --help" succeeds and
differs from the main help get a section of their own.

Usage: help-to-roff.py PROGRAM OUTPUT.1 [--name NAME] [--version VERSION]
"""
import argparse
import os
import re
import subprocess
import sys

OPTION = re.compile(r'(?<![\w\\-])(--?[A-Za-z][\w+-]*)')


def bold_options(text):
    """Escaped text with every -x / --long option in bold and its hyphens as \\-."""
    out, last = [], 0
    for m in OPTION.finditer(text):
        out.append(esc_inline(text[last:m.start()]))
        out.append('\\fB' + m.group(1).replace('-', '\\-') + '\\fR')
        last = m.end()
    out.append(esc_inline(text[last:]))
    line = ''.join(out)
    return '\\&' + line if line.startswith(('.', "'")) else line


def esc_inline(text):
    """Backslashes escaped for roff (control characters at a line start: bold_options)."""
    return text.replace('\\', '\\e')


def run_help(argv):
    env = dict(os.environ, COLUMNS='80', LC_ALL='C.UTF-8', NO_COLOR='1')
    p = subprocess.run(argv + ['--help'], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       env=env, timeout=60)
    if p.returncode != 0:
        return None
    return p.stdout.decode('utf-8', 'replace').expandtabs()


def indent_of(line):
    return len(line) - len(line.lstrip(' '))


def is_title(line):
    """A line at column 0 in capitals ("OUTPUT (in OUTDIR)") or a short one ending in ':'."""
    s = line.rstrip()
    if not s or s[0] == ' ':
        return False
    if s.endswith(':') and len(s) <= 48:
        return True
    head = s.split('(')[0].strip()
    return re.fullmatch(r'[A-Z][A-Z0-9 /&-]*[A-Z]', head) is not None


def split_item(line):
    """(tag, description, description column) of an item line, or None.
    An item starts at indent 1..8 with an option, or with one word, then 2+ blanks."""
    ind = indent_of(line)
    if ind == 0 or ind > 8:
        return None
    body = line.strip()
    m = re.search(r'\S( {2,})(?=\S)', body)
    if not m:
        return (body, '', None) if body.startswith('-') else None
    tag, desc = body[:m.start(1)], body[m.end(1):]
    if not body.startswith('-') and ' ' in tag:
        return None
    if tag.startswith('-') and desc.startswith('-'):
        return body, '', None  # several options (with defaults) on one line
    return tag, desc, ind + m.end(1)


class Page:
    def __init__(self):
        self.lines = []
        self.mode = 'text'  # 'text' or 'verbatim'

    def put(self, line):
        if self.mode == 'text' and not line.startswith('.'):
            # filled text: let long lists (a,b,c / a|b|c / paths) break after a separator
            line = re.sub(r'([,|/])(?=[^\s\\])', r'\1\\:', line)
        self.lines.append(line)

    def verbatim(self, on):
        if on and self.mode != 'verbatim':
            self.put('.nf')
        elif not on and self.mode == 'verbatim':
            self.put('.fi')
        self.mode = 'verbatim' if on else 'text'


def render_synopsis(page, block, prog):
    page.verbatim(True)
    base = min((indent_of(l) for l in block if l.strip()), default=0)
    for line in block:
        text = line[base:].rstrip()
        if text.startswith(prog + ' ') or text == prog:
            page.put('\\fB' + esc_inline(prog) + '\\fR' + bold_options(text[len(prog):]))
        else:
            page.put(bold_options(text) if text else '')
    page.verbatim(False)


def render_body(page, block):
    """Running text, tagged items and verbatim blocks of one section."""
    i = 0
    after_item = False
    while i < len(block):
        line = block[i]
        if not line.strip():
            page.verbatim(False)
            page.put('.PP')
            after_item = False
            i += 1
            continue
        if indent_of(line) == 0:
            after_item = False
            page.verbatim(False)
            page.put(bold_options(line.strip()))
            i += 1
            continue
        item = split_item(line)
        if item is None:
            if after_item:
                page.verbatim(False)
                page.put('.PP')  # back to the section's margin
            after_item = False
            page.verbatim(True)
            page.put(bold_options(line[2:].rstrip() if line.startswith('  ') else line.rstrip()))
            i += 1
            continue
        tag, desc, col = item
        after_item = True
        page.verbatim(False)
        page.put('.TP')
        page.put(bold_options(tag))
        if desc:
            page.put(bold_options(desc))
        ind = indent_of(line)
        i += 1
        # continuation: deeper lines; at the description column they are text
        while i < len(block) and block[i].strip() and indent_of(block[i]) > ind:
            page.verbatim(col is not None and indent_of(block[i]) != col)
            page.put(bold_options(block[i].strip()))
            i += 1
        page.verbatim(False)
    page.verbatim(False)


def sections(text):
    """[(title, [lines])] in order; text before the first title is its own block."""
    out, title, block = [], None, []
    for line in text.rstrip('\n').split('\n'):
        if is_title(line):
            out.append((title, block))
            title, block = line.strip().rstrip(':'), []
        else:
            block.append(line)
    out.append((title, block))
    return [(t, b) for t, b in out if t is not None or any(l.strip() for l in b)]


def summary(secs, prog):
    """One line for NAME: the first sentence of the first running text."""
    for _, block in secs:
        para = []
        for line in block:
            if line.strip() and indent_of(line) == 0:
                para.append(line.strip())
            elif para:
                break
        if para:
            text = ' '.join(para)
            m = re.match(r'(.+?[.!?])(\s|$)', text)
            return (m.group(1) if m else text).rstrip('.')
    return prog


def render(page, text, prog, level='SH'):
    secs = sections(text)
    for title, block in secs:
        if title is not None:
            cut = title.find('(')
            cut = len(title) if cut < 0 else cut
            head = title[:cut].upper() + title[cut:] if level == 'SH' else title
            page.put('.%s "%s"' % (level, head.replace('"', "'").replace('\\', '\\e')))
        if title and title.upper() == 'SYNOPSIS':
            # the synopsis runs to the first blank line; text after it describes
            n = next((k for k, l in enumerate(block) if k and not l.strip()), len(block))
            render_synopsis(page, block[:n], prog)
            if any(l.strip() for l in block[n:]):
                page.put('.%s DESCRIPTION' % level)
                render_body(page, block[n:])
        else:
            if title is None and level == 'SH':
                page.put('.SH DESCRIPTION')
            render_body(page, block)
    return secs


def subcommands(text, prog):
    words = []
    for line in text.split('\n'):
        m = re.match(r'\s+' + re.escape(prog) + r' ([a-z][a-z-]*)(\s|$)', line)
        if m and m.group(1) not in words:
            words.append(m.group(1))
    return words


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('program')
    ap.add_argument('output')
    ap.add_argument('--name')
    ap.add_argument('--version', default='')
    a = ap.parse_args()
    prog = a.name or os.path.basename(a.program)
    text = run_help([a.program])
    if text is None or not text.strip():
        sys.exit('help-to-roff: %s --help failed or printed nothing' % a.program)
    page = Page()
    page.put('.\\" Generated from "%s --help" at build time; do not edit.' % prog)
    page.put('.TH "%s" 1 "" "libxai %s" "libxai manual"' % (prog.upper(), a.version))
    page.put('.ad l')
    page.put('.nh')
    page.put('.SH NAME')
    secs = sections(text)
    page.put(esc_inline(prog) + ' \\- ' + esc_inline(summary(secs, prog)))
    render(page, text, prog)
    for word in subcommands(text, prog):
        sub = run_help([a.program, word])
        if sub is None or sub.strip() == text.strip():
            continue
        page.put('.SH "%s %s"' % (prog.upper(), word.upper()))
        page.put('What \\fB%s %s \\-\\-help\\fR prints.' % (esc_inline(prog), word))
        render(page, sub, prog, level='SS')
    tmp = a.output + '.tmp'
    with open(tmp, 'w', encoding='utf-8') as f:
        f.write('\n'.join(page.lines) + '\n')
    os.replace(tmp, a.output)


if __name__ == '__main__':
    main()
