// The thematic map page: hovering, focusing (Tab) or clicking a theme shows its details.
(function(){
  var data = JSON.parse(document.getElementById('map-data').textContent);
  var panel = document.getElementById('panel');
  var svg = document.querySelector('.chart svg');
  function el(tag, text, cls){var e=document.createElement(tag); if(text!=null){e.textContent=text;} if(cls){e.className=cls;} return e;}
  function show(id){
    var d = data[id]; if(!d){return;}
    panel.replaceChildren();
    panel.appendChild(el('h2', d.title));
    panel.appendChild(el('p', d.meta, 'meta'));
    if(d.description){panel.appendChild(el('p', d.description));}
    if(d.keywords && d.keywords.length){var k=el('p'); k.appendChild(el('strong','Keywords: ')); k.appendChild(document.createTextNode(d.keywords.join(', '))); panel.appendChild(k);}
    if(d.shares && d.shares.length){
      panel.appendChild(el('h3','Share of each group\u2019s segments'));
      d.shares.forEach(function(s){var row=el('div',null,'bar'); row.appendChild(el('span',s.label,'name'));
        var track=el('span',null,'track'); var fill=el('span',null,'fill'); fill.style.width=Math.min(100,s.pct*100/d.share_max)+'%'; fill.style.background=s.colour;
        track.appendChild(fill); row.appendChild(track); row.appendChild(el('span',s.text)); panel.appendChild(row);});
    }
    (d.flags||[]).forEach(function(f){panel.appendChild(el('p','\u26a0 '+f,'flag'));});
    if(d.quotes && d.quotes.length){panel.appendChild(el('h3','Quotes (pseudonymised)'));
      d.quotes.forEach(function(q){panel.appendChild(el('blockquote',q));});}
    svg.classList.add('dim');
    document.querySelectorAll('.node, .edge').forEach(function(e){e.classList.remove('active');});
    document.querySelectorAll('[data-node="'+CSS.escape(id)+'"]').forEach(function(e){e.classList.add('active');});
    document.querySelectorAll('.edge').forEach(function(e){if(e.dataset.a===id||e.dataset.b===id){e.classList.add('active');}});
  }
  document.querySelectorAll('.node').forEach(function(g){
    ['mouseenter','focus','click'].forEach(function(ev){g.addEventListener(ev,function(){show(g.dataset.node);});});
    g.addEventListener('keydown',function(e){if(e.key==='Enter'||e.key===' '){show(g.dataset.node);e.preventDefault();}});
  });
})();
