"""The workshop board's stylesheet and scripts, inlined into ``workshop_board.html`` by
:mod:`helpers.board` (kept as strings so the board works from any install, with no
package-data files to lose).

``BALANCE_JS`` is the browser's copy of :mod:`helpers.balance`; ``tests/test_board.py``
runs it beside the Python on the same inputs. ``YAML_JS`` writes and reads the subset of
YAML that ``docs/workshop_files.md`` uses.
"""

BALANCE_JS = r"""
// The same definitions as helpers/balance.py (group_shares, balance_index,
// dominance_threshold, balance_flags); tests/test_board.py checks they agree.
var Balance = (function () {
  function groupShares(counts, totals, groupIds) {
    var out = {};
    groupIds.forEach(function (g) { out[g] = totals[g] ? (counts[g] || 0) / totals[g] : 0; });
    return out;
  }
  function balanceIndex(shares) {
    var values = Object.keys(shares).map(function (g) { return shares[g]; });
    var sum = values.reduce(function (a, b) { return a + b; }, 0);
    if (values.length < 2 || sum === 0) { return 0; }
    var h = 0;
    values.forEach(function (v) { var p = v / sum; if (p > 0) { h -= p * Math.log(p); } });
    return Math.abs(h / Math.log(values.length));
  }
  function dominanceThreshold(nGroups) { return nGroups ? (1 + 1 / nGroups) / 2 : 1; }
  function balanceFlags(shares, speakerTopShare) {
    var groups = Object.keys(shares), flags = [];
    groups.forEach(function (g) { if (shares[g] === 0) { flags.push('missing voice: ' + g); } });
    var total = groups.reduce(function (a, g) { return a + shares[g]; }, 0);
    if (total) {
      groups.forEach(function (g) {
        if (shares[g] / total > dominanceThreshold(groups.length) && groups.length > 1) { flags.push('dominated by ' + g); }
      });
    }
    if (speakerTopShare > 0.5) { flags.push('rests on one speaker'); }
    return flags;
  }
  return {groupShares: groupShares, balanceIndex: balanceIndex, dominanceThreshold: dominanceThreshold,
          balanceFlags: balanceFlags};
})();
"""

YAML_JS = r"""
// Write and read workshop files: the block-and-flow YAML subset of docs/workshop_files.md
// (mappings, lists, flow [a, b] and {a: 1}, plain, quoted and folded > / literal | text).
var WorkshopYaml = (function () {
  var SPECIAL = /^(y|yes|n|no|true|false|on|off|null|~)$/i;
  function scalar(v) {            // ids and numbers bare, free text always quoted
    if (typeof v === 'number' || typeof v === 'boolean') { return String(v); }
    v = String(v);
    return (/^[A-Za-z][A-Za-z0-9_.:\-]*$/.test(v) && !SPECIAL.test(v) && !/:$/.test(v)) ? v : JSON.stringify(v);
  }
  function text(v) { return JSON.stringify(String(v)); }
  function flowList(items, fmt) { return '[' + items.map(fmt || scalar).join(', ') + ']'; }
  function dump(file, decisionKeys) {
    var out = [];
    out.push('# Written by the workshop board (workshop_board.html); see docs/workshop_files.md.');
    out.push('workshop: ' + file.workshop);
    out.push('title: ' + text(file.title));
    out.push('date: ' + file.date);
    out.push('attendees: {' + Object.keys(file.attendees).map(function (g) {
      return scalar(g) + ': ' + Number(file.attendees[g] || 0); }).join(', ') + '}');
    out.push('illustrative: ' + (file.illustrative ? 'true' : 'false'));
    var based = Object.keys(file.based_on);
    // The members of the pinned themes: notebook 05 writes this file beside the packs.
    if (based.length) { out.push('snapshot: workshop_' + file.workshop + '.snapshot.csv'); }
    out.push('based_on:' + (based.length ? '' : ' {}'));
    based.forEach(function (t) { out.push('  ' + scalar(t) + ': ' + text(file.based_on[t])); });
    out.push('decisions:' + (file.decisions.length ? '' : ' []'));
    file.decisions.forEach(function (d) {
      var first = true;
      decisionKeys(d).forEach(function (k) {
        var v = d[k], line;
        if (v === undefined || v === null || v === '' || (Array.isArray(v) && !v.length && k !== 'behaviours')) { return; }
        if (k === 'parts') {
          line = k + ':';
          out.push((first ? '  - ' : '    ') + line);
          Object.keys(v).forEach(function (label) { out.push('      ' + text(label) + ': ' + flowList(v[label])); });
          first = false;
          return;
        }
        if (Array.isArray(v)) {
          line = k + ': ' + flowList(v, (k === 'themes') ? scalar : text);
        } else if (k === 'action' || k === 'theme' || k === 'into' || k === 'source' || k === 'target') {
          line = k + ': ' + scalar(v);
        } else {
          line = k + ': ' + text(v);
        }
        out.push((first ? '  - ' : '    ') + line);
        first = false;
      });
    });
    if (file.definition) { out.push('definition: ' + text(file.definition)); }
    return out.join('\n') + '\n';
  }

  // ---- reading
  function YamlError(line, message) { this.line = line; this.message = 'line ' + line + ': ' + message; }
  function stripComment(s) {
    var quote = null;
    for (var i = 0; i < s.length; i++) {
      var c = s[i];
      if (quote) {
        if (c === '\\' && quote === '"') { i++; } else if (c === quote) { quote = null; }
      } else if (c === '"' || c === "'") {
        if (i === 0 || /[\s\[{,:]/.test(s[i - 1])) { quote = c; }
      } else if (c === '#' && (i === 0 || /\s/.test(s[i - 1]))) { return s.slice(0, i); }
    }
    return s;
  }
  function plain(s) {
    s = s.trim();
    if (s === '' || s === '~' || s === 'null') { return null; }
    if (/^(true|yes|on)$/i.test(s)) { return true; }
    if (/^(false|no|off)$/i.test(s)) { return false; }
    if (/^[-+]?\d+$/.test(s)) { return parseInt(s, 10); }
    if (/^[-+]?(\d+\.\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) { return parseFloat(s); }
    return s;
  }
  function unquote(s, line) {
    if (s[0] === '"') {
      try { return JSON.parse(s.replace(/\\x([0-9a-fA-F]{2})/g, '\\u00$1').replace(/\\\//g, '/')
                               .replace(/\t/g, '\\t')); }
      catch (e) { throw new YamlError(line, 'cannot read the quoted text ' + s); }
    }
    return s.slice(1, -1).replace(/''/g, "'");
  }
  // flow: [a, b], {a: 1}, scalars; returns [value, next index]
  function flow(s, i, line) {
    function ws() { while (i < s.length && /\s/.test(s[i])) { i++; } }
    function quoted() {
      var q = s[i], j = i + 1;
      while (j < s.length) {
        if (q === '"' && s[j] === '\\') { j += 2; continue; }
        if (s[j] === q) { if (q === "'" && s[j + 1] === "'") { j += 2; continue; } break; }
        j++;
      }
      if (j >= s.length) { throw new YamlError(line, 'a quote is not closed'); }
      var v = unquote(s.slice(i, j + 1), line); i = j + 1; return v;
    }
    function item(inMap) {
      ws();
      if (s[i] === '[') { return list(); }
      if (s[i] === '{') { return map(); }
      if (s[i] === '"' || s[i] === "'") { return quoted(); }
      var j = i;
      while (j < s.length && !/[,\]}]/.test(s[j]) && !(inMap && s[j] === ':' && /[\s,\]}]/.test(s[j + 1] || ' '))) { j++; }
      var v = plain(s.slice(i, j)); i = j; return v;
    }
    function list() {
      var out = []; i++; ws();
      if (s[i] === ']') { i++; return out; }
      for (;;) {
        out.push(item(false)); ws();
        if (s[i] === ',') { i++; ws(); if (s[i] === ']') { i++; return out; } continue; }
        if (s[i] === ']') { i++; return out; }
        throw new YamlError(line, 'expected "," or "]" in a [list]');
      }
    }
    function map() {
      var out = {}; i++; ws();
      if (s[i] === '}') { i++; return out; }
      for (;;) {
        var k = item(true); ws();
        if (s[i] !== ':') { throw new YamlError(line, 'expected "key: value" inside {…}'); }
        i++;
        out[String(k)] = item(true); ws();
        if (s[i] === ',') { i++; continue; }
        if (s[i] === '}') { i++; return out; }
        throw new YamlError(line, 'expected "," or "}" in a {mapping}');
      }
    }
    return [item(false), i];
  }
  function load(source) {
    var raw = source.replace(/\r\n?/g, '\n').split('\n');
    var lines = [];
    raw.forEach(function (r, k) {
      var body = stripComment(r);
      if (/^\s*(---|\.\.\.)\s*$/.test(body)) { return; }
      if (body.trim() === '') { lines.push({n: k + 1, blank: true, raw: r}); return; }
      if (/^\t/.test(body)) { throw new YamlError(k + 1, 'indent with spaces, not tabs'); }
      lines.push({n: k + 1, indent: body.match(/^ */)[0].length, text: body.trim(), raw: r});
    });
    var pos = 0;
    function peek() { while (pos < lines.length && lines[pos].blank) { pos++; } return lines[pos]; }
    function blockScalar(style, parentIndent) {
      var chunks = [], indent = null;
      while (pos < lines.length) {
        var l = lines[pos];
        if (!l.blank) {
          var ind = l.raw.match(/^ */)[0].length;
          if (ind <= parentIndent) { break; }
          if (indent === null) { indent = ind; }
          chunks.push(l.raw.slice(indent));
        } else { chunks.push(''); }
        pos++;
      }
      while (chunks.length && chunks[chunks.length - 1] === '') { chunks.pop(); }
      var body = style[0] === '|' ? chunks.join('\n')
        : chunks.reduce(function (acc, c) { return acc === null ? c : (c === '' ? acc + '\n' : acc + (/\n$/.test(acc) ? '' : ' ') + c); }, null) || '';
      return style.indexOf('-') >= 0 ? body : body + '\n';
    }
    function value(rest, l, indent) {
      rest = rest.trim();
      if (rest === '') {
        var next = peek();
        if (next && (next.indent > indent || (next.indent === indent && /^- |^-$/.test(next.text)))) { return block(next.indent); }
        return null;
      }
      if (/^[>|][-+]?$/.test(rest)) { return blockScalar(rest, indent); }
      if (rest[0] === '[' || rest[0] === '{') {
        var r = flow(rest, 0, l.n);
        if (rest.slice(r[1]).trim()) { throw new YamlError(l.n, 'unexpected text after the closing bracket'); }
        return r[0];
      }
      if (rest[0] === '"' || rest[0] === "'") {
        var q = rest;     // a quoted text may run over several lines
        while (!closed(q) && pos < lines.length) { q += ' ' + (lines[pos].blank ? '\n' : lines[pos].raw.trim()); pos++; }
        return flow(q, 0, l.n)[0];
      }
      var more = rest;    // a plain text may continue on more-indented lines
      for (var nx = peek(); nx && nx.indent > indent; nx = peek()) {
        more += ' ' + nx.text; pos++;
      }
      return plain(more);
    }
    function closed(q) {
      var quote = q[0];
      for (var i = 1; i < q.length; i++) {
        if (quote === '"' && q[i] === '\\') { i++; continue; }
        if (q[i] === quote) { if (quote === "'" && q[i + 1] === "'") { i++; continue; } return true; }
      }
      return false;
    }
    function splitKey(text, n) {
      var m;
      if (text[0] === '"' || text[0] === "'") {
        var r = flow(text, 0, n), rest = text.slice(r[1]);
        m = /^\s*:(\s|$)/.exec(rest);
        if (!m) { throw new YamlError(n, 'expected "key: value"'); }
        return [String(r[0]), rest.slice(m[0].length)];
      }
      m = /^([^:]*?(?::[^\s:][^:]*?)*):(\s+|$)/.exec(text);
      if (!m) { throw new YamlError(n, 'expected "key: value" but found "' + text + '"'); }
      return [m[1].trim(), text.slice(m[0].length)];
    }
    function block(indent) {
      var first = peek();
      if (/^-( |$)/.test(first.text)) {
        var list = [];
        for (var l = peek(); l && l.indent === indent && /^-( |$)/.test(l.text); l = peek()) {
          var rest = l.text.slice(1).trim();
          var inner = indent + (l.text.length - l.text.slice(1).trimStart().length);
          if (rest === '') { pos++; list.push(value('', l, indent)); continue; }
          if (/^[^\s"'\[{][^:]*:(\s|$)/.test(rest) || /^["'][^"']*["']\s*:(\s|$)/.test(rest)) {
            lines[pos] = {n: l.n, indent: inner, text: rest, raw: new Array(inner + 1).join(' ') + rest};
            list.push(mapping(inner));
          } else { pos++; list.push(value(rest, l, indent)); }
        }
        return list;
      }
      return mapping(indent);
    }
    function mapping(indent) {
      var out = {};
      for (var l = peek(); l && l.indent === indent && !/^-( |$)/.test(l.text); l = peek()) {
        var kv = splitKey(l.text, l.n);
        pos++;
        out[kv[0]] = value(kv[1], l, indent);
      }
      var after = peek();
      if (after && after.indent > indent) { throw new YamlError(after.n, 'this line is indented more than the lines above it'); }
      return out;
    }
    if (!peek()) { return null; }
    var doc = block(peek().indent);
    if (peek()) { throw new YamlError(peek().n, 'this line does not fit the indentation of the lines above it'); }
    return doc;
  }
  return {dump: dump, load: load, scalar: scalar};
})();
"""

BOARD_CSS = r"""
:root{--ink:#1a1a1a;--mid:#4a4a4a;--line:#c9c9c9;--bg:#fff;--accent:#1f4e8c;--warn:#8B1A1A}
*{box-sizing:border-box}
html{font-size:20px}
body{margin:0;font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;color:var(--ink);background:var(--bg);line-height:1.4}
header,.meta,.toolbar,#status,.help,main{padding:0 1rem}
h1{font-size:1.6rem;margin:.6rem 0 .1rem}
h2{font-size:1.25rem;margin:1rem 0 .4rem;border-bottom:2px solid var(--line)}
h3{font-size:1.05rem;margin:.2rem 0}
.sub{color:var(--mid);margin:0 0 .3rem}
.legend{display:flex;flex-wrap:wrap;gap:.3rem 1rem;margin:.2rem 0}
.chip i{display:inline-block;width:1rem;height:1rem;border-radius:50%;margin-right:.3rem;vertical-align:-.15rem}
.meta{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:center;margin:.4rem 0}
#attendees{display:flex;flex-wrap:wrap;gap:.3rem 1rem;align-items:center}
.meta input,.meta textarea{font:inherit;padding:.15rem .3rem}
.meta input[type=number]{width:3.5rem}
.toolbar{display:flex;flex-wrap:wrap;gap:.5rem;margin:.4rem 0;position:sticky;top:0;background:#fff;z-index:2;padding-top:.3rem;padding-bottom:.3rem;border-bottom:1px solid var(--line)}
button,.button{font:inherit;font-size:.9rem;padding:.3rem .7rem;border:2px solid var(--accent);background:#fff;color:var(--accent);border-radius:.4rem;cursor:pointer}
button:hover,.button:hover{background:#eef3fa}
button:focus-visible,.button:focus-within,.card:focus-visible,.pile:focus-visible,summary:focus-visible{outline:4px solid #f5a623;outline-offset:2px}
button[aria-pressed=true]{background:var(--accent);color:#fff}
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}
#status{min-height:1.4rem;font-weight:600;color:var(--accent)}
#status.error{color:var(--warn)}
.cards{display:flex;flex-wrap:wrap;gap:.7rem}
.piles{display:grid;grid-template-columns:repeat(auto-fill,minmax(24rem,1fr));gap:.8rem}
.card{width:17rem;border:2px solid var(--line);border-radius:.5rem;padding:.4rem .6rem .5rem;background:#fff;border-top-width:.6rem;position:relative}
.card.selected,.pile.selected{border-color:var(--accent);box-shadow:0 0 0 4px var(--accent)}
.card .top{display:flex;flex-wrap:wrap;gap:.1rem .5rem;font-size:.8rem;color:var(--mid)}
.card .group{font-weight:700;color:var(--ink)}
.unstable{color:var(--warn);font-weight:700}
.kw{font-size:.8rem;color:var(--mid);margin:.2rem 0}
.fp{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.75rem;color:var(--mid);margin:.2rem 0}
blockquote{margin:.3rem 0;padding:.2rem .5rem;border-left:4px solid var(--line);font-style:italic;font-size:.85rem}
.actions{display:flex;flex-wrap:wrap;gap:.3rem;margin-top:.3rem}
.actions button{font-size:.8rem;padding:.15rem .5rem}
.pile{border:3px solid #555;border-radius:.6rem;padding:.5rem .7rem;background:#faf8f3}
.pile.proposed{border-style:dashed;background:#fff}
.pile.new{border-color:var(--accent)}
.pile.drag-over,.card.drag-over{background:#e3eefc}
.pile .status{font-size:.8rem;color:var(--mid)}
.members{list-style:none;padding:0;margin:.3rem 0}
.members li{display:flex;gap:.4rem;align-items:center;font-size:.85rem;margin:.15rem 0}
.members li i{flex:0 0 .8rem;height:.8rem;border-radius:50%}
.members li .card{width:100%}
.bar{display:flex;align-items:center;gap:.4rem;font-size:.8rem;margin:.1rem 0}
.bar .name{flex:0 0 9rem}
.bar .track{flex:1;height:.8rem;background:#e6e6e6;border-radius:3px;overflow:hidden}
.bar .fill{display:block;height:100%}
.balance-line{font-weight:700;margin:.2rem 0}
.flag{color:var(--warn);font-weight:700;margin:.1rem 0;font-size:.85rem}
#decisions li{margin:.2rem 0}
#decisions .why{color:var(--mid)}
.map .chart svg{width:100%;height:auto;max-height:80vh;border:1px solid var(--line)}
dialog{font-size:1rem;max-width:42rem;width:92vw;border:3px solid var(--accent);border-radius:.6rem}
dialog label{display:block;margin:.4rem 0}
dialog input[type=text],dialog textarea,dialog select{font:inherit;width:100%;padding:.2rem}
dialog .error{color:var(--warn);font-weight:700}
dialog fieldset{margin:.4rem 0}
@media print{html{font-size:14px}.toolbar,.help,.actions,#status,dialog,.meta input[type=file]{display:none}
 details{display:block}details>*{display:block}.card,.pile{break-inside:avoid}.map{break-before:page}}
"""

BOARD_JS = r"""
(function () {
  'use strict';
  var DATA = JSON.parse(document.getElementById('board-data').textContent);
  var GROUPS = DATA.groups.map(function (g) { return g.id; });
  var GROUP = {}; DATA.groups.forEach(function (g) { GROUP[g.id] = g; });
  var ORDER = {merge: ['action', 'themes', 'into', 'label', 'rationale'], rename: ['action', 'theme', 'label', 'rationale'],
    split: ['action', 'theme', 'parts', 'rationale'], drop: ['action', 'theme', 'rationale'],
    define: ['action', 'theme', 'description', 'elements', 'rationale'],
    link: ['action', 'source', 'target', 'relation', 'rationale'],
    assign: ['action', 'theme', 'attribute', 'behaviours', 'rationale']};
  var INTEGRATED = /^I\d{2,}$/;
  var decisions = [], history = [], selected = [], state = null;
  var meta = {title: 'Workshop ' + DATA.workshop, date: '', attendees: {}, definition: ''};
  GROUPS.forEach(function (g) { meta.attendees[g] = 0; });

  function $(id) { return document.getElementById(id); }
  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === 'text') { e.textContent = attrs[k]; } else if (k === 'on') {
        Object.keys(attrs.on).forEach(function (ev) { e.addEventListener(ev, attrs.on[ev]); });
      } else if (attrs[k] !== null && attrs[k] !== undefined && attrs[k] !== false) { e.setAttribute(k, attrs[k]); }
    });
    (children || []).forEach(function (c) { if (c) { e.appendChild(typeof c === 'string' ? document.createTextNode(c) : c); } });
    return e;
  }
  function say(message, isError) { var s = $('status'); s.textContent = message; s.className = isError ? 'error' : ''; }
  function clone(x) { return JSON.parse(JSON.stringify(x)); }

  // ---------------------------------------------------------------- the state: base + decisions replayed
  function DecisionError(index, message) { this.message = 'decision ' + index + ': ' + message; }
  function replay(decs) {
    var s = {cards: {}, piles: {}, unplaced: {}, dropped: {}, links: [], order: []};
    Object.keys(DATA.cards).forEach(function (id) { s.cards[id] = DATA.cards[id]; });
    DATA.unplaced.forEach(function (id) { s.unplaced[id] = true; });
    DATA.agreed.forEach(function (id) {
      var c = DATA.cards[id];
      s.piles[id] = {id: id, label: c.label, origin: 'base', status: 'agreed in ' + (c.workshop || 'an earlier workshop'),
        sources: c.sources.slice(), contributors: [id], description: c.description, elements: [], attribute: '',
        behaviours: []};
      s.order.push(id);
    });
    function pile(id, i, what) {
      var p = s.piles[id];
      if (!p) { throw new DecisionError(i, what + ' names ' + id + ', which is not a pile on this board'); }
      return p;
    }
    function groupCard(id, i) {
      if (!s.cards[id] || s.cards[id].kind !== 'group') { throw new DecisionError(i, id + ' is not a group theme of this study'); }
      if (!s.unplaced[id]) { throw new DecisionError(i, id + ' is already placed, dropped or split'); }
      return s.cards[id];
    }
    decs.forEach(function (d, k) {
      var i = k + 1;
      if (!d || !ORDER[d.action]) { throw new DecisionError(i, 'unknown action "' + (d && d.action) + '"'); }
      if (d.action === 'merge') {
        var into = d.into;
        if (!into || !INTEGRATED.test(into)) { throw new DecisionError(i, 'a merge needs "into: I.." on the board'); }
        var target = s.piles[into];
        if (!target) {
          target = s.piles[into] = {id: into, label: d.label || into, origin: 'session', status: 'new in this workshop',
            sources: [], contributors: [], description: '', elements: [], attribute: '', behaviours: []};
          s.order.push(into);
        }
        (d.themes || []).forEach(function (t) {
          if (t === into) { return; }
          if (INTEGRATED.test(t)) {
            var other = pile(t, i, 'the merge');
            target.sources = target.sources.concat(other.sources);
            target.contributors = target.contributors.concat(other.contributors);
            delete s.piles[t]; s.order = s.order.filter(function (x) { return x !== t; });
            return;
          }
          groupCard(t, i);
          delete s.unplaced[t];
          target.sources.push(t); target.contributors.push(t);
        });
        if (d.label) { target.label = d.label; }
      } else if (d.action === 'rename') {
        pile(d.theme, i, 'the rename').label = d.label;
      } else if (d.action === 'drop') {
        if (!String(d.rationale || '').trim()) { throw new DecisionError(i, 'a drop needs a rationale'); }
        if (INTEGRATED.test(d.theme)) { pile(d.theme, i, 'the drop'); delete s.piles[d.theme];
          s.order = s.order.filter(function (x) { return x !== d.theme; }); }
        else { groupCard(d.theme, i); delete s.unplaced[d.theme]; }
        s.dropped[d.theme] = true;
      } else if (d.action === 'split') {
        var parent = groupCard(d.theme, i), labels = Object.keys(d.parts || {});
        if (labels.length < 2) { throw new DecisionError(i, 'a split needs at least two parts'); }
        delete s.unplaced[d.theme];
        labels.forEach(function (label, j) {
          var seeds = d.parts[label] || [];
          var id = d.theme + '.' + (j + 1);
          s.cards[id] = {id: id, kind: 'group', group: parent.group, label: label, keywords: seeds.filter(function (x) {
              return !parent.quotes.some(function (q) { return q.segment === x; }); }),
            quotes: parent.quotes.filter(function (q) { return seeds.indexOf(q.segment) >= 0; }),
            n: null, fingerprint: '', counts: null, speakers: null, unstable: null, colour: parent.colour, splitFrom: d.theme};
          s.unplaced[id] = true;
        });
      } else if (d.action === 'define') {
        var p = pile(d.theme, i, 'the definition');
        p.description = d.description || ''; p.elements = (d.elements || []).slice();
      } else if (d.action === 'link') {
        pile(d.source, i, 'the link'); pile(d.target, i, 'the link');
        if (DATA.relations.indexOf(d.relation) < 0) { throw new DecisionError(i, 'relation must be one of: ' + DATA.relations.join(', ')); }
        s.links.push({source: d.source, target: d.target, relation: d.relation});
      } else if (d.action === 'assign') {
        var q = pile(d.theme, i, 'the assignment');
        if (DATA.attributes.indexOf(d.attribute) < 0) { throw new DecisionError(i, 'attribute must be one of: ' + DATA.attributes.join(', ')); }
        q.attribute = d.attribute; q.behaviours = (d.behaviours || []).slice();
      }
    });
    return s;
  }

  // ---------------------------------------------------------------- balance of a set of contributors
  function tally(ids, cards) {
    var counts = {}, speakers = {}, unknown = false;
    ids.forEach(function (id) {
      var c = cards[id];
      if (!c || !c.counts) { unknown = true; return; }
      Object.keys(c.counts).forEach(function (g) { counts[g] = (counts[g] || 0) + c.counts[g]; });
      Object.keys(c.speakers).forEach(function (sp) { speakers[sp] = (speakers[sp] || 0) + c.speakers[sp]; });
    });
    var values = Object.keys(speakers).map(function (k) { return speakers[k]; });
    var total = values.reduce(function (a, b) { return a + b; }, 0);
    var top = total ? Math.max.apply(null, values) / total : 0;
    var shares = Balance.groupShares(counts, DATA.totals, GROUPS);
    var n = Object.keys(counts).reduce(function (a, g) { return a + counts[g]; }, 0);
    return {n: n, shares: shares, index: Balance.balanceIndex(shares), flags: Balance.balanceFlags(shares, top),
            unknown: unknown};
  }
  function balanceBlock(t) {
    var max = Math.max.apply(null, GROUPS.map(function (g) { return t.shares[g]; }).concat([1e-9]));
    var box = el('div', {'class': 'balance', 'aria-label': 'balance across participant groups'});
    GROUPS.forEach(function (g) {
      var fill = el('span', {'class': 'fill', style: 'width:' + Math.min(100, t.shares[g] * 100 / max) + '%;background:' + GROUP[g].colour});
      box.appendChild(el('div', {'class': 'bar'}, [el('span', {'class': 'name', text: GROUP[g].label}),
        el('span', {'class': 'track'}, [fill]), el('span', {text: (t.shares[g] * 100).toFixed(1) + '%'})]));
    });
    box.appendChild(el('p', {'class': 'balance-line', 'data-balance': t.index.toFixed(4),
      text: 'balance ' + t.index.toFixed(2) + ' · ' + t.n + ' segments' + (t.unknown ? ' (a split part counts once notebook 05 applies the split)' : '')}));
    t.flags.forEach(function (f) { box.appendChild(el('p', {'class': 'flag', text: '⚠ ' + f})); });
    return box;
  }

  // ---------------------------------------------------------------- rendering
  function cardView(c, where) {
    var g = GROUP[c.group] || {label: c.group, colour: '#bbb'};
    var isSel = selected.indexOf(c.id) >= 0;
    var top = el('div', {'class': 'top'}, [el('span', {'class': 'group', text: g.label}), el('span', {text: c.id}),
      el('span', {text: c.n === null ? 'size after notebook 05' : c.n + ' segments'}),
      c.unstable ? el('span', {'class': 'unstable', text: '⚠ unstable', title: c.caveat || 'this theme changed between refits'}) : null]);
    var quotes = el('details', {}, [el('summary', {text: 'Quotes (' + c.quotes.length + ')'})].concat(
      c.quotes.map(function (q) { return el('blockquote', {text: q.text}); })));
    var actions = el('div', {'class': 'actions'});
    if (where === 'free') {
      actions.appendChild(el('button', {type: 'button', 'aria-pressed': isSel ? 'true' : 'false', 'data-act': 'select',
        text: isSel ? 'Selected' : 'Select', on: {click: function () { toggle(c.id); }}}));
      if (!c.splitFrom) { actions.appendChild(el('button', {type: 'button', 'data-act': 'split', text: 'Split…', on: {click: function () { splitDialog(c); }}})); }
      actions.appendChild(el('button', {type: 'button', 'data-act': 'drop', text: 'Drop…', on: {click: function () { dropDialog(c.id, c.label); }}}));
    } else if (where && where.removable) {
      actions.appendChild(el('button', {type: 'button', 'data-act': 'remove', text: 'Take out of the pile',
        on: {click: function () { removeFromPile(where.pile, c.id); }}}));
    }
    var card = el('article', {'class': 'card' + (isSel ? ' selected' : ''), tabindex: '0', draggable: where === 'free' ? 'true' : 'false',
      'data-id': c.id, style: 'border-top-color:' + g.colour,
      'aria-label': g.label + ' theme ' + c.id + ': ' + c.label + (isSel ? ' (selected)' : '')},
      [top, el('h3', {text: c.label}), c.keywords.length ? el('p', {'class': 'kw', text: c.keywords.join(', ')}) : null,
       quotes, c.fingerprint ? el('p', {'class': 'fp', text: 'fingerprint ' + c.fingerprint}) : null,
       c.consensus ? el('p', {'class': 'kw', text: 'consensus: ' + c.consensus}) : null, actions]);
    if (where === 'free') {
      card.addEventListener('dragstart', function (e) { e.dataTransfer.setData('text/plain', 'card:' + c.id); });
      dropTarget(card, function (what) { if (what.kind === 'card' && what.id !== c.id) { mergeDialog([what.id, c.id]); } });
      card.addEventListener('keydown', function (e) {
        if (e.target !== card) { return; }
        if (e.key === ' ' || e.key === 'Enter') { toggle(c.id); e.preventDefault(); }
      });
    }
    return card;
  }
  function dropTarget(node, handler) {
    node.addEventListener('dragover', function (e) { e.preventDefault(); node.classList.add('drag-over'); });
    node.addEventListener('dragleave', function () { node.classList.remove('drag-over'); });
    node.addEventListener('drop', function (e) {
      e.preventDefault(); e.stopPropagation(); node.classList.remove('drag-over');
      var raw = e.dataTransfer.getData('text/plain'), at = raw.indexOf(':');
      handler({kind: raw.slice(0, at), id: raw.slice(at + 1)});
    });
  }
  function pileView(p) {
    var t = tally(p.contributors, state.cards);
    var created = createdHere(p.id);
    var members = el('ul', {'class': 'members'}, p.sources.map(function (id) {
      var c = state.cards[id] || DATA.cards[id];
      var g = GROUP[c ? c.group : ''] || {label: '', colour: '#bbb'};
      if (created && state.cards[id] && p.contributors.indexOf(id) >= 0) {
        return el('li', {}, [cardView(state.cards[id], {removable: true, pile: p.id})]);
      }
      return el('li', {}, [el('i', {style: 'background:' + g.colour}), el('span', {text: g.label + ' · ' + id + ' · ' + (c ? c.label : '')})]);
    }));
    var facts = [];
    if (p.description) { facts.push(el('p', {text: p.description})); }
    if (p.elements.length) { facts.push(el('p', {text: 'Definition elements: ' + p.elements.join('; ')})); }
    if (p.attribute) { facts.push(el('p', {text: 'Attribute: ' + p.attribute + (p.behaviours.length ? ' — ' + p.behaviours.join('; ') : '')})); }
    state.links.filter(function (l) { return l.source === p.id; }).forEach(function (l) {
      facts.push(el('p', {text: p.id + ' ' + l.relation + ' ' + l.target})); });
    var fp = DATA.cards[p.id] && p.origin === 'base' && p.contributors.length === 1 ? DATA.cards[p.id].fingerprint : '';
    var head = el('header', {draggable: 'true'}, [el('h3', {text: p.id + ' · ' + p.label}),
      el('span', {'class': 'status', text: p.status + (fp ? ' · fingerprint ' + fp : '')})]);
    head.addEventListener('dragstart', function (e) { e.dataTransfer.setData('text/plain', 'pile:' + p.id); });
    var isSel = selected.indexOf(p.id) >= 0;
    var actions = el('div', {'class': 'actions'}, [
      el('button', {type: 'button', 'aria-pressed': isSel ? 'true' : 'false', 'data-act': 'select',
        text: isSel ? 'Selected' : 'Select', on: {click: function () { toggle(p.id); }}}),
      el('button', {type: 'button', 'data-act': 'add', text: 'Add selected', on: {click: function () { addSelected(p.id); }}}),
      el('button', {type: 'button', 'data-act': 'rename', text: 'Rename…', on: {click: function () { renameDialog(p); }}}),
      el('button', {type: 'button', 'data-act': 'define', text: 'Define…', on: {click: function () { defineDialog(p); }}}),
      el('button', {type: 'button', 'data-act': 'link', text: 'Link…', on: {click: function () { linkDialog(p); }}}),
      el('button', {type: 'button', 'data-act': 'assign', text: 'Assign…', on: {click: function () { assignDialog(p); }}}),
      el('button', {type: 'button', 'data-act': 'merge-into', text: 'Merge into…', on: {click: function () { mergePileDialog(p); }}}),
      el('button', {type: 'button', 'data-act': 'drop', text: 'Drop…', on: {click: function () { dropDialog(p.id, p.label); }}})]);
    var box = el('section', {'class': 'pile' + (p.origin === 'session' ? ' new' : '') + (isSel ? ' selected' : ''),
      'data-id': p.id, tabindex: '0', 'aria-label': 'pile ' + p.id + ': ' + p.label + (isSel ? ' (selected)' : '')},
      [head, balanceBlock(t), members].concat(facts).concat([actions]));
    box.addEventListener('keydown', function (e) {
      if (e.target !== box) { return; }
      if (e.key === ' ' || e.key === 'Enter') { toggle(p.id); e.preventDefault(); }
    });
    dropTarget(box, function (what) {
      if (what.kind === 'card') { addToPile(p.id, [what.id]); }
      else if (what.kind === 'pile' && what.id !== p.id) { mergePiles(what.id, p.id); }
    });
    return box;
  }
  function proposalView(id, members) {
    var c = DATA.cards[id];
    var t = tally(members, state.cards);
    return el('section', {'class': 'pile proposed', 'data-id': id, 'aria-label': 'suggested pile ' + id},
      [el('header', {}, [el('h3', {text: id + ' · ' + c.label}), el('span', {'class': 'status', text: 'suggested, not agreed'})]),
       balanceBlock(t), el('div', {'class': 'members cards'}, members.map(function (m) { return cardView(state.cards[m], 'free'); })),
       el('div', {'class': 'actions'}, [el('button', {type: 'button', 'data-act': 'agree', text: 'Agree as a pile…',
         on: {click: function () { mergeDialog(members, c.label, id); }}})])]);
  }
  function describe(d) {
    var what = {merge: function () { return 'merge ' + d.themes.join(', ') + ' into ' + d.into + ' “' + d.label + '”'; },
      rename: function () { return 'rename ' + d.theme + ' “' + d.label + '”'; },
      drop: function () { return 'drop ' + d.theme; },
      split: function () { return 'split ' + d.theme + ' into ' + Object.keys(d.parts).map(function (k) { return '“' + k + '”'; }).join(' and '); },
      define: function () { return 'define ' + d.theme; },
      link: function () { return d.source + ' ' + d.relation + ' ' + d.target; },
      assign: function () { return 'assign ' + d.theme + ' to ' + d.attribute; }}[d.action]();
    return el('li', {}, [el('span', {text: what}), d.rationale ? el('span', {'class': 'why', text: ' — ' + d.rationale}) : null]);
  }
  function render() {
    var focused = document.activeElement && document.activeElement.closest ? document.activeElement.closest('[data-id]') : null;
    var focusId = focused ? focused.getAttribute('data-id') : null;
    selected = selected.filter(function (id) { return state.unplaced[id] || state.piles[id]; });
    var piles = $('piles'); piles.replaceChildren();
    state.order.forEach(function (id) { if (state.piles[id]) { piles.appendChild(pileView(state.piles[id])); } });
    var inProposal = {};
    var proposals = $('proposals'); proposals.replaceChildren();
    DATA.proposed.forEach(function (id) {
      if (state.piles[id]) { return; }
      var members = DATA.cards[id].sources.filter(function (s) { return state.unplaced[s]; });
      if (members.length < 2) { return; }
      members.forEach(function (m) { inProposal[m] = true; });
      proposals.appendChild(proposalView(id, members));
    });
    var cards = $('cards'); cards.replaceChildren();
    Object.keys(state.unplaced).sort().forEach(function (id) { if (!inProposal[id]) { cards.appendChild(cardView(state.cards[id], 'free')); } });
    var list = $('decisions'); list.replaceChildren();
    decisions.forEach(function (d) { list.appendChild(describe(d)); });
    $('merge-selected').textContent = 'Merge selected (M)' + (selected.length ? ': ' + selected.length : '');
    if (focusId) { var again = document.querySelector('[data-id="' + CSS.escape(focusId) + '"]'); if (again) { again.focus(); } }
  }
  function commit(next, message) {
    try { var s = replay(next); } catch (e) { say(e.message, true); return false; }
    history.push(clone(decisions)); decisions = next; state = s; render(); say(message); return true;
  }

  // ---------------------------------------------------------------- the decisions the room makes
  function nextId() {
    var used = DATA.agreed.concat(DATA.proposed).concat(Object.keys(state.piles)).concat(
      decisions.filter(function (d) { return d.into; }).map(function (d) { return d.into; }));
    var n = 1; used.forEach(function (id) { if (INTEGRATED.test(id)) { n = Math.max(n, parseInt(id.slice(1), 10) + 1); } });
    return 'I' + (n < 10 ? '0' + n : n);
  }
  function createdHere(id) {   // a pile this workshop made (its merge can still be edited)
    return DATA.agreed.indexOf(id) < 0 && decisions.some(function (d) { return d.action === 'merge' && d.into === id; });
  }
  function toggle(id) {
    var k = selected.indexOf(id);
    if (k >= 0) { selected.splice(k, 1); } else { selected.push(id); }
    render(); say(selected.length + ' card(s) selected');
  }
  function merge(themes, label, rationale, into) {
    var next = clone(decisions);
    next.push({action: 'merge', themes: themes, into: into || nextId(), label: label, rationale: rationale});
    if (commit(next, 'Merged ' + themes.join(', ') + ' into “' + label + '”.')) { selected = []; render(); }
  }
  function addToPile(pileId, ids) {
    var next = clone(decisions), p = state.piles[pileId];
    var own = createdHere(pileId) && next.filter(function (d) { return d.action === 'merge' && d.into === pileId; })[0];
    if (own) { ids.forEach(function (id) { if (own.themes.indexOf(id) < 0) { own.themes.push(id); } }); }
    else { next.push({action: 'merge', themes: [pileId].concat(ids), into: pileId, label: p.label}); }
    if (commit(next, 'Added ' + ids.join(', ') + ' to ' + pileId + '.')) { selected = []; render(); }
  }
  function addSelected(pileId) {
    if (!selected.length) { say('Select one or more cards first (Space on a card).', true); return; }
    addToPile(pileId, selected.slice());
  }
  function mergePiles(from, into) { addToPile(into, [from]); }
  function removeFromPile(pileId, id) {
    var next = clone(decisions);
    next.forEach(function (d) { if (d.action === 'merge' && d.into === pileId) { d.themes = d.themes.filter(function (t) { return t !== id; }); } });
    var empty = !next.some(function (d) { return d.action === 'merge' && d.into === pileId && d.themes.some(function (t) { return t !== pileId; }); });
    if (empty) {
      next = next.filter(function (d) { return [d.into, d.theme, d.source, d.target].indexOf(pileId) < 0 &&
                                                !(d.themes && d.themes.indexOf(pileId) >= 0); });
    } else {
      next = next.filter(function (d) { return !(d.action === 'merge' && d.into === pileId && !d.themes.some(function (t) { return t !== pileId; })); });
    }
    commit(next, 'Took ' + id + ' out of ' + pileId + '.');
  }
  function setLabel(pileId, label, rationale) {
    var next = clone(decisions);
    var own = createdHere(pileId) && next.filter(function (d) { return d.action === 'merge' && d.into === pileId; })[0];
    var earlier = next.filter(function (d) { return d.action === 'rename' && d.theme === pileId; })[0];
    if (own) { own.label = label; next.forEach(function (d) { if (d.action === 'merge' && d.into === pileId) { d.label = label; } }); }
    else if (earlier) { earlier.label = label; if (rationale) { earlier.rationale = rationale; } }
    else { next.push({action: 'rename', theme: pileId, label: label, rationale: rationale}); }
    commit(next, 'Renamed ' + pileId + ' “' + label + '”.');
  }
  function add(decision, message) { var next = clone(decisions); next.push(decision); commit(next, message); }

  // ---------------------------------------------------------------- dialogs (keyboard-friendly, native <dialog>)
  function dialog(title, fields, onSave, extra) {
    var d = $('dialog'), form = $('dialog-form');
    form.replaceChildren(el('h2', {text: title}));
    var inputs = {};
    fields.forEach(function (f) {
      var input;
      if (f.type === 'textarea') { input = el('textarea', {name: f.name, rows: f.rows || 3}); input.value = f.value || ''; }
      else if (f.type === 'select') {
        input = el('select', {name: f.name}, f.options.map(function (o) { return el('option', {value: o[0], text: o[1]}); }));
        if (f.value) { input.value = f.value; }
      } else { input = el('input', {type: 'text', name: f.name}); input.value = f.value || ''; }
      inputs[f.name] = input;
      form.appendChild(el('label', {}, [f.label + (f.required ? ' (required)' : ''), input]));
    });
    if (extra) { form.appendChild(extra); }
    var error = el('p', {'class': 'error', role: 'alert'});
    form.appendChild(error);
    var save = el('button', {type: 'submit', value: 'save', text: 'Save'});
    var cancel = el('button', {type: 'button', text: 'Cancel', on: {click: function () { d.close(); }}});
    form.appendChild(el('div', {'class': 'actions'}, [save, cancel]));
    form.onsubmit = function (e) {
      e.preventDefault();
      var values = {};
      Object.keys(inputs).forEach(function (k) { values[k] = inputs[k].value.trim(); });
      var missing = fields.filter(function (f) { return f.required && !values[f.name]; })[0];
      if (missing) { error.textContent = 'Please fill in: ' + missing.label + '.'; inputs[missing.name].focus(); return; }
      var problem = onSave(values);
      if (problem) { error.textContent = problem; return; }
      d.close();
    };
    d.showModal();
    var first = form.querySelector('input,textarea,select'); if (first) { first.focus(); }
  }
  function lines(text) { return text.split('\n').map(function (s) { return s.trim(); }).filter(Boolean); }
  function mergeDialog(ids, label, into) {
    if (ids.length < 2 && !into) { say('Select at least two cards to merge (Space on a card).', true); return; }
    dialog('Merge ' + ids.join(', ') + ' into one pile', [
      {name: 'label', label: 'Name of the pile', required: true, value: label || ''},
      {name: 'rationale', label: 'Why these belong together', type: 'textarea'}],
      function (v) { merge(ids.slice(), v.label, v.rationale, into); });
  }
  function mergePileDialog(p) {
    var others = Object.keys(state.piles).filter(function (id) { return id !== p.id; });
    dialog('Merge pile ' + p.id + ' into another pile', [
      {name: 'into', label: 'Into', type: 'select', options: others.map(function (id) { return [id, id + ' · ' + state.piles[id].label]; })}],
      function (v) { mergePiles(p.id, v.into); });
  }
  function renameDialog(p) {
    dialog('Rename ' + p.id, [{name: 'label', label: 'New name', required: true, value: p.label},
      {name: 'rationale', label: 'Why (optional)', type: 'textarea'}], function (v) { setLabel(p.id, v.label, v.rationale); });
  }
  function dropDialog(id, label) {
    dialog('Drop ' + id + ' · ' + label, [{name: 'rationale', label: 'Why the room sets it aside', type: 'textarea', required: true}],
      function (v) { add({action: 'drop', theme: id, rationale: v.rationale}, 'Dropped ' + id + '.'); });
  }
  function defineDialog(p) {
    dialog('Define ' + p.id + ' · ' + p.label, [
      {name: 'description', label: 'Description', type: 'textarea', required: true, value: p.description},
      {name: 'elements', label: 'Elements of the definition (one a line)', type: 'textarea', value: p.elements.join('\n')},
      {name: 'rationale', label: 'Why (optional)', type: 'textarea'}],
      function (v) { add({action: 'define', theme: p.id, description: v.description, elements: lines(v.elements), rationale: v.rationale},
                         'Defined ' + p.id + '.'); });
  }
  function linkDialog(p) {
    var others = Object.keys(state.piles).filter(function (id) { return id !== p.id; });
    dialog('Link ' + p.id + ' to another pile', [
      {name: 'relation', label: p.id + ' …', type: 'select', options: DATA.relations.map(function (r) { return [r, r]; })},
      {name: 'target', label: '… which pile', type: 'select', options: others.map(function (id) { return [id, id + ' · ' + state.piles[id].label]; })},
      {name: 'rationale', label: 'Why', type: 'textarea'}],
      function (v) { add({action: 'link', source: p.id, target: v.target, relation: v.relation, rationale: v.rationale},
                         'Linked ' + p.id + ' to ' + v.target + '.'); });
  }
  function assignDialog(p) {
    dialog('Assign ' + p.id + ' to an attribute of compassion', [
      {name: 'attribute', label: 'Attribute', type: 'select', options: DATA.attributes.map(function (a) { return [a, a]; }), value: p.attribute},
      {name: 'behaviours', label: 'Observable behaviours (one a line)', type: 'textarea', value: p.behaviours.join('\n')},
      {name: 'rationale', label: 'Why (optional)', type: 'textarea'}],
      function (v) { add({action: 'assign', theme: p.id, attribute: v.attribute, behaviours: lines(v.behaviours), rationale: v.rationale},
                         'Assigned ' + p.id + ' to ' + v.attribute + '.'); });
  }
  function splitDialog(c) {
    var choice = el('fieldset', {}, [el('legend', {text: 'Which part does each quote seed?'})].concat(c.quotes.map(function (q, k) {
      var sel = el('select', {name: 'q' + k}, [['', 'neither'], ['1', 'part 1'], ['2', 'part 2']].map(function (o) {
        return el('option', {value: o[0], text: o[1]}); }));
      return el('label', {}, [el('span', {text: q.text + ' '}), sel]);
    })));
    dialog('Split ' + c.id + ' · ' + c.label, [
      {name: 'label1', label: 'Name of part 1', required: true}, {name: 'keywords1', label: 'Seed keywords for part 1 (comma-separated, optional)'},
      {name: 'label2', label: 'Name of part 2', required: true}, {name: 'keywords2', label: 'Seed keywords for part 2 (comma-separated, optional)'},
      {name: 'rationale', label: 'Why', type: 'textarea'}],
      function (v) {
        var parts = {}, ok = true;
        [1, 2].forEach(function (p) {
          var seeds = c.quotes.filter(function (q, k) { return choice.querySelector('[name=q' + k + ']').value === String(p) && q.segment; })
            .map(function (q) { return q.segment; });
          seeds = seeds.concat(v['keywords' + p].split(',').map(function (s) { return s.trim(); }).filter(Boolean));
          if (!seeds.length) { ok = false; }
          parts[v['label' + p]] = seeds;
        });
        if (!ok) { return 'Give each part at least one quote or keyword.'; }
        if (v.label1 === v.label2) { return 'The two parts need different names.'; }
        add({action: 'split', theme: c.id, parts: parts, rationale: v.rationale}, 'Split ' + c.id + '.');
      }, choice);
  }

  // ---------------------------------------------------------------- download and load
  function fileObject() {
    // based_on: every group theme the decisions rest on, named directly or inside an
    // integrated theme of earlier workshops
    var based = {};
    function note(t) { if (DATA.cards[t] && DATA.cards[t].kind === 'group' && DATA.cards[t].fingerprint) { based[t] = DATA.cards[t].fingerprint; } }
    decisions.forEach(function (d) {
      [].concat(d.themes || [], d.theme ? [d.theme] : [], d.source ? [d.source] : [], d.target ? [d.target] : []).forEach(function (t) {
        note(t);
        if (DATA.agreed.indexOf(t) >= 0) { DATA.cards[t].sources.forEach(note); }
      });
    });
    var sorted = {}; Object.keys(based).sort().forEach(function (k) { sorted[k] = based[k]; });
    return {workshop: DATA.workshop, title: meta.title, date: meta.date, attendees: meta.attendees,
            illustrative: DATA.illustrative, based_on: sorted, decisions: decisions, definition: meta.definition};
  }
  function download() {
    if (!meta.date) { say('Fill in the date of the workshop first.', true); $('w-date').focus(); return; }
    var text = WorkshopYaml.dump(fileObject(), function (d) { return ORDER[d.action]; });
    var a = el('a', {href: URL.createObjectURL(new Blob([text], {type: 'text/yaml'})), download: 'workshop_' + DATA.workshop + '.yml'});
    document.body.appendChild(a); a.click(); a.remove();
    say('Saved workshop_' + DATA.workshop + '.yml with ' + decisions.length + ' decisions. Put it in data/workshops/, list it in study.yml and rerun.');
  }
  function load(text, name) {
    var doc;
    try { doc = WorkshopYaml.load(text); } catch (e) { say(name + ', ' + e.message + '.', true); return; }
    if (!doc || typeof doc !== 'object' || !Array.isArray(doc.decisions || [])) {
      say(name + ' is not a workshop file: it needs a list under "decisions:".', true); return; }
    if (doc.workshop !== undefined && Number(doc.workshop) !== DATA.workshop) {
      say(name + ' is workshop ' + doc.workshop + ' but this board records workshop ' + DATA.workshop +
          ' (it shows the state after the workshops already in study.yml); load the file of workshop ' + DATA.workshop + '.', true);
      return;
    }
    var next = (doc.decisions || []).map(function (d) { var o = {}; Object.keys(d).forEach(function (k) { o[k] = d[k]; }); return o; });
    try { state = replay(next); } catch (e) { say(name + ', ' + e.message + '.', true); state = replay(decisions); return; }
    history.push(clone(decisions)); decisions = next;
    meta.title = doc.title || meta.title; meta.date = doc.date ? String(doc.date) : meta.date;
    meta.definition = doc.definition || '';
    GROUPS.forEach(function (g) { meta.attendees[g] = Number((doc.attendees || {})[g] || 0); });
    fillMeta(); render();
    say('Loaded ' + name + ': ' + decisions.length + ' decisions.');
  }
  function fillMeta() {
    $('w-title').value = meta.title; $('w-date').value = meta.date;
    GROUPS.forEach(function (g) { $('att-' + g).value = meta.attendees[g]; });
    $('w-definition').value = meta.definition;
  }
  function setup() {
    var att = $('attendees');
    att.appendChild(el('span', {text: 'Attendees:'}));
    GROUPS.forEach(function (g) {
      var input = el('input', {type: 'number', min: '0', id: 'att-' + g, value: '0'});
      input.addEventListener('input', function () { meta.attendees[g] = Number(input.value || 0); });
      att.appendChild(el('label', {}, [GROUP[g].label + ' ', input]));
    });
    $('meta').appendChild(el('label', {}, ['Definition so far (optional) ', el('textarea', {id: 'w-definition', rows: 2, cols: 50})]));
    $('w-definition').addEventListener('input', function (e) { meta.definition = e.target.value; });
    $('w-title').addEventListener('input', function (e) { meta.title = e.target.value; });
    $('w-date').addEventListener('input', function (e) { meta.date = e.target.value; });
    var now = new Date();
    meta.date = now.getFullYear() + '-' + String(now.getMonth() + 1).padStart(2, '0') + '-' + String(now.getDate()).padStart(2, '0');
    $('merge-selected').addEventListener('click', function () { mergeDialog(selected.slice()); });
    $('download').addEventListener('click', download);
    $('undo').addEventListener('click', function () {
      if (!history.length) { say('Nothing to undo.'); return; }
      decisions = history.pop(); state = replay(decisions); render(); say('Undone.');
    });
    $('load-file').addEventListener('change', function (e) {
      var f = e.target.files[0]; if (!f) { return; }
      var reader = new FileReader();
      reader.onload = function () { load(String(reader.result), f.name); e.target.value = ''; };
      reader.readAsText(f);
    });
    document.addEventListener('keydown', function (e) {
      if (/INPUT|TEXTAREA|SELECT/.test(e.target.tagName) || $('dialog').open || e.ctrlKey || e.metaKey || e.altKey) { return; }
      if (e.key === 'm' || e.key === 'M') { mergeDialog(selected.slice()); e.preventDefault(); }
      if (e.key === 'a' || e.key === 'A') {
        var ids = Object.keys(state.piles);
        if (!selected.length || !ids.length) { say('Select cards first, then press A to add them to a pile.', true); return; }
        e.preventDefault();
        dialog('Add ' + selected.join(', ') + ' to a pile', [{name: 'pile', label: 'Pile', type: 'select',
          options: ids.map(function (id) { return [id, id + ' · ' + state.piles[id].label]; })}], function (v) { addToPile(v.pile, selected.slice()); });
      }
    });
    // printed, every card shows its quotes
    var closed = [];
    window.addEventListener('beforeprint', function () {
      closed = Array.prototype.filter.call(document.querySelectorAll('details'), function (d) { return !d.open; });
      closed.forEach(function (d) { d.open = true; });
    });
    window.addEventListener('afterprint', function () { closed.forEach(function (d) { d.open = false; }); });
    state = replay(decisions);
    fillMeta(); render();
  }
  window.WorkshopBoard = {decisions: function () { return clone(decisions); }, fileText: function () {
    return WorkshopYaml.dump(fileObject(), function (d) { return ORDER[d.action]; }); }, load: load,
    piles: function () { return clone(state.piles); }, unplaced: function () { return Object.keys(state.unplaced).sort(); }};
  setup();
})();
"""
