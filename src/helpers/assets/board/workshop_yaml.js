// Workshop files (docs/workshop_files.md) in and out of the board. YAML itself is js-yaml's
// (vendored above this script as window.jsyaml); this file only chooses how the board's
// file looks and reads files the way the pipeline's PyYAML does (YAML 1.1: yes/no are
// booleans, an unquoted date is a date).
var WorkshopYaml = (function () {
  'use strict';
  var Y = (typeof window !== 'undefined' ? window : globalThis).jsyaml;
  var HEADER = '# Written by the workshop board (workshop_board.html); see docs/workshop_files.md.\n';

  function isScalar(node) { return node.kind === 'scalar'; }
  function entry(mapping, key) {
    return (mapping.items || []).filter(function (it) { return it.key.kind === 'scalar' && it.key.value === key; })[0];
  }
  // Short lists ([a, b]) and the attendees ({group: n}) on one line, fingerprints in quotes,
  // as docs/workshop_files.md writes them.
  function layout(documents) {
    Y.visit(documents, function (node) {
      if (node.kind === 'sequence' && node.items.every(isScalar)) { node.style = Y.COLLECTION_STYLE.FLOW; }
    });
    var root = documents[0] && documents[0].contents;
    if (!root || root.kind !== 'mapping') { return; }
    var attendees = entry(root, 'attendees');
    if (attendees && attendees.value.kind === 'mapping') { attendees.value.style = Y.COLLECTION_STYLE.FLOW; }
    var based = entry(root, 'based_on');
    if (based && based.value.kind === 'mapping') {
      based.value.items.forEach(function (it) { if (isScalar(it.value)) { it.value.style = Y.SCALAR_STYLE.DOUBLE_QUOTED; } });
    }
  }

  // file: {workshop, title, date, attendees, illustrative, snapshot, based_on, decisions, definition};
  // keyOrder(decision) gives the order of a decision's keys (others follow, so nothing typed is lost).
  function dump(file, keyOrder, comment) {
    var doc = {workshop: file.workshop, title: String(file.title || ''), date: String(file.date || ''),
               attendees: file.attendees, illustrative: !!file.illustrative};
    if (Object.keys(file.based_on).length) { doc.snapshot = file.snapshot; }
    doc.based_on = file.based_on;
    doc.decisions = file.decisions.map(function (d) {
      var out = {}, first = keyOrder(d) || [];
      first.concat(Object.keys(d).filter(function (k) { return first.indexOf(k) < 0; })).forEach(function (k) {
        var v = d[k];
        if (v === undefined || v === null || v === '' || (Array.isArray(v) && !v.length && k !== 'behaviours')) { return; }
        out[k] = v;
      });
      return out;
    });
    if (file.definition) { doc.definition = file.definition; }
    return HEADER + (comment ? '# ' + comment + '\n' : '') +
      Y.dump(doc, {lineWidth: -1, noRefs: true, quoteStyle: 'double', transform: layout});
  }

  function FileError(message, line) { this.message = message; this.line = line; }
  // The document as PyYAML gives it to notebook 05; dates become 'YYYY-MM-DD' text.
  function load(text) {
    var doc;
    try { doc = Y.load(text, {schema: Y.YAML11_SCHEMA, maxAliases: 0}); }
    catch (e) {
      var line = e.mark ? e.mark.line + 1 : null;
      throw new FileError((line ? 'line ' + line + ': ' : '') + 'this is not valid YAML (' + (e.reason || e.message) +
                          '); check the indentation and colons there', line);
    }
    return dates(doc);
  }
  function dates(v) {
    if (v instanceof Date) { return v.toISOString().slice(0, 10); }
    if (Array.isArray(v)) { return v.map(dates); }
    if (v && typeof v === 'object') { Object.keys(v).forEach(function (k) { v[k] = dates(v[k]); }); }
    return v;
  }
  return {dump: dump, load: load, FileError: FileError};
})();
