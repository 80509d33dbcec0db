// The book's page script: math (KaTeX), code (highlight.js), charts (plotly.js from figure JSON), search (MiniSearch).
(function () {
  'use strict';

  // Math: Markdig writes $…$ as <span class="math">\(…\)</span> and $$…$$ as <div class="math">\[…\]</div>;
  // text/latex outputs are <div class="output math">$$…$$</div>.
  document.querySelectorAll('.math').forEach(function (el) {
    var tex = el.textContent.trim();
    // $$…$$ alone in its paragraph is display math (Markdig keeps it inline when it is not on lines of its own).
    var display = el.tagName === 'DIV' || (el.parentElement && el.parentElement.tagName === 'P' && el.parentElement.textContent.trim() === tex);
    var m = /^\\\(([\s\S]*)\\\)$/.exec(tex) || /^\$([^$][\s\S]*[^$]|[^$])\$$/.exec(tex);
    var d = /^\\\[([\s\S]*)\\\]$/.exec(tex) || /^\$\$([\s\S]*)\$\$$/.exec(tex);
    if (d) { tex = d[1]; display = true; } else if (m) { tex = m[1]; }
    try {
      katex.render(tex, el, { displayMode: display, throwOnError: false, output: 'html' });
    } catch (e) {
      el.classList.add('math-error');
    }
  });

  if (window.hljs) {
    document.querySelectorAll('pre.source code').forEach(function (el) { window.hljs.highlightElement(el); });
  }

  // Each chart on its own: one that plotly.js cannot draw is reported (console.error) and the others still draw.
  document.querySelectorAll('script.plotly-figure').forEach(function (script) {
    var target = script.getAttribute('data-target');
    try {
      var figure = JSON.parse(script.textContent);
      var drawn = window.Plotly.newPlot(target, figure.data || [], figure.layout || {}, figure.config || {});
      if (drawn && drawn.catch) drawn.catch(function (e) { console.error('chart ' + target + ': ' + e.message); });
    } catch (e) {
      console.error('chart ' + target + ': ' + e.message);
    }
  });

  var input = document.getElementById('search');
  var results = document.getElementById('search-results');
  if (input && results && window.MiniSearch && window.MLCOURSE_SEARCH) {
    var index = new window.MiniSearch({
      fields: ['title', 'pageTitle', 'text'],
      storeFields: ['page', 'anchor', 'title', 'pageTitle'],
      searchOptions: { boost: { title: 3, pageTitle: 2 }, prefix: true, fuzzy: 0.15 }
    });
    index.addAll(window.MLCOURSE_SEARCH);
    var show = function () {
      results.innerHTML = '';
      var query = input.value.trim();
      if (query.length < 2) return;
      index.search(query).slice(0, 12).forEach(function (hit) {
        var li = document.createElement('li');
        var a = document.createElement('a');
        a.href = hit.page + (hit.anchor ? '#' + hit.anchor : '');
        a.textContent = hit.title;
        var small = document.createElement('small');
        small.textContent = hit.pageTitle;
        li.appendChild(a);
        li.appendChild(small);
        results.appendChild(li);
      });
      if (!results.children.length) {
        var none = document.createElement('li');
        none.textContent = 'No match.';
        results.appendChild(none);
      }
    };
    input.addEventListener('input', show);
    var q = new URLSearchParams(window.location.search).get('q');
    if (q) { input.value = q; show(); }
  }
})();
