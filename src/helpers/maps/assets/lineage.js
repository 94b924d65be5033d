// The lineage page: hovering, focusing (Tab) or clicking a theme shows its details and
// its flows in the side panel and highlights its bands.
(function () {
  var data = JSON.parse(document.getElementById('lineage-data').textContent);
  var panel = document.getElementById('panel');
  var svg = document.querySelector('.chart svg');
  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text != null) { e.textContent = text; }
    if (cls) { e.className = cls; }
    return e;
  }
  function show(id) {
    var d = data[id];
    if (!d) { return; }
    panel.replaceChildren();
    panel.appendChild(el('h2', d.title));
    if (d.flows.length) {
      panel.appendChild(el('h3', 'Where its segments went'));
      var list = el('ul');
      d.flows.forEach(function (f) { list.appendChild(el('li', f)); });
      panel.appendChild(list);
    }
    svg.classList.add('focus');
    document.querySelectorAll('.band').forEach(function (b) {
      b.classList.toggle('on', b.dataset.a === id || b.dataset.b === id);
    });
    document.querySelectorAll('.node').forEach(function (n) { n.classList.toggle('active', n.dataset.node === id); });
  }
  function clear() {
    svg.classList.remove('focus');
    document.querySelectorAll('.band.on').forEach(function (b) { b.classList.remove('on'); });
  }
  document.querySelectorAll('.node').forEach(function (n) {
    ['mouseenter', 'focus', 'click'].forEach(function (ev) {
      n.addEventListener(ev, function () { show(n.dataset.node); });
    });
    n.addEventListener('mouseleave', function () { if (document.activeElement !== n) { clear(); } });
    n.addEventListener('blur', clear);
    n.addEventListener('keydown', function (e) {
      if (e.key === 'Enter' || e.key === ' ') { show(n.dataset.node); e.preventDefault(); }
    });
  });
})();
