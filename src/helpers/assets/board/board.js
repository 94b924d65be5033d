// The workshop board: the state after the last recorded workshop (the JSON notebook 05
// embedded), the decisions this room makes replayed on top of it, and the file they go to.
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
  var focusNext = null;   // data-id of the pile or card to focus once the page is drawn again
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
  function say(message, isError, extra) {
    var s = $('status'); s.replaceChildren(document.createTextNode(message)); s.className = isError ? 'error' : '';
    if (extra) { s.appendChild(document.createTextNode(' ')); s.appendChild(extra); }
  }
  function clone(x) { return JSON.parse(JSON.stringify(x)); }
  // Focus a card or pile and bring its top into view (below the sticky toolbar), even when
  // it is taller than the window.
  function show(node) {
    node.focus({preventScroll: true});
    var toolbar = document.querySelector('.toolbar'), bar = toolbar ? toolbar.offsetHeight : 0;
    var box = node.getBoundingClientRect();
    if (box.top < bar || box.bottom > window.innerHeight) {
      node.scrollIntoView({block: box.height > window.innerHeight - bar ? 'start' : 'nearest'});
    }
  }

  // ---------------------------------------------------------------- the state: base + decisions replayed
  function DecisionError(index, message) { this.message = 'decision ' + index + ': ' + message; }
  function replay(decs) {
    var s = {cards: {}, piles: {}, unplaced: {}, dropped: {}, links: [], order: [], taken: {}};
    (DATA.taken || []).forEach(function (id) { s.taken[id] = true; });
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
      if (!d || !ORDER[d.action]) {
        throw new DecisionError(i, 'has action "' + (d && d.action) + '"; use one of: ' + Object.keys(ORDER).join(', '));
      }
      if (d.action === 'merge') {
        var into = d.into === undefined || d.into === null || d.into === '' ? lowestFree(s) : String(d.into);
        if (!INTEGRATED.test(into)) { throw new DecisionError(i, '"into: ' + into + '" is not an integrated theme id; use I01, I02, …'); }
        if (!(d.themes || []).some(function (t) { return t !== into; })) {
          throw new DecisionError(i, 'merges ' + into + ' into itself; name at least one other theme under "themes:"');
        }
        if (s.taken[into] && !s.piles[into]) {     // as notebook 05: a dropped or merged-away id stays retired
          throw new DecisionError(i, 'merges into ' + into + ', which was dropped or merged into another theme earlier; use another id');
        }
        s.taken[into] = true;
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

  function lowestFree(s) {     // notebook 05's Integration.next_id: the lowest number no theme has used
    for (var n = 1; ; n++) { var id = 'I' + (n < 10 ? '0' + n : n); if (!s.taken[id]) { return id; } }
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
  function flagText(flag) {
    var m = /^(missing voice: |dominated by )(.+)$/.exec(flag);
    return m && GROUP[m[2]] ? m[1] + GROUP[m[2]].label : flag;
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
    t.flags.forEach(function (f) {   // shown with the group's name; data-flag keeps notebook 05's wording
      box.appendChild(el('p', {'class': 'flag', 'data-flag': f, text: '⚠ ' + flagText(f)}));
    });
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
      var problem = what.kind === 'card' ? addToPile(p.id, [what.id]) : what.kind === 'pile' ? mergePiles(what.id, p.id) : '';
      if (problem) { say(problem, true); }
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
    // a heading over nothing says nothing: hide empty sections (on screen and on paper)
    [['piles-section', piles], ['cards-section', cards], ['proposals-section', proposals], ['decisions-section', list]]
      .forEach(function (pair) { $(pair[0]).hidden = !pair[1].children.length; });
    if (!$('dialog').open) {
      var target = focusNext || focusId;
      focusNext = null;
      if (target) { var again = document.querySelector('[data-id="' + CSS.escape(target) + '"]'); if (again) { show(again); } }
    }
  }
  function commit(next, message) {
    try { var s = replay(next); } catch (e) { say(e.message, true); return false; }
    history.push(clone(decisions)); decisions = next; state = s; render(); say(message); return true;
  }

  // ---------------------------------------------------------------- the decisions the room makes
  function nextId() {
    var used = DATA.agreed.concat(DATA.proposed).concat(Object.keys(state.piles)).concat(Object.keys(state.taken)).concat(
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
    var next = clone(decisions), target = into || nextId();
    next.push({action: 'merge', themes: themes, into: target, label: label, rationale: rationale});
    focusNext = target;
    if (commit(next, 'Merged ' + themes.join(', ') + ' into ' + target + ' “' + label + '”.')) { selected = []; focusNext = target; render(); }
  }
  function addToPile(pileId, ids) {
    var next = clone(decisions), p = state.piles[pileId];
    ids = ids.filter(function (id) { return id !== pileId; });
    if (!ids.length) { return 'A pile cannot be merged into itself: select another card or pile first, then add it to ' + pileId + '.'; }
    focusNext = pileId;
    var own = createdHere(pileId) && next.filter(function (d) { return d.action === 'merge' && d.into === pileId; })[0];
    if (own) { ids.forEach(function (id) { if (own.themes.indexOf(id) < 0) { own.themes.push(id); } }); }
    else { next.push({action: 'merge', themes: [pileId].concat(ids), into: pileId, label: p.label}); }
    if (commit(next, 'Added ' + ids.join(', ') + ' to ' + pileId + '.')) { selected = []; focusNext = pileId; render(); }
    return '';
  }
  function addSelected(pileId) {
    if (!selected.length) { say('Select one or more cards first (Space on a card).', true); return; }
    var problem = addToPile(pileId, selected.slice());
    if (problem) { say(problem, true); }
  }
  function mergePiles(from, into) { return addToPile(into, [from]); }
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
    focusNext = empty ? id : pileId;
    commit(next, 'Took ' + id + ' out of ' + pileId + '.');
  }
  function setLabel(pileId, label, rationale) {
    // A rename with a reason is recorded as a rename (notebook 05 puts the reason in
    // workshop_audit.csv); without one, the pile's own merge or last rename takes the name.
    var next = clone(decisions);
    var own = createdHere(pileId) && next.filter(function (d) { return d.action === 'merge' && d.into === pileId; })[0];
    var earlier = next.filter(function (d) { return d.action === 'rename' && d.theme === pileId; }).pop();
    if (rationale) { next.push({action: 'rename', theme: pileId, label: label, rationale: rationale}); }
    else if (earlier) { earlier.label = label; }
    else if (own) { next.forEach(function (d) { if (d.action === 'merge' && d.into === pileId) { d.label = label; } }); }
    else { next.push({action: 'rename', theme: pileId, label: label}); }
    focusNext = pileId;
    commit(next, 'Renamed ' + pileId + ' “' + label + '”' + (rationale ? ' (reason kept)' : '') + '.');
  }
  function add(decision, message, focus) { var next = clone(decisions); next.push(decision); focusNext = focus; commit(next, message); }

  // ---------------------------------------------------------------- dialogs (keyboard-friendly, native <dialog>)
  // extra: more form content (the split's quotes), shown before the fields when extraFirst.
  // When the dialog closes, the focus goes to what the decision changed (focusNext), else back
  // to where it was opened from.
  var opener = null;
  function dialog(title, fields, onSave, extra, extraFirst) {
    var d = $('dialog'), form = $('dialog-form');
    var from = document.activeElement, fromHome = from && from.closest ? from.closest('[data-id]') : null;
    opener = {node: from, id: fromHome ? fromHome.getAttribute('data-id') : null,
              act: from && from.getAttribute ? from.getAttribute('data-act') : null};
    focusNext = null;
    form.replaceChildren(el('h2', {text: title}));
    if (extra && extraFirst) { form.appendChild(extra); }
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
    if (extra && !extraFirst) { form.appendChild(extra); }
    form.appendChild(el('p', {'class': 'hint', text: 'Enter saves (Ctrl+Enter in a text box); Esc cancels.'}));
    var error = el('p', {'class': 'error', role: 'alert'});
    form.appendChild(error);
    var save = el('button', {type: 'submit', value: 'save', text: 'Save'});
    var cancel = el('button', {type: 'button', text: 'Cancel', on: {click: function () { focusNext = null; d.close(); afterDialog(); }}});
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
      afterDialog();   // now, not on the queued 'close' event: the next key lands where the decision did
    };
    // Enter saves from a drop-down too (a browser submits only from a text field); in a
    // text box Enter is a new line and Ctrl+Enter saves.
    form.onkeydown = function (e) {
      if (e.key !== 'Enter' || e.isComposing) { return; }
      var tag = e.target.tagName;
      if (tag === 'SELECT' || (tag === 'TEXTAREA' && (e.ctrlKey || e.metaKey))) { e.preventDefault(); form.requestSubmit(save); }
    };
    d.showModal();
    var first = form.querySelector('input,textarea,select'); if (first) { first.focus(); }
  }
  function afterDialog() {
    var target = focusNext ? document.querySelector('[data-id="' + CSS.escape(focusNext) + '"]') : null;
    focusNext = null;
    if (!target && opener) {
      if (opener.node && opener.node.isConnected) { target = opener.node; }
      else if (opener.id) {
        var home = document.querySelector('[data-id="' + CSS.escape(opener.id) + '"]');
        target = home && opener.act ? home.querySelector('[data-act="' + opener.act + '"]') || home : home;
      }
    }
    opener = null;
    if (target) { show(target); }
  }
  function neighbour(id) {   // the card or pile beside one about to leave the board
    var node = document.querySelector('[data-id="' + CSS.escape(id) + '"]'), near = null;
    if (node) {
      var all = Array.prototype.slice.call(node.parentNode.querySelectorAll(':scope > [data-id], :scope > li > [data-id]'));
      var k = all.indexOf(node);
      near = all[k + 1] || all[k - 1] || null;
      if (!near) {   // the last of its column: the next card of the same kind on the board, else the one before
        var board = Array.prototype.slice.call(document.querySelectorAll(node.tagName + '[data-id]'));
        var at = board.indexOf(node);
        near = board.slice(at + 1).concat(board.slice(0, Math.max(at, 0)).reverse())[0] || null;
      }
    }
    return near ? near.getAttribute('data-id') : null;
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
    if (!others.length) { say('There is no other pile to merge ' + p.id + ' into.', true); return; }
    dialog('Merge pile ' + p.id + ' into another pile', [
      {name: 'into', label: 'Into', type: 'select', options: others.map(function (id) { return [id, id + ' · ' + state.piles[id].label]; })}],
      function (v) { return mergePiles(p.id, v.into) || undefined; });
  }
  function renameDialog(p) {
    dialog('Rename ' + p.id, [{name: 'label', label: 'New name', required: true, value: p.label},
      {name: 'rationale', label: 'Why (optional)', type: 'textarea'}], function (v) { setLabel(p.id, v.label, v.rationale); });
  }
  function dropDialog(id, label) {
    dialog('Drop ' + id + ' · ' + label, [{name: 'rationale', label: 'Why the room sets it aside', type: 'textarea', required: true}],
      function (v) { add({action: 'drop', theme: id, rationale: v.rationale}, 'Dropped ' + id + '.', neighbour(id)); });
  }
  function defineDialog(p) {
    dialog('Define ' + p.id + ' · ' + p.label, [
      {name: 'description', label: 'Description', type: 'textarea', required: true, value: p.description},
      {name: 'elements', label: 'Elements of the definition (one a line)', type: 'textarea', value: p.elements.join('\n')},
      {name: 'rationale', label: 'Why (optional)', type: 'textarea'}],
      function (v) { add({action: 'define', theme: p.id, description: v.description, elements: lines(v.elements), rationale: v.rationale},
                         'Defined ' + p.id + '.', p.id); });
  }
  function linkDialog(p) {
    var others = Object.keys(state.piles).filter(function (id) { return id !== p.id; });
    if (!others.length) { say('There is no other pile to link ' + p.id + ' to yet.', true); return; }
    dialog('Link ' + p.id + ' to another pile', [
      {name: 'relation', label: p.id + ' …', type: 'select', options: DATA.relations.map(function (r) { return [r, r]; })},
      {name: 'target', label: '… which pile', type: 'select', options: others.map(function (id) { return [id, id + ' · ' + state.piles[id].label]; })},
      {name: 'rationale', label: 'Why', type: 'textarea'}],
      function (v) { add({action: 'link', source: p.id, target: v.target, relation: v.relation, rationale: v.rationale},
                         'Linked ' + p.id + ' to ' + v.target + '.', p.id); });
  }
  function assignDialog(p) {
    dialog('Assign ' + p.id + ' to an attribute of compassion', [
      {name: 'attribute', label: 'Attribute', type: 'select', options: DATA.attributes.map(function (a) { return [a, a]; }), value: p.attribute},
      {name: 'behaviours', label: 'Observable behaviours (one a line)', type: 'textarea', value: p.behaviours.join('\n')},
      {name: 'rationale', label: 'Why (optional)', type: 'textarea'}],
      function (v) { add({action: 'assign', theme: p.id, attribute: v.attribute, behaviours: lines(v.behaviours), rationale: v.rationale},
                         'Assigned ' + p.id + ' to ' + v.attribute + '.', p.id); });
  }
  function splitDialog(c) {
    var choice = el('fieldset', {}, [el('legend', {text: 'First read the quotes: which part does each one seed?'})].concat(c.quotes.map(function (q, k) {
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
        add({action: 'split', theme: c.id, parts: parts, rationale: v.rationale}, 'Split ' + c.id + '.', c.id + '.1');
      }, choice, true);
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
            illustrative: DATA.illustrative, snapshot: DATA.files.snapshot, based_on: sorted, decisions: decisions,
            definition: meta.definition};
  }
  function fileText(noChanges) {
    return WorkshopYaml.dump(fileObject(), function (d) { return ORDER[d.action]; },
      noChanges ? 'Workshop ' + DATA.workshop + ' met and changed nothing (confirmed on the board).' : '');
  }
  // Where the file goes, in this study's own folders (notebook 05 worked them out from study.yml).
  function whereItGoes(withSnapshot) {
    var f = DATA.files;
    return 'Put it ' + (withSnapshot ? 'with ' + f.snapshot + ' (in ' + f.snapshot_from + ' beside this board) ' : '') +
      'in ' + f.folder + ', list it in ' + f.study + ' under workshops: as ' + f.entry + ' and rerun.';
  }
  function download(noChanges) {
    if (!meta.date) { say('Fill in the date of the workshop first.', true); $('w-date').focus(); return; }
    if (!decisions.length && noChanges !== true) {
      var keep = el('button', {type: 'button', id: 'save-no-changes', text: 'Save as “no changes”',
        on: {click: function () { download(true); }}});
      say('There are no decisions to download yet. If the room met and changed nothing, confirm to save workshop ' +
          DATA.workshop + ' as “no changes”:', true, keep);
      return;
    }
    var file = fileObject(), text = fileText(noChanges === true);
    var a = el('a', {href: URL.createObjectURL(new Blob([text], {type: 'text/yaml'})), download: DATA.files.yaml});
    document.body.appendChild(a); a.click(); a.remove();
    var n = decisions.length;
    say('Saved ' + DATA.files.yaml + (n ? ' with ' + n + ' decision' + (n === 1 ? '' : 's') : ' as “no changes”') + '. ' +
        whereItGoes(Object.keys(file.based_on).length > 0));
  }

  // ---- reading a file back: everything docs/workshop_files.md allows, in the board's form
  function normalise(raw, i) {
    if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
      throw new DecisionError(i, 'is not a mapping; write it as "- action: …" with its keys indented below');
    }
    var d = {};
    Object.keys(raw).forEach(function (k) { d[k] = raw[k]; });
    function list(v) { return v === undefined || v === null ? [] : (Array.isArray(v) ? v : [v]).map(String); }
    ['theme', 'into', 'source', 'target', 'label', 'relation'].forEach(function (k) {
      if (d[k] !== undefined && d[k] !== null && typeof d[k] !== 'object') { d[k] = String(d[k]); }
    });
    if (d.action === 'merge') { d.themes = list(d.themes); }
    if (d.action === 'split' && !d.parts && Array.isArray(d.into)) {    // the older form: into: [{label, keywords, quotes}]
      var parts = {};
      d.into.forEach(function (part, k) {
        if (!part || typeof part !== 'object') { throw new DecisionError(i, 'each part under "into:" should be a mapping with a label'); }
        parts[String(part.label || d.theme + ' (' + (k + 1) + ')')] = list(part.quotes).concat(list(part.keywords));
      });
      d.parts = parts; delete d.into;
    }
    if (d.action === 'split' && d.parts && typeof d.parts === 'object') {
      Object.keys(d.parts).forEach(function (label) { d.parts[label] = list(d.parts[label]); });
    }
    if (d.action === 'define') {
      if (d.elements === undefined && d.definition_elements !== undefined) { d.elements = d.definition_elements; delete d.definition_elements; }
      d.elements = list(d.elements);
    }
    if (d.action === 'link') {
      if (d.source === undefined && d.from !== undefined) { d.source = String(d.from); delete d.from; }
      if (d.target === undefined && d.to !== undefined) { d.target = String(d.to); delete d.to; }
    }
    if (d.action === 'assign') {
      d.attribute = String(d.attribute || '').trim().toLowerCase();
      d.behaviours = list(d.behaviours);
    }
    return d;
  }
  function load(text, name) {
    var doc, next;
    try {
      doc = WorkshopYaml.load(text);
      if (!doc || typeof doc !== 'object' || Array.isArray(doc) || !Array.isArray(doc.decisions || [])) {
        throw new WorkshopYaml.FileError('it is not a workshop file: it needs "decisions:" with a list of decisions (docs/workshop_files.md)');
      }
      if (doc.workshop !== undefined && doc.workshop !== null && doc.workshop !== DATA.workshop) {
        throw new WorkshopYaml.FileError('it is workshop ' + doc.workshop + ' but this board records workshop ' + DATA.workshop +
          ' (it shows the state after the workshops already in study.yml); load the file of workshop ' + DATA.workshop);
      }
      next = (doc.decisions || []).map(function (d, k) { return normalise(d, k + 1); });
      state = replay(next);
    } catch (e) {
      say(name + ': ' + e.message + '.', true); state = replay(decisions); return;
    }
    history.push(clone(decisions)); decisions = next;
    meta.title = doc.title ? String(doc.title) : meta.title; meta.date = doc.date ? String(doc.date) : meta.date;
    meta.definition = doc.definition ? String(doc.definition) : '';
    GROUPS.forEach(function (g) { meta.attendees[g] = Number((doc.attendees || {})[g] || 0); });
    var moved = Object.keys(doc.based_on || {}).filter(function (t) {
      return DATA.cards[t] && DATA.cards[t].fingerprint && String(doc.based_on[t]) !== DATA.cards[t].fingerprint; });
    fillMeta(); render();
    say('Loaded ' + name + ': ' + decisions.length + ' decision' + (decisions.length === 1 ? '' : 's') + '.' +
        (moved.length ? ' ' + moved.join(', ') + (moved.length === 1 ? ' has' : ' have') + ' changed since the file was written ' +
         '(another fingerprint); notebook 05 carries such themes over or says which needs a person.' : ''));
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
    $('download').addEventListener('click', function () { download(false); });
    $('print').addEventListener('click', function () { window.print(); });
    // the skip link lands on the first card still to place (else the first pile)
    document.querySelector('.skip').addEventListener('click', function (e) {
      var first = ['#cards', '#proposals', '#piles'].map(function (c) { return document.querySelector(c + ' [data-id]'); })
        .filter(Boolean)[0];
      if (first) { e.preventDefault(); show(first); }
    });
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
    $('dialog').addEventListener('close', afterDialog);
    document.addEventListener('keydown', function (e) {
      if (/INPUT|TEXTAREA|SELECT/.test(e.target.tagName) || $('dialog').open || e.ctrlKey || e.metaKey || e.altKey) { return; }
      // arrow keys step from card to card and pile to pile, in the order of the page
      var arrow = {ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1}[e.key];
      if (arrow && e.target.matches && e.target.matches('[data-id][tabindex="0"]')) {
        var all = Array.prototype.slice.call(document.querySelectorAll('[data-id][tabindex="0"]'));
        var to = all[all.indexOf(e.target) + arrow];
        if (to) { show(to); }
        e.preventDefault();
        return;
      }
      if (e.key === 'm' || e.key === 'M') { mergeDialog(selected.slice()); e.preventDefault(); }
      if (e.key === 'a' || e.key === 'A') {
        var ids = Object.keys(state.piles);
        if (!selected.length || !ids.length) { say('Select cards first, then press A to add them to a pile.', true); return; }
        e.preventDefault();
        dialog('Add ' + selected.join(', ') + ' to a pile', [{name: 'pile', label: 'Pile', type: 'select',
          options: ids.map(function (id) { return [id, id + ' · ' + state.piles[id].label]; })}], function (v) { return addToPile(v.pile, selected.slice()) || undefined; });
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
  window.WorkshopBoard = {decisions: function () { return clone(decisions); }, fileText: function () { return fileText(false); }, load: load,
    piles: function () { return clone(state.piles); }, unplaced: function () { return Object.keys(state.unplaced).sort(); }};
  setup();
})();
